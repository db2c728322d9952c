"""Quarters and years as answers state them: label, date range once, due date, and where a
Marac's quarter stands (accepted / held / missing / overdue / not due yet)."""

from __future__ import annotations

from datetime import date

from handlers.questions.queries import Uploads
from kernel import wording
from kernel.answers import QuarterInfo, State, YearInfo
from kernel.quarters import FinancialYear, Quarter


def default_quarter(today: date) -> Quarter:
    """The quarter a question means when it names none: the last one that has ended."""
    return Quarter.containing(today).previous()


def default_year(today: date) -> FinancialYear:
    """The financial year of the default quarter (in April, the year just ended)."""
    return default_quarter(today).financial_year


def quarter_info(quarter: Quarter, *, today: date, due_days: int) -> QuarterInfo:
    due = quarter.due_date(due_days)
    return QuarterInfo(
        label=quarter.label,
        range=quarter.range_text(),
        start=quarter.start,
        end=quarter.end,
        due=due,
        started=today >= quarter.start,
        ended=today > quarter.end,
        overdue=today > due,
    )


def year_info(year: FinancialYear) -> YearInfo:
    return YearInfo(
        label=year.label,
        range=f"{wording.day_text(year.start)} – {wording.day_text(year.end)}",
        start=year.start,
        end=year.end,
    )


def state_of(
    quarter: Quarter, uploads: Uploads | None, *, today: date, due_days: int
) -> State:
    if uploads is not None and uploads.meetings:
        return State.HELD if uploads.held else State.ACCEPTED
    if today <= quarter.end:
        return State.NOT_DUE
    return State.OVERDUE if today > quarter.due_date(due_days) else State.MISSING
