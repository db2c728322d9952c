"""Indexes for dashboard questions (handlers/questions): a covering index of the figures that
quarter and year totals sum, per meeting and current flag.

The other lookups questions make were already indexed by 0001 (meetings by quarter and Marac,
held changes by meeting and status, contacts by Marac); see bench/ask_bench.py.

Revision ID: 0004_question_indexes
Revises: 0003_reminders
"""

from __future__ import annotations

from alembic import op

revision = "0004_question_indexes"
down_revision = "0003_reminders"
branch_labels = None
depends_on = None

# A frozen copy: the migration keeps no import of app code (store.models.QUESTION_FIGURES).
QUESTION_FIGURES = ("cases", "repeat_cases", "ref_police", "children", "cases_with_children")


def upgrade() -> None:
    op.create_index(
        "ix_meeting_versions_current_figures",
        "meeting_versions",
        ["meeting_id", "is_current", *QUESTION_FIGURES],
    )


def downgrade() -> None:
    op.drop_index("ix_meeting_versions_current_figures", table_name="meeting_versions")
