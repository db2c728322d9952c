"""'status Croydon', 'Leeds this year': each quarter of a financial year for one Marac."""

from __future__ import annotations

from typing import Any

from handlers.questions import queries
from handlers.questions.context import Ask, Place, place_of, unclear_period
from handlers.questions.model import Finding
from handlers.questions.period import default_year, quarter_data, state_of, year_data
from kernel.quarters import FinancialYear

INTENT = "status"


def answer(ask: Ask) -> Finding:
    if (unclear := unclear_period(ask, INTENT)) is not None:
        return unclear
    place = place_of(ask, INTENT, need_marac=True)
    if not isinstance(place, Place):
        return place
    return Finding(INTENT, True, _data(ask, place, _year(ask)))


def _year(ask: Ask) -> FinancialYear:
    e = ask.entities
    if e.year is not None:
        return e.year
    if e.quarter is not None:
        return e.quarter.financial_year
    return default_year(ask.today)


def _data(ask: Ask, place: Place, year: FinancialYear) -> dict[str, Any]:
    assert place.marac is not None
    marac = place.marac
    labels = [q.label for q in year.quarters]
    found = queries.uploads(ask.session, labels, [marac.id], with_cases=True)
    quarters = []
    for quarter in year.quarters:
        up = found.get((marac.id, quarter.label))
        quarters.append(
            quarter_data(quarter, today=ask.today, due_days=ask.due_days)
            | {
                "state": state_of(quarter, up, today=ask.today, due_days=ask.due_days).value,
                "meetings": up.meetings if up else 0,
                "cases": up.cases if up else None,
                "held": up.held if up else 0,
            }
        )
    return {
        "marac": marac.name,
        "year": year_data(year),
        "year_defaulted": ask.entities.year is None and ask.entities.quarter is None,
        "quarters": quarters,
        "meetings": sum(q["meetings"] for q in quarters),
        "cases": sum(q["cases"] or 0 for q in quarters),
    }
