"""Facts about the store itself: when it was created, whether demo data is in use (issue 13).

Revision ID: 0006_store_facts
Revises: 0005_claim_leases
"""

from __future__ import annotations

revision = "0006_store_facts"
down_revision = "0005_claim_leases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
