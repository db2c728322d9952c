"""``store.upsert``: INSERT … ON CONFLICT DO NOTHING on the named unique key, and only it.

The statements are kept per database (a functools cache); each test starts with the cache
empty, so what it checks is built by the code under test and not left over from another.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store import upsert
from store.models import Contact
from store.upsert import skipping_duplicates


@pytest.fixture(autouse=True)
def _fresh_statements() -> Iterator[None]:
    upsert._statement.cache_clear()
    yield
    upsert._statement.cache_clear()


def _contact(email: str, slack: str | None = None) -> dict[str, object]:
    return {"name": "C", "email": email, "role": "coordinator", "slack_user_id": slack,
            "channels": ["email"], "scopes": [], "is_demo": False}


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Contact)) or 0)


def test_a_row_with_the_named_key_stored_is_skipped(db_session: Session) -> None:
    statement = skipping_duplicates(db_session, Contact, ("email",), (Contact.id,))
    first = db_session.execute(statement, _contact("a@x.example")).scalars().all()
    again = db_session.execute(statement, _contact("a@x.example")).scalars().all()
    assert len(first) == 1 and again == []
    assert _count(db_session) == 1


def test_a_clash_on_another_unique_column_is_still_an_error(db_session: Session) -> None:
    statement = skipping_duplicates(db_session, Contact, ("email",))
    db_session.execute(statement, _contact("a@x.example", slack="U1"))
    with pytest.raises(IntegrityError):  # slack_user_id is unique too, and not the key named
        db_session.execute(statement, _contact("b@x.example", slack="U1"))


def test_returning_only_what_is_asked(db_session: Session) -> None:
    dialect = db_session.get_bind().dialect
    plain = skipping_duplicates(db_session, Contact, ("email",))
    with_id = skipping_duplicates(db_session, Contact, ("email",), (Contact.id,))
    assert "RETURNING" not in str(plain.compile(dialect=dialect))
    assert str(with_id.compile(dialect=dialect)).endswith(("RETURNING id", "RETURNING contacts.id"))


def test_the_statement_is_built_once_per_database_and_key(db_session: Session) -> None:
    one = skipping_duplicates(db_session, Contact, ("email",), (Contact.id,))
    assert skipping_duplicates(db_session, Contact, ("email",), (Contact.id,)) is one
    assert skipping_duplicates(db_session, Contact, ("slack_user_id",), (Contact.id,)) is not one
    dialect = db_session.get_bind().dialect
    assert "ON CONFLICT (email) DO NOTHING" in str(one.compile(dialect=dialect))


def test_another_database_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="SQLite or PostgreSQL, not mysql"):
        upsert._statement("mysql", Contact, ("email",), ())
