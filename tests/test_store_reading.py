"""``Store.reading()``: a transaction that only reads, and leaves the connection as it was.

On PostgreSQL it must end without ROLLBACK: psycopg forgets every prepared statement of a
connection on a ROLLBACK, and then each message paid every statement's parse and plan again.
The outbox's look for due replies, run all day long with nothing due, keeps them too: it runs
in ``Store.peeking()``, on PostgreSQL with no transaction at all (autocommit).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bot.delivery import Delivery
from bot.settings import Settings
from store.db import Store
from store.models import Marac

# psycopg prepares a statement on the connection from its fifth use (prepare_threshold).
USES_BEFORE_PREPARED = 5


def _add_marac(session: Session, name: str) -> None:
    session.add(Marac(name=name, name_key=name.lower(), police_force_area="Met",
                      region="London", nation="England"))


def test_a_write_in_a_reading_transaction_is_not_kept(db_store: Store) -> None:
    postgres = db_store.engine.dialect.name == "postgresql"
    try:
        with db_store.reading() as session:
            _add_marac(session, "Croydon")
            session.flush()
    except DBAPIError as exc:
        assert postgres, exc  # PostgreSQL refuses it: the transaction is READ ONLY
        assert "read-only transaction" in str(exc)
    else:
        assert not postgres, "PostgreSQL should refuse a write in a READ ONLY transaction"
    with db_store.reading() as session:
        assert session.scalar(select(func.count()).select_from(Marac)) == 0


def test_what_a_reading_transaction_sees_is_what_was_committed(db_store: Store) -> None:
    with db_store.transaction() as session:
        _add_marac(session, "Croydon")
    with db_store.reading() as session:
        assert session.scalars(select(Marac.name)).all() == ["Croydon"]


@pytest.mark.postgres
def test_prepared_statements_outlive_reading_transactions(pg_schema_url: str) -> None:
    store = Store.open(pg_schema_url)
    try:
        query = select(Marac.id).where(Marac.name == "Croydon")
        for _ in range(USES_BEFORE_PREPARED + 1):
            with store.reading() as session:
                session.execute(query).all()
        with store.reading() as session:
            prepared = session.scalar(text(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE "
                "'%FROM maracs%WHERE maracs.name = $1%'"))
        assert prepared == 1
    finally:
        store.close()


@pytest.mark.postgres
def test_looking_for_due_replies_and_finding_none_keeps_prepared_statements(
    pg_schema_url: str, tmp_path: Path,
) -> None:
    store = Store.open(pg_schema_url)
    try:
        delivery = Delivery(store, Settings(data_dir=tmp_path, mailbox_address="m@x.example"),
                            {"email": lambda session, item, accepted: None})
        for _ in range(USES_BEFORE_PREPARED + 1):
            assert delivery.deliver_due() == 0  # nothing queued: nothing sent
        with store.reading() as session:
            prepared = session.scalar(text(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE "
                "'%FROM outbound_queue%'"))
        assert prepared is not None and prepared >= 1
    finally:
        store.close()


def test_peeking_reads_what_was_committed(db_store: Store) -> None:
    with db_store.transaction() as session:
        _add_marac(session, "Croydon")
    with db_store.peeking() as session:
        assert session.scalar(select(func.count()).select_from(Marac)) == 1


@pytest.mark.postgres
def test_peeking_on_postgresql_runs_each_statement_on_its_own(pg_schema_url: str) -> None:
    """No BEGIN before the statement (one round trip, not three): in autocommit each
    statement is its own transaction, so it starts when the statement does. In a transaction
    psycopg sends BEGIN first, and the transaction starts before the statement."""
    store = Store.open(pg_schema_url)
    own = text("SELECT transaction_timestamp() = statement_timestamp()")
    try:
        with store.peeking() as session:
            assert session.scalar(own) is True
            assert session.scalar(own) is True  # the second statement too
        with store.reading() as session:
            session.scalar(text("SELECT 1"))
            assert session.scalar(own) is False
        with store.reading() as session:  # the pooled connection is back in transactions
            session.scalar(text("SELECT 1"))
            assert session.scalar(own) is False
    finally:
        store.close()
