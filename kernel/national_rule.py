"""Spec §5's rule for national figures, in one place: every national number (the report, the
answers in chat, the overview, the dashboard) is taken over the Maracs this module counts.

For a quarter whose data is due (its due date has passed):
- a Marac that sent figures for it counts with them (``SENT``);
- a Marac that missed it but sent the quarter before counts with that quarter's figures in its
  place (``FILLED``): one missed quarter does not tear a hole in the national picture;
- a Marac that missed it and the quarter before is left out (``LEFT_OUT``).
A quarter still open (started, not yet due) counts the Maracs that sent so far; the others are
``AWAITED``, neither filled nor missing. A quarter not started has no figures at all: blank,
never 0.

For a financial year, each Marac counts with the quarters it counts with in each quarter
(its own or filled ones) and is left out of the others, so the year's totals are the sum of
its quarters' totals; cases per 10,000 are annualised over the quarters a Marac counts with.

Pure: it takes who sent what and returns who counts how; the caller sums the figures.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import NamedTuple

from kernel.quarters import DEFAULT_DUE_DAYS, Quarter


class QuarterState(StrEnum):
    NOT_STARTED = "not-started"  # no figures: blank in every output
    OPEN = "open"  # started, not yet due: only what has been sent counts
    DUE = "due"  # the rule applies


class Basis(StrEnum):
    SENT = "sent"
    FILLED = "filled"  # missed; the quarter before stands in
    LEFT_OUT = "left-out"  # missed, and missed the quarter before
    AWAITED = "awaited"  # not sent yet, the quarter not yet due


def quarter_state(
    quarter: Quarter, *, today: date, due_days: int = DEFAULT_DUE_DAYS
) -> QuarterState:
    if today < quarter.start:
        return QuarterState.NOT_STARTED
    return QuarterState.DUE if today > quarter.due_date(due_days) else QuarterState.OPEN


class Contribution(NamedTuple):
    """How one Marac enters one quarter's national figures (a named tuple: a national year
    makes one per Marac and quarter, some 1,200 per question)."""

    marac_id: int
    basis: Basis
    source: Quarter | None  # the quarter whose figures stand (None: not counted)

    @property
    def counted(self) -> bool:
        return self.source is not None


@dataclass(frozen=True)
class QuarterBasis:
    quarter: Quarter
    state: QuarterState
    contributions: tuple[Contribution, ...]  # every Marac asked about, in the order given

    def with_basis(self, basis: Basis) -> tuple[int, ...]:
        return tuple(c.marac_id for c in self.contributions if c.basis is basis)

    @property
    def counted(self) -> tuple[Contribution, ...]:
        return tuple(c for c in self.contributions if c.counted)

    @property
    def sent(self) -> tuple[int, ...]:
        return self.with_basis(Basis.SENT)

    @property
    def filled(self) -> tuple[int, ...]:
        return self.with_basis(Basis.FILLED)

    @property
    def left_out(self) -> tuple[int, ...]:
        return self.with_basis(Basis.LEFT_OUT)

    @property
    def awaited(self) -> tuple[int, ...]:
        return self.with_basis(Basis.AWAITED)


@dataclass(frozen=True)
class PeriodBasis:
    """A period of one or more quarters (a quarter asked about, or a financial year)."""

    quarters: tuple[QuarterBasis, ...]
    left_out: tuple[int, ...]  # left out of at least one of its quarters

    @property
    def started(self) -> bool:
        return any(q.state is not QuarterState.NOT_STARTED for q in self.quarters)

    def counted(self) -> dict[int, tuple[Contribution, ...]]:
        """The Maracs in the period's figures, each with the quarters of figures it brings."""
        found: dict[int, list[Contribution]] = {}
        for quarter in self.quarters:
            for c in quarter.contributions:
                if c.source is not None:  # counted
                    found.setdefault(c.marac_id, []).append(c)
        return {marac: tuple(parts) for marac, parts in found.items()}

    @property
    def filled(self) -> tuple[int, ...]:
        """Maracs counted with a previous quarter's figures somewhere in the period."""
        return _unique(m for q in self.quarters for m in q.filled)


def apply_rule(
    maracs: Iterable[int],
    quarters: Sequence[Quarter],
    sent: Collection[tuple[int, Quarter]],
    *,
    today: date,
    due_days: int = DEFAULT_DUE_DAYS,
) -> PeriodBasis:
    """Who counts how in each of ``quarters``. ``sent`` holds (Marac, quarter) for every
    quarter a Marac sent figures for, the quarter before the first one included."""
    # Who sent each quarter, as plain ids: looked up twice per Marac and quarter.
    by_quarter: dict[Quarter, set[int]] = {}
    for marac, quarter in sent:
        by_quarter.setdefault(quarter, set()).add(marac)
    return apply_rule_by_quarter(maracs, quarters, by_quarter, today=today, due_days=due_days)


def apply_rule_by_quarter(
    maracs: Iterable[int],
    quarters: Sequence[Quarter],
    sent: Mapping[Quarter, Collection[int]],
    *,
    today: date,
    due_days: int = DEFAULT_DUE_DAYS,
) -> PeriodBasis:
    """``apply_rule`` with ``sent`` as the Maracs that sent each quarter: a caller that has
    them so need not build a (Marac, quarter) pair for each (a national year has 1,500)."""
    ids = tuple(maracs)
    found = tuple(_quarter(ids, q, sent, today=today, due_days=due_days) for q in quarters)
    left_out = _unique(m for q in found for m in q.left_out)
    return PeriodBasis(found, left_out)


def _quarter(
    ids: tuple[int, ...],
    quarter: Quarter,
    by_quarter: Mapping[Quarter, Collection[int]],
    *,
    today: date,
    due_days: int,
) -> QuarterBasis:
    state = quarter_state(quarter, today=today, due_days=due_days)
    if state is QuarterState.NOT_STARTED:
        return QuarterBasis(quarter, state, ())
    sent = by_quarter.get(quarter, ())
    previous = quarter.previous()
    before = () if state is QuarterState.OPEN else by_quarter.get(previous, ())
    return QuarterBasis(
        quarter, state, tuple(_one(m, quarter, previous, state, sent, before) for m in ids)
    )


def _one(
    marac: int,
    quarter: Quarter,
    previous: Quarter,
    state: QuarterState,
    sent: Collection[int],
    sent_before: Collection[int],
) -> Contribution:
    if marac in sent:
        return Contribution(marac, Basis.SENT, quarter)
    if state is QuarterState.OPEN:
        return Contribution(marac, Basis.AWAITED, None)
    if marac in sent_before:
        return Contribution(marac, Basis.FILLED, previous)
    return Contribution(marac, Basis.LEFT_OUT, None)


def _unique(ids: Iterable[int]) -> tuple[int, ...]:
    return tuple(dict.fromkeys(ids))


@dataclass(frozen=True)
class RuleNote:
    """What an answer says of the rule: how many Maracs sent, who was filled from a previous
    quarter, who was left out, how many are awaited (a quarter not yet due)."""

    sent: int
    filled: tuple[str, ...]
    left_out: tuple[str, ...]
    awaited: int = 0
    quarters: int = 1  # a year: left out only of the quarters after two missed in a row

    def to_dict(self) -> dict[str, object]:
        return {
            "sent": self.sent,
            "filled": list(self.filled),
            "left_out": list(self.left_out),
            "awaited": self.awaited,
        }
