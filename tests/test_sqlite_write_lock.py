"""Waiting for SQLite's write lock (store.db._begin_immediate).

A writer that finds the lock taken tries again in steps of at most 2 ms instead of SQLite's
busy handler, which sleeps up to 100 ms between tries. What must hold whatever the steps: a
writer gets the lock once it is free, gives up with "database is locked" (a transient error,
which the worker waits out) once the connection's busy timeout has passed, and leaves that
busy timeout as it was for the statements of its transaction.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from store.db import SQLITE_BUSY_TIMEOUT_MS, Store
from store.queue import is_transient_db_error


@contextmanager
def _store(tmp_path: Path, busy_timeout_ms: int | None = None) -> Iterator[Store]:
    store = Store.open(f"sqlite:///{tmp_path / 'marac.db'}")
    if busy_timeout_ms is not None:
        event.listen(store.engine, "connect", lambda conn, _record: conn.execute(
            f"PRAGMA busy_timeout={busy_timeout_ms}"))
        store.engine.dispose()
    try:
        yield store
    finally:
        store.close()


@contextmanager
def _lock_held(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(tmp_path / "marac.db", isolation_level=None,
                                 check_same_thread=False)) as other:
        other.execute("BEGIN IMMEDIATE")
        yield other


def test_a_writer_gets_the_lock_once_it_is_free(tmp_path: Path) -> None:
    with _store(tmp_path) as store, _lock_held(tmp_path) as other:
        began = threading.Event()
        timeouts: list[int] = []

        def write() -> None:
            with store.transaction() as session:  # begins at its first statement
                timeouts.append(session.execute(text("PRAGMA busy_timeout")).scalar_one())
                began.set()

        writer = threading.Thread(target=write)
        writer.start()
        assert not began.wait(0.05)  # still waiting while the lock is held
        other.execute("COMMIT")
        writer.join(timeout=10)
        assert began.is_set() and not writer.is_alive()
        assert timeouts == [SQLITE_BUSY_TIMEOUT_MS]  # as configured, inside the transaction


def test_a_writer_gives_up_after_the_busy_timeout(tmp_path: Path) -> None:
    with _store(tmp_path, busy_timeout_ms=100) as store, _lock_held(tmp_path):
        with pytest.raises(OperationalError, match="database is locked") as failed, \
                store.transaction() as session:
            session.execute(text("SELECT 1"))
        assert is_transient_db_error(failed.value)
        with store.reading() as session:  # the connection is still usable for reading
            assert session.execute(text("PRAGMA busy_timeout")).scalar_one() == 100


def test_an_uncontended_writer_keeps_the_configured_busy_timeout(tmp_path: Path) -> None:
    with _store(tmp_path) as store:
        for _ in range(2):
            with store.transaction() as session:
                assert session.execute(text("PRAGMA busy_timeout")).scalar_one() == (
                    SQLITE_BUSY_TIMEOUT_MS)


def test_the_busy_timeout_is_read_once_per_connection(tmp_path: Path) -> None:
    """Read at the connection's first BEGIN, then kept with it: each later transaction only
    sets it to 0 and back. A connection made afterwards reads its own."""
    with _store(tmp_path, busy_timeout_ms=300) as store:
        sent: list[str] = []
        event.listen(store.engine, "connect",
                     lambda conn, _record: conn.set_trace_callback(sent.append))
        for _ in range(3):
            with store.transaction() as session:
                assert session.execute(text("PRAGMA busy_timeout")).scalar_one() == 300
        assert sent.count("PRAGMA busy_timeout") == 1 + 3  # ours once, the test's three
        assert sent.count("PRAGMA busy_timeout=0") == 3
        store.engine.dispose()
        with store.transaction() as session:
            session.execute(text("SELECT 1"))
        assert sent.count("PRAGMA busy_timeout") == 5
