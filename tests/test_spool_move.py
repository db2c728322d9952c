"""The SMTP spool's mover, in-process (bot/channels/email/smtp_spool.py): every spooled message
reaches the inbox whole and once, in batches, in the order it arrived, and a spool file is
usable again when reopened. tests/test_spool.py runs the same through a real ``run``."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.channels.email.smtp_spool import BATCH, Spool
from store.db import Store
from store.queue import InboundItem, enqueue_inbound

T0 = datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'marac.db'}")
    yield opened
    opened.close()


def _spool_one(spool: Spool, n: int) -> None:
    with spool.sessions.begin() as session:
        enqueue_inbound(session, channel="email", raw=f"message {n} ".encode() * (n + 1),
                        source_key=f"smtp:{n}", envelope_from=f"coordinator{n}@example.org",
                        recipients=["marac@example.org", f"copy{n}@example.org"],
                        received_at=T0 + timedelta(seconds=n), message_id=f"<{n}@example.org>")


def _left_in(path: Path) -> tuple[int, int]:
    with sqlite3.connect(path) as plain:
        return (plain.execute("SELECT count(*) FROM inbound_queue").fetchone()[0],
                plain.execute("SELECT count(*) FROM inbound_raw").fetchone()[0])


def test_spooled_messages_move_whole_in_batches_in_the_order_they_came(
        store: Store, tmp_path: Path) -> None:
    batches: list[int] = []
    path = tmp_path / "spool.db"
    spool = Spool(store, path, on_moved=lambda: batches.append(1))
    try:
        for n in range(BATCH + 1):
            _spool_one(spool, n)
        assert spool.move_all() == BATCH + 1
    finally:
        spool.engine.dispose()
    assert len(batches) == 2  # BATCH, then the one left: each batch its own transactions
    assert _left_in(path) == (0, 0)
    with store.sessions.begin() as session:
        moved = session.scalars(select(InboundItem).order_by(InboundItem.id)).all()
        assert [item.source_key for item in moved] == [f"smtp:{n}" for n in range(BATCH + 1)]
        for n, item in enumerate(moved):
            assert (item.raw, item.envelope_from, item.recipients, item.received_at,
                    item.message_id, item.status) == (
                f"message {n} ".encode() * (n + 1), f"coordinator{n}@example.org",
                f"marac@example.org\ncopy{n}@example.org", T0 + timedelta(seconds=n),
                f"<{n}@example.org>", "queued")


def test_each_move_logs_the_inbox_id_a_spooled_message_became(
        store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with store.sessions.begin() as session:  # the inbox's ids run ahead of the spool's
        for n in (100, 101):
            enqueue_inbound(session, channel="email", raw=b"earlier", source_key=f"smtp:{n}",
                            envelope_from="a@example.org", recipients=["marac@example.org"],
                            received_at=T0, message_id=None)
    spool = Spool(store, tmp_path / "spool.db", on_moved=lambda: None)
    try:
        for n in (1, 2):
            _spool_one(spool, n)
        with caplog.at_level(logging.INFO, logger="bot.channels.email.smtp_spool"):
            assert spool.move_all() == 2
    finally:
        spool.engine.dispose()
    assert [r.getMessage() for r in caplog.records] == [
        "spooled message 1 is inbound 3", "spooled message 2 is inbound 4"]


def test_a_spool_reopened_keeps_what_it_holds(store: Store, tmp_path: Path) -> None:
    """The listener starts before the database is open (the spool has no store yet), the
    process stops, and the next start opens the same file."""
    path = tmp_path / "spool.db"
    first = Spool(None, path, on_moved=lambda: None)
    _spool_one(first, 1)
    first.engine.dispose()
    again = Spool(store, path, on_moved=lambda: None)
    try:
        _spool_one(again, 2)
        assert again.move_all() == 2
    finally:
        again.engine.dispose()
    with store.sessions.begin() as session:
        assert session.scalars(select(InboundItem.source_key).order_by(InboundItem.id)
                               ).all() == ["smtp:1", "smtp:2"]


def test_moving_without_a_store_keeps_the_messages_and_says_why(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    spool = Spool(None, path, on_moved=lambda: None)
    try:
        _spool_one(spool, 1)
        with pytest.raises(RuntimeError, match="not started with a store to move into"):
            spool.move_all()
    finally:
        spool.engine.dispose()
    assert _left_in(path) == (1, 1)
