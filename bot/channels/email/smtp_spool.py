"""The SMTP listener's spool on SQLite: acceptance never waits behind a worker (issue 14).

SQLite has one writer at a time, and a worker holds the write lock for its whole message (the
handler's records, the reply and the outcome commit together). A listener writing into the
same file would answer 250 only after that transaction, so a deadline-day burst was accepted
at the worker's pace. Here the listener commits its messages (smtp_writer.py: those that
arrive together, in one transaction) into ``spool.db`` beside the
database (its own file, so its own lock: only this mover's short deletes compete), and a
mover thread copies spooled messages into the inbox in short transactions, then deletes them
from the spool. A crash between the two leaves the message in both; the next move stores it
again under the same ``source_key``, which is a no-op. PostgreSQL needs none of this: its
row locks let the listener insert beside a running worker.

``marac-bot run`` opens the spool and its listener before anything else (bot/startup.py): mail
is accepted while the database is opened and the rest loads, and moved once ``start`` is given
the store. A process that fails to start leaves it in the spool for the next start.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import cast

from sqlalchemy import Connection, Table, delete, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from store.db import Store, open_engine, session_factory
from store.queue import InboundItem, InboundRaw, enqueue_inbound

logger = logging.getLogger(__name__)

# Messages moved per transaction: short enough that a worker waiting for the lock hardly
# notices, big enough that a burst is moved in few transactions.
BATCH = 50
# A missed wake-up (or a crash before the last move) is caught by this poll.
POLL_SECONDS = 1.0
# What the listener's log calls a spool id; the move logs the inbox id each one becomes.
STORED_AS = "spooled message"


class Spool:
    """``sessions`` for the listener; ``wake`` after each message it stores."""

    def __init__(self, store: Store | None, path: Path, on_moved: Callable[[], None]) -> None:
        # Without a store it only accepts: ``start`` gives the store its messages move into.
        self.store: Store | None = store
        self.path, self.on_moved = path, on_moved
        self.engine = open_engine(f"sqlite:///{path}")
        with self.engine.begin() as connection:
            _laid_out(connection)
        self.sessions: sessionmaker[Session] = session_factory(self.engine)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def start(self, store: Store | None = None,
              on_moved: Callable[[], None] | None = None) -> None:
        """Move what is spooled (a previous run's too), then keep moving in a thread."""
        self.store = store if store is not None else self.store
        self.on_moved = on_moved if on_moved is not None else self.on_moved
        self.move_all()  # what a previous run accepted but had not moved
        self._thread = threading.Thread(target=self._run, name="smtp-spool", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """After the listener is closed: move what is left, then end."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(30)
        self.engine.dispose()

    def _run(self) -> None:
        while True:
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()
            stopping = self._stop.is_set()
            self._move_logged()
            if stopping:
                return

    def _move_logged(self) -> None:
        try:
            self.move_all()
        except Exception as exc:  # the database away: the spool keeps them, try again
            if not self._failing:
                logger.error("cannot move spooled messages into the inbox (kept in %s): %s",
                             self.path, (str(exc).splitlines() or [type(exc).__name__])[0])
            self._failing = True
            return
        if self._failing:
            logger.warning("spooled messages move into the inbox again")
        self._failing = False

    def move_all(self) -> int:
        """Move every spooled message into the inbox; how many were moved."""
        moved = 0
        while batch := self._move_batch():
            moved += batch
        return moved

    def _move_batch(self) -> int:
        # Three short transactions, never one inside another: SQLite takes a file's write lock
        # at BEGIN (store/db.py), and a spool transaction held while the inbox waits for a
        # worker would keep the listener out of the spool too.
        with self.sessions.begin() as spool:
            items = list(spool.scalars(select(InboundItem).order_by(InboundItem.id)
                                       .limit(BATCH)))
        if not items:
            return 0
        if self.store is None:
            raise RuntimeError("the spool was not started with a store to move into")
        with self.store.transaction() as session:
            moved = [(item.id, enqueue_inbound(
                session, channel=item.channel, raw=item.raw, source_key=item.source_key,
                envelope_from=item.envelope_from,
                recipients=item.recipients.split("\n") if item.recipients else (),
                received_at=item.received_at, message_id=item.message_id)) for item in items]
        for spooled, inbound in moved:  # after the commit: only what is really in the inbox
            logger.info("%s %d is inbound %d", STORED_AS, spooled, inbound)
        with self.sessions.begin() as spool:  # their bytes go with them (ON DELETE CASCADE)
            spool.execute(delete(InboundItem).where(
                InboundItem.id.in_([item.id for item in items])))
        self.on_moved()
        return len(items)


def _laid_out(connection: Connection) -> None:
    """The spool's tables, as the inbox's: made if missing, and a spool left by a version that
    kept the bytes in the queue row (before migration 0012) brought to the new layout, its
    messages kept."""
    queue, raw = cast(Table, InboundItem.__table__), cast(Table, InboundRaw.__table__)
    found = inspect(connection)
    if found.has_table(queue.name) and not found.has_table(raw.name):  # before 0012
        raw.create(connection)
        connection.exec_driver_sql(
            f"INSERT INTO {raw.name} (item_id, raw) SELECT id, raw FROM {queue.name}")
        connection.exec_driver_sql(f"ALTER TABLE {queue.name} DROP COLUMN raw")
    queue.create(connection, checkfirst=True)
    raw.create(connection, checkfirst=True)
