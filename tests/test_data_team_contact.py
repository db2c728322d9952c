"""A file or form for a Marac the sender may not submit for says how to reach the data team
(MARAC_DATA_TEAM_CONTACT; unset, the mailbox), in the reply and in the stored finding (issue
12). Through the stored inbox and the Worker, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.settings import Settings
from handlers import form_entry
from kernel.entry import MeetingEntry
from store.db import Store
from store.models import SubmissionIssue
from tests.dispatch_support import (
    MAILBOX,
    Mailroom,
    body_of,
    compose,
    fixture,
    load_registry,
)

CONTACT = "Marac data team, 020 7946 0000"


@pytest.fixture
def registered(db_store: Store) -> Store:
    with db_store.transaction() as session:
        load_registry(session)
    return db_store


def _mailroom(store: Store, tmp_path: Path, contact: str | None) -> Mailroom:
    settings = Settings(
        data_dir=tmp_path / "data",
        mailbox_address=MAILBOX,
        smtp_listen=None,
        http_listen=None,
        data_team_contact_text=contact,
    )
    return Mailroom(store, settings)


def test_a_file_for_another_marac_names_the_contact_in_the_reply_and_the_store(
    registered: Store, tmp_path: Path
) -> None:
    mailroom = _mailroom(registered, tmp_path, CONTACT)
    handled = mailroom.exchange(compose(files=[fixture("lambeth_q3.xlsx")]))
    assert handled.outcome == "submission-rejected"
    asked = f"or ask the data team ({CONTACT}) to add you."
    assert asked in body_of(handled.reply)
    with registered.transaction() as session:
        stored = session.scalars(
            select(SubmissionIssue.message).where(SubmissionIssue.code == "not-authorised")
        ).all()
    assert len(stored) == 6 and all(m.endswith(asked) for m in stored)


def test_unset_the_mailbox_is_the_contact(registered: Store, tmp_path: Path) -> None:
    handled = _mailroom(registered, tmp_path, None).exchange(
        compose(files=[fixture("lambeth_q3.xlsx")])
    )
    assert f"or ask the data team ({MAILBOX}) to add you." in body_of(handled.reply)


def test_a_form_for_another_marac_names_the_contact_beside_its_box(
    registered: Store, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", mailbox_address=MAILBOX, data_team_contact_text=CONTACT
    )
    entry = MeetingEntry("Lambeth", date(2024, 11, 14), {"cases": 10})
    with registered.transaction() as session:
        checked = form_entry.check_entry(
            session,
            entry,
            sender="croydon.coordinator@example.org",
            channel="slack",
            settings=settings,
            today=date(2025, 1, 20),
        )
    assert form_entry.field_errors(checked)["marac"] == (
        f"You are not registered to send data for Lambeth. Ask the data team ({CONTACT}) to "
        "add you."
    )
    # Findings that do not send the sender to the data team are left as they were.
    assert all("team" not in i.params for i in checked.report.issues if i.code != "not-authorised")
