"""The overview of a financial year: one row per Marac with the quarters it uploaded, its
meetings, cases, repeat and police shares, cases per 10,000 adult women (annualised), the
held changes still open, and how the national figures take it (kernel/national_rule.py: a
quarter filled from the one before, or left out); as a table (reports/table.py).

Blank is never 0: a Marac that sent nothing has blank meetings and cases, not "0"."""

from __future__ import annotations

from dataclasses import dataclass

from kernel import wording
from reports.table import Share, Table


@dataclass(frozen=True)
class OverviewRow:
    marac: str
    region: str
    police_force_area: str
    quarters: tuple[str, ...]  # the labels of the quarters it sent figures for
    meetings: int | None  # None: it sent nothing (blank, not 0)
    cases: int | None
    repeat_rate: float | None  # None: no cases over which to take it
    police_share: float | None
    per_10k: float | None  # None: no population known, or nothing sent
    held: int  # held changes waiting for confirmation
    national: str = ""  # how national figures take it: "Q2 filled from Q1; left out of Q3"


@dataclass(frozen=True)
class Overview:
    year: str
    year_range: str
    area: str | None
    rows: tuple[OverviewRow, ...]


def _share(value: float | None) -> Share | None:
    return None if value is None else Share(value)


def to_table(overview: Overview) -> Table:
    rows = tuple(
        (r.marac, r.region, r.police_force_area, len(r.quarters),
         " ".join(q.split()[0] for q in r.quarters), r.meetings, r.cases,
         _share(r.repeat_rate), _share(r.police_share), r.per_10k, r.held, r.national)
        for r in overview.rows
    )
    return Table(
        title=wording.overview_title(overview.area, overview.year, overview.year_range),
        sheet=wording.OVERVIEW_XLSX_SHEET,
        headings=wording.OVERVIEW_HEADINGS,
        rows=rows,
        notes=(wording.OVERVIEW_NOTE, wording.NATIONAL_RULE),
    )
