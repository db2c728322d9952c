"""Attachments as real mail clients send them (the audit of issue 16's mail cases), through the
stored inbox, the Worker and the dispatcher on a real database: a workbook whose name has no
ending, Outlook's winmail.dat, a PDF beside the return, and a file for a Marac the sender may
not send for.
"""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

from kernel import wording
from store.db import Store
from store.models import MeetingVersion, Submission
from tests.dispatch_support import (
    EMAILS,
    FIXTURES,
    MAILBOX,
    File,
    Mailroom,
    attachments_of,
    body_of,
    compose,
    html_of,
    matplotlib_file,
    registered_mailroom,
)

OCTET = "application/octet-stream"


@pytest.fixture
def mailroom(db_store: Store, tmp_path: Path) -> Mailroom:
    return registered_mailroom(db_store, tmp_path)


def template(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# ---------------------------------------------------------------------------------------------
# A workbook saved under a name with no ending: read as its type says, named as they named it.
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("eml", ["xlsx_named_without_ending.eml",
                                 "octet_stream_named_without_ending.eml"])
def test_a_workbook_named_without_an_ending_is_read(mailroom: Mailroom, eml: str) -> None:
    """Outlook's "Lambeth Q3 return" as an .xlsx type, and Gmail's as octet-stream (sniffed)."""
    handled = mailroom.exchange((EMAILS / eml).read_bytes())
    assert handled.outcome == "submission-accepted"
    body = body_of(handled.reply)
    assert "Lambeth Q3 return: 6 of 6 rows accepted for Lambeth" in body
    assert "not a spreadsheet" not in body
    assert mailroom.count(MeetingVersion) == 6


@pytest.mark.parametrize(("source", "content_type"), [
    ("clean_libreoffice.xlsx", OCTET),
    ("clean_libreoffice.xls", OCTET),
    ("clean_libreoffice.ods", "application/vnd.oasis.opendocument.spreadsheet"),
    ("clean_libreoffice.xlsx", "application/vnd.openxmlformats-officedocument"
                               ".spreadsheetml.sheet"),
])
def test_a_name_with_an_unknown_ending_goes_by_its_type_or_its_bytes(
    mailroom: Mailroom, source: str, content_type: str
) -> None:
    name = "Croydon return v2.final"  # ".final" is no type anyone knows
    handled = mailroom.exchange(compose(files=[File(name, template(source), content_type)]))
    assert handled.outcome == "submission-accepted", body_of(handled.reply)
    assert f"{name}: 6 of 6 rows accepted" in body_of(handled.reply)


def test_a_file_without_an_ending_keeps_its_name_in_the_annotated_copy(
    mailroom: Mailroom,
) -> None:
    handled = mailroom.exchange(compose(files=[File("Croydon Q3", template("several_issues.xlsx"),
                                                    OCTET)]))
    assert handled.outcome == "submission-partially-accepted"
    files = attachments_of(handled.reply)
    assert set(files) == {"Croydon Q3-checked.xlsx"}
    sheet = openpyxl.load_workbook(io.BytesIO(files["Croydon Q3-checked.xlsx"]))["Marac data"]
    assert any(cell.comment is not None for row in sheet.iter_rows() for cell in row)


@pytest.mark.parametrize(("name", "data", "content_type"), [
    ("Q3 minutes", b"%PDF-1.4 not a workbook", OCTET),  # neither a zip nor a compound file
    ("minutes.pdf", b"%PDF-1.4", "application/vnd.openxmlformats-officedocument"
                                 ".spreadsheetml.sheet"),  # the name says PDF: so it is
])
def test_a_name_and_type_that_do_not_say_spreadsheet_are_not_read(
    mailroom: Mailroom, name: str, data: bytes, content_type: str
) -> None:
    handled = mailroom.exchange(compose(subject="Minutes", body="Minutes attached.\n",
                                        files=[File(name, data, content_type)]))
    assert handled.outcome == "not-a-template"
    assert mailroom.count(Submission) == 0


def test_a_pdf_named_without_an_ending_is_still_not_a_spreadsheet(mailroom: Mailroom) -> None:
    handled = mailroom.exchange(compose(subject="Minutes", body="Minutes attached.\n",
                                        files=[File("Q3 minutes", matplotlib_file("pdf"),
                                                    OCTET)]))
    assert handled.outcome == "not-a-template"
    assert wording.not_a_template_text(["Q3 minutes"], MAILBOX) in body_of(handled.reply)


# ---------------------------------------------------------------------------------------------
# Outlook's winmail.dat: the coordinator attached a workbook and never saw that name.
# ---------------------------------------------------------------------------------------------


def test_outlook_winmail_dat_is_answered_with_what_to_do_about_it(mailroom: Mailroom) -> None:
    handled = mailroom.exchange((EMAILS / "outlook_tnef_winmail_dat.eml").read_bytes())
    assert handled.outcome == "not-a-template"
    body = body_of(handled.reply)
    assert body.strip() == wording.outlook_wrapped_text()
    assert "not a spreadsheet" not in body
    assert attachments_of(handled.reply) == {}  # they have the file: no blank template
    assert mailroom.count(Submission) == 0


def test_winmail_dat_by_its_name_alone_and_beside_a_pdf(mailroom: Mailroom) -> None:
    handled = mailroom.exchange(compose(files=[
        File("winmail.dat", b"\x78\x9f\x3e\x22 tnef", OCTET),
        File("minutes.pdf", matplotlib_file("pdf"), "application/pdf")]))
    assert handled.outcome == "not-a-template"
    body = body_of(handled.reply)
    assert wording.outlook_wrapped_text() in body
    assert wording.not_a_template_text(["minutes.pdf"], MAILBOX, thank=False) in body
    assert body.count("Thank you") == 1  # one thanks for the message, not one per file
    assert set(attachments_of(handled.reply)) == {"marac-data-template.xlsx"}


# ---------------------------------------------------------------------------------------------
# One reply covers every attachment: the documents beside a return are named, not read.
# ---------------------------------------------------------------------------------------------


def test_a_pdf_beside_the_return_is_named_as_not_read(mailroom: Mailroom) -> None:
    handled = mailroom.exchange((EMAILS / "xlsx_plus_pdf.eml").read_bytes())
    assert handled.outcome == "submission-accepted"
    assert mailroom.outbox_size() == 1
    body = body_of(handled.reply)
    assert "Lambeth Q3.xlsx: 6 of 6 rows accepted" in body
    assert wording.not_read_text(["Q3 narrative.pdf"]) in body.split("\n")
    assert "Q3 narrative.pdf" in html_of(handled.reply)
    assert mailroom.count(Submission) == 1


def test_every_document_beside_the_return_is_named_but_not_a_signature_logo(
    mailroom: Mailroom,
) -> None:
    logo = File("image001.png", matplotlib_file("png"), "image/png", inline=True)
    handled = mailroom.exchange(compose(files=[
        File("Croydon Q3.xlsx", template("clean_libreoffice.xlsx")), logo,
        File("narrative.pdf", matplotlib_file("pdf"), "application/pdf"),
        File("notes.docx", b"PK\x03\x04 not really", "application/vnd.openxmlformats-"
                                                     "officedocument.wordprocessingml.document"),
        File("winmail.dat", b"\x78\x9f\x3e\x22 tnef", "application/ms-tnef")]))
    body = body_of(handled.reply)
    lines = body.split("\n")
    assert wording.not_read_text(["narrative.pdf", "notes.docx"]) in lines
    assert wording.wrapped_not_read_text(["winmail.dat"]) in lines
    assert "image001" not in body


@pytest.mark.parametrize("question", ["What is the repeat rate for Croydon in 2024/25?",
                                      "Can I see the grid for London 2024/25?"])
def test_a_question_beside_a_document_is_answered_and_the_document_named(
    mailroom: Mailroom, question: str
) -> None:
    """The sender may have meant the PDF as their return: the answer says it was not read,
    in the plain text and in the HTML (beneath a grid too)."""
    handled = mailroom.exchange(compose(subject="Question", body=f"Hi,\n\n{question}\n", files=[
        File("Croydon Q3.pdf", matplotlib_file("pdf"), "application/pdf")]))
    assert handled.outcome.startswith("question-") and handled.outcome != "question-not-understood"
    note = wording.not_read_text(["Croydon Q3.pdf"])
    assert body_of(handled.reply).rstrip().endswith(note)
    assert f"<p>{note}</p>" in html_of(handled.reply).replace('<p style="margin: 2px 0">', "<p>")
    assert mailroom.count(Submission) == 0


# ---------------------------------------------------------------------------------------------
# A file for Maracs the sender may not send for: a refusal, not cells to fix.
# ---------------------------------------------------------------------------------------------


def test_a_manager_forwarding_a_return_is_refused_not_asked_to_fix_it(
    mailroom: Mailroom,
) -> None:
    handled = mailroom.exchange((EMAILS / "manager_forwards_as_attachment.eml").read_bytes())
    assert handled.outcome == "submission-rejected"
    body = body_of(handled.reply)
    assert body.splitlines()[0] == ("Nothing recorded: you are not registered to send data for "
                                    "Lambeth.")
    assert wording.not_registered_text("Lambeth Q3 return.xlsx", ["Lambeth"],
                                       f" ({MAILBOX})") in body
    for unsaid in ("need fixing", "Recorded as submission", "corrected file",
                   wording.SEVERITY_HEADINGS["hard"]):
        assert unsaid not in body, unsaid
    assert "corrected file" not in html_of(handled.reply)
    assert attachments_of(handled.reply) == {}  # no copy with every Marac cell red
    assert mailroom.count(MeetingVersion) == 0


def test_a_file_for_another_marac_with_other_problems_too_keeps_the_usual_reply(
    mailroom: Mailroom,
) -> None:
    """lambeth_q3.xlsx from Croydon's coordinator, with a blank cases cell added: there is
    something to fix besides the Marac, so the copy and the advice stay."""
    book = openpyxl.load_workbook(FIXTURES / "lambeth_q3.xlsx")
    book.active["C3"] = None
    data = io.BytesIO()
    book.save(data)
    handled = mailroom.exchange(compose(files=[File("lambeth_q3.xlsx", data.getvalue())]))
    body = body_of(handled.reply)
    assert "need fixing (see below)" in body.splitlines()[0]
    assert "not registered to send data for Lambeth (A2" in body
    assert wording.ANNOTATED_NOTE_START in body
    assert set(attachments_of(handled.reply)) == {"lambeth_q3-checked.xlsx"}
