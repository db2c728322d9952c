"""A pooled PostgreSQL connection is pinged before use only after sitting idle (store.db).

Pinging at every checkout cost three round trips a message; a connection given back moments
ago is not pinged. These tests kill the server's end of a pooled connection, as a server
restart does, and show both sides: past the idle time the ping finds it dead and a new
connection serves the transaction; within it the transaction's own statement finds it dead,
fails once, and the pool is renewed for the next.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, NullPool, create_engine, text
from sqlalchemy.exc import OperationalError

from store.db import PG_PING_IDLE_S, open_engine

pytestmark = pytest.mark.postgres


def _pooled_backend(engine: Engine) -> int:
    """The server process of the connection the pool holds, after a transaction on it."""
    with engine.begin() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    assert engine.pool.checkedin() == 1  # type: ignore[attr-defined]  # QueuePool's
    return int(pid)


def _kill(url: str, pid: int) -> None:
    admin = create_engine(url, poolclass=NullPool)
    try:
        with admin.begin() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"),
                                {"pid": pid}).scalar_one()
    finally:
        admin.dispose()


def test_an_idle_connection_found_dead_by_the_ping_is_replaced(pg_schema_url: str) -> None:
    engine = open_engine(pg_schema_url, ping_idle_s=0.0)  # every checkout counts as idle
    try:
        dead = _pooled_backend(engine)
        _kill(pg_schema_url, dead)
        with engine.begin() as conn:
            alive = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert alive != dead
    finally:
        engine.dispose()


def test_a_connection_used_moments_ago_is_not_pinged(pg_schema_url: str) -> None:
    engine = open_engine(pg_schema_url, ping_idle_s=3600.0)
    try:
        dead = _pooled_backend(engine)
        _kill(pg_schema_url, dead)
        with pytest.raises(OperationalError) as failed, engine.begin() as conn:
            conn.execute(text("SELECT 1"))
        assert failed.value.connection_invalidated
        with engine.begin() as conn:  # the pool renewed its connection
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != dead
    finally:
        engine.dispose()


def test_the_default_idle_time_is_a_moment() -> None:
    # Long enough to cover one message's three transactions, short enough that a connection
    # left in the pool between messages is pinged.
    assert 0.1 <= PG_PING_IDLE_S <= 5.0
