"""The inbox's message bytes and the outbox's rendered messages in tables of their own
(issue 14).

SQLite reads a row's columns in order and rewrites a row whole on any UPDATE. With the bytes
in the queue row, before its arrival time and status, every claim read each waiting message's
bytes (its overflow pages) to sort the queue, and each status update wrote them out again:
queue upkeep grew with the number and size of the messages waiting, 8 ms a message at 1,100
waiting messages of 60 KB. The outbox's due list and its sent marks did the same with the
replies. Moved apart, the queue rows are small. PostgreSQL keeps large values apart by
itself; one layout serves both.

Existing bytes are copied, then the old columns dropped: ``ALTER TABLE … DROP COLUMN``, which
SQLite has had since 3.35 (2021), and which leaves the other tables' foreign keys alone (a
batch rebuild would drop ``inbound_queue`` under ``outbound_queue``'s).

Revision ID: 0012_queue_bytes_apart
Revises: 0011_registry_version
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_queue_bytes_apart"
down_revision = "0011_registry_version"
branch_labels = None
depends_on = None

# (new table, its bytes column, the queue table it belongs to)
_APART = (("inbound_raw", "raw", "inbound_queue"),
          ("outbound_payload", "payload", "outbound_queue"))


def upgrade() -> None:
    for table, column, queue in _APART:
        op.create_table(
            table,
            sa.Column("item_id", sa.Integer(), nullable=False),
            sa.Column(column, sa.LargeBinary(), nullable=False),
            sa.ForeignKeyConstraint(["item_id"], [f"{queue}.id"], ondelete="CASCADE",
                                    name=op.f(f"fk_{table}_item_id_{queue}")),
            sa.PrimaryKeyConstraint("item_id", name=op.f(f"pk_{table}")),
        )
        op.execute(f"INSERT INTO {table} (item_id, {column}) SELECT id, {column} FROM {queue}")
        op.execute(f"ALTER TABLE {queue} DROP COLUMN {column}")


def downgrade() -> None:
    for table, column, queue in _APART:
        # Nullable on the way back: SQLite adds no NOT NULL column without a default.
        op.execute(f"ALTER TABLE {queue} ADD COLUMN {column} "
                   f"{'BLOB' if op.get_bind().dialect.name == 'sqlite' else 'BYTEA'}")
        op.execute(f"UPDATE {queue} SET {column} = (SELECT {column} FROM {table} "
                   f"WHERE {table}.item_id = {queue}.id)")
        op.drop_table(table)
