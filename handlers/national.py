"""National (or area) figures under spec §5's rule (kernel/national_rule.py), summed from the
store: each Marac's figures per quarter, one missed quarter filled from the quarter before,
two in a row left out. The report, the answers in chat, the overview and the dashboard all
take their national numbers from here, so they never disagree.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy.orm import Session

from handlers.questions.figures import figures_of_totals
from handlers.questions.metrics import ALL_FIELDS
from handlers.questions.period import year_info
from handlers.questions.registry import MaracEntry
from handlers.questions.sums import (
    Totals,
    combine,
    marac_quarter_totals_of,
    marac_totals,
    quarters_sent,
)
from kernel import wording
from kernel.answers import Figures
from kernel.config import Bands
from kernel.national_rule import (
    Basis,
    PeriodBasis,
    QuarterState,
    RuleNote,
    apply_rule,
    apply_rule_by_quarter,
)
from kernel.quarters import DEFAULT_DUE_DAYS, FinancialYear, Quarter
from reports.national import NationalPicture, Period


@dataclass(frozen=True)
class NationalPeriod:
    """The figures of a period under the rule, and who counted how."""

    basis: PeriodBasis
    figures: Figures | None  # None: the period has not started (blank, never 0)
    names: dict[int, str]  # Marac id -> name, for saying who was filled or left out

    def named(self, ids: Sequence[int]) -> tuple[str, ...]:
        return tuple(sorted(self.names[i] for i in ids))

    @property
    def sent(self) -> tuple[int, ...]:
        """Maracs that sent figures for any quarter of the period."""
        return _unique_ids(m for q in self.basis.quarters for m in q.sent)

    @property
    def awaited(self) -> tuple[int, ...]:
        return _unique_ids(m for q in self.basis.quarters for m in q.awaited)

    def note(self) -> RuleNote:
        """What an answer says of the rule for this period."""
        return RuleNote(
            len(self.sent),
            self.named(self.basis.filled),
            self.named(self.basis.left_out),
            len(self.awaited),
            len(self.basis.quarters),
        )


@dataclass
class NationalData:
    """Each Marac's sums for each quarter of interest (and the one before the first), loaded
    once; ``period`` applies the rule to any run of those quarters."""

    maracs: Sequence[MaracEntry]
    sums: dict[tuple[int, Quarter], Totals]  # handlers/questions/sums.py
    bands: Bands
    fields: Sequence[str]
    today: date
    due_days: int

    @classmethod
    def load(
        cls,
        session: Session,
        maracs: Sequence[MaracEntry],
        quarters: Sequence[Quarter],
        bands: Bands,
        *,
        fields: Sequence[str],
        today: date,
        due_days: int = DEFAULT_DUE_DAYS,
        every_marac: bool = False,
        when: datetime | None = None,
    ) -> NationalData:
        """``every_marac``: ``maracs`` is the whole registry, so no list of ids is needed;
        ``when``: the figures as they stood then (``--as-of``)."""
        ids = None if every_marac else [m.id for m in maracs]
        wanted = sorted({*quarters, *(q.previous() for q in quarters)})
        by_label = {q.label: q for q in wanted}
        # Every quarter in one query, not one each: the rule needs them apart (issue 14).
        kept = marac_quarter_totals_of(session, list(by_label), ids, fields=fields, when=when)
        found = {(marac, by_label[label]): totals for (marac, label), totals in kept.items()
                 if totals[0]}  # meetings
        return cls(maracs, found, bands, fields, today, due_days)

    def period(self, quarters: Sequence[Quarter]) -> NationalPeriod:
        basis = apply_rule(
            (m.id for m in self.maracs),
            quarters,
            self.sums.keys(),
            today=self.today,
            due_days=self.due_days,
        )
        if not basis.started:
            return _period_of(basis, {}, self.maracs, self.bands, self.fields)
        per_marac = {
            marac: combine([self.sums[(marac, c.source)] for c in parts if c.source])
            for marac, parts in basis.counted().items()
        }
        return _period_of(basis, per_marac, self.maracs, self.bands, self.fields)


def national_period(
    session: Session,
    maracs: Sequence[MaracEntry],
    quarters: Sequence[Quarter],
    bands: Bands,
    *,
    fields: Sequence[str],
    today: date,
    due_days: int = DEFAULT_DUE_DAYS,
    every_marac: bool = False,
) -> NationalPeriod:
    """One period under the rule, as ``NationalData.load(…).period(quarters)`` gives it, for
    a question: the rule is applied to who sent which quarter, then each Marac's own figures
    are summed over the period by the database and only the quarters filled in are read
    apart. A national year is then ~300 rows rather than ~1,500 (issue 14)."""
    ids = None if every_marac else [m.id for m in maracs]
    by_label = {q.label: q for q in {*quarters, *(q.previous() for q in quarters)}}
    sent = {by_label[label]: found
            for label, found in quarters_sent(session, list(by_label), ids).items()}
    basis = apply_rule_by_quarter((m.id for m in maracs), quarters, sent, today=today,
                                  due_days=due_days)
    if not basis.started:
        return _period_of(basis, {}, maracs, bands, fields)
    # Every meeting of a started quarter of the period counts as SENT: summed in one go.
    started = [q.quarter.label for q in basis.quarters if q.state is not QuarterState.NOT_STARTED]
    own = marac_totals(session, started, ids, fields=fields)
    fills = {(c.marac_id, c.source.label) for q in basis.quarters for c in q.contributions
             if c.basis is Basis.FILLED and c.source is not None}
    filled = marac_quarter_totals_of(
        session, sorted({label for _, label in fills}), sorted({m for m, _ in fills}),
        fields=fields) if fills else {}
    per_marac = {}
    for marac, parts in basis.counted().items():
        found = [own[marac]] if marac in own else []
        found += [filled[key] for c in parts if c.basis is Basis.FILLED and c.source is not None
                  and (key := (marac, c.source.label)) in filled]
        # Each query sees what was committed when it ran (PostgreSQL): a withdrawal between
        # them may leave a Marac counted with nothing to add, never a missing key.
        if found:
            per_marac[marac] = combine(found)
    return _period_of(basis, per_marac, maracs, bands, fields)


def _period_of(basis: PeriodBasis, per_marac: Mapping[int, Totals],
               maracs: Sequence[MaracEntry], bands: Bands, fields: Sequence[str]
               ) -> NationalPeriod:
    found = NationalPeriod(basis, None, {m.id: m.name for m in maracs})
    if not basis.started:
        return found
    counted = figures_of_totals(per_marac, {m.id: m for m in maracs}, bands, fields=fields)
    # "Maracs that sent figures": those that did, not those counted (filled ones did not).
    return replace(found, figures=replace(counted, maracs_submitted=len(found.sent)))


def load_picture(
    session: Session,
    maracs: Sequence[MaracEntry],
    year: FinancialYear,
    bands: Bands,
    *,
    area: str | None,
    every_marac: bool = False,
    today: date | None = None,
    due_days: int = DEFAULT_DUE_DAYS,
    when: datetime | None = None,
) -> NationalPicture:
    """The national picture of ``year`` (reports/national.py): each quarter and the year under
    the rule. ``today`` decides which quarters are due (default: the computer's today)."""
    data = NationalData.load(
        session,
        maracs,
        year.quarters,
        bands,
        fields=ALL_FIELDS,
        today=today or date.today(),
        due_days=due_days,
        every_marac=every_marac,
        when=when,
    )
    quarters = tuple(_period(data.period([q]), q.label, q.range_text()) for q in year.quarters)
    year_range = year_info(year).range
    whole = _period(data.period(year.quarters), year.label, year_range)
    return NationalPicture(year.label, year_range, area, len(maracs), quarters, whole)


def _period(found: NationalPeriod, label: str, range_text: str) -> Period:
    basis = found.basis
    return Period(
        label,
        range_text,
        None if found.figures is None else found.figures.to_dict(),
        started=basis.started,
        sent=len(found.sent),
        counted=len(basis.counted()),
        filled=found.named(basis.filled),
        left_out=found.named(basis.left_out),
        awaited=len(found.awaited),
    )


def _unique_ids(ids: Iterable[int]) -> tuple[int, ...]:
    return tuple(dict.fromkeys(ids))


def overview_national(
    maracs: Sequence[MaracEntry],
    year: FinancialYear,
    sent: Collection[tuple[int, Quarter]],
    *,
    today: date,
    due_days: int = DEFAULT_DUE_DAYS,
) -> dict[int, str]:
    """For the overview: how the national figures take each Marac over ``year`` ("Q2 filled
    from Q1; left out of Q3"), blank where it counts with its own figures throughout.
    ``sent`` holds (Marac id, quarter) of every quarter sent, the one before Q1 included."""
    basis = apply_rule((m.id for m in maracs), year.quarters, sent, today=today, due_days=due_days)
    filled: dict[int, list[tuple[str, str]]] = {}
    left_out: dict[int, list[str]] = {}
    for quarter in basis.quarters:
        for c in quarter.contributions:
            if c.basis is Basis.FILLED and c.source is not None:
                filled.setdefault(c.marac_id, []).append(
                    (_short(quarter.quarter, year), _short(c.source, year))
                )
            elif c.basis is Basis.LEFT_OUT:
                left_out.setdefault(c.marac_id, []).append(_short(quarter.quarter, year))
    return {
        m.id: wording.overview_national(filled.get(m.id, []), left_out.get(m.id, []))
        for m in maracs
    }


def _short(quarter: Quarter, year: FinancialYear) -> str:
    """ "Q2" within the year asked about, the full label for the quarter before it."""
    return quarter.label.split()[0] if quarter.financial_year == year else quarter.label
