"""Messages kept for the data team: what the bot could not deal with itself.

A coordinator writing "our coordinator is on leave until January, so Q3 will be late" was
answered with the list of Maracs missing Q3, and "please update your records" with help. Now
such a message is answered by saying it needs a person, and kept here for the data team (the
operator page lists them; the reply is copied to MARAC_DATA_TEAM_CONTACT when that is an
address other than the mailbox).

Revision ID: 0015_team_messages
Revises: 0014_message_id_token
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_team_messages"
down_revision = "0014_message_id_token"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "team_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inbound_id", sa.Integer(), nullable=True),
        # store.types.UTCDateTime renders as this; the migration keeps no import of app code.
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("sender_name", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_messages")),
    )


def downgrade() -> None:
    op.drop_table("team_messages")
