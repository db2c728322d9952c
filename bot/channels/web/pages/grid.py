"""The upload grid page: Maracs × the quarters of a year (reports/grid.py's cells, states and
words), and beside it the chat answer to "who hasn't uploaded <quarter>" with coordinators and
the due date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from bot.channels.web.filters import Filters
from bot.channels.web.viewer import Viewer
from handlers.questions import answer_question
from handlers.questions.grid_data import load_grid
from handlers.questions.registry import RegistrySnapshot
from kernel.answers import Missing
from kernel.config import Policy
from kernel.quarters import FinancialYear, Quarter
from reports.grid import Grid


@dataclass(frozen=True)
class GridPage:
    grid: Grid
    missing: Missing | None  # the chat answer for the latest ended quarter of the year
    missing_question: str


def grid_of(session: Session, viewer: Viewer, filters: Filters, *, registry: RegistrySnapshot,
            today: date, settings: Policy) -> Grid:
    """The grid of what the viewer may see, as ``marac-bot report grid`` builds it."""
    maracs = viewer.visible(registry, filters.area)
    everything = viewer.scope.everything and filters.area is None
    return load_grid(session, maracs, filters.year, area=filters.area.name if filters.area
                     else None, today=today, due_days=settings.due_days, every_marac=everything)


def build(session: Session, viewer: Viewer, filters: Filters, *, registry: RegistrySnapshot,
          today: date, settings: Policy) -> GridPage:
    grid = grid_of(session, viewer, filters, registry=registry, today=today, settings=settings)
    quarter = chased_quarter(filters.year, today)
    question = missing_question(quarter, filters)
    answer = answer_question(session, question, asker=viewer.contact(session),
                             settings=settings, today=today)
    found = answer.result if isinstance(answer.result, Missing) else None
    return GridPage(grid, found, question)


def chased_quarter(year: FinancialYear, today: date) -> Quarter:
    """The year's latest quarter that has ended (its first, when none has yet)."""
    ended = [q for q in year.quarters if q.end < today]
    return ended[-1] if ended else year.quarters[0]


def missing_question(quarter: Quarter, filters: Filters) -> str:
    """The chat question whose answer the missing list is (asked in the viewer's name)."""
    place = f" in {filters.area.name}" if filters.area else ""
    return f"who hasn't uploaded {quarter.label}{place}"
