"""A random token of the store, mixed into the Message-IDs of the mail it sends.

A reply's Message-ID was the hash of its outbox key alone ("reply:1"): every new installation,
and every installation whose database was made anew, sent its first reply with the same
Message-ID as every other's, and mail clients drop or misthread a message whose Message-ID
they have seen (RFC 5322: a Message-ID is unique to one message, worldwide). Now a random
token made here, once per store, is part of it (bot/channels/email/outbound.py).

``legacy_message_ids_through``: the outbox items already queued (up to this id) carry the old
Message-IDs; a reply to one of them ("CONFIRM" to held changes) is still matched by them.

Revision ID: 0014_message_id_token
Revises: 0013_totals_per_statement
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0014_message_id_token"
down_revision = "0013_totals_per_statement"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("store_facts", sa.Column("message_id_token", sa.String(32), nullable=True))
    op.add_column("store_facts",
                  sa.Column("legacy_message_ids_through", sa.Integer(), nullable=True))
    bind = op.get_bind()
    last = bind.execute(sa.text("SELECT max(id) FROM outbound_queue")).scalar()
    # 0006 made the row; the token is drawn here, in Python, alike on both databases.
    bind.execute(sa.text("UPDATE store_facts SET message_id_token = :token, "
                         "legacy_message_ids_through = :last WHERE id = 1"),
                 {"token": secrets.token_hex(16), "last": last})


def downgrade() -> None:
    with op.batch_alter_table("store_facts") as batch:
        batch.drop_column("legacy_message_ids_through")
        batch.drop_column("message_id_token")
