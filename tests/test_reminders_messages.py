"""What a reminder says and carries: the quarter with its dates, the due date, how to submit, a
blank template of the Marac's edition, the right To/Cc, chat payloads, and the digest's grid."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from bot.channels.email.outbound import email_renderer, make_message_id
from handlers.reminders import run_reminders
from kernel import wording
from kernel.quarters import Quarter
from store.facts import message_ids
from store.queue import OutboundItem
from tests.reminders_support import (
    MAILBOX,
    SETTINGS,
    at_send_time,
    body_text,
    chat_payload,
    load_four_nations,
    outbox,
    parse_email,
    upload,
)
from validation.columns import FIELDS, Edition

Q2, Q3 = Quarter(2024, 2), Quarter(2024, 3)
DUE = date(2025, 1, 28)


def _run(session: Session, day: date) -> dict[str, OutboundItem]:
    run_reminders(session, settings=SETTINGS, today=day, dry_run=False, now=at_send_time(day),
                  render_email=email_renderer(SETTINGS.mailbox_address))
    session.commit()
    return {item.key: item for item in outbox(session)}


def _item(items: dict[str, OutboundItem], marac_key: str, stage: str, recipient: str,
          channel: str = "email") -> OutboundItem:
    found = [i for k, i in items.items()
             if k.startswith(marac_key) and f":{stage}:" in k and i.recipient == recipient
             and i.channel == channel]
    assert len(found) == 1, (marac_key, stage, recipient, sorted(items))
    return found[0]


def _attachment(message: object) -> tuple[str, bytes]:
    parts = list(message.iter_attachments())  # type: ignore[attr-defined]
    assert len(parts) == 1
    return parts[0].get_filename(), parts[0].get_content()


def _headers(data: bytes) -> list[str]:
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return [c.value for c in next(sheet.iter_rows(min_row=1, max_row=1))]


def _instructions(data: bytes) -> str:
    book = load_workbook(io.BytesIO(data), read_only=True)
    sheet = book[wording.TEMPLATE_INSTRUCTIONS_TITLE]
    return "\n".join(str(c.value) for r in sheet.iter_rows() for c in r if c.value)


def _setup_overdue_day(session: Session) -> dict[str, OutboundItem]:
    load_four_nations(session)
    for marac in ("Croydon", "Glasgow", "Cardiff", "Belfast"):
        upload(session, marac, Q2, on=date(2024, 10, 20))
    session.commit()
    return _run(session, date(2025, 1, 29))


def test_overdue_email_names_the_quarter_due_date_and_copies_the_chair(
    db_session: Session,
) -> None:
    items = _setup_overdue_day(db_session)
    cara = _item(items, "reminder:", "overdue", "cara@croydon.example")
    message = parse_email(cara.payload)
    assert message["To"] == "cara@croydon.example"
    assert message["Cc"] == "chris@croydon.example"
    assert message["From"] == MAILBOX
    assert message["Subject"].strip() == wording.reminder_subject(
        "overdue", marac="Croydon", quarter=Q3.label, previous=Q2.label, due=DUE)
    assert message["Message-ID"] == make_message_id(
        cara.key, domain="data.example", token=message_ids(db_session).token)
    text = body_text(message)
    assert "Q3 2024/25 (1 Oct – 31 Dec 2024)" in text and "28 Jan 2025" in text
    assert MAILBOX in text and "attached blank template" in text
    assert "Chris Croydon (chair)" in text
    name, data = _attachment(message)
    assert name == "marac-template-croydon.xlsx"
    assert _headers(data) == [f.header(Edition.UK) for f in FIELDS]
    assert "This template is for Croydon." in _instructions(data)
    # The chair gets an own copy of the same message (its own Message-ID).
    chris = parse_email(_item(items, "reminder:", "overdue", "chris@croydon.example").payload)
    assert (chris["Subject"], chris["To"], chris["Cc"]) == (
        message["Subject"], message["To"], message["Cc"])
    assert chris["Message-ID"] != message["Message-ID"]


def test_second_missing_quarter_says_the_marac_drops_out_and_copies_managers(
    db_session: Session,
) -> None:
    items = _setup_overdue_day(db_session)
    lee = parse_email(_item(items, "reminder:", "second-quarter-missing",
                            "lee@leeds.example").payload)
    expected = wording.reminder_text(
        "second-quarter-missing", marac="Leeds", quarter=Q3.describe(),
        previous=Q2.describe(), due=DUE, working_days=5, mailbox=MAILBOX,
        copied=["Lou Leeds (chair)", "Nia National (manager)"], chat=False)
    assert body_text(lee).strip() == expected
    assert "misses two quarters in a row drops out of them" in expected
    assert lee["Cc"] == "lou@leeds.example, nia@national.example"
    # Leeds alone missed Q2: no Marac that sent Q2 is escalated, nobody else gets Nia's copy.
    escalated = {k.split(":")[1] for k in items if ":second-quarter-missing:" in k}
    assert len(escalated) == 1


def test_chat_contacts_get_json_payloads_and_scotland_gets_its_edition(
    db_session: Session,
) -> None:
    items = _setup_overdue_day(db_session)
    slack = _item(items, "reminder:", "overdue", "U0CARA", channel="slack")
    payload = chat_payload(slack)
    assert payload["user"] == "U0CARA"
    assert "Q3 2024/25 (1 Oct – 31 Dec 2024)" in payload["text"]
    assert "post the file here" in payload["text"] and "attached" not in payload["text"]
    teams = chat_payload(_item(items, "reminder:", "overdue", "aad-gil", channel="teams"))
    assert teams["user"] == "aad-gil" and "Glasgow" in teams["text"]
    # Gil is reached on Teams only: no email to him, but the chair's email names him in To.
    assert not [i for i in items.values() if i.recipient == "gil@glasgow.example"]
    gail = parse_email(_item(items, "reminder:", "overdue", "gail@glasgow.example").payload)
    assert gail["To"] == "gil@glasgow.example"
    name, data = _attachment(gail)
    assert name == "marac-template-glasgow.xlsx"
    assert _headers(data) == [f.header(Edition.SCOTLAND) for f in FIELDS]


def _grid_rows(text: str) -> dict[str, list[str]]:
    """Marac -> its cells, from the grid's fixed-width lines (Q1 … Q4 of the year)."""
    return {line.split("  ")[0]: line.split()[1:] for line in text.splitlines()
            if line.split() and line.split()[0] in ("Croydon", "Leeds", "Cardiff", "Glasgow",
                                                    "Belfast")}


def test_digest_grids_cover_each_overseers_scope(db_session: Session) -> None:
    load_four_nations(db_session)
    upload(db_session, "Croydon", Q3, on=date(2025, 1, 6))
    upload(db_session, "Belfast", Q3, on=date(2025, 1, 8))
    upload(db_session, "Belfast", Q2, on=date(2024, 10, 8))
    db_session.commit()
    items = _run(db_session, date(2025, 1, 14))
    digests = {i.recipient: parse_email(i.payload) for i in items.values()
               if i.key.startswith("digest:")}
    assert set(digests) == {"ada@data.example", "nia@national.example",
                            "lena@region.example", "wyn@region.example"}
    ada = body_text(digests["ada@data.example"])
    assert "2 of 5 Maracs in your scope have uploaded" in ada
    rows = _grid_rows(ada)
    assert set(rows) == {"Croydon", "Leeds", "Cardiff", "Glasgow", "Belfast"}
    assert rows["Belfast"][1:3] == ["accepted", "accepted"]  # Q2 and Q3
    assert rows["Croydon"][2] == "accepted" and rows["Glasgow"][2] == "missing"
    assert "Q3: 1 Oct – 31 Dec 2024, due by 28 Jan 2025" in ada
    lena = body_text(digests["lena@region.example"])
    assert "1 of 1 Marac in your scope has uploaded" in lena
    assert set(_grid_rows(lena)) == {"Croydon"} and "London" in lena
    assert digests["ada@data.example"]["Subject"].strip() == wording.digest_subject(
        quarter=Q3.label, due=DUE, missing=3, total=5)
    html = digests["ada@data.example"].get_body(preferencelist=("html",))
    assert html is not None and "<pre>" in html.get_content()
    digest_items = [i for i in items.values() if i.key.startswith("digest:")]
    assert {i.channel for i in digest_items} == {"email"}


@pytest.mark.parametrize("stage", ["quarter-ended", "due-soon", "overdue",
                                   "second-quarter-missing"])
def test_every_reminder_and_escalation_states_the_national_rule(stage: str) -> None:
    """Spec §5: one missed quarter is filled from the previous one, two in a row remove the
    Marac from the national figures, "reminders and escalations say so"."""
    text = wording.reminder_text(stage, marac="Leeds", quarter=Q3.describe(),
                                 previous=Q2.describe(), due=DUE, working_days=5,
                                 mailbox=MAILBOX, copied=[], chat=False)
    flat = " ".join(text.split())
    assert ("fill the gap with Leeds's previous quarter" in flat
            or "fill one missed quarter with the quarter before it" in flat)
    assert "a Marac that misses two quarters in a row drops out of them" in flat

