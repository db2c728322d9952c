"""'status Croydon', 'Leeds this year': each quarter of a financial year for one Marac."""

from __future__ import annotations

from handlers.questions import queries
from handlers.questions.context import Ask, Place, place_of, unclear_period
from handlers.questions.model import Finding
from handlers.questions.period import default_year, quarter_info, state_of, year_info
from kernel.answers import QuarterStatus, Status
from kernel.quarters import FinancialYear, Quarter

INTENT = "status"


def answer(ask: Ask) -> Finding:
    if (unclear := unclear_period(ask, INTENT)) is not None:
        return unclear
    place = place_of(ask, INTENT, need_marac=True)
    if not isinstance(place, Place):
        return place
    return Finding(INTENT, True, _value(ask, place, _year(ask)))


def _year(ask: Ask) -> FinancialYear:
    e = ask.entities
    if e.year is not None:
        return e.year
    if e.quarter is not None:
        return e.quarter.financial_year
    return default_year(ask.today)


def _value(ask: Ask, place: Place, year: FinancialYear) -> Status:
    assert place.marac is not None
    marac = place.marac
    labels = [q.label for q in year.quarters]
    found = queries.uploads(ask.session, labels, [marac.id], with_cases=True)
    return Status(
        marac=marac.name,
        year=year_info(year),
        year_defaulted=ask.entities.year is None and ask.entities.quarter is None,
        quarters=tuple(_quarter(ask, q, found.get((marac.id, q.label))) for q in year.quarters),
    )


def _quarter(ask: Ask, quarter: Quarter, up: queries.Uploads | None) -> QuarterStatus:
    return QuarterStatus(
        quarter=quarter_info(quarter, today=ask.today, due_days=ask.due_days),
        state=state_of(quarter, up, today=ask.today, due_days=ask.due_days),
        meetings=up.meetings if up else 0,
        cases=up.cases if up else None,
        held=up.held if up else 0,
    )
