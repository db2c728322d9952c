"""The reminder log (store/models.py ReminderLog): one row per reminder and contact.

Revision ID: 0003_reminders
Revises: 0002_queues
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_reminders"
down_revision = "0002_queues"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reminder_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("marac_id", sa.Integer(), nullable=True),
        sa.Column("quarter", sa.String(length=12), nullable=False),
        sa.Column("stage", sa.String(length=40), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("channels", sa.String(length=60), nullable=False),
        # store.types.UTCDateTime renders as this; the migration keeps no import of app code.
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_reminder_log_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["marac_id"],
            ["maracs.id"],
            name=op.f("fk_reminder_log_marac_id_maracs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_log")),
        sa.UniqueConstraint("marac_id", "quarter", "stage", "contact_id",
                            name="uq_reminder_log_key"),
    )
    op.create_index(op.f("ix_reminder_log_contact_id"), "reminder_log", ["contact_id"])
    op.create_index("ix_reminder_log_quarter", "reminder_log", ["quarter"])
    # Digests name no Marac; NULLs never collide in the key above, so this index guards them.
    op.create_index(
        "uq_reminder_log_digest_key",
        "reminder_log",
        ["quarter", "stage", "contact_id"],
        unique=True,
        sqlite_where=sa.text("marac_id IS NULL"),
        postgresql_where=sa.text("marac_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_reminder_log_digest_key", table_name="reminder_log")
    op.drop_index("ix_reminder_log_quarter", table_name="reminder_log")
    op.drop_index(op.f("ix_reminder_log_contact_id"), table_name="reminder_log")
    op.drop_table("reminder_log")
