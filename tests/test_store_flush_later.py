"""``Store.transaction(durable=False)``: on SQLite its commit is not flushed to disk at once.

Only the worker's claim on a message uses it: a claim undone by a power cut means the message
is claimed again. Everything else, above all what the SMTP listener answered 250 for, commits
with synchronous=FULL. These tests read the setting inside each kind of transaction, on a
file database (an in-memory one has no disk to flush to).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from bot.settings import Settings
from bot.worker import Worker
from store.db import Store
from store.queue import enqueue_inbound
from store.types import utcnow
from tests.store_support import executed

FULL, NORMAL = 2, 1  # what PRAGMA synchronous reads as


def _synchronous(store: Store, *, durable: bool) -> int:
    with store.transaction(durable=durable) as session:
        return int(session.execute(text("PRAGMA synchronous")).scalar_one())


def test_only_a_transaction_marked_so_commits_without_a_flush(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'marac.db'}")
    try:
        assert _synchronous(store, durable=True) == FULL
        assert _synchronous(store, durable=False) == NORMAL
        assert _synchronous(store, durable=True) == FULL  # set back for the next one
        with store.reading() as session:
            assert session.execute(text("PRAGMA synchronous")).scalar_one() == FULL
    finally:
        store.close()


def test_what_a_relaxed_transaction_commits_is_committed(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'marac.db'}")
    try:
        with store.transaction(durable=False) as session:
            enqueue_inbound(session, channel="email", raw=b"x", source_key="k",
                            received_at=utcnow())
        other = Store.open(f"sqlite:///{tmp_path / 'marac.db'}", upgrade_schema=False)
        try:
            with other.reading() as session:
                count = session.execute(text("SELECT count(*) FROM inbound_queue"))
                assert count.scalar_one() == 1
        finally:
            other.close()
    finally:
        store.close()


def test_the_workers_claim_is_the_relaxed_one(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'marac.db'}")
    try:
        with store.transaction() as session:
            enqueue_inbound(session, channel="email", raw=b"Subject: hi\r\n\r\nhello\r\n",
                            source_key="k", received_at=utcnow(), envelope_from="a@b.example")
        worker = Worker(store, Settings(data_dir=tmp_path, smtp_listen=None, http_listen=None))
        with executed(store.engine,
                      lambda sql: sql.startswith(("PRAGMA synchronous",
                                                  "UPDATE inbound_queue"))) as seen:
            assert worker.process_one()
        claim = next(n for n, sql in enumerate(seen) if "attempts" in sql)
        assert seen[:claim] == ["PRAGMA synchronous=NORMAL"]
        assert "PRAGMA synchronous=FULL" in seen[claim:]
    finally:
        store.close()
