"""Alembic environment: always run with a connection handed in by ``store.db.upgrade``.

There is no alembic.ini and no URL here: the caller opens the engine (with our SQLite pragmas
and the PostgreSQL advisory lock) and passes the connection in ``config.attributes``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from store.all_models import metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode rebuilds tables for later revisions.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through store.db.upgrade(engine), not the alembic CLI")
    run_migrations(connection)


main()
