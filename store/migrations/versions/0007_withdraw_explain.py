"""Withdrawn submissions and explanations of soft issues (issue 13).

Revision ID: 0007_withdraw_explain
Revises: 0006_store_facts
"""

from __future__ import annotations

revision = "0007_withdraw_explain"
down_revision = "0006_store_facts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
