"""Each Marac-quarter's totals of its current figures, kept by the database (issue 14).

Dashboard questions add up every current meeting of a period; at 10 years × 300 Maracs a
national year is some 10,000 meetings × 35 aggregates per question, 100–250 ms. This table holds
those aggregates per (quarter, Marac), so a question reads at most a few hundred narrow rows.

It is kept in step by triggers on ``meeting_versions`` and ``held_changes`` (migration 0010;
on PostgreSQL an INSERT of versions is totalled once per statement, migration 0013), in the
transaction that changes a version or a held change, whatever the path (recording a
file, confirming or keeping a held change, expiry, withdrawing, amending, a form, a bulk
insert): no writer has to remember it, and it cannot drift. A row whose meetings have all gone
stays with zeros; readers ask for ``meetings > 0``. The triggers take the group's row lock on
PostgreSQL until commit, so two files for the same Marac-quarter at once may now deadlock
where they did not; the database aborts one, and the worker tries it again (bot/worker.py).

Blank is not zero (spec §3), as in handlers/questions/sums.py: each field keeps its total over
the meetings that filled it in, how many those were, and those meetings' cases.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String, Table

from store.base import Base

# The fields questions total or take a share of (spec §5); cases is kept on its own.
FIELDS: tuple[str, ...] = (
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


def total_column(key: str) -> str:
    return f"{key}_total"


def known_column(key: str) -> str:
    """Meetings where ``key`` was filled in."""
    return f"{key}_known"


def cases_column(key: str) -> str:
    """Cases of the meetings where ``key`` was filled in: a share's denominator."""
    return f"{key}_cases"


def figure_columns() -> list[str]:
    """Every summed column, in a fixed order (the migration keeps a frozen copy)."""
    found = ["meetings", total_column("cases"), known_column("cases")]
    for key in FIELDS:
        found += [total_column(key), known_column(key), cases_column(key)]
    return found


marac_quarter_totals = Table(
    "marac_quarter_totals",
    Base.metadata,
    # Quarter first: questions ask for every Marac of a quarter or a year.
    Column("quarter", String(12), primary_key=True),
    Column("marac_id", ForeignKey("maracs.id"), primary_key=True),
    *(Column(name, Integer, nullable=False, server_default="0") for name in figure_columns()),
    # Pending held changes of the group's meetings (kept by triggers on held_changes).
    Column("held", Integer, nullable=False, server_default="0"),
    # Rows kept in key order on SQLite: a quarter's rows are read together.
    sqlite_with_rowid=False,
)
