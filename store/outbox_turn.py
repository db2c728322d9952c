"""One outbox item taken for sending, and what became of it recorded: sent, to retry, failed.

Only one process may send an item, and a crash at any moment must leave it to be sent again.
How that is kept depends on the database:

- **PostgreSQL**: the item's row stays locked (``FOR UPDATE SKIP LOCKED``) in a transaction
  that spans the send, and the outcome is committed in it. A row lock stops nobody else: the
  other processes skip that row, and every other write goes on.
- **SQLite** (a file): a transaction that writes takes the one write lock of the whole
  database, so a slow send inside one (a relay that answers in 30 s, a Slack upload) made
  every worker's recording wait, and at the busy timeout fail. So such an item is read in a
  transaction that only reads, sent with no write lock held, and its outcome written in a
  short transaction of its own. What stops another process sending the same item meanwhile is a
  lock on a file beside the database (``<database>-outbox``, as SQLite keeps ``-wal`` and
  ``-shm``), held from before the item is read until its outcome is committed. Every process
  that delivers takes it (``marac-bot run``, ``marac-bot remind``), and the kernel drops it
  when its holder dies, so a crash mid-send leaves the item queued, to be sent at the next
  round: never waited out as a lease would be.
  A send known to be short (the outbox folder; a channel whose last send came back quickly)
  is done in one writing transaction instead, the file lock still taken (``quick``).
- **SQLite in memory** (tests, ``validate``): one connection, one process: as PostgreSQL.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from store.db import SQLITE_BUSY_TIMEOUT_MS, Store, sqlite_file
from store.queue import OutboundItem, due_outbound, is_transient_db_error

logger = logging.getLogger(__name__)

Write = Callable[[Session], None]

LOCK_SUFFIX = "-outbox"
# How long a process waits for another to finish sending its item before it leaves this round
# (the item is then sent at the next): SQLite's own busy timeout, the wait this replaces.
LOCK_WAIT_S = SQLITE_BUSY_TIMEOUT_MS / 1000
_PAUSE_S = 0.002
# An outcome that could not be written (the write lock kept by a long transaction past the
# busy timeout) is tried again this many times, the item's file lock held meanwhile: an item
# the relay accepted but not recorded as sent would be sent twice.
RECORD_TRIES = 10
# The waits between those tries (about 21 s in all, on top of each try's own wait for the
# lock): an outage of a moment (the database file briefly unusable) must not make an item the
# relay accepted be sent again.
RECORD_PAUSES_S = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0)


@dataclass(frozen=True)
class Turn:
    """The item to send, the session a sender reads the store with (never writes: on SQLite
    it is a transaction that only reads), and ``record``, which commits a write of the item's
    outcome."""

    item: OutboundItem
    session: Session
    record: Callable[[Write], None]


@contextmanager
def next_to_send(store: Store, channel: str, *, now: datetime, quick: bool = False,
                 wait_s: float = LOCK_WAIT_S) -> Iterator[Turn | None]:
    """The oldest due item of ``channel``, taken for this process until the block ends; None
    when nothing is due, or another process kept its turn past ``wait_s`` seconds.

    ``quick``: the send is short (the outbox folder: a file and two fsyncs; a relay whose
    last send came back quickly, ``bot.delivery``). On SQLite it is then done in one writing
    transaction, as on PostgreSQL: released and taken again around it, the write lock cost
    the outbox a wait behind the workers for every item, and in a burst of 1,100 returns the
    last reply was written after 41-44 s, not 19-20 s. Otherwise no write lock is held."""
    database = sqlite_file(store.engine)
    if database is None:
        with _in_one_transaction(store, channel, now) as turn:
            yield turn
        return
    # Taken in both ways: a process that sends apart must find the item kept by one sending
    # it in a transaction, whose write lock it does not wait for.
    with _alone(Path(f"{database}{LOCK_SUFFIX}"), wait_s) as mine:
        if not mine:
            logger.warning("outbox: another process kept sending for %.1f s; %s items wait "
                           "for the next round", wait_s, channel)
            yield None
            return
        with (_in_one_transaction if quick else _read_apart)(store, channel, now) as turn:
            yield turn


@contextmanager
def _in_one_transaction(store: Store, channel: str, now: datetime) -> Iterator[Turn | None]:
    with store.sessions() as session:  # closing it rolls back anything uncommitted
        due = due_outbound(session, now=now, limit=1, channels=(channel,))
        if not due:
            # Ended by COMMIT (it wrote nothing), not by the ROLLBACK of closing: on
            # PostgreSQL a ROLLBACK makes psycopg forget the pooled connection's prepared
            # statements, which the workers in this process use next (issue 14).
            session.commit()
            yield None
            return

        def record(write: Write) -> None:
            write(session)
            session.commit()

        yield Turn(due[0], session, record)


@contextmanager
def _read_apart(store: Store, channel: str, now: datetime) -> Iterator[Turn | None]:
    """The item read in a transaction of its own, ended before the send: a reader kept open
    across sends stops SQLite from ever restarting its write-ahead log, which then grows, and
    every commit's checkpoint copies more of it (a burst of 1,100 returns took twice as long).
    The sender's session begins a transaction of its own only if it reads."""
    with store.reading() as session:
        due = due_outbound(session, now=now, limit=1, channels=(channel,))
        for item in due:
            session.expunge(item)  # its loaded values stay, for the sender
    if not due:
        yield None
        return
    with store.reading() as session:
        yield Turn(due[0], session, _record_apart(store))


def _record_apart(store: Store) -> Callable[[Write], None]:
    """``record`` for a turn read apart: the write in a transaction of its own, tried again
    while the database is only busy or briefly away."""

    def record(write: Write) -> None:
        for attempt in range(1, RECORD_TRIES + 1):
            try:
                with store.transaction() as session:
                    write(session)
                return
            except Exception as exc:
                if attempt == RECORD_TRIES or not is_transient_db_error(exc):
                    raise
                logger.warning("outbox: could not record an outcome (try %s of %s): %s",
                               attempt, RECORD_TRIES, exc)
                time.sleep(RECORD_PAUSES_S[attempt - 1])

    return record


@contextmanager
def _alone(path: Path, wait_s: float) -> Iterator[bool]:
    """An exclusive lock on ``path`` (made if missing), tried in short steps for ``wait_s``:
    True while held, False if it was not had in time. Opened afresh each time: a lock belongs
    to one opening of the file, so two threads of one process also take turns."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        yield _lock(fd, deadline=time.monotonic() + wait_s)
    finally:
        os.close(fd)  # which drops the lock


def _lock(fd: int, *, deadline: float) -> bool:
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
        # Short steps: only two processes delivering at once (``run`` and ``remind``) wait,
        # each for one item's send.
        time.sleep(_PAUSE_S)
