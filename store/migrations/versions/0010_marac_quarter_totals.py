"""Each Marac-quarter's totals of its current figures and its pending held changes, kept by
triggers (issue 14).

Dashboard questions summed every current meeting of a period per question; this table holds
the sums per (quarter, Marac) (store/totals.py says what each column is). Triggers on
``meeting_versions`` keep it in step in the same transaction as any change to a version, on
SQLite and PostgreSQL alike, so every writer (recording, held changes, withdraw, amend, forms,
bulk inserts) is covered without a call of its own; triggers on ``held_changes`` keep the
count of pending ones the same way. The upgrade fills it from what is already stored.

Revision ID: 0010_marac_quarter_totals
Revises: 0009_forms
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0010_marac_quarter_totals"
down_revision = "0009_forms"
branch_labels = None
depends_on = None

TABLE = "marac_quarter_totals"
# A frozen copy of store.totals.FIELDS: the migration keeps no import of app code.
FIELDS = (
    "repeat_cases",
    "children",
    "cases_with_children",
    "ref_police",
    "minoritised",
    "lgbtq",
    "disabled",
    "male",
    "aged_16_17",
    "aged_65_plus",
    "harming_under_18",
)
_TRIGGERS = ("mqt_after_insert", "mqt_after_update", "mqt_after_delete",
             "mqt_held_after_insert", "mqt_held_after_update", "mqt_held_after_delete")
_FUNCTION = "marac_quarter_totals_upkeep"
_HELD_FUNCTION = "marac_quarter_held_upkeep"


def _terms(row: str) -> dict[str, str]:
    """Each column's contribution of one version row (``NEW``, ``OLD`` or a table alias)."""
    def known(key: str) -> str:
        return f"CASE WHEN {row}.{key} IS NULL THEN 0 ELSE 1 END"

    terms = {
        "meetings": "1",
        "cases_total": f"COALESCE({row}.cases, 0)",
        "cases_known": known("cases"),
    }
    for key in FIELDS:
        terms[f"{key}_total"] = f"COALESCE({row}.{key}, 0)"
        terms[f"{key}_known"] = known(key)
        terms[f"{key}_cases"] = (
            f"CASE WHEN {row}.{key} IS NULL THEN 0 ELSE COALESCE({row}.cases, 0) END"
        )
    return terms


def _upsert(row: str, terms: dict[str, str], sign: str, condition: str) -> str:
    """Add (sign "") or take away (sign "-") one row's ``terms`` from its meeting's group."""
    columns = ", ".join(terms)
    values = ", ".join(f"{sign}({term})" for term in terms.values())
    updates = ", ".join(f"{c} = {TABLE}.{c} + excluded.{c}" for c in terms)
    # "WHERE" before ON CONFLICT also keeps SQLite from reading it as a join's ON.
    return (
        f"INSERT INTO {TABLE} (quarter, marac_id, {columns}) "
        f"SELECT m.quarter, m.marac_id, {values} FROM meetings m "
        f"WHERE m.id = {row}.meeting_id AND {condition} "
        f"ON CONFLICT (quarter, marac_id) DO UPDATE SET {updates}"
    )


def _add(row: str, sign: str, condition: str) -> str:
    """A version row's figures, added to or taken from its group."""
    return _upsert(row, _terms(row), sign, condition)


def _held(row: str, sign: str, condition: str) -> str:
    """A pending held change, counted in or out of its group."""
    return _upsert(row, {"held": "1"}, sign, condition)


# The columns whose change can change a total: an update of only others fires nothing.
_WATCHED = ", ".join(("is_current", "meeting_id", "cases", *FIELDS))
_PENDING = "'pending'"  # store.models.HeldStatus.PENDING


def _sqlite_triggers() -> list[str]:
    old_pending, new_pending = f"OLD.status = {_PENDING}", f"NEW.status = {_PENDING}"
    return [
        f"CREATE TRIGGER mqt_after_insert AFTER INSERT ON meeting_versions "
        f"WHEN NEW.is_current BEGIN {_add('NEW', '', 'NEW.is_current')}; END",
        f"CREATE TRIGGER mqt_after_update AFTER UPDATE OF {_WATCHED} ON meeting_versions "
        f"WHEN OLD.is_current OR NEW.is_current BEGIN "
        f"{_add('OLD', '-', 'OLD.is_current')}; {_add('NEW', '', 'NEW.is_current')}; END",
        f"CREATE TRIGGER mqt_after_delete AFTER DELETE ON meeting_versions "
        f"WHEN OLD.is_current BEGIN {_add('OLD', '-', 'OLD.is_current')}; END",
        f"CREATE TRIGGER mqt_held_after_insert AFTER INSERT ON held_changes "
        f"WHEN {new_pending} BEGIN {_held('NEW', '', new_pending)}; END",
        f"CREATE TRIGGER mqt_held_after_update AFTER UPDATE OF status, meeting_id ON held_changes "
        f"WHEN {old_pending} OR {new_pending} BEGIN "
        f"{_held('OLD', '-', old_pending)}; {_held('NEW', '', new_pending)}; END",
        f"CREATE TRIGGER mqt_held_after_delete AFTER DELETE ON held_changes "
        f"WHEN {old_pending} BEGIN {_held('OLD', '-', old_pending)}; END",
    ]


def _postgresql_function(name: str, old: str, new: str, add: Callable[..., str]) -> str:
    return (
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        f"  IF TG_OP IN ('UPDATE', 'DELETE') AND {old} THEN\n"
        f"    {add('OLD', '-', 'true')};\n"
        "  END IF;\n"
        f"  IF TG_OP IN ('INSERT', 'UPDATE') AND {new} THEN\n"
        f"    {add('NEW', '', 'true')};\n"
        "  END IF;\n"
        "  RETURN NULL;\n"
        "END $$"
    )


def _postgresql_triggers() -> list[str]:
    old_pending, new_pending = f"OLD.status = {_PENDING}", f"NEW.status = {_PENDING}"
    return [
        _postgresql_function(_FUNCTION, "OLD.is_current", "NEW.is_current", _add),
        _postgresql_function(_HELD_FUNCTION, old_pending, new_pending, _held),
        f"CREATE TRIGGER mqt_after_insert AFTER INSERT ON meeting_versions "
        f"FOR EACH ROW WHEN (NEW.is_current) EXECUTE FUNCTION {_FUNCTION}()",
        f"CREATE TRIGGER mqt_after_update AFTER UPDATE OF {_WATCHED} ON meeting_versions "
        f"FOR EACH ROW EXECUTE FUNCTION {_FUNCTION}()",
        f"CREATE TRIGGER mqt_after_delete AFTER DELETE ON meeting_versions "
        f"FOR EACH ROW WHEN (OLD.is_current) EXECUTE FUNCTION {_FUNCTION}()",
        f"CREATE TRIGGER mqt_held_after_insert AFTER INSERT ON held_changes "
        f"FOR EACH ROW WHEN ({new_pending}) EXECUTE FUNCTION {_HELD_FUNCTION}()",
        f"CREATE TRIGGER mqt_held_after_update AFTER UPDATE OF status, meeting_id ON held_changes "
        f"FOR EACH ROW EXECUTE FUNCTION {_HELD_FUNCTION}()",
        f"CREATE TRIGGER mqt_held_after_delete AFTER DELETE ON held_changes "
        f"FOR EACH ROW WHEN ({old_pending}) EXECUTE FUNCTION {_HELD_FUNCTION}()",
    ]


def _fill() -> list[str]:
    """The totals of the versions and held changes already stored, in grouped passes."""
    terms = _terms("v")
    sums = ", ".join(f"SUM({term})" for term in terms.values())
    return [
        f"INSERT INTO {TABLE} (quarter, marac_id, {', '.join(terms)}) "
        f"SELECT m.quarter, m.marac_id, {sums} FROM meeting_versions v "
        "JOIN meetings m ON m.id = v.meeting_id WHERE v.is_current "
        "GROUP BY m.quarter, m.marac_id",
        f"INSERT INTO {TABLE} (quarter, marac_id, held) "
        "SELECT m.quarter, m.marac_id, COUNT(*) FROM held_changes h "
        f"JOIN meetings m ON m.id = h.meeting_id WHERE h.status = {_PENDING} "
        "GROUP BY m.quarter, m.marac_id "
        f"ON CONFLICT (quarter, marac_id) DO UPDATE SET held = excluded.held",
    ]


def upgrade() -> None:
    columns = ["meetings", "cases_total", "cases_known"]
    for key in FIELDS:
        columns += [f"{key}_total", f"{key}_known", f"{key}_cases"]
    op.create_table(
        TABLE,
        sa.Column("quarter", sa.String(length=12), nullable=False),
        sa.Column("marac_id", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False, server_default="0")
          for name in [*columns, "held"]),
        sa.ForeignKeyConstraint(
            ["marac_id"], ["maracs.id"], name="fk_marac_quarter_totals_marac_id_maracs"
        ),
        sa.PrimaryKeyConstraint("quarter", "marac_id", name="pk_marac_quarter_totals"),
        sqlite_with_rowid=False,  # rows kept in key order: a quarter's rows are read together
    )
    for statement in _fill():
        op.execute(statement)
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _sqlite_triggers() if sqlite else _postgresql_triggers():
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name in _TRIGGERS:
        table = "held_changes" if name.startswith("mqt_held") else "meeting_versions"
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + ("" if sqlite else f" ON {table}"))
    if not sqlite:
        op.execute(f"DROP FUNCTION IF EXISTS {_FUNCTION}()")
        op.execute(f"DROP FUNCTION IF EXISTS {_HELD_FUNCTION}()")
    op.drop_table(TABLE)
