"""Claims as leases (issue 17), on real SQLite and PostgreSQL: a claim stays with a process
while its heartbeat is renewed, is taken over once the heartbeat lapses, and a named lease
(the one IMAP mover) has one holder at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.worker import CLAIM_LEASE, PROCESS, claim_owner_gone, this_process
from bot.workers.heartbeat import Heartbeat
from store.db import Store
from store.queue import (
    BotProcess,
    InboundItem,
    ProcessIdentity,
    beat,
    claim_inbound,
    drop_lease,
    enqueue_inbound,
    forget_dead_processes,
    hold_lease,
    live_processes,
)

T0 = datetime(2026, 1, 6, 9, 0, tzinfo=UTC)
A = ProcessIdentity("host-a", 101, T0)
B = ProcessIdentity("host-b", 202, T0 + timedelta(seconds=1))


def _queued(store: Store, n: int = 1) -> list[int]:
    with store.transaction() as session:
        return [
            enqueue_inbound(session, channel="email", raw=b"x", source_key=f"k{i}", received_at=T0)
            for i in range(n)
        ]


def _claim(store: Store, who: ProcessIdentity, now: datetime) -> int | None:
    with store.transaction() as session:
        item = claim_inbound(session, worker=who.name, stale_after=CLAIM_LEASE, now=now)
        return None if item is None else item.id


def test_the_name_on_a_claim_is_host_pid_and_start_time() -> None:
    assert A.name == "host-a:101:20260106T090000.000000Z"
    me = this_process()
    host, pid, started = me.name.rsplit(":", 2)
    assert (host, int(pid)) == (me.host, me.pid) and started.endswith("Z")
    # A later start with the same pid is another process: its own claims are not "gone".
    assert not claim_owner_gone(PROCESS.name)


def test_a_live_process_keeps_its_claim_however_long_the_message_takes(db_store: Store) -> None:
    [item_id] = _queued(db_store)
    with db_store.transaction() as session:
        beat(session, A, now=T0)
    assert _claim(db_store, A, T0) == item_id
    for seconds in (30, 60, 600):  # A keeps beating: B never takes it
        now = T0 + timedelta(seconds=seconds)
        with db_store.transaction() as session:
            beat(session, A, now=now)
        assert _claim(db_store, B, now + timedelta(seconds=4)) is None


def test_a_lapsed_heartbeat_hands_the_claim_over_at_the_lease_and_not_before(
    db_store: Store,
) -> None:
    [item_id] = _queued(db_store)
    with db_store.transaction() as session:
        beat(session, A, now=T0)
    assert _claim(db_store, A, T0) == item_id
    # A dies at T0: its last beat. One second short of the lease, still A's.
    assert _claim(db_store, B, T0 + CLAIM_LEASE - timedelta(seconds=1)) is None
    assert _claim(db_store, B, T0 + CLAIM_LEASE + timedelta(seconds=1)) == item_id
    with db_store.transaction() as session:
        item = session.get(InboundItem, item_id)
        assert item is not None
        assert (item.claimed_by, item.attempts) == (B.name, 2)  # one death counted


def test_a_claim_by_a_process_never_registered_lapses_like_a_dead_one(db_store: Store) -> None:
    """Claims written before leases existed (``claimed_by="worker"``) have no heartbeat row."""
    [item_id] = _queued(db_store)
    assert _claim(db_store, ProcessIdentity("old", 1, T0), T0) == item_id
    assert _claim(db_store, B, T0 + CLAIM_LEASE + timedelta(seconds=1)) == item_id


def test_heartbeat_registers_renews_and_removes_the_process(db_store: Store) -> None:
    heartbeat = Heartbeat(db_store, B, every=timedelta(seconds=60))
    heartbeat.start()
    try:
        with db_store.transaction() as session:
            assert B.name in live_processes(session, lease=CLAIM_LEASE)
            first = session.scalar(select(BotProcess.heartbeat_at).where(BotProcess.name == B.name))
        heartbeat.beat_once()
        with db_store.transaction() as session:
            second = session.scalar(
                select(BotProcess.heartbeat_at).where(BotProcess.name == B.name)
            )
        assert first is not None and second is not None and second > first
    finally:
        heartbeat.stop()
    with db_store.transaction() as session:
        assert B.name not in live_processes(session, lease=CLAIM_LEASE)


def test_a_named_lease_has_one_holder_until_it_expires_or_is_dropped(db_store: Store) -> None:
    ttl = timedelta(seconds=30)
    with db_store.transaction() as session:
        assert hold_lease(session, "imap:INBOX", holder=A.name, ttl=ttl, now=T0)
    with db_store.transaction() as session:
        assert not hold_lease(
            session, "imap:INBOX", holder=B.name, ttl=ttl, now=T0 + ttl - timedelta(seconds=1)
        )
        assert hold_lease(
            session, "imap:INBOX", holder=A.name, ttl=ttl, now=T0 + timedelta(seconds=20)
        )  # renewed to T0+50
    with db_store.transaction() as session:
        assert not hold_lease(
            session, "imap:INBOX", holder=B.name, ttl=ttl, now=T0 + timedelta(seconds=49)
        )
        assert hold_lease(
            session, "imap:INBOX", holder=B.name, ttl=ttl, now=T0 + timedelta(seconds=51)
        )
        assert not hold_lease(
            session, "imap:INBOX", holder=A.name, ttl=ttl, now=T0 + timedelta(seconds=52)
        )
    with db_store.transaction() as session:
        drop_lease(session, "imap:INBOX", holder=B.name)
        assert hold_lease(
            session, "imap:INBOX", holder=A.name, ttl=ttl, now=T0 + timedelta(seconds=53)
        )


def test_rows_of_processes_silent_for_a_day_go_unless_a_claim_names_them(
    db_store: Store,
) -> None:
    day = timedelta(days=1)
    holder, idle, recent = (ProcessIdentity(f"host-{n}", n, T0) for n in (1, 2, 3))
    with db_store.transaction() as session:
        beat(session, holder, now=T0)
        beat(session, idle, now=T0)
        beat(session, recent, now=T0 + day)
    [item_id] = _queued(db_store)
    assert _claim(db_store, holder, T0) == item_id
    with db_store.transaction() as session:
        assert forget_dead_processes(session, older_than=day, now=T0 + day) == 0  # not yet
        assert (
            forget_dead_processes(session, older_than=day, now=T0 + day + timedelta(seconds=1)) == 1
        )
        names = set(session.scalars(select(BotProcess.name)))
    assert names == {holder.name, recent.name}


def test_a_process_never_takes_over_its_own_claim_however_late_its_heartbeat(
    db_store: Store,
) -> None:
    """Another of its worker threads has it; on SQLite a beat can wait behind a long write."""
    [item_id] = _queued(db_store)
    assert _claim(db_store, A, T0) == item_id  # A never beat at all
    assert _claim(db_store, A, T0 + timedelta(hours=1)) is None
    assert _claim(db_store, B, T0 + timedelta(hours=1)) == item_id
