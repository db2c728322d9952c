"""bot/channels/email/ outbound.py (Reply -> MIME) and send.py (relay or outbox), against a real
aiosmtpd server on a free loopback port."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from email.headerregistry import BaseHeader
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.channels.email import outbound, policy
from bot.channels.email import send as send_module
from bot.channels.email.inbound import to_inbound
from bot.channels.email.outbound import (
    BOUNDARY_PREFIX,
    make_message_id,
    render,
    reply_subject,
    text_to_html,
    to_mime,
)
from bot.channels.email.send import (
    KEEP_SECONDS,
    MailSender,
    RelayConfig,
    SendError,
    outbox_filename,
)
from bot.settings import HostPort, Settings
from kernel.messages import Attachment, Reply, ThreadRef
from tests.smtp_support import HOST, Certificate, SmtpSink, client_context, make_certificate
from tests.test_email_policy import without_boundaries

MAILBOX = "marac@localhost"
TOKEN = "0123456789abcdef0123456789abcdef"  # a store's (store.facts.message_ids)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WORKBOOK = (Path(__file__).parent / "fixtures/email/attachments/croydon-q3.xlsx").read_bytes()
THREAD = ThreadRef(channel="email", address="jane.smith@croydon.gov.uk",
                   message_id="<orig@croydon.gov.uk>",
                   references=("<root@croydon.gov.uk>", "<orig@croydon.gov.uk>"),
                   subject="Q3 2024/25 return - Croydon")
TEXT = ("croydon-q3.xlsx: 12 of 13 rows accepted for Croydon, Q3 2024/25.\n"
        "\n"
        "Please fix:\n"
        "- D7: repeat cases 12 > cases 10 <check>\n"
        "- E9: children & cases\n"
        "\n"
        "Thanks")


def reply(**changes: object) -> Reply:
    values: dict[str, object] = {
        "thread": THREAD, "text": TEXT, "cc": ("manager@croydon.gov.uk",),
        "attachments": (Attachment("croydon-q3-checked.xlsx", WORKBOOK, XLSX),),
    }
    values.update(changes)
    return Reply(**values)  # type: ignore[arg-type]


def mime(r: Reply, key: str = "reply:17") -> EmailMessage:
    return to_mime(r, mailbox_address=MAILBOX, message_id_domain="localhost", message_id=key,
                   token=TOKEN, date=datetime(2025, 2, 3, 10, 12, tzinfo=UTC))


def reparse(payload: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(payload, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_reply_headers_thread_on_the_original() -> None:
    message = reparse(render(mime(reply())))
    assert message["From"] == MAILBOX
    assert message["To"] == "jane.smith@croydon.gov.uk"
    assert message["Cc"] == "manager@croydon.gov.uk"
    assert message["Subject"] == "Re: Q3 2024/25 return - Croydon"
    assert message["In-Reply-To"] == "<orig@croydon.gov.uk>"
    assert message["References"].split() == ["<root@croydon.gov.uk>", "<orig@croydon.gov.uk>"]
    assert message["Message-ID"] == make_message_id("reply:17", domain="localhost", token=TOKEN,
                                                    answering="<orig@croydon.gov.uk>")
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Marac-Bot"] == "1"
    assert message["Date"] == "Mon, 03 Feb 2025 10:12:00 +0000"


def test_the_same_key_gives_the_same_message_id_and_another_key_another() -> None:
    first, again = mime(reply(), "reply:17"), mime(reply(text="Other words"), "reply:17")
    assert first["Message-ID"] == again["Message-ID"]
    assert mime(reply(), "reply:18")["Message-ID"] != first["Message-ID"]
    assert mime(reply(), "<given@example.org>")["Message-ID"] == "<given@example.org>"


def test_the_same_key_in_another_store_or_answering_another_message_is_another_id() -> None:
    """ "reply:17" is every store's seventeenth reply: the store's token and the message
    answered make the id unique (RFC 5322 §3.6.4), or a client drops it as seen before."""
    ours = make_message_id("reply:17", domain="localhost", token=TOKEN, answering="<a@x.org>")
    assert make_message_id("reply:17", domain="localhost", token="f" * 32,
                           answering="<a@x.org>") != ours
    assert make_message_id("reply:17", domain="localhost", token=TOKEN,
                           answering="<b@x.org>") != ours
    assert make_message_id("reply:17", domain="localhost", token=TOKEN) != ours
    other = ThreadRef(channel="email", address="a@x.org", message_id="<b@x.org>", subject="hi")
    assert mime(reply(thread=other))["Message-ID"] != mime(reply())["Message-ID"]
    # A lone surrogate (a chat key from JSON) is hashed, not refused.
    assert make_message_id("\ud800", domain="localhost", token=TOKEN).startswith("<marac.")


def test_a_key_without_the_stores_token_is_refused() -> None:
    with pytest.raises(ValueError, match="needs the store's token"):
        to_mime(reply(), mailbox_address=MAILBOX, message_id_domain="localhost",
                message_id="reply:17")


def test_references_gain_the_message_id_when_the_thread_lacks_it() -> None:
    thread = ThreadRef(channel="email", address="a@x.org", message_id="<m@x.org>",
                       references=(), subject="hi")
    message = mime(reply(thread=thread))
    assert message["References"] == "<m@x.org>"


def test_a_long_chain_keeps_the_root_and_the_latest_references() -> None:
    refs = tuple(f"<r{n}@x.org>" for n in range(40))
    thread = ThreadRef(channel="email", address="a@x.org", message_id="<r39@x.org>",
                       references=refs, subject="hi")
    kept = str(mime(reply(thread=thread))["References"]).split()
    assert len(kept) == 20
    assert kept[0] == "<r0@x.org>" and kept[-1] == "<r39@x.org>"


@pytest.mark.parametrize(("original", "expected"), [
    ("Q3 return", "Re: Q3 return"),
    ("Re: Q3 return", "Re: Q3 return"),
    ("RE: Q3 return", "RE: Q3 return"),
    ("re: Q3 return", "re: Q3 return"),
    ("rE : Q3 return", "rE : Q3 return"),
    ("  Re:Q3 return", "Re:Q3 return"),
    ("Re[2]: Q3 return", "Re[2]: Q3 return"),
    ("", "Re:"),
])
def test_reply_subject_never_stacks(original: str, expected: str) -> None:
    assert reply_subject(original) == expected


@pytest.mark.parametrize(("original", "expected"), [
    ("AW: Q3 return", "Re: AW: Q3 return"),  # German
    ("SV: Q3 return", "Re: SV: Q3 return"),  # Scandinavian
    ("Antw: Q3 return", "Re: Antw: Q3 return"),  # Dutch
    ("ANTW: Q3 return", "Re: ANTW: Q3 return"),
    ("RV: Q3 return", "Re: RV: Q3 return"),  # Spanish
    ("Fwd: Q3 return", "Re: Fwd: Q3 return"),
    ("AW: RE: Q3 return", "Re: AW: RE: Q3 return"),
    ("Reminder: Q3 return", "Re: Reminder: Q3 return"),  # a word starting "Re" is no "Re:"
    ("Regarding Q3", "Re: Regarding Q3"),
])
def test_another_languages_reply_mark_gets_re_in_front(original: str, expected: str) -> None:
    """interface.md: replies are threaded with a "Re:" subject; "AW:" is not one."""
    assert reply_subject(original) == expected


def test_an_explicit_subject_is_used_as_given_and_a_new_thread_is_auto_generated() -> None:
    reminder = ThreadRef(channel="email", address="c@kent.gov.uk")
    message = mime(reply(thread=reminder, subject="Q3 2024/25 data due 28 January", cc=()))
    assert message["Subject"] == "Q3 2024/25 data due 28 January"
    assert message["In-Reply-To"] is None and message["References"] is None
    assert message["Cc"] is None
    assert message["Auto-Submitted"] == "auto-generated"


def test_body_has_text_and_html_alternatives_and_the_workbook_attached() -> None:
    message = reparse(render(mime(reply())))
    assert message.get_content_type() == "multipart/mixed"
    body = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    assert body is not None and html_part is not None
    assert body.get_content().replace("\r\n", "\n").strip() == TEXT
    html = html_part.get_content()
    assert "&lt;check&gt;" in html and "<check>" not in html
    assert "<li>E9: children &amp; cases</li>" in html
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "croydon-q3-checked.xlsx"
    assert attachment.get_content_type() == XLSX
    assert attachment.get_content() == WORKBOOK


def test_given_html_is_used_instead_of_the_generated_one() -> None:
    message = mime(reply(html="<p>custom</p>"))
    html_part = message.get_body(preferencelist=("html",))
    assert html_part is not None and html_part.get_content().strip() == "<p>custom</p>"


def test_non_ascii_text_and_file_names_survive_the_round_trip() -> None:
    r = reply(text="Diolch – Siân", attachments=(
        Attachment("Data Wrecsam – Ch3.xlsx", WORKBOOK, "application/octet-stream"),))
    back = to_inbound(render(mime(r)), mailbox_address="someone@else.org",
                      trusted_authserv_id=None, received_at=datetime.now(UTC))
    assert back.text == "Diolch – Siân"
    assert [(a.filename, a.content_type, a.data) for a in back.attachments] == [
        ("Data Wrecsam – Ch3.xlsx", XLSX, WORKBOOK)]


def test_our_reply_coming_back_is_recognised_as_our_own_mail() -> None:
    back = to_inbound(render(mime(reply())), mailbox_address=MAILBOX, trusted_authserv_id=None,
                      received_at=datetime.now(UTC))
    assert back.automatic_reason == "own-mail"


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
GRID = Attachment("grid.png", PNG, "image/png", inline_id="grid")
SHAPES = {
    "a file and a copy": {},
    "no file, no copy": {"attachments": (), "cc": ()},
    "non-ASCII text, file name and a long subject": {
        "text": "Diolch – Siân\n" + "Gwall yn y rhes " * 20,
        "subject": "Ymateb: Data Marac Wrecsam – Chwarter 3 " + "geiriau hir " * 8,
        "attachments": (Attachment("Data Marac Wrecsam – Chwarter 3 (wedi'i wirio).xlsx",
                                   WORKBOOK, "application/octet-stream"),
                        Attachment("nodiadau.csv", b"a,b\n1,2\n", "text/csv"))},
    "an internationalised address": {
        "thread": ThreadRef(channel="email", address="siân@wrecsam.cymru", message_id="<m@x>"),
        "cc": ()},
    "a picture in the HTML and a file": {
        "html": '<p>Grid</p><img src="cid:grid">', "attachments": (GRID, reply().attachments[0])},
    "a picture in the HTML only": {"html": '<img src="cid:grid">', "attachments": (GRID,)},
}


def built_by_the_stdlib(r: Reply, ours: EmailMessage | None = None) -> bytes:
    """What set_content, add_alternative, add_related and add_attachment make of ``r``, under
    the same headers (each set as a header object, parsed and folded by the stdlib): the way
    replies were built before the tree was built straight."""
    ours = ours or mime(r)
    message = EmailMessage(policy=ours.policy)
    for name, value in ours.items():
        if name not in ("MIME-Version", "Content-Type"):
            message[name] = value
    message.set_content(r.text)
    message.add_alternative(r.html or text_to_html(r.text), subtype="html")
    html_part = message.get_body(preferencelist=("html",))
    assert isinstance(html_part, EmailMessage)
    for a in r.attachments:
        maintype, _, subtype = a.content_type.partition("/")
        if a.inline_id and r.html:
            html_part.add_related(a.data, maintype=maintype, subtype=subtype,
                                  cid=f"<{a.inline_id}>", filename=a.filename,
                                  disposition="inline")
        else:
            if a.content_type == "application/octet-stream":
                maintype, subtype = XLSX.split("/")
            message.add_attachment(a.data, maintype=maintype, subtype=subtype,
                                   filename=a.filename)
    return render(message)


@pytest.mark.parametrize("changes", SHAPES.values(), ids=SHAPES.keys())
def test_the_reply_is_what_the_stdlib_builds_but_for_its_boundaries(
        changes: dict[str, object]) -> None:
    r = reply(**changes)
    ours = render(mime(r))
    assert without_boundaries(ours) == without_boundaries(built_by_the_stdlib(r))
    multiparts = [p for p in reparse(ours).walk() if p.is_multipart()]
    assert len({p.get_boundary() for p in multiparts}) == len(multiparts) > 0
    for part in multiparts:  # ours, but for a picture's multipart/related (add_related's)
        ours_given = re.fullmatch(r"=_marac_[0-9a-f]{32}", part.get_boundary() or "")
        assert bool(ours_given) is (part.get_content_subtype() != "related")


FIXTURE_MAIL = sorted((Path(__file__).parent / "fixtures/email").glob("*.eml"))


@pytest.mark.parametrize("changes", SHAPES.values(), ids=SHAPES.keys())
def test_render_writes_what_as_bytes_writes(changes: dict[str, object]) -> None:
    message = mime(reply(**changes))
    assert render(message) == message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


@pytest.mark.parametrize("path", FIXTURE_MAIL, ids=[p.name for p in FIXTURE_MAIL])
def test_render_writes_received_mail_as_as_bytes_does(path: Path) -> None:
    # Preambles, epilogues, 8-bit bodies kept as surrogates, bare CR or LF line ends.
    raw = path.read_bytes()
    for text in (raw, raw.replace(b"\r\n", b"\n"), raw.replace(b"\r\n", b"\r")):
        message = email.message_from_bytes(text, policy=policy.PARSE)
        assert isinstance(message, EmailMessage)
        assert _outcome(render, message) == _outcome(
            lambda m: m.as_bytes(policy=policy.SMTP), message)


def _outcome(write: Callable[[EmailMessage], bytes], message: EmailMessage) -> object:
    try:
        return write(message)
    except ValueError as exc:  # a header the stdlib will not write (a CR in an address)
        return type(exc), str(exc)


@pytest.mark.parametrize(("message_id", "domain", "verbatim"), [
    ("reply:17", "localhost", True),
    ("reply:17", "data-teams.example.org.uk", True),  # a line of 78 characters
    ("reply:17", "data-teams1.example.org.uk", False),  # 79: folded (or not) by the stdlib
    ("<given.1+x_y-z@example.org>", "localhost", True),
    ("<given:1,2@example.org>", "localhost", False),
    ("<a..b@example.org>", "localhost", False),
    ("<a\"b@example.org>", "localhost", False),
])
@pytest.mark.parametrize("date", [datetime(2025, 2, 3, 10, 12, tzinfo=UTC),
                                  datetime(2025, 7, 3, 23, 59, 59, tzinfo=timezone(
                                      timedelta(hours=1))),
                                  datetime(2025, 1, 1)])
def test_dates_and_ids_are_written_as_the_stdlib_writes_them(
        message_id: str, domain: str, verbatim: bool, date: datetime) -> None:
    r = reply()
    ours = to_mime(r, mailbox_address=MAILBOX, message_id_domain=domain, message_id=message_id,
                   token=TOKEN, date=date)
    # Stored as written (set_raw, no header object) only where that is what would be written.
    stored = dict(ours.raw_items())
    assert isinstance(stored["Message-ID"], BaseHeader) is not verbatim
    assert not isinstance(stored["Date"], BaseHeader)
    assert without_boundaries(render(ours)) == without_boundaries(built_by_the_stdlib(r, ours))


def test_a_boundary_found_in_a_part_is_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    taken, fresh = "0" * 32, "1" * 32
    drawn = iter([taken, taken, fresh, "2" * 32])
    monkeypatch.setattr(outbound.secrets, "token_hex", lambda n: next(drawn))
    # Short ASCII lines go out as they are (7bit): the boundary's line stands in the text.
    text = f"Results\n--{BOUNDARY_PREFIX}{taken}\nThanks"
    message = reparse(render(mime(reply(text=text, attachments=()))))
    assert message.get_boundary() == BOUNDARY_PREFIX + fresh
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and body.get_content().replace("\r\n", "\n").strip() == text


def test_an_encoded_part_cannot_hold_a_boundary(monkeypatch: pytest.MonkeyPatch) -> None:
    # Quoted-printable writes "=" as "=3D" and base64 has no "_": the first boundary drawn
    # stands even though the text and the file both hold its line before encoding.
    first, second = "0" * 32, "1" * 32
    drawn = iter([first, second])  # one each for multipart/alternative and /mixed
    monkeypatch.setattr(outbound.secrets, "token_hex", lambda n: next(drawn))
    lines = f"--{BOUNDARY_PREFIX}{first}\n--{BOUNDARY_PREFIX}{second}"
    text = f"Résultats – {'long words ' * 10}\n{lines}\nMerci"
    data = f"a,b\n{lines}\n".encode()
    message = reparse(render(mime(reply(text=text, cc=(), attachments=(
        Attachment("notes.csv", data, "text/csv"),)))))
    assert [p.get_boundary() for p in message.walk() if p.is_multipart()] == [
        BOUNDARY_PREFIX + second, BOUNDARY_PREFIX + first]
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and body.get_content().replace("\r\n", "\n").strip() == text
    (attachment,) = message.iter_attachments()
    assert attachment.get_payload(decode=True) == data


def test_text_to_html_paragraphs_breaks_and_lists() -> None:
    assert text_to_html("a\nb\n\n- x\n- y\nc").split("\n")[2:6] == [
        "<p>a<br>", "b</p>", "<ul><li>x</li><li>y</li></ul>", "<p>c</p>"]


# --- the outbox folder (no relay) ---------------------------------------------------------

def test_without_a_relay_the_message_is_written_to_the_outbox(tmp_path: Path) -> None:
    sender = MailSender.from_settings(Settings(data_dir=tmp_path))
    payload = render(mime(reply()))
    sender.send(payload, recipients=["jane.smith@croydon.gov.uk"], sender=MAILBOX,
                key="reply:17")
    files = list((tmp_path / "outbox").iterdir())
    assert [f.name for f in files] == [outbox_filename(payload, key="reply:17")]
    # The envelope recipient first, so that a person sending the file knows whom it is for.
    assert files[0].read_bytes() == b"X-Envelope-To: jane.smith@croydon.gov.uk\r\n" + payload
    assert files[0].name.startswith("reply_17-") and files[0].suffix == ".eml"


def test_a_retry_overwrites_the_same_file_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    sender = MailSender(relay=None, outbox_dir=tmp_path)
    sender.send(b"Message-ID: <a@x>\r\n\r\nfirst\r\n", recipients=["a@x.org"], sender=MAILBOX)
    sender.send(b"Message-ID: <a@x>\r\n\r\nsecond\r\n", recipients=["a@x.org"], sender=MAILBOX)
    sender.send(b"Message-ID: <b@x>\r\n\r\nother\r\n", recipients=["a@x.org"], sender=MAILBOX)
    contents = sorted(f.read_bytes().split(b"\r\n\r\n")[1] for f in tmp_path.iterdir())
    assert contents == [b"other\r\n", b"second\r\n"]


def test_an_unwritable_outbox_raises_send_error(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("a file where the outbox folder should be")
    sender = MailSender(relay=None, outbox_dir=blocker)
    with pytest.raises(SendError) as caught:
        sender.send(b"x", recipients=["a@x.org"], sender=MAILBOX, key="k")
    assert caught.value.permanent is False


def test_no_recipients_is_a_permanent_error(tmp_path: Path) -> None:
    with pytest.raises(SendError) as caught:
        MailSender(relay=None, outbox_dir=tmp_path).send(b"x", recipients=[], sender=MAILBOX)
    assert caught.value.permanent is True


# --- a real relay ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("tls"))


def relay_sender(port: int, *, tls: str = "none", user: str | None = None,
                 password: str | None = None, certificate: Certificate | None = None
                 ) -> MailSender:
    context = client_context(certificate) if certificate else None
    return MailSender(relay=RelayConfig(HostPort(HOST, port), tls, user, password),
                      outbox_dir=Path("/nonexistent"), timeout=10, ssl_context=context)


def test_relay_receives_the_exact_bytes() -> None:
    payload = render(mime(reply()))
    with SmtpSink() as sink:
        relay_sender(sink.port).send(payload, recipients=["jane.smith@croydon.gov.uk",
                                                         "manager@croydon.gov.uk"],
                                     sender=MAILBOX)
        (mail,) = sink.wait_for(1)
    assert mail.data == payload
    assert mail.mail_from == MAILBOX
    assert mail.rcpt_tos == ("jane.smith@croydon.gov.uk", "manager@croydon.gov.uk")
    assert (mail.authenticated_as, mail.tls) == (None, False)


def test_from_settings_uses_the_relay(tmp_path: Path) -> None:
    with SmtpSink() as sink:
        settings = Settings(data_dir=tmp_path, smtp_relay=HostPort(HOST, sink.port))
        MailSender.from_settings(settings).send(b"Subject: x\r\n\r\nhi\r\n",
                                                recipients=["a@x.org"], sender=MAILBOX)
        assert [m.data for m in sink.wait_for(1)] == [b"Subject: x\r\n\r\nhi\r\n"]
    assert not (tmp_path / "outbox").exists()


# aiosmtpd cannot see that an implicit-TLS connection is encrypted, and says so.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("tls", ["starttls", "ssl"])
def test_relay_over_tls_with_login(tls: str, certificate: Certificate) -> None:
    with SmtpSink(tls=tls, certificate=certificate, auth=("bot", "s3cret")) as sink:
        relay_sender(sink.port, tls=tls, user="bot", password="s3cret",
                     certificate=certificate).send(b"Subject: t\r\n\r\nhi\r\n",
                                                   recipients=["a@x.org"], sender=MAILBOX)
        (mail,) = sink.wait_for(1)
    assert (mail.authenticated_as, mail.tls) == ("bot", True)
    assert mail.data == b"Subject: t\r\n\r\nhi\r\n"


def test_a_wrong_password_is_a_retryable_error(certificate: Certificate) -> None:
    with SmtpSink(tls="starttls", certificate=certificate, auth=("bot", "s3cret")) as sink:
        sender = relay_sender(sink.port, tls="starttls", user="bot", password="wrong",
                              certificate=certificate)
        with pytest.raises(SendError) as caught:
            sender.send(b"Subject: t\r\n\r\nhi\r\n", recipients=["a@x.org"], sender=MAILBOX)
        assert sink.messages == []
    assert caught.value.permanent is False


def test_an_untrusted_certificate_is_refused(certificate: Certificate) -> None:
    with SmtpSink(tls="starttls", certificate=certificate) as sink:
        # The system trust store does not know the test's self-signed certificate.
        sender = MailSender(relay=RelayConfig(HostPort(HOST, sink.port), "starttls"),
                            outbox_dir=Path("/nonexistent"), timeout=10)
        with pytest.raises(SendError, match="CERTIFICATE_VERIFY_FAILED"):
            sender.send(b"Subject: t\r\n\r\nhi\r\n", recipients=["a@x.org"], sender=MAILBOX)
        assert sink.messages == []


def test_every_recipient_refused_with_5xx_is_permanent() -> None:
    with SmtpSink(rcpt_replies={"gone@x.org": "550 5.1.1 no such user"}) as sink:
        with pytest.raises(SendError) as caught:
            relay_sender(sink.port).send(b"Subject: t\r\n\r\nhi\r\n", recipients=["gone@x.org"],
                                         sender=MAILBOX)
        assert sink.messages == []
    assert caught.value.permanent is True


def test_a_refusal_is_kept_in_the_relays_words_one_line_each_recipient() -> None:
    """What the outbox page and the log show an operator: no dict of tuples of bytes."""
    replies = {"gone@x.org": "550 5.1.1 no such user",
               "full@x.org": "552-5.2.2 mailbox full\r\n552 5.2.2 try later"}
    with SmtpSink(rcpt_replies=replies) as sink, pytest.raises(SendError) as caught:
        relay_sender(sink.port).send(b"Subject: t\r\n\r\nhi\r\n",
                                     recipients=["gone@x.org", "full@x.org"], sender=MAILBOX)
    assert str(caught.value) == (
        f"relay {HOST}:{sink.port} refused gone@x.org: 550 5.1.1 no such user; "
        "full@x.org: 552 5.2.2 mailbox full 5.2.2 try later")
    assert caught.value.permanent is True


def test_one_refused_recipient_of_two_still_counts_as_sent() -> None:
    with SmtpSink(rcpt_replies={"gone@x.org": "550 5.1.1 no such user"}) as sink:
        relay_sender(sink.port).send(b"Subject: t\r\n\r\nhi\r\n",
                                     recipients=["gone@x.org", "here@x.org"], sender=MAILBOX)
        assert [m.rcpt_tos for m in sink.wait_for(1)] == [("here@x.org",)]


def test_a_temporary_refusal_is_retryable() -> None:
    with SmtpSink(data_reply="451 4.3.0 try again later") as sink, pytest.raises(
        SendError
    ) as caught:
        relay_sender(sink.port).send(b"Subject: t\r\n\r\nhi\r\n", recipients=["a@x.org"],
                                     sender=MAILBOX)
    assert caught.value.permanent is False


def test_a_relay_that_is_not_there_is_retryable() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind((HOST, 0))
        port = probe.getsockname()[1]
    with pytest.raises(SendError) as caught:
        relay_sender(port).send(b"x", recipients=["a@x.org"], sender=MAILBOX)
    assert caught.value.permanent is False


# --- the relay connection kept between sends ---------------------------------------------------

MESSAGE = b"Subject: t\r\n\r\nhi\r\n"


def numbered(n: int | str) -> bytes:
    return b"Subject: t\r\n\r\nhi %s\r\n" % str(n).encode()


class Clock:
    """The sender's monotonic clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def kept_sender(port: int, **options: object) -> tuple[MailSender, Clock]:
    sender = relay_sender(port, **options)  # type: ignore[arg-type]
    clock = Clock()
    sender.clock = clock
    return sender, clock


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("tls", ["none", "starttls", "ssl"])
def test_sends_in_a_row_share_one_relay_connection(tls: str, certificate: Certificate) -> None:
    secure = tls != "none"
    with SmtpSink(tls=tls if secure else None, certificate=certificate,
                  auth=("bot", "s3cret") if secure else None) as sink:
        sender, _ = kept_sender(sink.port, tls=tls, user="bot" if secure else None,
                                password="s3cret", certificate=certificate)
        for n in range(3):
            sender.send(numbered(n), recipients=["a@x.org"], sender=MAILBOX)
        mails = sink.wait_for(3)
        sender.close()
        assert [m.data for m in mails] == [numbered(n) for n in range(3)]
        assert len({m.peer for m in mails}) == 1
        assert all((m.authenticated_as, m.tls) == (("bot", True) if secure else (None, False))
                   for m in mails)
        assert sink.recorder.quits == [mails[0].peer]  # close() said goodbye, once


def test_a_connection_the_relay_dropped_is_replaced_and_nothing_is_sent_twice() -> None:
    with SmtpSink() as sink:
        sender, _ = kept_sender(sink.port)
        sender.send(numbered("1"), recipients=["a@x.org"], sender=MAILBOX)
        sink.drop_connections()
        sender.send(numbered("2"), recipients=["a@x.org"], sender=MAILBOX)
        first, second = sink.wait_for(2)
        assert [first.data, second.data] == [numbered("1"), numbered("2")]
        assert first.peer != second.peer
        assert sink.recorder.transactions == [first.peer, second.peer]


def test_a_relay_closing_at_rset_is_not_offered_the_message() -> None:
    with SmtpSink() as sink:
        sender, _ = kept_sender(sink.port)
        sender.send(numbered("1"), recipients=["a@x.org"], sender=MAILBOX)
        sink.recorder.rset_reply = "421 4.3.2 closing"
        sender.send(numbered("2"), recipients=["a@x.org"], sender=MAILBOX)
        first, second = sink.wait_for(2)
        assert first.peer != second.peer
        assert sink.recorder.transactions == [first.peer, second.peer]
        assert sink.recorder.quits == [first.peer]  # the refused one was left politely


@pytest.mark.parametrize("step", ["RSET", "QUIT at close", "QUIT when released",
                                  "QUIT of one kept too long", "QUIT after a 421 to RSET"])
def test_a_relay_gone_silent_is_given_up_after_probe_seconds(
        step: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The network dropped the idle connection without a word: neither the RSET before the
    next send nor any QUIT that ends a kept connection waits a send's timeout for an answer."""
    monkeypatch.setattr(send_module, "PROBE_SECONDS", 0.2)
    with SmtpSink() as sink:
        sink.recorder.silent_until = release = threading.Event()
        release.set()  # answering at first
        try:
            sender, clock = kept_sender(sink.port)
            sender.send(numbered(1), recipients=["a@x.org"], sender=MAILBOX)
            release.clear()
            started = time.monotonic()
            if step == "QUIT at close":
                sender.close()
            elif step == "QUIT when released":
                clock.now += KEEP_SECONDS + 1
                sender.release_idle()
            else:
                if step == "QUIT of one kept too long":
                    clock.now += KEEP_SECONDS + 1
                elif step == "QUIT after a 421 to RSET":
                    sink.recorder.rset_reply = "421 4.3.2 closing"
                    sink.recorder.silent_steps = {"QUIT"}  # RSET answers; QUIT will not
                sender.send(numbered(2), recipients=["a@x.org"], sender=MAILBOX)
                first, second = sink.wait_for(2)
                assert first.peer != second.peer
            assert time.monotonic() - started < 5  # not the send's 10 s here (nor for ever)
        finally:
            release.set()


@pytest.mark.parametrize("tls", ["none", "ssl"])
def test_a_relay_socket_sends_each_write_at_once_and_waits_a_sends_time(
        tls: str, certificate: Certificate) -> None:
    """TCP_NODELAY on the relay's socket (over TLS a message is several writes, and Nagle's
    algorithm held each for the relay's delayed acknowledgement), and a reused connection
    back on the send's own timeout after its short RSET."""
    with SmtpSink(tls="ssl" if tls == "ssl" else None, certificate=certificate) as sink:
        sender, _ = kept_sender(sink.port, tls=tls, certificate=certificate)
        for n in range(2):  # a new connection, then the kept one after its RSET
            sender.send(numbered(n), recipients=["a@x.org"], sender=MAILBOX)
            kept = sender._kept
            assert kept is not None
            sock = kept[0].sock
            assert sock is not None
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
            assert sock.gettimeout() == 10
        assert len({m.peer for m in sink.wait_for(2)}) == 1
        sender.close()


@pytest.mark.parametrize(("idle", "reused"), [(KEEP_SECONDS, True), (KEEP_SECONDS + 0.01, False)])
def test_a_connection_is_reused_for_keep_seconds_and_no_longer(idle: float, reused: bool
                                                                ) -> None:
    with SmtpSink() as sink:
        sender, clock = kept_sender(sink.port)
        sender.send(MESSAGE, recipients=["a@x.org"], sender=MAILBOX)
        clock.now += idle
        sender.send(MESSAGE, recipients=["a@x.org"], sender=MAILBOX)
        first, second = sink.wait_for(2)
        assert (first.peer == second.peer) is reused
        assert sink.recorder.quits == ([] if reused else [first.peer])


@pytest.mark.parametrize(("idle", "released"),
                         [(KEEP_SECONDS, False), (KEEP_SECONDS + 0.01, True)])
def test_release_idle_ends_a_connection_unused_for_keep_seconds(idle: float, released: bool
                                                                ) -> None:
    with SmtpSink() as sink:
        sender, clock = kept_sender(sink.port)
        sender.send(MESSAGE, recipients=["a@x.org"], sender=MAILBOX)
        (mail,) = sink.wait_for(1)
        clock.now += idle
        sender.release_idle()
        assert sink.recorder.quits == ([mail.peer] if released else [])
        sender.send(MESSAGE, recipients=["a@x.org"], sender=MAILBOX)
        assert (sink.wait_for(2)[1].peer == mail.peer) is not released


def test_a_failed_send_does_not_keep_its_connection() -> None:
    with SmtpSink(rcpt_replies={"busy@x.org": "450 4.2.1 try later"}) as sink:
        sender, _ = kept_sender(sink.port)
        with pytest.raises(SendError):
            sender.send(MESSAGE, recipients=["busy@x.org"], sender=MAILBOX)
        sender.send(MESSAGE, recipients=["a@x.org"], sender=MAILBOX)
        (mail,) = sink.wait_for(1)
        failed, sent = sink.recorder.transactions
        assert failed != sent == mail.peer
        assert sink.recorder.quits == [failed]


def test_a_send_while_another_holds_the_connection_opens_its_own_and_keeps_one() -> None:
    """Two sends at once (the sender is shared): each has a connection of its own, and only
    one is kept afterwards."""
    with SmtpSink() as sink:
        sender, _ = kept_sender(sink.port)
        inner_done: list[bool] = []

        def send_another() -> None:
            sender.send(numbered("inner"), recipients=["a@x.org"], sender=MAILBOX)
            inner_done.append(True)

        sender.send(numbered("outer"), recipients=["a@x.org"], sender=MAILBOX,
                    on_accepted=send_another)
        outer, inner = sink.wait_for(2)  # the outer one's DATA ended first
        assert (outer.data, inner.data) == (numbered("outer"), numbered("inner"))
        assert inner_done == [True] and inner.peer != outer.peer
        assert sink.recorder.quits == [outer.peer]  # the inner one was kept first
        sender.send(MESSAGE, recipients=["a@x.org"], sender=MAILBOX)
        assert sink.wait_for(3)[2].peer == inner.peer


def test_one_message_for_three_people_is_three_files_each_naming_its_recipient(
        tmp_path: Path) -> None:
    # Issue 13: an escalation is one outbox item per person, each with everyone in To/Cc; in
    # the outbox folder only X-Envelope-To tells a person sending by hand whom a file is for.
    sender = MailSender(relay=None, outbox_dir=tmp_path)
    payload = b"Message-ID: <e@x>\r\nTo: a@x.org, b@x.org\r\nCc: c@x.org\r\n\r\nbody\r\n"
    people = ["a@x.org", "b@x.org", "c@x.org"]
    for person in people:
        sender.send(payload, recipients=[person], sender=MAILBOX, key=f"reminder:{person}")
    envelopes = sorted(f.read_bytes().split(b"\r\n", 1)[0] for f in tmp_path.iterdir())
    assert envelopes == [f"X-Envelope-To: {p}".encode() for p in people]
