"""Submissions recorded from a chat form or a sentence (issue 16).

Revision ID: 0009_forms
Revises: 0008_web_signin
"""

from __future__ import annotations

revision = "0009_forms"
down_revision = "0008_web_signin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
