"""Totals of a period's current figures, per Marac, in one GROUP BY.

When the figures as they stand are asked for, the sums come from the per-Marac-quarter totals
the database keeps (store/totals.py): a national year is then some 1,500 narrow rows, not
10,000 meetings (issue 14). As they stood at an earlier time (``when``), from the versions.

Blank is not zero (spec §3): every field is summed over the meetings where it was filled in,
with the number of those meetings, and the cases of those same meetings, so a rate such as
repeats ÷ cases is taken only over meetings that reported both.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, case, distinct, func, literal, select
from sqlalchemy.orm import Session

from store.history import standing_at
from store.models import Meeting, MeetingVersion
from store.totals import FIELDS, cases_column, known_column, marac_quarter_totals, total_column

__all__ = ["FIELDS", "TOTALS", "FieldSum", "Sums", "Totals", "add_up", "combine",
           "marac_quarter_totals_of", "marac_sums", "marac_totals",
           "quarters_sent", "sums_of"]
# Fields only ever totalled, never taken as a share of cases (children are people, not cases).
TOTALS = frozenset({"children", "cases_with_children"})


# A Marac's totals as a query gives them, without the Marac id: meetings, quarters with
# meetings, cases, meetings with cases filled in, then each field's total, known (and cases).
# Plain tuples: a national year adds up hundreds of them per question (issue 14).
Totals = tuple[int, ...]


class FieldSum(NamedTuple):
    """A named tuple rather than a dataclass: a national answer makes thousands of them, and
    a frozen dataclass took several times as long to build (issue 14)."""

    total: int = 0  # over the meetings where the field was filled in
    known: int = 0  # how many meetings those were
    cases: int = 0  # cases discussed at those meetings (not taken for TOTALS)

    def __add__(self, other: object) -> FieldSum:  # adds up, never concatenates
        if not isinstance(other, FieldSum):
            return NotImplemented
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
    added: dict[str, list[int]] = {}  # plain ints while adding: hundreds of Maracs × fields
    for part in parts:
        meetings += part.meetings
        quarters = max(quarters, part.quarters)
        cases += part.cases
        for key, (total, known, over) in part.fields.items():
            if (sums := added.get(key)) is None:
                added[key] = [total, known, over]
            else:
                sums[0] += total
                sums[1] += known
                sums[2] += over
    fields = {key: FieldSum(*sums) for key, sums in added.items()}
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
    ``cases`` and ``fields`` only: every field costs two or three aggregates, so a question
    asks for the ones it needs. ``when``: the figures as they stood then (``report …
    --as-of``), not as they stand now."""
    found = marac_totals(session, quarters, marac_ids, fields=fields, when=when)
    return [_from_row((marac_id, *totals), fields) for marac_id, totals in found.items()]


def marac_totals(
    session: Session,
    quarters: Sequence[str],
    marac_ids: Collection[int] | None,
    *,
    fields: Sequence[str] = FIELDS,
    when: datetime | None = None,
) -> dict[int, Totals]:
    """``marac_sums`` as plain tuples by Marac id (see ``Totals``)."""
    if when is None:
        t = marac_quarter_totals
        query = _kept(select(t.c.marac_id, *_kept_columns(tuple(fields))), quarters, marac_ids)
        query = query.group_by(t.c.marac_id)
    else:
        query = _versions(select(Meeting.marac_id, *_columns(tuple(fields))), quarters,
                          marac_ids, when).group_by(Meeting.marac_id)
    return {row[0]: tuple(row[1:]) for row in session.execute(query)}


def quarters_sent(
    session: Session,
    quarters: Sequence[str],
    marac_ids: Collection[int] | None,
    *,
    when: datetime | None = None,
) -> dict[str, set[int]]:
    """The Maracs with current meetings in each of ``quarters``, by quarter label (a quarter
    nobody sent is left out)."""
    found: dict[str, set[int]] = {}
    if when is not None:
        query = _versions(select(Meeting.marac_id, Meeting.quarter), quarters, marac_ids,
                          when).distinct()
        for marac_id, quarter in session.execute(query):
            found.setdefault(quarter, set()).add(marac_id)
        return found
    # One row per Marac with a bit per quarter (a group's row is unique): a fifth of the
    # rows to fetch for a national year, which cost more than the query.
    labels = list(dict.fromkeys(quarters))
    t = marac_quarter_totals
    bits = case({label: 1 << i for i, label in enumerate(labels)}, value=t.c.quarter, else_=0)
    query = _kept(select(t.c.marac_id, func.sum(bits)), labels, marac_ids).group_by(t.c.marac_id)
    for marac_id, flags in session.execute(query):
        for i, label in enumerate(labels):
            if flags >> i & 1:
                found.setdefault(label, set()).add(marac_id)
    return found


def marac_quarter_totals_of(
    session: Session,
    quarters: Sequence[str],
    marac_ids: Collection[int] | None,
    *,
    fields: Sequence[str] = FIELDS,
    when: datetime | None = None,
) -> dict[tuple[int, str], Totals]:
    """Each Marac's totals for each of ``quarters`` it has meetings in, by (Marac id, quarter
    label), in one query (the national rule needs every quarter of a year apart). Kept as
    plain tuples: the rule adds up ~1,500 of them per national year, and building Sums for
    each cost more than the query (``combine`` makes one Sums per Marac)."""
    if when is None:
        t = marac_quarter_totals
        # One row per Marac-quarter already: its own figures, one quarter.
        columns = _kept_columns(tuple(fields), grouped=False)
        query = _kept(select(t.c.quarter, t.c.marac_id, *columns), quarters, marac_ids)
    else:
        query = _versions(select(Meeting.quarter, Meeting.marac_id, *_columns(tuple(fields))),
                          quarters, marac_ids, when).group_by(Meeting.quarter, Meeting.marac_id)
    return {(row[1], row[0]): tuple(row[2:]) for row in session.execute(query)}


def combine(parts: Sequence[Totals]) -> Totals:
    """One Marac's totals over several quarters' (a quarter may come twice: filled from the
    one before); its ``quarters`` is how many parts there are."""
    return parts[0] if len(parts) == 1 else tuple(map(sum, zip(*parts, strict=True)))


def sums_of(marac_id: int | None, totals: Sequence[int], fields: Sequence[str]) -> Sums:
    """The Sums of a Marac's (or several added up: None) totals of ``fields``."""
    return _from_row((marac_id, *totals), fields)


def _kept(query: Any, quarters: Sequence[str], marac_ids: Collection[int] | None) -> Any:
    t = marac_quarter_totals
    query = query.where(t.c.quarter.in_(list(quarters)), t.c.meetings > 0)
    if marac_ids is not None:
        query = query.where(t.c.marac_id.in_(sorted(marac_ids)))
    return query


def _versions(
    query: Any, quarters: Sequence[str], marac_ids: Collection[int] | None, when: datetime
) -> Any:
    query = query.join(
        MeetingVersion, and_(MeetingVersion.meeting_id == Meeting.id, standing_at(when))
    ).where(Meeting.quarter.in_(list(quarters)))
    if marac_ids is not None:
        query = query.where(Meeting.marac_id.in_(sorted(marac_ids)))
    return query


@lru_cache(maxsize=64)
def _kept_columns(fields: tuple[str, ...], grouped: bool = True) -> tuple[Any, ...]:
    """The kept totals in the order ``_from_row`` reads: summed over quarters when
    ``grouped``, else one Marac-quarter's row as it is."""
    t = marac_quarter_totals

    def add(name: str) -> Any:
        return func.sum(t.c[name]) if grouped else t.c[name]

    columns = [add("meetings"), func.count() if grouped else literal(1),
               add(total_column("cases")), add(known_column("cases"))]
    for key in fields:
        columns += [add(total_column(key)), add(known_column(key))]
        if key not in TOTALS:
            columns.append(add(cases_column(key)))
    return tuple(columns)


def _from_row(row: tuple[Any, ...], fields: Sequence[str]) -> Sums:
    marac_id, meetings, quarters, cases, cases_known = row[:5]
    found = {}
    values = iter(row[5:])
    for key in fields:
        total, known = next(values), next(values)
        over = 0 if key in TOTALS else next(values)
        found[key] = FieldSum(int(total), int(known), int(over))
    return Sums(
        marac_id, int(meetings), int(quarters), FieldSum(int(cases), int(cases_known),
                                                         int(cases)), found
    )
