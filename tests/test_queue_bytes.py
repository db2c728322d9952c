"""The queues' bytes in tables of their own (migration 0012, issue 14): what was queued before
the upgrade is still there after it, in either direction, and a spool left by an older
version is still moved."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import Column, Engine, LargeBinary, MetaData, Table, event, inspect, text

from bot.channels.email.smtp_spool import Spool
from store.db import Store, open_engine, session_factory, upgrade
from store.queue import (
    InboundItem,
    claim_inbound,
    due_outbound,
    enqueue_inbound,
    enqueue_outbound,
)

T0 = datetime(2026, 3, 31, 23, 59, tzinfo=UTC)
BEFORE = "0011_registry_version"
MESSAGE = b"From: a@x.org\r\n\r\n" + bytes(range(256)) * 300  # binary, past a page or two
REPLY = b"To: a@x.org\r\n\r\nthanks" + b"\x00\xff" * 5000


@pytest.fixture
def engine_at_0011(db_url: str) -> Iterator[Engine]:
    engine = open_engine(db_url)
    upgrade(engine, BEFORE)
    yield engine
    engine.dispose()


def _queue_the_old_way(engine: Engine) -> None:
    """A message and its reply as version 0011 stored them: the bytes in the queue rows."""
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO inbound_queue (id, channel, source_key, raw, recipients, received_at,"
            " status, attempts) VALUES (7, 'email', 'smtp:old', :raw, '', :at, 'queued', 0)"),
            {"raw": MESSAGE, "at": T0})
        conn.execute(text(
            "INSERT INTO outbound_queue (id, key, inbound_id, channel, recipient, payload,"
            " status, attempts, next_attempt_at) VALUES (3, 'reply:7', 7, 'email', 'a@x.org',"
            " :payload, 'queued', 0, :at)"), {"payload": REPLY, "at": T0})


def _columns(engine: Engine, table: str) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns(table)}


def test_bytes_queued_before_the_upgrade_are_claimed_and_sent_after_it(
        engine_at_0011: Engine) -> None:
    _queue_the_old_way(engine_at_0011)
    upgrade(engine_at_0011)
    assert "raw" not in _columns(engine_at_0011, "inbound_queue")
    assert "payload" not in _columns(engine_at_0011, "outbound_queue")
    sessions = session_factory(engine_at_0011)
    with sessions.begin() as session:
        item = claim_inbound(session, worker="w", stale_after=timedelta(minutes=5),
                             now=T0 + timedelta(seconds=1))
        assert item is not None and (item.id, item.raw) == (7, MESSAGE)
        (reply,) = due_outbound(session, now=T0, limit=10)
        assert (reply.id, reply.key, reply.payload) == (3, "reply:7", REPLY)
    # New items after the upgrade take the same path.
    with sessions.begin() as session:
        new_id = enqueue_inbound(session, channel="email", raw=b"new", source_key="smtp:new",
                                 received_at=T0)
        stored = session.get(InboundItem, new_id)
        assert stored is not None and stored.raw == b"new"


def test_a_downgrade_puts_the_bytes_back_in_the_queue_rows(engine_at_0011: Engine) -> None:
    _queue_the_old_way(engine_at_0011)
    upgrade(engine_at_0011)
    with session_factory(engine_at_0011).begin() as session:
        enqueue_outbound(session, key="reply:new", channel="email", recipient="b@x.org",
                         payload=b"after", now=T0)
    from alembic import command

    from store.db import alembic_config

    config = alembic_config()
    with engine_at_0011.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, BEFORE)
    assert not {"inbound_raw", "outbound_payload"} & set(
        inspect(engine_at_0011).get_table_names())
    with engine_at_0011.connect() as conn:
        assert conn.execute(text("SELECT raw FROM inbound_queue")).scalars().all() == [MESSAGE]
        assert dict(conn.execute(text("SELECT key, payload FROM outbound_queue")).all()) == {
            "reply:7": REPLY, "reply:new": b"after"}


def test_a_spool_left_by_an_older_version_is_moved(tmp_path: Path) -> None:
    """A listener of a version before 0012 accepted a message, and the process stopped before
    moving it: the new version opens that spool, and the message reaches the inbox whole."""
    spool_path = tmp_path / "spool.db"
    old = MetaData()
    table = cast(Table, InboundItem.__table__).to_metadata(old)
    table.append_column(Column("raw", LargeBinary, nullable=False))
    old_engine = open_engine(f"sqlite:///{spool_path}")
    old.create_all(old_engine)
    with old_engine.begin() as conn:
        conn.execute(table.insert().values(
            channel="email", source_key="smtp:spooled", raw=MESSAGE, recipients="",
            received_at=T0, status="queued", attempts=0))
    old_engine.dispose()

    store = Store.open(f"sqlite:///{tmp_path / 'marac.db'}")
    moved: list[int] = []
    spool = Spool(store, spool_path, on_moved=lambda: moved.append(1))
    try:
        assert spool.move_all() == 1
    finally:
        spool.engine.dispose()
    assert moved == [1]
    with store.sessions.begin() as session:
        item = claim_inbound(session, worker="w", stale_after=timedelta(minutes=5))
        assert item is not None and (item.source_key, item.raw) == ("smtp:spooled", MESSAGE)
    reopened = open_engine(f"sqlite:///{spool_path}")
    try:
        assert "raw" not in _columns(reopened, "inbound_queue")
        with reopened.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM inbound_raw")).scalar() == 0
    finally:
        reopened.dispose()
    store.close()


def _statements_of(engine: Engine) -> list[str]:
    """Every statement the engine sends from now on, as it is sent."""
    sent: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda _conn, _cursor, statement, *_: sent.append(statement))
    return sent


def test_each_item_is_stored_with_its_bytes_and_a_duplicate_adds_neither(
    db_store: Store,
) -> None:
    """On PostgreSQL in one statement each (a WITH inserting both), on SQLite in two; either
    way a duplicate key leaves no bytes behind without their item."""
    sent = _statements_of(db_store.engine)
    with db_store.transaction() as session:
        inbound = enqueue_inbound(session, channel="email", raw=MESSAGE, source_key="smtp:1",
                                  received_at=T0)
        unkeyed = enqueue_inbound(session, channel="slack", raw=b"chat", source_key=None,
                                  received_at=T0)
        outbound = enqueue_outbound(session, key="reply:1", channel="email",
                                    recipient="a@x.org", payload=REPLY, now=T0)
    writes = [s for s in sent if s.lstrip().upper().startswith(("INSERT", "WITH"))]
    assert len(writes) == (3 if db_store.engine.dialect.name == "postgresql" else 6)
    with db_store.transaction() as session:
        assert enqueue_inbound(session, channel="email", raw=b"again", source_key="smtp:1",
                               received_at=T0) == inbound
        assert enqueue_outbound(session, key="reply:1", channel="email", recipient="a@x.org",
                                payload=b"again", now=T0) == outbound
    with db_store.engine.connect() as conn:
        raws = conn.execute(text("SELECT item_id, raw FROM inbound_raw ORDER BY item_id")).all()
        payloads = conn.execute(text("SELECT item_id, payload FROM outbound_payload")).all()
    assert [tuple(row) for row in raws] == [(inbound, MESSAGE), (unkeyed, b"chat")]
    assert [tuple(row) for row in payloads] == [(outbound, REPLY)]


_STORAGE = text(
    "SELECT attrelid::regclass::text, attname, attstorage FROM pg_attribute WHERE attname IN "
    "('raw', 'payload') AND attrelid::regclass::text IN ('inbound_raw', 'outbound_payload', "
    "'submissions') ORDER BY 1")


@pytest.mark.postgres
def test_mail_bytes_are_stored_uncompressed_on_postgresql_and_back_on_downgrade(
        pg_schema_url: str) -> None:
    # Migration 0016: a message's bytes are mostly base64, which PostgreSQL's compression
    # tried on whole and gave up on; a submitted file (a CSV does shrink) keeps it.
    from alembic import command

    from store.db import alembic_config

    engine = open_engine(pg_schema_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            assert conn.execute(_STORAGE).all() == [
                ("inbound_raw", "raw", "e"), ("outbound_payload", "payload", "e"),
                ("submissions", "raw", "x")]
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0015_team_messages")
        with engine.connect() as conn:
            assert {s for _t, _c, s in conn.execute(_STORAGE)} == {"x"}
        # Stored either way, the bytes come back as they went in.
        with Store(engine, session_factory(engine)).transaction() as session:
            item = enqueue_inbound(session, channel="email", raw=MESSAGE, source_key="smtp:e",
                                   received_at=T0)
            assert session.get_one(InboundItem, item).raw == MESSAGE
    finally:
        engine.dispose()
