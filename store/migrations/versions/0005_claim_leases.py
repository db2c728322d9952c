"""Claims as leases: each process's identity and heartbeat on queue claims (issue 17).

``bot_processes`` has one row per running ``marac-bot run`` process (host, pid, start time),
renewed every few seconds; a claim whose owner has not renewed its row within the lease is
taken over. ``leases`` holds named single-holder leases (the one IMAP mover of a mailbox).

Revision ID: 0005_claim_leases
Revises: 0004_question_indexes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_claim_leases"
down_revision = "0004_question_indexes"
branch_labels = None
depends_on = None


def _timestamp() -> sa.DateTime:
    # store.types.UTCDateTime renders as this; the migration keeps no import of app code.
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "bot_processes",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", _timestamp(), nullable=False),
        sa.Column("heartbeat_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_bot_processes")),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("holder", sa.String(length=255), nullable=False),
        sa.Column("expires_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )


def downgrade() -> None:
    op.drop_table("leases")
    op.drop_table("bot_processes")
