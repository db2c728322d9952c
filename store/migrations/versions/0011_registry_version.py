"""A version of the Marac registry, a new random token set by triggers whenever ``maracs``
changes (issue 14).

Every submission read the whole registry twice (about 290 Maracs with their aliases): once to
check its names, once to find the Maracs' ids when recording. A process now keeps what it read
and reads it again only when this version has changed: one row instead of 290, twice a message.
Triggers cover every writer (registry import, retiring, the web, a hand-made fix in SQL).

Revision ID: 0011_registry_version
Revises: 0010_marac_quarter_totals
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_registry_version"
down_revision = "0010_marac_quarter_totals"
branch_labels = None
depends_on = None

TABLE = "registry_version"
# A fresh random token, not a count: a change rolled back after a process read the registry
# inside it, then another change, must not come back to a version that process has kept.
_SQLITE_BUMP = f"UPDATE {TABLE} SET version = lower(hex(randomblob(16))) WHERE id = 1"
_PG_BUMP = (f"UPDATE {TABLE} SET version = md5(random()::text || clock_timestamp()::text) "
            "WHERE id = 1")
_SQLITE_TRIGGERS = {f"registry_version_after_{event.lower()}": event
                    for event in ("INSERT", "UPDATE", "DELETE")}
_PG_TRIGGER = "registry_version_after_change"
_PG_FUNCTION = "registry_version_bump"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.String(32), nullable=False, server_default="0"),
    )
    op.execute(f"INSERT INTO {TABLE} (id, version) VALUES (1, '0')")
    if op.get_bind().dialect.name == "sqlite":
        for name, event in _SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON maracs BEGIN {_SQLITE_BUMP}; END")
        return
    op.execute(f"CREATE FUNCTION {_PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
               f"BEGIN {_PG_BUMP}; RETURN NULL; END $$")
    # Once per statement: an import of 290 rows changes it once.
    op.execute(f"CREATE TRIGGER {_PG_TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
               f"ON maracs FOR EACH STATEMENT EXECUTE FUNCTION {_PG_FUNCTION}()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {_PG_TRIGGER} ON maracs")
        op.execute(f"DROP FUNCTION IF EXISTS {_PG_FUNCTION}()")
    op.drop_table(TABLE)
