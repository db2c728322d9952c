"""bot/channels/email/inbound.py: raw emails, as real clients write them, to InboundMessage."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.channels.email.auth import parse_authentication_results
from bot.channels.email.inbound import to_inbound
from bot.channels.email.text import html_to_text, strip_quoted
from kernel.messages import InboundMessage

FIXTURES = Path(__file__).parent / "fixtures" / "email"
ATTACHMENTS = FIXTURES / "attachments"
MAILBOX = "marac@localhost"
TRUSTED = "mx.marac.example"
RECEIVED = datetime(2025, 2, 10, 9, 0, tzinfo=UTC)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def convert(data: bytes, *, trusted: str | None = None, envelope_from: str | None = None
            ) -> InboundMessage:
    return to_inbound(data, mailbox_address=MAILBOX, trusted_authserv_id=trusted,
                      received_at=RECEIVED, envelope_from=envelope_from)


def edit_headers(data: bytes, *, remove: tuple[str, ...] = (), add: tuple[str, ...] = ()
                 ) -> bytes:
    """The message with the named headers (and their folded lines) removed and ``add``
    prepended, as a relay prepends its own headers."""
    head, sep, body = data.partition(b"\r\n\r\n")
    kept: list[bytes] = []
    dropping = False
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t"):
            if not dropping:
                kept.append(line)
            continue
        name = line.split(b":", 1)[0].decode().lower()
        dropping = name in {r.lower() for r in remove}
        if not dropping:
            kept.append(line)
    added = [h.encode() for h in add]
    return b"\r\n".join(added + kept) + sep + body


EXPECTED = [
    # fixture, sender, automatic_reason, attachment names
    ("plain_with_xlsx.eml", "jane.smith@croydon.gov.uk", None, ["croydon-q3.xlsx"]),
    ("outlook_forwarded_as_attachment.eml", "p.patel@leeds.gov.uk", None, ["Leeds Q2.xlsx"]),
    ("gmail_reply_confirm.eml", "sam.oneill.marac@gmail.com", None, []),
    ("outlook_reply_confirm.eml", "amir.khan@kent.gov.uk", None, []),
    ("out_of_office_auto_submitted.eml", "amir.khan@kent.gov.uk", "auto-submitted", []),
    ("bounce_dsn.eml", "mailer-daemon@mail.marac.example", "delivery-report",
     ["sutton-q3-checked.xlsx"]),
    ("mailing_list.eml", "marac-coordinators@googlegroups.com", "mailing-list", []),
    ("rfc2231_filename.eml", "sian.hughes@wrexham.gov.uk", None,
     ["Data Marac Wrecsam – Chwarter 3.xlsx"]),
    ("no_attachment_question.eml", "chris.doyle@london.gov.uk", None, []),
    ("html_only_body.eml", "marac@bradford.gov.uk", None, []),
    ("dmarc_pass.eml", "jane.smith@croydon.gov.uk", None, ["croydon-q3.xlsx"]),
    ("spreadsheet_no_disposition.eml", "admin@northyorks.gov.uk", None, ["attachment-1.xls"]),
    ("own_mail_echo.eml", "marac@localhost", "own-mail", []),
]


@pytest.mark.parametrize(("fixture", "sender", "reason", "names"), EXPECTED)
def test_each_fixture_converts(fixture: str, sender: str, reason: str | None,
                               names: list[str]) -> None:
    message = convert(raw(fixture))
    assert (message.channel, message.sender, message.automatic_reason) == ("email", sender, reason)
    assert [a.filename for a in message.attachments] == names
    assert message.received_at == RECEIVED
    assert message.raw == raw(fixture)


@pytest.mark.parametrize(("fixture", "original", "content_type"), [
    ("plain_with_xlsx.eml", "croydon-q3.xlsx", XLSX),
    ("outlook_forwarded_as_attachment.eml", "leeds-q2.xlsx", XLSX),
    ("rfc2231_filename.eml", "croydon-q3.xlsx", XLSX),
    ("spreadsheet_no_disposition.eml", "leeds-q2.xls", "application/vnd.ms-excel"),
])
def test_attachment_bytes_are_the_file_the_sender_attached(
    fixture: str, original: str, content_type: str
) -> None:
    (attachment,) = convert(raw(fixture)).attachments
    assert attachment.data == (ATTACHMENTS / original).read_bytes()
    assert attachment.content_type == content_type


@pytest.mark.parametrize(("fixture", "content_type"), [
    ("xlsx_named_without_ending.eml", XLSX),  # declared
    ("octet_stream_named_without_ending.eml", XLSX),  # octet-stream: the bytes say .xlsx
])
def test_a_workbook_named_without_an_ending_keeps_its_name_and_says_its_type(
    fixture: str, content_type: str
) -> None:
    (attachment,) = convert(raw(fixture)).attachments
    assert attachment.filename == "Lambeth Q3 return"
    assert attachment.content_type == content_type
    assert attachment.spreadsheet_name == "Lambeth Q3 return.xlsx"


def test_outlook_submission_has_display_name_subject_quarter_and_plain_text() -> None:
    message = convert(raw("plain_with_xlsx.eml"))
    assert message.sender_name == "Smith, Jane"
    assert message.subject == "Q3 2024/25 return - Croydon"
    assert message.declared_quarter_text == "Q3 2024/25 return - Croydon"
    assert message.text.startswith("Hello,\n\nPlease find attached the Croydon Marac data")
    assert "<" not in message.text  # the text/plain alternative, not the HTML
    message_id = "<LO2P265MB52170A1B2C3D4E5F6A7B8C9DA1B2C@LO2P265MB5217.GBRP265.PROD.OUTLOOK.COM>"
    assert message.dedupe_key == message_id
    assert (message.thread.channel, message.thread.address, message.thread.message_id,
            message.thread.references, message.thread.subject) == (
        "email", "jane.smith@croydon.gov.uk", message_id, (message_id,), message.subject)


def test_a_subject_without_a_quarter_declares_none() -> None:
    assert convert(raw("no_attachment_question.eml")).declared_quarter_text is None


def test_gmail_reply_keeps_the_new_text_and_threads_on_the_whole_chain() -> None:
    message = convert(raw("gmail_reply_confirm.eml"))
    assert message.text == ("CONFIRM\n\nThanks - those two meetings were corrected after the "
                            "minutes came back.")
    assert message.thread.message_id == "<CAHx2mB1replyconfirm0a9Kq@mail.gmail.com>"
    assert message.thread.references == (
        "<marac.reply.7f3a9c@localhost>", "<CAHx2mB0firstmessage@mail.gmail.com>",
        "<CAHx2mB1replyconfirm0a9Kq@mail.gmail.com>")
    assert message.sender_name == "Sam O'Neill"


def test_outlook_reply_drops_the_from_sent_block_below_the_rule() -> None:
    message = convert(raw("outlook_reply_confirm.eml"))
    assert message.text == "Confirm\n\nAmir Khan\nKent Marac Coordinator"
    assert message.subject.startswith("RE: ")


def test_html_only_mail_is_read_as_text_without_scripts_or_styles() -> None:
    message = convert(raw("html_only_body.eml"))
    assert message.text == ("Hello,\n\nCould you send me the status for Bradford this year?\n\n"
                            "- Q1\n- Q2\n\nThanks & regards")


def test_a_question_without_attachment_is_plain_text() -> None:
    message = convert(raw("no_attachment_question.eml"))
    assert message.text.splitlines()[0] == "has Croydon uploaded Q3?"
    assert message.attachments == ()


def test_replies_go_to_from_never_reply_to() -> None:
    """Reply-To anyone may write; answers go only where From (and the registry) say (issue 10)."""
    message = convert(raw("mailing_list.eml"))
    assert message.thread.address == "marac-coordinators@googlegroups.com"


def test_encoded_words_in_from_and_subject_are_decoded() -> None:
    message = convert(raw("rfc2231_filename.eml"))
    assert message.sender_name == "Siân Hughes"
    assert message.subject == "Data Marac Wrecsam – Ch3 2024/25"
    assert message.text.startswith("Helo / Hello – attached")


def test_missing_message_id_dedupes_on_a_hash_of_the_raw_bytes() -> None:
    data = edit_headers(raw("no_attachment_question.eml"), remove=("Message-Id",))
    message = convert(data)
    assert message.dedupe_key == "sha256:" + hashlib.sha256(data).hexdigest()
    assert message.thread.message_id is None
    assert message.thread.references == ()


def test_missing_from_gives_an_empty_unverified_sender() -> None:
    message = convert(edit_headers(raw("no_attachment_question.eml"), remove=("From",)))
    assert (message.sender, message.sender_verified, message.thread.address) == ("", False, "")


def test_a_filename_cannot_carry_a_directory() -> None:
    data = raw("plain_with_xlsx.eml").replace(b'filename="croydon-q3.xlsx"',
                                              b'filename="..\\\\..\\\\tmp/evil.xlsx"')
    assert [a.filename for a in convert(data).attachments] == ["evil.xlsx"]


@pytest.mark.parametrize(("headers", "reason"), [
    (("Auto-Submitted: auto-replied",), "auto-submitted"),
    (("Auto-Submitted: no",), None),
    (("X-Autoreply: yes",), "auto-reply"),
    (("X-Autorespond: Vacation",), "auto-reply"),
    # A request not to be auto-answered, which Exchange adds to mail people write: not automatic.
    (("X-Auto-Response-Suppress: All",), None),
    (("X-Auto-Response-Suppress: DR, RN, NRN, OOF, AutoReply",), None),
    (("Precedence: bulk",), "bulk"),
    (("Precedence: junk",), "bulk"),
    (("Precedence: list",), "mailing-list"),
    (("List-Unsubscribe: <mailto:leave@lists.example.org>",), "mailing-list"),
    (("Return-Path: <>",), "bounce"),
    (("Return-Path: <chris.doyle@london.gov.uk>",), None),
    (("X-Marac-Bot: 1",), "own-mail"),
])
def test_automatic_mail_is_recognised_by_its_headers(
    headers: tuple[str, ...], reason: str | None
) -> None:
    data = edit_headers(raw("no_attachment_question.eml"), add=headers)
    assert convert(data).automatic_reason == reason


def test_postmaster_and_null_envelope_sender_are_bounces() -> None:
    question = raw("no_attachment_question.eml")
    assert convert(question, envelope_from="").automatic_reason == "bounce"
    assert convert(question, envelope_from="chris.doyle@london.gov.uk").automatic_reason is None
    postmaster = question.replace(b"From: Chris Doyle <chris.doyle@london.gov.uk>",
                                  b"From: postmaster@london.gov.uk")
    assert convert(postmaster).automatic_reason == "bounce"


def test_our_own_address_in_any_case_is_our_own_mail() -> None:
    assert convert(raw("own_mail_echo.eml")).sender == "marac@localhost"
    data = edit_headers(raw("own_mail_echo.eml"), remove=("X-Marac-Bot", "Auto-Submitted"))
    assert convert(data).automatic_reason == "own-mail"


# --- sender verification (interface.md "Who a sender is") -------------------------------------

def test_without_a_trusted_server_senders_are_taken_on_trust() -> None:
    assert convert(raw("dmarc_fail.eml"), trusted=None).sender_verified is True


def test_dmarc_pass_from_the_trusted_server_verifies() -> None:
    assert convert(raw("dmarc_pass.eml"), trusted=TRUSTED).sender_verified is True
    assert convert(raw("dmarc_pass.eml"), trusted="MX.Marac.Example").sender_verified is True


def test_a_forged_pass_below_the_trusted_servers_fail_does_not_verify() -> None:
    assert convert(raw("dmarc_fail.eml"), trusted=TRUSTED).sender_verified is False


def test_results_from_another_server_do_not_verify() -> None:
    assert convert(raw("dmarc_pass.eml"), trusted="mx.elsewhere.example").sender_verified is False


def test_no_authentication_results_at_all_does_not_verify() -> None:
    data = edit_headers(raw("dmarc_pass.eml"), remove=("Authentication-Results",))
    assert convert(data, trusted=TRUSTED).sender_verified is False


@pytest.mark.parametrize(("results", "verified"), [
    ("dkim=pass header.d=croydon.gov.uk", True),
    ("dkim=pass header.i=@croydon.gov.uk", True),
    ("dkim=pass header.d=mail.croydon.gov.uk", True),  # relaxed alignment
    ("dkim=pass header.d=sendgrid.net", False),
    ("dkim=fail header.d=croydon.gov.uk", False),
    ("spf=pass smtp.mailfrom=bounces@croydon.gov.uk", True),
    ("spf=pass smtp.mailfrom=croydon.gov.uk", True),
    ("spf=pass smtp.mailfrom=bounce@amazonses.com", False),
    ("spf=softfail smtp.mailfrom=croydon.gov.uk", False),
    ("dmarc=pass header.from=croydon.gov.uk", True),
    ("dmarc=pass header.from=attacker.example", False),
    ("dmarc=fail header.from=croydon.gov.uk; dkim=pass header.d=sendgrid.net", False),
    ("dkim=pass header.d=gov.uk", True),  # a parent domain aligns, as relaxed DMARC would
    ("dkim=pass header.d=uk", False),  # but never a bare top-level domain
    ("none", False),
])
def test_each_method_counts_only_when_it_passes_aligned(results: str, verified: bool) -> None:
    data = edit_headers(raw("dmarc_pass.eml"), remove=("Authentication-Results",),
                        add=(f"Authentication-Results: {TRUSTED}; {results}",))
    assert convert(data, trusted=TRUSTED).sender_verified is verified


def test_microsoft_365_results_carry_no_authserv_id_and_so_never_match() -> None:
    m365 = ("Authentication-Results: spf=pass (sender IP is 52.101.73.12) "
            "smtp.mailfrom=croydon.gov.uk; dkim=pass (signature was verified) "
            "header.d=croydon.gov.uk;dmarc=pass action=none header.from=croydon.gov.uk;"
            "compauth=pass reason=100")
    data = edit_headers(raw("dmarc_pass.eml"), remove=("Authentication-Results",), add=(m365,))
    assert convert(data, trusted=TRUSTED).sender_verified is False
    parsed = parse_authentication_results(m365.partition(":")[2])
    assert parsed.authserv_id is None
    assert [(r.method, r.result) for r in parsed.results] == [
        ("spf", "pass"), ("dkim", "pass"), ("dmarc", "pass"), ("compauth", "pass")]


def test_authentication_results_parsing_drops_comments_and_reads_properties() -> None:
    parsed = parse_authentication_results(
        " mx.marac.example 1; dkim=pass (2048-bit key; (nested) comment) header.d=Example.org "
        'header.s=s1; spf=neutral reason="no policy" smtp.mailfrom=x@example.org')
    assert parsed.authserv_id == "mx.marac.example"
    dkim, spf = parsed.results
    assert (dkim.method, dkim.result, dkim.properties["header.d"]) == ("dkim", "pass",
                                                                       "Example.org")
    assert (spf.result, spf.properties["reason"]) == ("neutral", "no policy")


# --- text helpers ------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("yes please\n\nOn Mon, 3 Feb 2025, Marac <marac@x> wrote:\n> old", "yes please"),
    ("CONFIRM\n-----Original Message-----\nFrom: a\nSent: b\n\nold", "CONFIRM"),
    ("Confirm\n\nFrom: Marac <marac@x>\nSent: 3 Feb\nTo: me\n\nold", "Confirm"),
    ("thanks\n> quoted\n>> older\nmore", "thanks\nmore"),
    ("question?\n-- \nJane Smith\nCroydon", "question?"),
    ("> all quoted\n> CONFIRM", "> all quoted\n> CONFIRM"),
    ("From: the start of a sentence, no Sent line\nkeep", "From: the start of a sentence, "
     "no Sent line\nkeep"),
])
def test_strip_quoted(text: str, expected: str) -> None:
    assert strip_quoted(text) == expected


def test_strip_quoted_keeps_the_first_lines_when_everything_is_quoted() -> None:
    text = "\n".join(f"> line {n}" for n in range(1, 10))
    assert strip_quoted(text).splitlines() == [f"> line {n}" for n in range(1, 6)]


def test_html_to_text_breaks_blocks_and_hides_invisible_elements() -> None:
    html = ("<html><head><title>t</title><style>p{}</style></head><body><h1>Title</h1>"
            "<p>One&nbsp;&amp;  two<br>three</p><table><tr><td>a</td><td>b</td></tr>"
            "<tr><td>c</td></tr></table><script>alert(1)</script></body></html>")
    assert html_to_text(html) == "Title\n\nOne & two\nthree\n\nab\nc"


def test_every_fixture_is_crlf_and_every_line_fits_rfc_5322() -> None:
    for path in FIXTURES.glob("*.eml"):
        data = path.read_bytes()
        assert re.search(rb"(?<!\r)\n", data) is None, path.name
        assert max(len(line) for line in data.split(b"\r\n")) <= 998, path.name


@pytest.mark.parametrize("data", [
    b"",
    b"not an email at all",
    b"From: \"unterminated <a@b.example\r\nSubject: =?bogus?Q?x?=\r\nReferences: <a> <b\r\n\r\nx",
    b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"
    b"Content-Type: text/plain; charset=klingon\r\n\r\nhi\r\n--x\r\n"
    b"Content-Type: application/vnd.ms-excel\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    b"!!!not base64\r\n",
    b"From: a@b.example\r\nAuthentication-Results: ;;;; = ; ()()(((\r\n\r\nx",
    b"From: a@b.example\r\nContent-Disposition: attachment; filename*=utf-8''%ZZ%E2\r\n\r\nx",
    raw("plain_with_xlsx.eml")[:5000],  # cut off mid-attachment
])
def test_broken_mail_still_converts(data: bytes) -> None:
    # A converter that raises would fail the item on every retry; broken input is data.
    message = convert(data, trusted=TRUSTED)
    assert message.raw == data
    assert message.dedupe_key
    assert message.sender_verified is False
