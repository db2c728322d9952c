"""Claims as leases: each process's identity and heartbeat on queue claims (issue 17).

Revision ID: 0005_claim_leases
Revises: 0004_question_indexes
"""

from __future__ import annotations

revision = "0005_claim_leases"
down_revision = "0004_question_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
