"""One-time sign-in links and sessions for the web dashboard (issue 15).

Revision ID: 0008_web_signin
Revises: 0007_withdraw_explain
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_web_signin"
down_revision = "0007_withdraw_explain"
branch_labels = None
depends_on = None

_TABLES = (("web_signin_links", True), ("web_sessions", False))


def upgrade() -> None:
    for table, has_used_at in _TABLES:
        columns: list[sa.schema.SchemaItem] = [
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("token_hash", sa.String(length=64), nullable=False),
            sa.Column("contact_id", sa.Integer(), nullable=False),
            # store.types.UTCDateTime renders as this; the migration keeps no import of app code.
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        ]
        if has_used_at:
            columns.append(sa.Column("used_at", sa.DateTime(timezone=True), nullable=True))
        op.create_table(
            table,
            *columns,
            sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"],
                                    name=op.f(f"fk_{table}_contact_id_contacts"),
                                    ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
            sa.UniqueConstraint("token_hash", name=op.f(f"uq_{table}_token_hash")),
        )
        op.create_index(op.f(f"ix_{table}_contact_id"), table, ["contact_id"])


def downgrade() -> None:
    for table, _ in reversed(_TABLES):
        op.drop_index(op.f(f"ix_{table}_contact_id"), table_name=table)
        op.drop_table(table)
