"""The durable inbox and outbox (store/queue.py).

Revision ID: 0002_queues
Revises: 0001_initial
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_queues"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def _timestamp() -> sa.DateTime:
    # store.types.UTCDateTime renders as this; the migration keeps no import of app code.
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "inbound_queue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("source_key", sa.String(length=255), nullable=True),
        sa.Column("message_id", sa.String(length=998), nullable=True),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("envelope_from", sa.String(length=998), nullable=True),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("received_at", _timestamp(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", _timestamp(), nullable=True),
        sa.Column("claimed_by", sa.String(length=255), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("finished_at", _timestamp(), nullable=True),
        sa.Column("moved_at", _timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_queue")),
        sa.UniqueConstraint("source_key", name=op.f("uq_inbound_queue_source_key")),
    )
    op.create_index(op.f("ix_inbound_queue_status"), "inbound_queue", ["status"])
    op.create_table(
        "outbound_queue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("inbound_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _timestamp(), nullable=False),
        sa.Column("sent_at", _timestamp(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["inbound_id"],
            ["inbound_queue.id"],
            name=op.f("fk_outbound_queue_inbound_id_inbound_queue"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_queue")),
        sa.UniqueConstraint("key", name=op.f("uq_outbound_queue_key")),
    )
    op.create_index(op.f("ix_outbound_queue_status"), "outbound_queue", ["status"])


def downgrade() -> None:
    op.drop_index(op.f("ix_outbound_queue_status"), table_name="outbound_queue")
    op.drop_table("outbound_queue")
    op.drop_index(op.f("ix_inbound_queue_status"), table_name="inbound_queue")
    op.drop_table("inbound_queue")
