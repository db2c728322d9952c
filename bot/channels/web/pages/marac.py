"""A Marac's page: its quarters of the year, its §5 figures against the bands and the national
reference (the national report's table for this one Marac), a trend over the last eight
quarters, the chat answer "has <Marac> uploaded <quarter>" with its held changes, and every
version of each meeting of that quarter with its file, row, sender and time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from bot.channels.web.pages.grid import chased_quarter
from bot.channels.web.viewer import Viewer
from handlers.questions import answer_question, queries
from handlers.questions.figures import figures
from handlers.questions.grid_data import load_grid
from handlers.questions.metrics import ALL_FIELDS
from handlers.questions.registry import MaracEntry
from handlers.questions.report_data import load_national
from handlers.questions.sums import marac_sums
from kernel.answers import Figures
from kernel.config import Policy
from kernel.quarters import FinancialYear, Quarter
from reports import national as national_report
from reports.grid import GridRow
from reports.table import Table
from store.history import MeetingHistory, histories

TREND_QUARTERS = 8


@dataclass(frozen=True)
class TrendPoint:
    quarter: str
    cases: int | None  # None: nothing sent


@dataclass(frozen=True)
class MaracPage:
    marac: MaracEntry
    year: FinancialYear
    quarter: Quarter
    row: GridRow  # the year's quarters as the grid shows them
    quarters: tuple[dict[str, object], ...]
    figures: Table
    trend: tuple[TrendPoint, ...]
    year_figures: Figures
    answer_text: str  # the chat answer to ``question``, word for word
    question: str
    meetings: tuple[MeetingHistory, ...]


def build(session: Session, viewer: Viewer, marac: MaracEntry, *, year: FinancialYear,
          quarter: Quarter | None, today: date, settings: Policy) -> MaracPage:
    """The page of one Marac the viewer may see (the caller checked)."""
    chosen = quarter or chased_quarter(year, today)
    grid = load_grid(session, [marac], year, area=marac.name, today=today,
                     due_days=settings.due_days)
    picture = load_national(session, [marac], year, settings.bands, area=marac.name,
                            today=today, due_days=settings.due_days)
    question = f"has {marac.name} uploaded {chosen.label}"
    answer = answer_question(session, question, asker=viewer.contact(session),
                             settings=settings, today=today)
    sums = marac_sums(session, [q.label for q in year.quarters], [marac.id], fields=ALL_FIELDS)
    found = figures(sums, {marac.id: marac}, settings.bands, fields=ALL_FIELDS)
    return MaracPage(marac, year, chosen, grid.rows[0], grid.quarters,
                     national_report.to_table(picture), trend(session, marac, chosen),
                     found, answer.text, question, meetings(session, marac, chosen))


def trend(session: Session, marac: MaracEntry, last: Quarter) -> tuple[TrendPoint, ...]:
    """Cases per quarter for the eight quarters up to ``last`` (the same GROUP BY as the
    answers' totals)."""
    labels = [last.label]
    q = last
    for _ in range(TREND_QUARTERS - 1):
        q = q.previous()
        labels.insert(0, q.label)
    found = queries.uploads(session, labels, [marac.id], with_cases=True)
    return tuple(TrendPoint(label, found[(marac.id, label)].cases
                            if (marac.id, label) in found else None) for label in labels)


def meetings(session: Session, marac: MaracEntry, quarter: Quarter
             ) -> tuple[MeetingHistory, ...]:
    """Each meeting's versions, held changes and explanations (store/history.py, as
    ``marac-bot history`` shows them)."""
    return tuple(histories(session, marac.id, quarters=[quarter.label]))
