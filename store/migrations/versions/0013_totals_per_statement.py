"""On PostgreSQL, the totals of inserted versions added once per INSERT statement, not once per
row (issue 14).

0010's row trigger ran its upsert into ``marac_quarter_totals`` for every version inserted: a
6-row return paid six plpgsql calls, a 2,000-row national return two thousand, all inside the
recording transaction. A statement trigger reads the statement's new rows (a transition table)
and adds each (quarter, Marac)'s sums in one upsert.

SQLite has no statement triggers; its row triggers run in-process and cost little there, and
are left as they are. UPDATE and DELETE stay per row on PostgreSQL too: it allows no transition
table on a trigger with a column list (``AFTER UPDATE OF …``), and they change a version or two
at a time.

Revision ID: 0013_totals_per_statement
Revises: 0012_queue_bytes_apart
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_totals_per_statement"
down_revision = "0012_queue_bytes_apart"
branch_labels = None
depends_on = None

TABLE = "marac_quarter_totals"
TRIGGER = "mqt_after_insert"
FUNCTION = "marac_quarter_totals_inserted"
ROW_FUNCTION = "marac_quarter_totals_upkeep"  # 0010's, still used by UPDATE and DELETE


def _fields() -> list[str]:
    """The figures the table totals, from its own columns (``<field>_total``, as 0010 made
    them): what the table holds at this revision, with no copy of app code to drift."""
    columns = [column["name"] for column in sa.inspect(op.get_bind()).get_columns(TABLE)]
    return [name.removesuffix("_total") for name in columns
            if name.endswith("_total") and name != "cases_total"]


def _sums() -> dict[str, str]:
    """Each total's sum over the new rows ``v`` of a group: 0010's terms, summed."""
    sums = {
        "meetings": "COUNT(*)",
        "cases_total": "SUM(COALESCE(v.cases, 0))",
        "cases_known": "COUNT(v.cases)",
    }
    for key in _fields():
        sums[f"{key}_total"] = f"SUM(COALESCE(v.{key}, 0))"
        sums[f"{key}_known"] = f"COUNT(v.{key})"
        sums[f"{key}_cases"] = (
            f"SUM(CASE WHEN v.{key} IS NULL THEN 0 ELSE COALESCE(v.cases, 0) END)")
    return sums


def _function() -> str:
    sums = _sums()
    updates = ", ".join(f"{name} = {TABLE}.{name} + excluded.{name}" for name in sums)
    return (
        f"CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        f"  INSERT INTO {TABLE} (quarter, marac_id, {', '.join(sums)})\n"
        f"  SELECT m.quarter, m.marac_id, {', '.join(sums.values())}\n"
        "  FROM new_versions v JOIN meetings m ON m.id = v.meeting_id\n"
        "  WHERE v.is_current GROUP BY m.quarter, m.marac_id\n"
        f"  ON CONFLICT (quarter, marac_id) DO UPDATE SET {updates};\n"
        "  RETURN NULL;\n"
        "END $$"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_function())
    op.execute(f"DROP TRIGGER {TRIGGER} ON meeting_versions")
    op.execute(f"CREATE TRIGGER {TRIGGER} AFTER INSERT ON meeting_versions "
               f"REFERENCING NEW TABLE AS new_versions FOR EACH STATEMENT "
               f"EXECUTE FUNCTION {FUNCTION}()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP TRIGGER {TRIGGER} ON meeting_versions")
    op.execute(f"DROP FUNCTION {FUNCTION}()")
    op.execute(f"CREATE TRIGGER {TRIGGER} AFTER INSERT ON meeting_versions "
               f"FOR EACH ROW WHEN (NEW.is_current) EXECUTE FUNCTION {ROW_FUNCTION}()")
