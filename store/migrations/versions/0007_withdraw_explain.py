"""Withdrawn submissions and explanations of soft issues (issue 13).

A withdrawal deletes nothing: the submission is marked withdrawn (when, by whom), each meeting
it made current gets a new version restoring the figures before it (``withdrawal_of`` names the
submission undone), and its pending held changes end as ``withdrawn``. An explanation is a
reason given instead of a change, stored with the meeting and the issue it answers.

Revision ID: 0007_withdraw_explain
Revises: 0006_store_facts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_withdraw_explain"
down_revision = "0006_store_facts"
branch_labels = None
depends_on = None

_OLD_STATUSES = "'pending', 'confirmed', 'kept', 'expired', 'superseded'"
_NEW_STATUSES = f"{_OLD_STATUSES}, 'withdrawn'"


def _timestamp() -> sa.DateTime:
    # store.types.UTCDateTime renders as this.
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("withdrawn_at", _timestamp(), nullable=True))
        batch.add_column(sa.Column("withdrawn_by", sa.String(length=320), nullable=True))
    with op.batch_alter_table("meeting_versions") as batch:
        batch.add_column(sa.Column("withdrawal_of", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_meeting_versions_withdrawal_of_submissions"),
            "submissions",
            ["withdrawal_of"],
            ["id"],
            ondelete="RESTRICT",
        )
    _held_statuses(_NEW_STATUSES)
    _explanations()


def _held_statuses(statuses: str) -> None:
    with op.batch_alter_table("held_changes") as batch:
        batch.drop_constraint(op.f("ck_held_changes_status"), type_="check")
        batch.create_check_constraint(op.f("ck_held_changes_status"), f"status IN ({statuses})")


def _explanations() -> None:
    op.create_table(
        "explanations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("cell", sa.String(length=20), nullable=True),
        sa.Column("column", sa.String(length=200), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("explained_by", sa.String(length=320), nullable=False),
        sa.Column("explained_at", _timestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_explanations_submission_id_submissions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_explanations_meeting_id_meetings"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_explanations")),
    )
    op.create_index(op.f("ix_explanations_submission_id"), "explanations", ["submission_id"])
    op.create_index(op.f("ix_explanations_meeting_id"), "explanations", ["meeting_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_explanations_meeting_id"), table_name="explanations")
    op.drop_index(op.f("ix_explanations_submission_id"), table_name="explanations")
    op.drop_table("explanations")
    _held_statuses(_OLD_STATUSES)
    with op.batch_alter_table("meeting_versions") as batch:
        batch.drop_constraint(
            op.f("fk_meeting_versions_withdrawal_of_submissions"), type_="foreignkey"
        )
        batch.drop_column("withdrawal_of")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("withdrawn_by")
        batch.drop_column("withdrawn_at")
