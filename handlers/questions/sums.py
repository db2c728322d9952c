"""Totals of a period's current figures, per Marac, in one GROUP BY.

Blank is not zero (spec §3): every field is summed over the meetings where it was filled in,
with the number of those meetings, and the cases of those same meetings, so a rate such as
repeats ÷ cases is taken only over meetings that reported both.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, and_, case, distinct, func, select
from sqlalchemy.orm import Session

from store.history import standing_at
from store.models import Meeting, MeetingVersion

# The fields questions total or take a share of (spec §5); cases is summed on its own.
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
# Fields only ever totalled, never taken as a share of cases (children are people, not cases).
TOTALS = frozenset({"children", "cases_with_children"})


@dataclass(frozen=True)
class FieldSum:
    total: int = 0  # over the meetings where the field was filled in
    known: int = 0  # how many meetings those were
    cases: int = 0  # cases discussed at those meetings (not taken for TOTALS)

    def __add__(self, other: FieldSum) -> FieldSum:
        return FieldSum(
            self.total + other.total, self.known + other.known, self.cases + other.cases
        )


@dataclass(frozen=True)
class Sums:
    """One Marac's totals for a period (or several Maracs' added up: ``marac_id`` None)."""

    marac_id: int | None
    meetings: int = 0
    quarters: int = 0  # quarters of the period with at least one meeting
    cases: FieldSum = field(default_factory=FieldSum)
    fields: dict[str, FieldSum] = field(default_factory=dict)

    def of(self, key: str) -> FieldSum:
        return self.cases if key == "cases" else self.fields.get(key, FieldSum())

    def blank(self, key: str) -> int:
        """Meetings where ``key`` was left blank."""
        return self.meetings - self.of(key).known


def add_up(parts: Iterable[Sums]) -> Sums:
    """Several Maracs' sums as one (``quarters`` is the most any of them sent)."""
    meetings, quarters, cases = 0, 0, FieldSum()
    fields: dict[str, FieldSum] = {}
    for part in parts:
        meetings += part.meetings
        quarters = max(quarters, part.quarters)
        cases += part.cases
        for key, value in part.fields.items():
            fields[key] = fields[key] + value if key in fields else value
    return Sums(None, meetings, quarters, cases, fields)


@lru_cache(maxsize=64)
def _columns(fields: tuple[str, ...]) -> tuple[ColumnElement[Any], ...]:
    """The aggregates for ``fields``, built once per set of fields: building some seventy
    SQL expressions took longer than SQLite took to run them (clause elements are immutable,
    so every statement may share them)."""
    v = MeetingVersion
    columns: list[ColumnElement[Any]] = [
        func.count(),
        func.count(distinct(Meeting.quarter)),
        func.coalesce(func.sum(v.cases), 0),
        func.count(v.cases),
    ]
    for key in fields:
        column = getattr(v, key)
        columns += [func.coalesce(func.sum(column), 0), func.count(column)]
        if key not in TOTALS:
            # The cases of the meetings that filled this field in: the rate's denominator.
            columns.append(func.coalesce(func.sum(case((column.is_not(None), v.cases))), 0))
    return tuple(columns)


def marac_sums(
    session: Session,
    quarters: Sequence[str],
    marac_ids: Collection[int] | None,
    *,
    fields: Sequence[str] = FIELDS,
    when: datetime | None = None,
) -> list[Sums]:
    """Each Marac's sums over the given quarters (only Maracs with meetings appear), of
    ``cases`` and ``fields`` only: every field costs two or three aggregates over every
    meeting, so a question asks for the ones it needs. ``when``: the figures as they stood
    then (``report … --as-of``), not as they stand now."""
    query = (
        select(Meeting.marac_id, *_columns(tuple(fields)))
        .join(MeetingVersion, and_(MeetingVersion.meeting_id == Meeting.id, standing_at(when)))
        .where(Meeting.quarter.in_(list(quarters)))
        .group_by(Meeting.marac_id)
    )
    if marac_ids is not None:
        query = query.where(Meeting.marac_id.in_(sorted(marac_ids)))
    return [_from_row(tuple(row), fields) for row in session.execute(query)]


def _from_row(row: tuple[Any, ...], fields: Sequence[str]) -> Sums:
    marac_id, meetings, quarters, cases, cases_known = row[:5]
    found = {}
    values = iter(row[5:])
    for key in fields:
        total, known = next(values), next(values)
        over = 0 if key in TOTALS else next(values)
        found[key] = FieldSum(int(total), int(known), int(over))
    return Sums(
        marac_id, meetings, quarters, FieldSum(int(cases), cases_known, int(cases)), found
    )
