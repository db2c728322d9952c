"""The worker's claim in one statement (``store.queue.take_next_queued``) in a session whose
statements commit on their own (``Store.standalone``), on real SQLite and PostgreSQL.

It takes what ``claim_inbound`` would take when the oldest claimable message is plainly
queued, and nothing otherwise: a stale claim stays for ``claim_inbound``, which logs its
takeover or gives it up, so the order and the limits are as before.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bot.settings import Settings
from bot.worker import Worker
from store.db import Store
from store.queue import (
    ClaimedItem,
    InboundItem,
    ProcessIdentity,
    beat,
    claim_inbound,
    enqueue_inbound,
    finish_inbound,
    take_next_queued,
)

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def _enqueue(session: Session, n: int) -> int:
    return enqueue_inbound(session, channel="email", raw=f"message {n}".encode(),
                           source_key=f"smtp:{n}", envelope_from=f"a{n}@example.org",
                           recipients=["marac@localhost"], received_at=T0 + timedelta(minutes=n))


def _state(store: Store, item_id: int) -> tuple[str, int, str | None, datetime | None]:
    with store.sessions() as session:
        item = session.get(InboundItem, item_id)
        assert item is not None
        return item.status, item.attempts, item.claimed_by, item.claimed_at


def test_it_takes_the_oldest_queued_message_as_claim_inbound_would(db_store: Store) -> None:
    with db_store.transaction() as session:
        _enqueue(session, 3)
        oldest = _enqueue(session, 1)
        _enqueue(session, 2)
    with db_store.standalone() as session:
        item = take_next_queued(session, worker="w1", stale_after=LEASE, now=T0)
    assert item == ClaimedItem(
        id=oldest, channel="email", source_key="smtp:1", raw=b"message 1",
        envelope_from="a1@example.org", received_at=T0 + timedelta(minutes=1),
        status="processing", attempts=1, claimed_at=T0, claimed_by="w1")
    assert _state(db_store, oldest) == ("processing", 1, "w1", T0)
    with db_store.standalone() as session:
        second = take_next_queued(session, worker="w1", stale_after=LEASE, now=T0)
    assert second is not None and second.raw == b"message 2"


def test_nothing_is_taken_when_nothing_is_queued(db_store: Store) -> None:
    with db_store.transaction() as session:
        done, claimed = _enqueue(session, 1), _enqueue(session, 2)
        finish_inbound(session, done, outcome="help", now=T0)
    with db_store.transaction() as session:
        assert claim_inbound(session, worker="w1", stale_after=LEASE, now=T0) is not None
    with db_store.standalone() as session:
        assert take_next_queued(session, worker="w2", stale_after=LEASE, now=T0) is None
        assert take_next_queued(session, worker="w1", stale_after=LEASE,
                                now=T0 + 2 * LEASE) is None  # its own claim, however old
    assert _state(db_store, claimed) == ("processing", 1, "w1", T0)


def test_a_stale_claim_ahead_is_left_to_claim_inbound(
    db_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """The oldest claimable is a dead process's claim: nothing is taken, not even the queued
    message behind it, so that claim_inbound takes the stale one first and logs it."""
    with db_store.transaction() as session:
        stale, waiting = _enqueue(session, 1), _enqueue(session, 2)
    with db_store.transaction() as session:
        assert claim_inbound(session, worker="dead", stale_after=LEASE, now=T0) is not None
    later = T0 + LEASE + timedelta(seconds=1)
    with db_store.standalone() as session:
        assert take_next_queued(session, worker="w2", stale_after=LEASE, now=later) is None
    assert _state(db_store, stale) == ("processing", 1, "dead", T0)
    assert _state(db_store, waiting) == ("queued", 0, None, None)
    with caplog.at_level(logging.WARNING, logger="store.queue"), \
            db_store.transaction() as session:
        item = claim_inbound(session, worker="w2", stale_after=LEASE, now=later)
    assert item is not None and (item.id, item.attempts) == (stale, 2)
    assert [r.getMessage() for r in caplog.records] == [
        f"inbound item {stale}: reclaimed a stale claim (attempt 2)"]


def test_a_claim_not_yet_stale_ahead_does_not_hold_back_the_queue(db_store: Store) -> None:
    """A live claim is not claimable, so the next queued message is the oldest claimable."""
    with db_store.transaction() as session:
        busy, waiting = _enqueue(session, 1), _enqueue(session, 2)
    with db_store.transaction() as session:
        assert claim_inbound(session, worker="w1", stale_after=LEASE, now=T0) is not None
    with db_store.standalone() as session:
        item = take_next_queued(session, worker="w2", stale_after=LEASE,
                                now=T0 + LEASE - timedelta(seconds=1))
    assert item is not None and item.id == waiting
    assert _state(db_store, busy) == ("processing", 1, "w1", T0)


def test_a_stale_claim_of_a_live_process_is_not_claimable(db_store: Store) -> None:
    """Claimed long ago by a process whose heartbeat is fresh: it still has it in hand."""
    alive = ProcessIdentity(host="h", pid=1, started_at=T0 - LEASE)
    with db_store.transaction() as session:
        busy, waiting = _enqueue(session, 1), _enqueue(session, 2)
    with db_store.transaction() as session:
        assert claim_inbound(session, worker=alive.name, stale_after=LEASE, now=T0)
    later = T0 + 3 * LEASE
    with db_store.transaction() as session:
        beat(session, alive, now=later)
    with db_store.standalone() as session:
        item = take_next_queued(session, worker="w2", stale_after=LEASE, now=later)
    assert item is not None and item.id == waiting
    assert _state(db_store, busy) == ("processing", 1, alive.name, T0)


def test_a_worker_takes_stale_claims_first_then_the_queue(
    db_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """Through a real Worker handling two real emails: the stale claim (by claim_inbound),
    then the queued message (in one statement), oldest first as before; both answered."""
    with db_store.transaction() as session:
        stale, waiting = (
            enqueue_inbound(session, channel="email", raw=_email(n), source_key=f"smtp:{n}",
                            envelope_from="coordinator@example.org",
                            recipients=["marac@localhost"],
                            received_at=T0 + timedelta(minutes=n))
            for n in (1, 2))
    long_ago = datetime.now(UTC) - 2 * timedelta(hours=1)
    with db_store.transaction() as session:
        assert claim_inbound(session, worker="dead", stale_after=LEASE, now=long_ago)
    worker = Worker(db_store, Settings(mailbox_address="marac@localhost"))
    with caplog.at_level(logging.INFO, logger="bot.worker"):
        assert worker.process_one() and worker.process_one()
        assert not worker.process_one()
    handled = [r.args[0] for r in caplog.records
               if isinstance(r.args, tuple) and r.msg == "message %d: %s in %.0f ms"]
    assert handled == [stale, waiting]
    assert _state(db_store, stale)[:3] == ("done", 2, worker.name)
    assert _state(db_store, waiting)[:3] == ("done", 1, worker.name)


def _email(n: int) -> bytes:
    return (f"From: coordinator@example.org\r\nTo: marac@localhost\r\n"
            f"Subject: help\r\nMessage-ID: <{n}@example.org>\r\n\r\nhelp\r\n").encode()


@pytest.mark.postgres
def test_on_postgresql_the_claim_commits_by_itself_in_one_round_trip(pg_schema_url: str) -> None:
    """No BEGIN and COMMIT: the claim is its own transaction, committed when it returns,
    so another connection sees it before the session ends."""
    store = Store.open(pg_schema_url)
    try:
        with store.transaction() as session:
            item_id = _enqueue(session, 1)
        with store.standalone() as session:
            own = text("SELECT transaction_timestamp() = statement_timestamp()")
            assert session.scalar(own) is True
            assert take_next_queued(session, worker="w1", stale_after=LEASE, now=T0)
            with store.sessions() as other:
                seen = other.scalar(select(InboundItem.claimed_by).where(
                    InboundItem.id == item_id))
            assert seen == "w1"
    finally:
        store.close()


def test_on_sqlite_the_standalone_session_is_one_transaction(tmp_path: Path) -> None:
    """SQLite has no round trips to save: there it is a transaction like any other, so an
    error rolls back what it wrote."""
    store = Store.open(f"sqlite:///{tmp_path}/marac.db")
    try:
        with store.transaction() as session:
            item_id = _enqueue(session, 1)
        with pytest.raises(RuntimeError), store.standalone() as session:
            assert take_next_queued(session, worker="w1", stale_after=LEASE, now=T0)
            raise RuntimeError("after the claim")
        assert _state(store, item_id) == ("queued", 0, None, None)
    finally:
        store.close()


@pytest.mark.postgres
def test_two_postgres_workers_at_once_never_take_the_same_message(pg_schema_url: str) -> None:
    """Eight threads claiming together, each with its own connection: every message is taken
    exactly once. The row a claim is taking is locked, and skipped by the others."""
    store = Store.open(pg_schema_url)
    try:
        with store.transaction() as session:
            ids = [_enqueue(session, n) for n in range(40)]
        taken: list[int] = []
        lock = threading.Lock()
        start = threading.Barrier(8)

        def claim_all(name: str) -> None:
            start.wait()
            while True:
                with store.standalone() as session:
                    item = take_next_queued(session, worker=name, stale_after=LEASE, now=T0)
                if item is None:
                    return
                with lock:
                    taken.append(item.id)

        threads = [threading.Thread(target=claim_all, args=(f"w{n}",)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(taken) == ids
    finally:
        store.close()


@pytest.mark.postgres
def test_on_postgresql_a_message_being_taken_is_skipped_not_waited_for(
    pg_schema_url: str,
) -> None:
    """Another worker's claim not yet committed holds its row: the next claim takes the next
    message at once (SKIP LOCKED), rather than waiting on that row. Waiting would end in the
    lock timeout set here, and fail."""
    store = Store.open(pg_schema_url)
    try:
        with store.transaction() as session:
            first, second = _enqueue(session, 1), _enqueue(session, 2)
        with store.sessions() as holding, holding.begin():
            taken = take_next_queued(holding, worker="a", stale_after=LEASE, now=T0)
            with store.standalone() as other:
                other.execute(text("SET lock_timeout = '5s'"))
                try:
                    next_one = take_next_queued(other, worker="b", stale_after=LEASE, now=T0)
                finally:
                    other.execute(text("RESET lock_timeout"))
            holding.rollback()
        assert taken is not None and next_one is not None
        assert (taken.id, next_one.id) == (first, second)
    finally:
        store.close()
