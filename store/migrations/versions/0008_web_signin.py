"""One-time sign-in links and sessions for the web dashboard (issue 15).

Revision ID: 0008_web_signin
Revises: 0007_withdraw_explain
"""

from __future__ import annotations

revision = "0008_web_signin"
down_revision = "0007_withdraw_explain"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
