"""The conversations around a file (issue 4, items 2 and 6), through the stored inbox and the
Worker, on a real database: raw RFC 822 bytes in, the recorded outcome and the queued reply out.

Each test stores a message exactly as the SMTP listener or IMAP watcher would
(``store.queue.enqueue_inbound``), lets the Worker take it, and reads back what ``marac-bot run``
would have committed: the inbox item's outcome, the outbox payload (parsed with the email
package), and the data recorded.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select, text

from bot.channels.email.inbound import to_inbound
from bot.settings import Settings
from kernel import wording
from store.db import Store
from store.history import meeting_history
from store.models import HeldChange, Meeting, MeetingVersion, Submission, SubmissionIssue
from store.queue import OutboundItem
from store.types import utcnow
from tests.dispatch_support import (
    COORDINATOR,
    EMAILS,
    JANE,
    MAILBOX,
    File,
    Handled,
    Mailroom,
    attachments_of,
    body_of,
    compose,
    fixture,
    html_of,
    load_registry,
    matplotlib_file,
)
from tests.fixtures import make_fixtures as mf
from validation.context import ValidationContext
from validation.validate import validate_bytes

STRANGER = "stranger@elsewhere.example"
TRUSTED = "mx.marac.example"  # the authserv-id of the Authentication-Results fixtures
PENDING = HeldChange.status == "pending"


def settings_for(tmp_path: Path, *, trusted_authserv_id: str | None = None) -> Settings:
    return Settings(data_dir=tmp_path / "data", mailbox_address=MAILBOX, smtp_listen=None,
                    http_listen=None, trusted_authserv_id=trusted_authserv_id)


@pytest.fixture
def registered(db_store: Store) -> Store:
    with db_store.transaction() as session:
        load_registry(session)
    return db_store


@pytest.fixture
def mailroom(registered: Store, tmp_path: Path) -> Mailroom:
    return Mailroom(registered, settings_for(tmp_path))


def stored_issues(mailroom: Mailroom, filename: str) -> list[tuple[str, str | None, str]]:
    """(severity, cell, code) of the issues recorded for the newest submission of a file."""
    with mailroom.store.transaction() as session:
        submission = session.scalars(
            select(Submission).where(Submission.filename == filename)
            .order_by(Submission.id.desc())
        ).first()
        assert submission is not None
        return [(i.severity, i.cell, i.code) for i in submission.issues]


def section(body: str, heading: str) -> list[str]:
    """The lines under one heading of a reply, up to the next blank line."""
    lines = body.splitlines()
    start = next(n for n, line in enumerate(lines) if line.endswith(heading))
    block = []
    for line in lines[start + 1:]:
        if not line.strip():
            break
        block.append(line)
    return block


def assert_threaded(handled: Handled, original: bytes, *, to: str = COORDINATOR) -> None:
    """One reply, to the sender, threaded on the original (In-Reply-To, References, "Re:")."""
    reply = handled.reply
    original_message = to_inbound(original, mailbox_address=MAILBOX, trusted_authserv_id=None,
                                  received_at=utcnow())
    message_id = original_message.thread.message_id
    assert message_id
    assert reply["To"] == to
    assert reply["From"] == MAILBOX
    assert reply["In-Reply-To"] == message_id
    assert str(reply["References"]).split()[-1] == message_id
    subject = original_message.subject
    expected = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    assert reply["Subject"] == expected
    assert reply["Auto-Submitted"] == "auto-replied"  # so responders do not answer it


# ---------------------------------------------------------------------------------------------
# A template from a registered coordinator.
# ---------------------------------------------------------------------------------------------


def test_template_with_issues_gets_one_threaded_reply_by_cell_with_the_file_marked(
    mailroom: Mailroom,
) -> None:
    root = "<thread-root.0001@example.org>"
    raw = compose(files=[fixture("several_issues.xlsx")], references=[root])
    handled = mailroom.exchange(raw)
    assert (handled.status, handled.outcome) == ("done", "submission-partially-accepted")
    assert_threaded(handled, raw)
    assert str(handled.reply["References"]).split()[0] == root
    body = body_of(handled.reply)
    lines = body.splitlines()
    # The headline says what happened in words, before the outcome line interface.md promises.
    assert lines[0] == "3 of 6 meetings recorded; 3 need fixing (see below)."
    assert lines[4].startswith("several_issues.xlsx: 3 of 6 rows accepted for Croydon, Q3 2024/25")
    # Every hard and soft issue recorded appears under its heading with its cell, and no
    # internal code or sheet-name prefix reaches the coordinator (issue 12).
    # (Soft includes a quarter-level unusual-volume: three meetings are well below the band.)
    issues = stored_issues(mailroom, "several_issues.xlsx")
    for severity in ("hard", "soft"):
        block = section(body, wording.SEVERITY_HEADINGS[severity])
        expected = [(cell, code) for sev, cell, code in issues if sev == severity]
        assert len(expected) >= 2
        assert len(block) == len(expected), block
        for (cell, code), line in zip(expected, block, strict=True):
            assert f"({code})" not in line and "[Marac data]" not in line, line
            assert cell is None or cell in line, line  # quarter-level notes have none
            assert f"{cell}: {cell}" not in line, line
    assert "several_issues-checked.xlsx" in body and "(-checked.xlsx)" not in body
    html = html_of(handled.reply)
    assert html.startswith("<!DOCTYPE html>")
    assert "<table" in html and "<td" in html and "What to change" in html
    # The file comes back with the problem cells commented.
    files = attachments_of(handled.reply)
    assert set(files) == {"several_issues-checked.xlsx"}
    sheet = openpyxl.load_workbook(io.BytesIO(files["several_issues-checked.xlsx"]))["Marac data"]
    assert sheet["D7"].comment is not None
    assert sheet["B4"].comment is None  # a clean row is left alone
    assert mailroom.count(MeetingVersion) == 3


def test_clean_template_gets_the_outcome_line_and_no_attachment(mailroom: Mailroom) -> None:
    raw = compose(files=[fixture("clean_libreoffice.xlsx")])
    handled = mailroom.exchange(raw)
    assert handled.outcome == "submission-accepted"
    assert_threaded(handled, raw)
    body = body_of(handled.reply)
    assert "clean_libreoffice.xlsx: 6 of 6 rows accepted for Croydon, Q3 2024/25" in body
    assert wording.SEVERITY_HEADINGS["hard"] not in body
    assert attachments_of(handled.reply) == {}
    assert mailroom.count(MeetingVersion) == 6


def test_quarter_in_the_subject_is_the_declared_quarter(mailroom: Mailroom) -> None:
    declared = mailroom.exchange(compose(subject="Q3 2024/25 return",
                                         files=[fixture("date_outside_quarter.xlsx")]))
    assert ("hard", "B2", "date-outside-quarter") in stored_issues(
        mailroom, "date_outside_quarter.xlsx"
    )
    assert "B2" in body_of(declared.reply)


def test_two_attachments_get_one_reply_covering_both(mailroom: Mailroom) -> None:
    raw = compose(files=[fixture("clean_libreoffice.xlsx"), fixture("lambeth_q3.xlsx")])
    handled = mailroom.exchange(raw)
    assert handled.outcome == "submission-rejected"  # the worse of the two
    assert mailroom.outbox_size() == 1
    body = body_of(handled.reply)
    assert body.splitlines()[0] == ("6 of 12 meetings recorded; 6 not taken, as you are not "
                                    "registered to send data for Lambeth.")
    assert body.splitlines()[4].startswith("clean_libreoffice.xlsx: 6 of 6 rows accepted")
    assert body.splitlines()[5].startswith("lambeth_q3.xlsx: 0 of 6 rows accepted")
    # Lambeth's file is refused whole for its Marac: who to ask, and nothing to fix.
    assert wording.not_registered_text("lambeth_q3.xlsx", ["Lambeth"], f" ({MAILBOX})") in body
    assert wording.SEVERITY_HEADINGS["hard"] not in body
    assert wording.ANNOTATED_NOTE_START not in body
    assert attachments_of(handled.reply) == {}
    assert mailroom.count(Submission) == 2
    assert mailroom.count(MeetingVersion) == 6  # Croydon's only


def test_identical_findings_down_a_column_are_one_line_each(mailroom: Mailroom) -> None:
    handled = mailroom.exchange(compose(files=[fixture("many_issues.xlsx")]))
    assert handled.outcome == "submission-rejected"
    body = body_of(handled.reply)
    listed = section(body, wording.SEVERITY_HEADINGS["hard"])
    # 18 findings (three columns of 'n/a' over six rows): one line per column, cells listed.
    assert len(listed) == len(mf.NOT_APPLICABLE_LETTERS)
    for letter, line in zip(mf.NOT_APPLICABLE_LETTERS, listed, strict=True):
        assert f"({letter}2–{letter}7) must be a whole number" in line, line
    files = attachments_of(handled.reply)
    assert set(files) == {"many_issues-checked.xlsx"}  # nothing capped: no separate list
    sheet = openpyxl.load_workbook(io.BytesIO(files["many_issues-checked.xlsx"]))["Marac data"]
    assert all(sheet[f"{letter}{r}"].comment is not None
               for letter in mf.NOT_APPLICABLE_LETTERS for r in range(2, 8))


# ---------------------------------------------------------------------------------------------
# Held changes and CONFIRM.
# ---------------------------------------------------------------------------------------------


def confirm_reply_to(handled: Handled, *, body: str = "CONFIRM\n") -> bytes:
    """The coordinator's answer to our reply, as a mail client threads it."""
    ours = handled.reply
    quoted = "\n".join(f"> {line}" for line in body_of(ours).splitlines())
    return compose(
        subject=str(ours["Subject"]),  # "Re: …" already: clients do not stack another
        body=f"{body}\nOn Mon, 3 Feb 2025 at 10:12, Marac data <{MAILBOX}> wrote:\n{quoted}\n",
        in_reply_to=str(ours["Message-ID"]),
        references=[*str(ours["References"]).split(), str(ours["Message-ID"])],
    )


def test_a_corrected_file_is_held_and_confirm_in_reply_applies_only_that_message(
    mailroom: Mailroom,
) -> None:
    assert mailroom.exchange(compose(files=[fixture("clean_libreoffice.xlsx")])).outcome == (
        "submission-accepted"
    )
    corrected = mailroom.exchange(compose(files=[fixture("corrected_d3.xlsx")]))
    assert corrected.outcome == "submission-held"
    body = body_of(corrected.reply)
    assert "6 → 7" in body and "Reply CONFIRM" in body
    # A second message holds two more meetings (rows 2 and 6 of several_issues.xlsx).
    other = mailroom.exchange(compose(files=[fixture("several_issues.xlsx")]))
    assert other.outcome == "submission-held"
    assert mailroom.count(HeldChange, PENDING) == 3

    confirm = confirm_reply_to(corrected)
    confirmed = mailroom.exchange(confirm)
    assert confirmed.outcome == "confirmed"
    assert body_of(confirmed.reply).strip() == wording.confirmed_text(1)
    assert_threaded(confirmed, confirm)
    assert mailroom.count(HeldChange, PENDING) == 2  # the other message's changes still wait
    with mailroom.store.transaction() as session:
        history = meeting_history(session, "Croydon", date(2024, 10, 17))
    assert [(v.version, v.is_current, v.counts["repeat_cases"]) for v in history] == [
        (1, False, 6),
        (2, True, mf.CORRECTED_VALUE),
    ]

    again = mailroom.exchange(confirm_reply_to(corrected))
    assert again.outcome == "confirm-nothing-pending"
    assert body_of(again.reply).strip() == wording.confirmed_text(0)
    assert mailroom.exchange(confirm_reply_to(other)).outcome == "confirmed"
    assert mailroom.count(HeldChange, PENDING) == 0


def test_confirm_with_nothing_pending_says_so(mailroom: Mailroom) -> None:
    raw = compose(subject="Confirm", body="CONFIRM\n")
    handled = mailroom.exchange(raw)
    assert handled.outcome == "confirm-nothing-pending"
    assert body_of(handled.reply).strip() == wording.confirmed_text(0)
    assert_threaded(handled, raw)
    assert mailroom.count(MeetingVersion) == 0


def test_a_confirm_answering_no_message_confirms_every_change_the_sender_has_waiting(
    mailroom: Mailroom,
) -> None:
    """Typed CONFIRM in a new message: nothing to trace it to, so it is for all of theirs."""
    mailroom.exchange(compose(files=[fixture("clean_libreoffice.xlsx")]))
    mailroom.exchange(compose(files=[fixture("corrected_d3.xlsx")]))
    mailroom.exchange(compose(files=[fixture("several_issues.xlsx")]))
    assert mailroom.count(HeldChange, PENDING) == 3
    raw = compose(subject="Confirm", body="CONFIRM\n")
    handled = mailroom.exchange(raw)
    assert handled.outcome == "confirmed"
    assert body_of(handled.reply).strip() == wording.confirmed_text(3)
    assert_threaded(handled, raw)
    assert mailroom.count(HeldChange, PENDING) == 0


def test_a_confirm_answering_a_message_that_held_nothing_confirms_nothing(
    mailroom: Mailroom,
) -> None:
    """CONFIRM in reply to our answer on a clean file: it is traced to that message, which
    held nothing, so changes held from another message still wait."""
    clean = mailroom.exchange(compose(files=[fixture("clean_libreoffice.xlsx")]))
    assert clean.outcome == "submission-accepted"
    mailroom.exchange(compose(files=[fixture("corrected_d3.xlsx")]))
    assert mailroom.count(HeldChange, PENDING) == 1
    handled = mailroom.exchange(confirm_reply_to(clean))
    assert handled.outcome == "confirm-nothing-pending"
    assert body_of(handled.reply).strip() == wording.confirmed_text(0)
    assert mailroom.count(HeldChange, PENDING) == 1


# ---------------------------------------------------------------------------------------------
# Who is writing.
# ---------------------------------------------------------------------------------------------


def test_unknown_sender_is_refused_politely_and_only_the_refused_file_kept(
    mailroom: Mailroom,
) -> None:
    raw = compose(sender=STRANGER, files=[fixture("clean_libreoffice.xlsx")])
    handled = mailroom.exchange(raw)
    assert handled.outcome == "refused-unknown-sender"
    assert_threaded(handled, raw, to=STRANGER)
    assert body_of(handled.reply).strip() == wording.unknown_sender_text(MAILBOX, MAILBOX)
    assert attachments_of(handled.reply) == {}
    assert mailroom.count(Meeting) == 0 and mailroom.count(MeetingVersion) == 0
    assert mailroom.count(SubmissionIssue) == 0
    with mailroom.store.transaction() as session:
        refused = session.scalars(select(Submission)).one()
        assert (refused.sender, refused.status) == (STRANGER, "refused-unknown-sender")
        assert refused.raw == fixture("clean_libreoffice.xlsx").data


@pytest.mark.parametrize(
    ("eml", "outcome"),
    [("dmarc_fail.eml", "refused-unknown-sender"), ("dmarc_pass.eml", "submission-rejected")],
)
def test_with_a_trusted_server_only_vouched_senders_count(
    registered: Store, tmp_path: Path, eml: str, outcome: str
) -> None:
    """Jane is registered; the fixtures' attachment is not a full template (hence rejected)."""
    mailroom = Mailroom(registered, settings_for(tmp_path, trusted_authserv_id=TRUSTED))
    raw = (EMAILS / eml).read_bytes()
    message = to_inbound(raw, mailbox_address=MAILBOX, trusted_authserv_id=TRUSTED,
                         received_at=utcnow())
    assert message.sender == JANE
    assert message.sender_verified is (eml == "dmarc_pass.eml")
    handled = mailroom.exchange(raw)
    assert handled.outcome == outcome
    assert handled.reply["To"] == JANE


def test_with_a_trusted_server_no_authentication_results_is_unknown(
    registered: Store, tmp_path: Path
) -> None:
    mailroom = Mailroom(registered, settings_for(tmp_path, trusted_authserv_id=TRUSTED))
    handled = mailroom.exchange(compose(files=[fixture("clean_libreoffice.xlsx")]))
    assert handled.outcome == "refused-unknown-sender"
    assert mailroom.count(MeetingVersion) == 0


# ---------------------------------------------------------------------------------------------
# Mail that must never be answered.
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("eml", "envelope_from", "outcome"),
    [
        ("bounce_dsn.eml", "", "ignored-delivery-report"),
        ("out_of_office_auto_submitted.eml", "Amir.Khan@kent.gov.uk", "ignored-auto-submitted"),
        ("mailing_list.eml", "marac-coordinators+bncBC5@googlegroups.com",
         "ignored-mailing-list"),
        ("own_mail_echo.eml", MAILBOX, "ignored-own-mail"),
    ],
)
def test_automatic_mail_is_recorded_and_never_answered(
    mailroom: Mailroom, eml: str, envelope_from: str, outcome: str
) -> None:
    handled = mailroom.exchange((EMAILS / eml).read_bytes(), envelope_from=envelope_from)
    assert (handled.status, handled.outcome) == ("done", outcome)
    assert handled.replies == [] and mailroom.outbox_size() == 0


@pytest.mark.parametrize(
    ("headers", "outcome"),
    [
        ({"X-Autoreply": "yes"}, "ignored-auto-reply"),
        ({"Auto-Submitted": "auto-replied"}, "ignored-auto-submitted"),
        ({"Precedence": "bulk"}, "ignored-bulk"),
    ],
)
def test_automatic_mail_from_a_coordinator_records_no_data(
    mailroom: Mailroom, headers: dict[str, str], outcome: str
) -> None:
    handled = mailroom.exchange(compose(files=[fixture("clean_libreoffice.xlsx")],
                                        headers=headers))
    assert handled.outcome == outcome and handled.replies == []
    assert mailroom.count(Submission) == 0 and mailroom.count(MeetingVersion) == 0


@pytest.mark.parametrize("suppress", ["All", "DR, RN, NRN, OOF, AutoReply"])
def test_mail_asking_for_no_auto_replies_is_still_handled(
    mailroom: Mailroom, suppress: str
) -> None:
    """Exchange puts X-Auto-Response-Suppress on mail people write: it is not automatic mail
    (interface.md's list), so the return is recorded and the question answered."""
    headers = {"X-Auto-Response-Suppress": suppress}
    sent = mailroom.exchange(compose(files=[fixture("clean_libreoffice.xlsx")], headers=headers))
    assert sent.outcome == "submission-accepted" and len(sent.replies) == 1
    assert mailroom.count(Submission) == 1
    asked = mailroom.exchange(compose(subject="Question", body="Has Croydon uploaded Q3 2024/25?\n",
                                      headers=headers))
    assert asked.outcome == "question-has-uploaded" and len(asked.replies) == 1


# ---------------------------------------------------------------------------------------------
# No template: help, not-a-template, images, questions.
# ---------------------------------------------------------------------------------------------


def test_no_attachment_and_no_question_gets_how_to_submit_with_a_blank_template(
    mailroom: Mailroom,
) -> None:
    raw = compose(subject="Hello", body="Hello,\n\nJust saying hello from Croydon.\n")
    handled = mailroom.exchange(raw)
    assert handled.outcome == "help"
    assert_threaded(handled, raw)
    body = body_of(handled.reply).strip()
    assert body.startswith(wording.help_text(MAILBOX))
    assert body.endswith(wording.help_actions(chat=False, slack=False, role="coordinator"))
    template = attachments_of(handled.reply)["marac-data-template.xlsx"]
    report = validate_bytes(template, "marac-data-template.xlsx",
                            ValidationContext(today=date(2025, 2, 15)))
    assert [i.code for i in report.issues if i.is_hard] == ["no-data-rows"]
    assert report.edition is not None and report.edition.value == "uk"


def test_a_new_coordinator_gets_how_to_and_a_template_made_out_for_their_marac(
    mailroom: Mailroom,
) -> None:
    raw = compose(subject="New coordinator for Croydon",
                  body="Hello,\n\nI have taken over as the Croydon coordinator.\n\nBest wishes\n")
    handled = mailroom.exchange(raw)
    assert handled.outcome == "question-how-to"
    assert_threaded(handled, raw)
    body = body_of(handled.reply)
    assert body.startswith("Welcome! I am the Marac data assistant; you are registered for "
                           "Croydon.")
    assert MAILBOX in body and "due by" in body
    template = attachments_of(handled.reply)["marac-data-template-croydon.xlsx"]
    report = validate_bytes(template, "marac-data-template-croydon.xlsx",
                            ValidationContext(today=date(2025, 2, 15)))
    assert [i.code for i in report.issues if i.is_hard] == ["no-data-rows"]


def test_a_forgotten_attachment_is_answered_as_such(mailroom: Mailroom) -> None:
    raw = compose(subject="Q3 return", body="Hello,\n\nPlease find attached our Q3 return.\n")
    handled = mailroom.exchange(raw)
    assert handled.outcome == "no-attachment"
    assert body_of(handled.reply).strip() == wording.no_attachment_text(MAILBOX, by_email=True)
    # interface.md: no attachment and no question gets how to submit "with a blank template".
    template = attachments_of(handled.reply)["marac-data-template.xlsx"]
    report = validate_bytes(template, "marac-data-template.xlsx",
                            ValidationContext(today=date(2025, 2, 15)))
    assert [i.code for i in report.issues if i.is_hard] == ["no-data-rows"]


def test_a_pdf_gets_a_not_a_spreadsheet_answer(mailroom: Mailroom) -> None:
    pdf = matplotlib_file("pdf")
    assert pdf.startswith(b"%PDF")
    handled = mailroom.exchange(compose(subject="Minutes", body="Minutes attached.\n",
                                        files=[File("minutes.pdf", pdf, "application/pdf")]))
    assert handled.outcome == "not-a-template"
    assert body_of(handled.reply).strip() == wording.not_a_template_text(["minutes.pdf"], MAILBOX)
    assert set(attachments_of(handled.reply)) == {"marac-data-template.xlsx"}
    assert mailroom.count(Submission) == 0


@pytest.mark.parametrize("file", [
    File("Croydon Q3 return.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"),
    File("winmail.dat", b"\x78\x9f\x3e\x22", "application/ms-tnef"),
])
def test_a_file_we_cannot_read_beside_a_statement_is_said_not_read(
    mailroom: Mailroom, file: File
) -> None:
    """"Our Q3 figures for Croydon." describes the file: not a question to answer about them."""
    handled = mailroom.exchange(compose(subject="Croydon Marac Q3 2024/25 return",
                                        body="Hi,\n\nOur Q3 figures for Croydon.\n\nSam\n",
                                        files=[file]))
    assert handled.outcome == "not-a-template"
    # Outlook's winmail.dat has words of its own (the sender never saw that name).
    said = (wording.outlook_wrapped_text() if file.filename == "winmail.dat"
            else wording.not_a_template_text([file.filename], MAILBOX))
    assert body_of(handled.reply).strip() == said
    assert mailroom.count(Submission) == 0


@pytest.mark.parametrize("body", ["Has Croydon uploaded Q3 2024/25?",
                                  "Could you check whether Croydon uploaded Q3 2024/25"])
def test_a_plain_question_beside_a_pdf_is_answered(mailroom: Mailroom, body: str) -> None:
    pdf = File("minutes.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
    handled = mailroom.exchange(compose(subject="Minutes", body=f"Hi,\n\n{body}\n",
                                        files=[pdf]))
    assert handled.outcome == "question-has-uploaded"


def test_a_signature_image_beside_a_template_is_ignored(mailroom: Mailroom) -> None:
    logo = File("image001.png", matplotlib_file("png"), "image/png", inline=True)
    handled = mailroom.exchange(compose(files=[fixture("clean_libreoffice.xlsx"), logo]))
    assert handled.outcome == "submission-accepted"
    assert "image001" not in body_of(handled.reply)
    assert attachments_of(handled.reply) == {}
    assert mailroom.count(Submission) == 1


def test_a_signature_image_alone_is_not_a_document(mailroom: Mailroom) -> None:
    logo = File("image001.png", matplotlib_file("png"), "image/png", inline=True)
    handled = mailroom.exchange(compose(subject="Hello", body="Hello from Croydon.\n",
                                        files=[logo]))
    assert handled.outcome == "help"


def test_a_question_gets_exactly_one_reply(mailroom: Mailroom) -> None:
    raw = compose(subject="Quick question", body="has Croydon uploaded Q3?\n\nSent from my iPad\n")
    handled = mailroom.exchange(raw)
    assert handled.outcome is not None and handled.outcome.startswith("question")
    assert_threaded(handled, raw)
    assert mailroom.outbox_size() == 1


@pytest.mark.parametrize(("subject", "expected"), [
    ("AW: Q3 2024/25 return - Croydon", "Re: AW: Q3 2024/25 return - Croydon"),
    ("SV: Q3 2024/25 return - Croydon", "Re: SV: Q3 2024/25 return - Croydon"),
    ("Antw: Q3 2024/25 return - Croydon", "Re: Antw: Q3 2024/25 return - Croydon"),
    ("RE: Q3 2024/25 return - Croydon", "RE: Q3 2024/25 return - Croydon"),
    ("re: Q3 2024/25 return - Croydon", "re: Q3 2024/25 return - Croydon"),
])
def test_a_reply_subject_is_a_re_subject_whatever_language_the_sender_replied_in(
    mailroom: Mailroom, subject: str, expected: str
) -> None:
    """interface.md: replies are threaded with a "Re:" subject; one that already has "Re:" (any
    case) is not given another, and another language's mark gets "Re: " in front."""
    raw = compose(subject=subject, files=[fixture("clean_libreoffice.xlsx")])
    handled = mailroom.exchange(raw)
    assert handled.outcome == "submission-accepted"
    assert_threaded(handled, raw)
    assert handled.reply["Subject"] == expected


def test_a_question_in_the_subject_is_answered_under_a_pleasantry_and_a_disclaimer(
    mailroom: Mailroom,
) -> None:
    """The audit's message: "Could you let me know?" is no question the bot understands, and
    the council's notice ("If you have received it in error …") is no place called "error";
    the subject is the question (tests/test_questions_email_subject.py has more)."""
    body = ("Hi,\n\nCould you let me know?\n\nThanks\nJane\n\nJane Smith\nMarac Coordinator\n"
            "Croydon Council\n\nThis email is confidential and intended solely for the "
            "addressee. If you have received it in error please notify the sender.\n")
    raw = compose(sender=JANE, subject="has Croydon uploaded Q3 2024/25?", body=body)
    handled = mailroom.exchange(raw)
    assert handled.outcome == "question-has-uploaded"
    assert_threaded(handled, raw, to=JANE)
    assert body_of(handled.reply).startswith("Croydon has not uploaded Q3 2024/25")


@pytest.mark.parametrize("subject", ["RE: Croydon Q3 2024/25", "AW: Q3 2024/25 return - Croydon",
                                     "Re: has Croydon uploaded Q3 2024/25?"])
def test_thanks_in_a_reply_thread_is_thanks_whatever_the_subject_names(
    mailroom: Mailroom, subject: str
) -> None:
    """A reply's subject repeats the thread's topic: "Thanks!" under it asks nothing."""
    handled = mailroom.exchange(compose(subject=subject, body="Thanks!\n\nSam\n"))
    assert handled.outcome == "thanks" and handled.replies == []


def test_a_new_message_asking_in_its_subject_is_answered_under_thanks(
    mailroom: Mailroom,
) -> None:
    handled = mailroom.exchange(compose(subject="Has Croydon uploaded Q3 2024/25?",
                                        body="Thanks\n\nSam\n"))
    assert handled.outcome == "question-has-uploaded" and len(handled.replies) == 1


# ---------------------------------------------------------------------------------------------
# Duplicates and failures.
# ---------------------------------------------------------------------------------------------


def test_the_same_message_id_twice_is_recorded_and_answered_once(mailroom: Mailroom) -> None:
    raw = compose(files=[fixture("clean_libreoffice.xlsx")])
    # The same message by a second route (IMAP after SMTP): other trace headers, same Message-ID.
    copy = b"Received: from relay.example.org by imap.example.org; Mon, 3 Feb 2025\r\n" + raw
    first = mailroom.deliver(raw, source_key="smtp:first")
    second = mailroom.deliver(copy, source_key="imap:1:7")
    mailroom.work()
    assert mailroom.handled(first).outcome == "submission-accepted"
    duplicate = mailroom.handled(second)
    assert (duplicate.status, duplicate.outcome, duplicate.replies) == (
        "done", "duplicate-message", [],
    )
    assert mailroom.count(OutboundItem) == 1
    assert mailroom.count(Submission) == 1 and mailroom.count(MeetingVersion) == 6


ODD_MESSAGE_IDS = {
    "very long": b"<" + b"x" * 3000 + b"@example.org>",
    "a NUL": b"<a\x00b@example.org>",
    "controls": "<\x1b[31m\u202eid@example.org>".encode(),
}


@pytest.mark.parametrize("odd", ODD_MESSAGE_IDS)
def test_an_odd_message_id_is_recorded_and_answered_once(mailroom: Mailroom, odd: str) -> None:
    """A Message-ID longer than a submission's key has room for, or carrying a NUL (which
    PostgreSQL's text cannot hold: the message could not even be queued there), is still a
    message like any other: recorded, answered, and its second copy known as the same."""
    marker = b"<odd-id@example.org>"
    raw = compose(files=[fixture("clean_libreoffice.xlsx")], message_id=marker.decode())
    raw = raw.replace(marker, ODD_MESSAGE_IDS[odd], 1)
    copy = b"Received: from relay.example.org by imap.example.org; Mon, 3 Feb 2025\r\n" + raw
    first = mailroom.deliver(raw, source_key="smtp:first")
    second = mailroom.deliver(copy, source_key="imap:1:7")
    mailroom.work()
    answered = mailroom.handled(first)
    assert (answered.outcome, len(answered.replies)) == ("submission-accepted", 1)
    duplicate = mailroom.handled(second)
    assert (duplicate.outcome, duplicate.replies) == ("duplicate-message", [])
    assert mailroom.count(Submission) == 1 and mailroom.count(MeetingVersion) == 6
    with mailroom.store.transaction() as session:
        key = session.scalars(select(Submission.dedupe_key)).one()
    assert key is not None and len(key) <= 500 and "\x00" not in key


def refuse_new_submissions(store: Store) -> None:
    """Make the database refuse every new submission, as a full disk or a revoked grant would."""
    with store.transaction() as session:
        if session.get_bind().dialect.name == "sqlite":
            session.execute(text(
                "CREATE TRIGGER refuse_submissions BEFORE INSERT ON submissions "
                "BEGIN SELECT RAISE(ABORT, 'could not extend file: No space left on device'); END"
            ))
            return
        session.execute(text(
            "CREATE FUNCTION refuse_submission() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'could not extend file: No space left on device'; END $$"
        ))
        session.execute(text(
            "CREATE TRIGGER refuse_submissions BEFORE INSERT ON submissions "
            "FOR EACH ROW EXECUTE FUNCTION refuse_submission()"
        ))


def test_a_message_that_fails_gets_an_incident_reply_with_a_reference(
    mailroom: Mailroom,
) -> None:
    refuse_new_submissions(mailroom.store)
    raw = compose(files=[fixture("clean_libreoffice.xlsx")])
    handled = mailroom.exchange(raw)
    assert (handled.status, handled.outcome) == ("failed", "failed")
    assert handled.error is not None and handled.error.startswith("incident ")
    reference = handled.error.removeprefix("incident ")
    assert len(reference) == 6
    assert_threaded(handled, raw)
    assert body_of(handled.reply).strip() == wording.incident_text(reference)
    assert "Traceback" not in body_of(handled.reply)
    assert mailroom.count(MeetingVersion) == 0
    # The worker carries on with the next message.
    after = mailroom.exchange(compose(subject="Hello", body="Hello.\n"))
    assert after.outcome == "help"


def damaged_xls() -> bytes:
    """clean_libreoffice.xls with its sheet record's length field damaged (18 -> 1 bytes): the
    spreadsheet library (python-calamine 0.9) panics on it instead of raising an error."""
    data = fixture("clean_libreoffice.xls").data
    boundsheet = b"\x85\x00\x12\x00"  # BIFF8 BoundSheet8 record: type 0x0085, length 18
    assert data.count(boundsheet) == 1
    return data.replace(boundsheet, b"\x85\x00\x01\x00")


def test_a_file_that_makes_the_reader_panic_is_still_answered_once(mailroom: Mailroom) -> None:
    """A Rust panic is a BaseException, not an Exception; it must not stop the worker. Today it
    is answered as an incident; once the reader turns it into an unreadable-file issue, the
    sender is told that instead. Either way: one reply, and the next message is handled."""
    raw = compose(files=[File("croydon-q3.xls", damaged_xls(), "application/vnd.ms-excel")])
    handled = mailroom.exchange(raw)
    assert handled.outcome in {"failed", "submission-rejected"}
    assert_threaded(handled, raw)
    if handled.outcome == "failed":
        assert handled.error is not None
        reference = handled.error.removeprefix("incident ")
        assert body_of(handled.reply).strip() == wording.incident_text(reference)
    assert mailroom.count(MeetingVersion) == 0
    assert mailroom.exchange(compose(subject="Hello", body="Hello.\n")).outcome == "help"
