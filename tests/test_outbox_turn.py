"""On SQLite an outbox item is sent with no write lock held, and still by one process alone.

A transaction that writes takes SQLite's one write lock, so the outbox used to make every
worker's recording wait while a relay took its time (and fail at the busy timeout). Now the
item is read without it and its outcome written in a short transaction of its own; a lock on a
file beside the database keeps any other process (``remind``, a second ``run``) off the item
meanwhile, and dies with its holder (store/outbox_turn.py).
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bot.channels.base import DeliveryError
from bot.channels.email.send import EmailOutbox, MailSender, RelayConfig
from bot.delivery import Delivery
from bot.settings import HostPort, Settings
from store import outbox_turn
from store.db import Store
from store.outbox_turn import (
    LOCK_SUFFIX,
    LOCK_WAIT_S,
    RECORD_PAUSES_S,
    RECORD_TRIES,
    next_to_send,
)
from store.queue import OutboundItem, QueueStatus, enqueue_outbound, mark_sent
from store.types import utcnow
from tests.smtp_support import HOST, SmtpSink
from tests.store_support import executed, write_lock_free

MAILBOX = "marac@example.org"
WAIT = 30.0  # a bound on waits that end as soon as their event comes


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "data" / "marac.db"


@pytest.fixture
def store(database: Path) -> Store:
    return Store.open(f"sqlite:///{database}")


def _queue(store: Store, key: str) -> int:
    with store.transaction() as session:
        return enqueue_outbound(session, key=key, channel="email", recipient="c@example.org",
                                payload=f"Subject: {key}\r\n\r\nrows accepted\r\n".encode())


def _by_relay(store: Store, sink: SmtpSink, *, turn_wait_s: float = LOCK_WAIT_S) -> Delivery:
    mail = MailSender(relay=RelayConfig(HostPort(HOST, sink.port)), outbox_dir=Path("unused"))
    return Delivery(store, Settings(mailbox_address=MAILBOX),
                    {"email": EmailOutbox(mail, MAILBOX)}, turn_wait_s=turn_wait_s)


def _to_folder(store: Store, folder: Path) -> Delivery:
    mail = MailSender(relay=None, outbox_dir=folder)
    return Delivery(store, Settings(mailbox_address=MAILBOX),
                    {"email": EmailOutbox(mail, MAILBOX)})


def _status(store: Store, item_id: int) -> tuple[str, int]:
    with store.reading() as session:
        item = session.get(OutboundItem, item_id)
        assert item is not None
        return item.status, item.attempts


def _in_thread(fn: object) -> tuple[threading.Thread, list[object]]:
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(fn()))  # type: ignore[operator]
    thread.start()
    return thread, result


def test_a_relay_taking_its_time_holds_no_write_lock(store: Store, database: Path) -> None:
    item_id = _queue(store, "reply:1")
    with SmtpSink() as sink:
        release = sink.hold_next_data()
        thread, result = _in_thread(_by_relay(store, sink).deliver_due)
        try:
            assert sink.recorder.data_held.wait(WAIT)
            # A worker's recording, now, with no wait allowed: it used to find the lock taken
            # until the relay answered.
            assert write_lock_free(database)
            assert _status(store, item_id) == (QueueStatus.QUEUED, 0)  # not yet accepted
        finally:
            release.set()
            thread.join(WAIT)
        assert result == [1]
        assert [m.rcpt_tos for m in sink.messages] == [("c@example.org",)]
    assert _status(store, item_id) == (QueueStatus.SENT, 1)


@pytest.mark.parametrize("other_sends_to", ["the relay", "the outbox folder"])
def test_another_process_keeps_off_the_item_being_sent(
    store: Store, database: Path, tmp_path: Path, other_sends_to: str
) -> None:
    """The other process may send by the relay too, or (no relay set there) write files, in
    one transaction: neither takes the item in hand."""
    item_id = _queue(store, "reply:1")
    second = Store.open(f"sqlite:///{database}", upgrade_schema=False)  # its own connections
    outbox = tmp_path / "outbox"
    with SmtpSink() as sink:

        def other() -> Delivery:
            if other_sends_to == "the relay":
                return _by_relay(second, sink, turn_wait_s=0.05)
            delivery = _to_folder(second, outbox)
            delivery.turn_wait_s = 0.05
            return delivery

        release = sink.hold_next_data()
        thread, result = _in_thread(_by_relay(store, sink).deliver_due)
        try:
            assert sink.recorder.data_held.wait(WAIT)
            # The item is still queued and due; the other process waits its turn, and once
            # that is past, leaves this round without it.
            assert other().deliver_due() == 0
            assert sink.messages == [] and not outbox.exists()
        finally:
            release.set()
            thread.join(WAIT)
        assert result == [1]
        # Its turn now: the item was sent, so nothing is due.
        assert other().deliver_due() == 0
        assert len(sink.messages) == 1 and not outbox.exists()
    assert _status(store, item_id) == (QueueStatus.SENT, 1)


def test_the_turn_is_free_again_the_moment_its_holder_dies(
    store: Store, database: Path, tmp_path: Path
) -> None:
    item_id = _queue(store, "reply:1")
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_A_TURN, f"sqlite:///{database}"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        cwd=Path(__file__).resolve().parents[1])
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding reply:1"
        assert _lock_taken(database)
        holder.send_signal(signal.SIGKILL)  # mid-send: no outcome written
        holder.wait(WAIT)
    finally:
        holder.kill()
    assert not _lock_taken(database)
    outbox = tmp_path / "outbox"
    delivery = _to_folder(store, outbox)
    delivery.turn_wait_s = 0.05  # were the lock left behind, this round would send nothing
    assert delivery.deliver_due() == 1
    assert len(list(outbox.glob("*.eml"))) == 1
    assert _status(store, item_id) == (QueueStatus.SENT, 1)


_HOLD_A_TURN = """
import sys
from store.db import Store
from store.outbox_turn import next_to_send
from store.types import utcnow
store = Store.open(sys.argv[1], upgrade_schema=False)
with next_to_send(store, "email", now=utcnow()) as turn:
    print("holding", turn.item.key, flush=True)
    sys.stdin.read()
"""


def _lock_taken(database: Path) -> bool:
    fd = os.open(f"{database}{LOCK_SUFFIX}", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _short_busy_timeout(store: Store) -> Store:
    """``store`` with a busy timeout of 20 ms, not 30 s, on every connection made from now."""

    @event.listens_for(store.engine, "connect")
    def short_busy_timeout(dbapi_connection: sqlite3.Connection, record: object) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=20")

    store.engine.dispose()
    return store


class _Seen(logging.Handler):
    """Sets ``event`` at the first record whose message starts with ``start``."""

    def __init__(self, start: str) -> None:
        super().__init__()
        self.start, self.event = start, threading.Event()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith(self.start):
            self.messages.append(message)
            self.event.set()


@contextmanager
def _locked_out(database: Path, logged: str
                ) -> Iterator[tuple[Store, int, _Seen, sqlite3.Connection]]:
    """A store whose connections wait 20 ms for the write lock, one reply queued in it, the
    outbox's log lines that start with ``logged``, and another connection to take the lock."""
    store = _short_busy_timeout(Store.open(f"sqlite:///{database}"))
    item_id = _queue(store, "reply:1")
    seen = _Seen(logged)
    logging.getLogger("store.outbox_turn").addHandler(seen)
    blocker = sqlite3.connect(database, isolation_level=None)
    try:
        yield store, item_id, seen, blocker
    finally:
        blocker.close()
        logging.getLogger("store.outbox_turn").removeHandler(seen)


def test_sent_is_recorded_once_the_write_lock_is_free_again(database: Path) -> None:
    """The message went; "sent" could not be written at once (a long transaction kept the
    write lock past the busy timeout): it is written when it can be, and not sent twice."""
    with _locked_out(database, "outbox: could not record an outcome (try 1 of 10)") as (
            store, item_id, seen, blocker), SmtpSink() as sink:
        blocker.execute("BEGIN IMMEDIATE")
        thread, result = _in_thread(_by_relay(store, sink).deliver_due)
        try:
            assert seen.event.wait(WAIT)
            assert len(sink.messages) == 1  # sent while the lock was taken
        finally:
            blocker.execute("COMMIT")
            thread.join(WAIT)
        assert len(sink.messages) == 1
    assert result == [1]
    assert _status(store, item_id) == (QueueStatus.SENT, 1)
    assert "database is locked" in seen.messages[0]
    with store.reading() as session:
        assert session.scalars(select(OutboundItem.key)).all() == ["reply:1"]


def test_a_reply_for_the_outbox_folder_is_written_in_one_transaction(
    store: Store, tmp_path: Path
) -> None:
    """A file and two fsyncs: released and taken again around them, the write lock cost the
    outbox a wait behind the workers for every item (a burst took twice as long)."""
    item_id = _queue(store, "reply:1")
    outbox = tmp_path / "outbox"
    with executed(store.engine, lambda sql: sql.startswith(("BEGIN", "UPDATE"))) as seen:
        assert _to_folder(store, outbox).deliver_due() == 1
    # The look for what is due reads; the item is then taken, written and marked in one
    # writing transaction (its BEGIN IMMEDIATE is SQLite's own, not a statement seen here).
    assert [sql.split()[:2] for sql in seen] == [["BEGIN", "DEFERRED"],
                                                 ["UPDATE", "outbound_queue"]]
    assert len(list(outbox.glob("*.eml"))) == 1
    assert _status(store, item_id) == (QueueStatus.SENT, 1)


def test_an_outcome_still_not_written_after_ten_tries_is_raised(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(RECORD_PAUSES_S) == RECORD_TRIES - 1 and sum(RECORD_PAUSES_S) == pytest.approx(21.3)
    monkeypatch.setattr(outbox_turn, "RECORD_PAUSES_S", (0.0,) * (RECORD_TRIES - 1))
    with _locked_out(database, "outbox: could not record an outcome") as (
            store, item_id, seen, blocker):
        blocker.execute("BEGIN IMMEDIATE")
        with next_to_send(store, "email", now=utcnow()) as turn:
            assert turn is not None
            with pytest.raises(OperationalError, match="database is locked"):
                turn.record(partial(mark_sent, item_id=item_id, now=utcnow()))
    assert _status(store, item_id) == (QueueStatus.QUEUED, 0)
    assert [m.split(":")[1] for m in seen.messages] == [
        f" could not record an outcome (try {n} of {RECORD_TRIES})" for n in range(1, 10)]
    assert RECORD_TRIES == 10
    assert all("database is locked" in m for m in seen.messages)


def test_an_outcome_that_fails_for_another_reason_is_raised_at_once(store: Store) -> None:
    _queue(store, "reply:1")
    tries: list[Session] = []

    def broken(session: Session) -> None:
        tries.append(session)
        raise ValueError("not the database's doing")

    with next_to_send(store, "email", now=utcnow()) as turn:
        assert turn is not None
        with pytest.raises(ValueError, match="not the database's doing"):
            turn.record(broken)
    assert len(tries) == 1


def _queue_chat(store: Store, count: int) -> None:
    with store.transaction() as session:
        for n in range(1, count + 1):
            enqueue_outbound(session, key=f"reply:{n}", channel="slack", recipient="U1",
                             payload=b"{}")


def _clock(took: list[float], *, first: int) -> Callable[[], float]:
    """What the clock reads for sends that took ``took`` seconds each, one a second from
    ``first``: each send reads it twice, as it starts and as it ends."""
    ticks = iter([t for start, spent in enumerate(took, first) for t in (start, start + spent)])
    return lambda: next(ticks)


def test_a_channel_sends_apart_until_its_sends_are_seen_to_be_quick(
    store: Store, database: Path
) -> None:
    """The first send of a channel, and any after one that took longer than 0.25 s, hold no
    write lock; after a quick one (0.25 s or less) the next is sent in one transaction, the
    write lock held (released and taken again around every send, it made a burst's replies
    through a 10 ms relay reach it after 81 s, not 30 s)."""
    _queue_chat(store, 6)
    took = [0.01, 0.3, 0.01, 0.25, 0.26, 0.0]
    writable: list[bool] = []

    def slack(session: Session, item: OutboundItem, accepted: Callable[[], None]) -> None:
        writable.append(write_lock_free(database))

    delivery = Delivery(store, Settings(mailbox_address=MAILBOX), {"slack": slack},
                        clock=_clock(took, first=0))
    assert delivery.deliver_due() == 6
    # first; after 0.01 s; after 0.3 s; after 0.01 s; after exactly 0.25 s; after 0.26 s
    assert writable == [True, False, True, False, False, True]
    assert delivery.slow_send_s == 0.25


def test_a_round_that_reaches_its_limit_says_more_is_due(store: Store, tmp_path: Path) -> None:
    for n in range(1, 4):
        _queue(store, f"reply:{n}")
    delivery = _to_folder(store, tmp_path / "outbox")
    assert delivery.more_due is False
    assert (delivery.deliver_due(limit=2), delivery.more_due) == (2, True)
    assert (delivery.deliver_due(limit=2), delivery.more_due) == (1, False)
    assert (delivery.deliver_due(limit=2), delivery.more_due) == (0, False)
    _queue(store, "reply:4")
    assert (delivery.deliver_due(limit=1), delivery.more_due) == (1, False)  # exactly the limit


def test_a_failed_send_is_timed_too(store: Store, database: Path) -> None:
    """A refusal or a failure that comes at once is quick; one after a long wait (a timeout)
    is slow, and the next send holds no write lock."""
    _queue_chat(store, 5)
    took = [0.01, 0.01, 0.3, 0.3, 0.0]
    writable: list[bool] = []

    def slack(session: Session, item: OutboundItem, accepted: Callable[[], None]) -> None:
        writable.append(write_lock_free(database))
        if item.key in ("reply:1", "reply:3"):
            raise DeliveryError(f"Slack refused {item.key}: ratelimited")
        if item.key in ("reply:2", "reply:4"):
            raise TimeoutError("the API did not answer")

    delivery = Delivery(store, Settings(mailbox_address=MAILBOX), {"slack": slack},
                        clock=_clock(took, first=10))
    assert delivery.deliver_due() == 1
    # first; after a quick refusal; after a quick failure; after a slow refusal; after a
    # slow failure
    assert writable == [True, False, False, True, True]
