"""The registry, submissions, meetings with versions, and held changes.

Revision ID: 0001_initial
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copy of validation.columns.COUNT_KEYS as of this revision: migrations never import
# application code, which moves on while this file must not.
COUNT_KEYS = (
    "cases",
    "repeat_cases",
    "children",
    "cases_with_children",
    "ref_police",
    "ref_idva",
    "ref_childrens_social_care",
    "ref_primary_care",
    "ref_secondary_care",
    "ref_education",
    "ref_housing",
    "ref_mental_health",
    "ref_probation",
    "ref_voluntary_sector",
    "ref_substance_misuse",
    "ref_adult_social_care",
    "ref_mash",
    "ref_other",
    "minoritised",
    "lgbtq",
    "disabled",
    "male",
    "aged_16_17",
    "harming_under_18",
    "aged_65_plus",
    "eth_asian",
    "eth_black",
    "eth_mixed",
    "eth_other_white",
    "eth_any_other",
)


def _timestamp() -> sa.DateTime:
    # store.types.UTCDateTime renders as this.
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    _registry()
    _submissions()
    _meetings()
    _held_changes()


def _registry() -> None:
    op.create_table(
        "maracs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("police_force_area", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=200), nullable=False),
        sa.Column("nation", sa.String(length=100), nullable=False),
        sa.Column("local_authorities", sa.JSON(), nullable=False),
        sa.Column("adult_female_population", sa.Integer(), nullable=True),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maracs")),
        sa.UniqueConstraint("name", name=op.f("uq_maracs_name")),
        sa.UniqueConstraint("name_key", name=op.f("uq_maracs_name_key")),
    )
    op.create_index(op.f("ix_maracs_police_force_area"), "maracs", ["police_force_area"])
    op.create_index(op.f("ix_maracs_region"), "maracs", ["region"])
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("slack_user_id", sa.String(length=50), nullable=True),
        sa.Column("teams_id", sa.String(length=100), nullable=True),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("teams_reference", sa.JSON(), nullable=True),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "role IN ('coordinator', 'chair', 'manager', 'admin')", name=op.f("ck_contacts_role")
        ),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_contacts_email_lower")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint("email", name=op.f("uq_contacts_email")),
        sa.UniqueConstraint("slack_user_id", name=op.f("uq_contacts_slack_user_id")),
        sa.UniqueConstraint("teams_id", name=op.f("uq_contacts_teams_id")),
    )
    op.create_table(
        "contact_maracs",
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("marac_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_contact_maracs_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["marac_id"],
            ["maracs.id"],
            name=op.f("fk_contact_maracs_marac_id_maracs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contact_id", "marac_id", name=op.f("pk_contact_maracs")),
    )
    op.create_index("ix_contact_maracs_marac_id", "contact_maracs", ["marac_id"])


def _submissions() -> None:
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("received_at", _timestamp(), nullable=False),
        sa.Column("recorded_at", _timestamp(), nullable=False),
        sa.Column("filename", sa.String(length=500), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("edition", sa.String(length=20), nullable=True),
        sa.Column("declared_quarter", sa.String(length=12), nullable=True),
        sa.Column("confirm", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_accepted", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.Column("rows_held", sa.Integer(), nullable=False),
        sa.Column("rows_unchanged", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submissions")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_submissions_dedupe_key")),
    )
    op.create_index(op.f("ix_submissions_sender"), "submissions", ["sender"])
    op.create_index(op.f("ix_submissions_sha256"), "submissions", ["sha256"])
    op.create_table(
        "submission_issues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("sheet", sa.String(length=200), nullable=True),
        sa.Column("cell", sa.String(length=20), nullable=True),
        sa.Column("row", sa.Integer(), nullable=True),
        sa.Column("column", sa.String(length=200), nullable=True),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_submission_issues_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission_issues")),
    )
    op.create_index(op.f("ix_submission_issues_code"), "submission_issues", ["code"])
    op.create_index(
        op.f("ix_submission_issues_submission_id"), "submission_issues", ["submission_id"]
    )


def _meetings() -> None:
    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("marac_id", sa.Integer(), nullable=False),
        sa.Column("meeting_date", sa.Date(), nullable=False),
        sa.Column("quarter", sa.String(length=12), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["marac_id"],
            ["maracs.id"],
            name=op.f("fk_meetings_marac_id_maracs"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
        sa.UniqueConstraint("marac_id", "meeting_date", name="uq_meetings_marac_date"),
    )
    op.create_index("ix_meetings_quarter_marac", "meetings", ["quarter", "marac_id"])
    op.create_table(
        "meeting_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("sheet", sa.String(length=200), nullable=True),
        sa.Column("sheet_row", sa.Integer(), nullable=True),
        sa.Column("recorded_at", _timestamp(), nullable=False),
        sa.Column("superseded_at", _timestamp(), nullable=True),
        sa.Column("recorded_by", sa.String(length=320), nullable=False),
        *(sa.Column(key, sa.Integer(), nullable=True) for key in COUNT_KEYS),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_versions_meeting_id_meetings"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_meeting_versions_submission_id_submissions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_versions")),
        sa.UniqueConstraint("meeting_id", "version", name="uq_meeting_versions_meeting_version"),
    )
    op.create_index(
        op.f("ix_meeting_versions_submission_id"), "meeting_versions", ["submission_id"]
    )
    # At most one current version per meeting: the guard against racing writers.
    op.create_index(
        "uq_meeting_versions_current",
        "meeting_versions",
        ["meeting_id"],
        unique=True,
        sqlite_where=sa.text("is_current"),
        postgresql_where=sa.text("is_current"),
    )


def _held_changes() -> None:
    op.create_table(
        "held_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("sheet", sa.String(length=200), nullable=True),
        sa.Column("sheet_row", sa.Integer(), nullable=True),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("expires_at", _timestamp(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("resolved_at", _timestamp(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'confirmed', 'kept', 'expired', 'superseded')",
            name=op.f("ck_held_changes_status"),
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_held_changes_meeting_id_meetings"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_held_changes_submission_id_submissions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_changes")),
    )
    op.create_index("ix_held_changes_meeting_status", "held_changes", ["meeting_id", "status"])
    op.create_index(op.f("ix_held_changes_sender"), "held_changes", ["sender"])
    op.create_index("ix_held_changes_status_expires", "held_changes", ["status", "expires_at"])
    op.create_index(op.f("ix_held_changes_submission_id"), "held_changes", ["submission_id"])


def downgrade() -> None:
    for table in (
        "held_changes",
        "meeting_versions",
        "meetings",
        "submission_issues",
        "submissions",
        "contact_maracs",
        "contacts",
        "maracs",
    ):
        op.drop_table(table)
