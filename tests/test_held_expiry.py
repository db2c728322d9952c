"""Held changes never confirmed expire, and the submitter is told once (spec §4)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.housekeeping import expire_and_notify
from bot.settings import Settings
from handlers.submission import Submitted, submit_files
from kernel.messages import Attachment
from store.db import Store
from store.held import pending_held
from store.queue import OutboundItem
from store.types import utcnow
from tests.dispatch_support import body_of, load_registry, parse

FIXTURES = Path(__file__).parent / "fixtures"
COORDINATOR = "croydon.coordinator@example.org"
SETTINGS = Settings(held_expiry_days=14)


def _submit(store: Store, name: str) -> None:
    files = [Attachment(name, (FIXTURES / name).read_bytes())]
    submitted = Submitted(sender=COORDINATOR, channel="cli", received_at=utcnow(), files=files,
                          dedupe_prefix=None)
    with store.transaction() as session:
        submit_files(session, submitted, settings=SETTINGS, today=date(2025, 2, 15))


def _expiry_mails(store: Store) -> list[OutboundItem]:
    with store.transaction() as session:
        items = session.scalars(select(OutboundItem).where(
            OutboundItem.key.startswith("held-expired:"))).all()
        return list(items)


def test_an_expired_change_is_kept_out_and_its_sender_told_once(db_store: Store) -> None:
    with db_store.transaction() as session:
        load_registry(session)
    _submit(db_store, "clean_libreoffice.xlsx")
    _submit(db_store, "corrected_d3.xlsx")
    with db_store.transaction() as session:
        [held] = pending_held(session, sender=COORDINATOR)
        held.expires_at = utcnow() - timedelta(minutes=1)  # its 14 days are over

    assert expire_and_notify(db_store, SETTINGS) == 1
    assert expire_and_notify(db_store, SETTINGS) == 0  # nothing told twice

    [item] = _expiry_mails(db_store)
    mail = parse(item.payload)
    assert item.recipient == COORDINATOR and mail["To"] == COORDINATOR
    assert "Croydon on 17 Oct 2024" in body_of(mail)
    assert "corrected_d3.xlsx row 3" in body_of(mail)
    with db_store.transaction() as session:
        assert pending_held(session, sender=COORDINATOR) == []


def test_nothing_to_tell_when_nothing_expired(db_store: Store) -> None:
    with db_store.transaction() as session:
        load_registry(session)
    _submit(db_store, "clean_libreoffice.xlsx")
    _submit(db_store, "corrected_d3.xlsx")
    assert expire_and_notify(db_store, SETTINGS) == 0
    assert _expiry_mails(db_store) == []
