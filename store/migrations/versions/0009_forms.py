"""Submissions recorded from a chat form or a sentence (issue 16).

A meeting entered by hand is a submission like a file: its channel, sender and time, and in
``raw`` the values entered (JSON). ``kind`` says which: "file" (every earlier row), "form" or
"sentence".

Revision ID: 0009_forms
Revises: 0008_web_signin
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_forms"
down_revision = "0008_web_signin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=10), nullable=False, server_default="file")
        )


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("kind")
