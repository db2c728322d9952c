"""INSERT … ON CONFLICT DO NOTHING on the two databases the store runs on.

ON CONFLICT rather than catching IntegrityError: on PostgreSQL a failed INSERT aborts the
caller's whole transaction unless it runs inside a savepoint, and a savepoint costs two more
statements (a round trip each) on every insert that does not collide (issue 14). With ON
CONFLICT, two transactions inserting the same key still end with one row: the later one waits
for the earlier to commit and then skips it. The statement RETURNING a column gives back only
the rows it inserted.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy.orm import Session


def skipping_duplicates(session: Session, target: Any, unique: tuple[str, ...],
                        returning: tuple[Any, ...] = ()) -> Any:
    """An INSERT into ``target`` (a mapped class or a Table) that skips any row whose
    ``unique`` columns (a unique constraint's, exactly) match a stored row; RETURNING
    ``returning`` (columns, or a mapped class) if given. Execute it with the row's values as
    parameters: ``.values()`` would build a new statement every time."""
    return _statement(session.get_bind().dialect.name, target, unique, returning)


@cache  # built once per (database, target, key): a few hundred microseconds each (issue 14)
def _statement(dialect: str, target: Any, unique: tuple[str, ...],
               returning: tuple[Any, ...]) -> Any:
    statement = _skipping(dialect, target, unique)
    return statement.returning(*returning) if returning else statement


def _skipping(dialect: str, target: Any, unique: tuple[str, ...]) -> Any:
    # Each dialect's module imported here, for its own database only: the PostgreSQL one
    # loads every PostgreSQL driver's dialect, a fifth of what the SMTP listener needs to
    # start on SQLite (issue 14).
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(target).on_conflict_do_nothing(index_elements=list(unique))
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(target).on_conflict_do_nothing(index_elements=list(unique))
    raise ValueError(f"the store runs on SQLite or PostgreSQL, not {dialect}")
