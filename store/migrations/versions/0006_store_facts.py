"""Facts about the store itself: when it was created, whether demo data is in use (issue 13).

``store_facts`` holds one row: the time the store was created. With ``MARAC_TRACK_FROM`` unset,
the first tracked quarter is the first one ending after it, so a new installation never
chases quarters collected before the bot existed. A store made before this revision gets the
time of its first recorded submission (or now, if it has none): the best evidence of when it
started collecting.

``retired_at`` on Maracs and contacts: ``registry import --replace`` retires what a full
registry no longer lists, and keeps its data.

Revision ID: 0006_store_facts
Revises: 0005_claim_leases
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0006_store_facts"
down_revision = "0005_claim_leases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    facts = op.create_table(
        "store_facts",
        sa.Column("id", sa.Integer(), nullable=False),
        # store.types.UTCDateTime renders as this; the migration keeps no import of app code.
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_store_facts_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_facts")),
    )
    for table in ("maracs", "contacts"):
        op.add_column(table, sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))
    first = op.get_bind().execute(sa.text("SELECT min(recorded_at) FROM submissions")).scalar()
    created = _as_utc(first) if first is not None else datetime.now(UTC)
    op.bulk_insert(facts, [{"id": 1, "created_at": created}])


def _as_utc(value: datetime | str) -> datetime:
    """SQLite hands back text or a naive time (stored as UTC); PostgreSQL an aware one."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def downgrade() -> None:
    for table in ("contacts", "maracs"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("retired_at")
    op.drop_table("store_facts")
