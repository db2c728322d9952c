"""Building the upload grid (reports/grid.py) from the store: one GROUP BY for the year."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from handlers.questions import queries
from handlers.questions.period import quarter_info, state_of, year_info
from handlers.questions.registry import MaracEntry
from kernel.answers import State
from kernel.quarters import FinancialYear
from reports.grid import Grid, GridCell, GridRow


def load_grid(
    session: Session,
    maracs: Sequence[MaracEntry],
    year: FinancialYear,
    *,
    area: str | None,
    today: date,
    due_days: int,
    every_marac: bool = False,
) -> Grid:
    """The grid of ``maracs`` (rows by name) for ``year``. ``every_marac`` says ``maracs`` is
    the whole registry, so the query needs no list of ids."""
    quarters = year.quarters
    labels = [q.label for q in quarters]
    found = queries.uploads(session, labels, None if every_marac else [m.id for m in maracs])
    # What an empty cell says depends on the quarter alone: work it out once per quarter.
    empty = [GridCell(state_of(q, None, today=today, due_days=due_days).value) for q in quarters]
    accepted, held = State.ACCEPTED.value, State.HELD.value  # Enum.value is slow per cell
    # Cells are frozen, and most are alike (accepted, six or seven meetings): one of each.
    made: dict[tuple[int, int], GridCell] = {}
    rows = []
    for marac in sorted(maracs, key=lambda m: m.name):
        cells = []
        for label, nothing in zip(labels, empty, strict=True):
            up = found.get((marac.id, label))
            if up is None:
                cells.append(nothing)
            elif (cell := made.get((up.meetings, up.held))) is None:
                cell = made[(up.meetings, up.held)] = GridCell(
                    held if up.held else accepted, up.meetings, up.held)
                cells.append(cell)
            else:
                cells.append(cell)
        rows.append(GridRow(marac.name, marac.region, marac.police_force_area, tuple(cells)))
    return Grid(
        year=year.label,
        year_range=year_info(year).range,
        area=area,
        as_of=today,
        quarters=tuple(quarter_info(q, today=today, due_days=due_days).to_dict()
                       for q in year.quarters),
        rows=tuple(rows),
    )
