"""The upload grid: Maracs × the quarters of a financial year, each cell accepted / held /
missing / overdue / not due, as data, plain text, CSV and a PNG image for chat channels.

The PNG is drawn with Pillow (``reports.grid_png``): no global state, safe in worker threads.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from kernel import wording

STATES = ("accepted", "held", "missing", "overdue", "not-due")
# Colours people read at a glance: green done, amber waiting, yellow missing, red overdue.
_COLOURS = {
    "accepted": "#a5d6a7",
    "held": "#ffcc80",
    "missing": "#fff59d",
    "overdue": "#ef9a9a",
    "not-due": "#eeeeee",
}


def state_colour(state: str) -> str:
    """The CSS colour of a cell in this state, as in the picture (HTML tables use it too)."""
    return _COLOURS[state]



@dataclass(frozen=True)
class GridCell:
    state: str
    meetings: int = 0
    held: int = 0  # meetings with changed figures waiting for confirmation


@dataclass(frozen=True)
class GridRow:
    marac: str
    region: str
    police_force_area: str
    cells: tuple[GridCell, ...]


@dataclass(frozen=True)
class Grid:
    year: str  # "2024/25"
    year_range: str  # "1 Apr 2024 – 31 Mar 2025"
    area: str | None  # the region / force area / nation, or None for the asker's whole scope
    as_of: date
    quarters: tuple[dict[str, Any], ...]  # label, range, due (handlers.questions.period)
    rows: tuple[GridRow, ...]

    def counts(self) -> dict[str, int]:
        """How many cells are in each state."""
        found = Counter(cell.state for row in self.rows for cell in row.cells)
        return {state: found.get(state, 0) for state in STATES}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; each row's cells as three parallel lists (states, meetings, held),
        which stays small and quick for every Marac of a year (1,200 cells)."""
        return {
            "year": self.year,
            "year_range": self.year_range,
            "area": self.area,
            "as_of": self.as_of.isoformat(),
            "quarters": list(self.quarters),
            "rows": [
                {
                    "marac": r.marac,
                    "region": r.region,
                    "police_force_area": r.police_force_area,
                    "states": [c.state for c in r.cells],
                    "meetings": [c.meetings for c in r.cells],
                    "held": [c.held for c in r.cells],
                }
                for r in self.rows
            ],
            "counts": self.counts(),
        }


def _short(label: str) -> str:
    return label.split()[0]  # "Q3 2024/25" -> "Q3"


def to_text(grid: Grid) -> str:
    """A fixed-width table with a title, each quarter's dates and due date, and a tally."""
    width = max([len(wording.GRID_MARAC_HEADING), *(len(r.marac) for r in grid.rows)])
    column = max(len(label) for label in wording.GRID_STATE_LABELS.values()) + 2
    head = wording.GRID_MARAC_HEADING.ljust(width + 2) + "".join(
        _short(q["label"]).ljust(column) for q in grid.quarters
    ).rstrip()
    lines = [wording.grid_title(grid.area, grid.year, grid.year_range, grid.as_of), "", head]
    padded = {state: label.ljust(column) for state, label in wording.GRID_STATE_LABELS.items()}
    for row in grid.rows:
        cells = "".join([padded[c.state] for c in row.cells])
        lines.append((row.marac.ljust(width + 2) + cells).rstrip())
    if not grid.rows:
        lines.append(wording.GRID_EMPTY)
    lines += ["", *(wording.grid_quarter_line(q) for q in grid.quarters)]
    lines.append(wording.grid_tally(len(grid.rows), grid.counts()))
    lines.append(wording.GRID_KEY)
    return "\n".join(lines)


def to_csv(grid: Grid) -> str:
    """One row per Marac: name, region, force area, then each quarter's state."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*wording.GRID_CSV_HEADINGS, *(q["label"] for q in grid.quarters)])
    for row in grid.rows:
        writer.writerow([row.marac, row.region, row.police_force_area,
                         *(wording.GRID_STATE_LABELS[c.state] for c in row.cells)])
    return out.getvalue()


def to_xlsx(grid: Grid) -> bytes:
    """One sheet: a row per Marac, a column per quarter, each cell coloured by its state as in
    the image; the headings and the Marac names stay in view (frozen panes)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has its first sheet
    sheet.title = wording.GRID_XLSX_SHEET
    book.properties.title = wording.grid_title(grid.area, grid.year, grid.year_range, grid.as_of)
    sheet.append([*wording.GRID_CSV_HEADINGS, *(q["label"] for q in grid.quarters)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    fills = {s: PatternFill("solid", fgColor=c.lstrip("#").upper()) for s, c in _COLOURS.items()}
    for row in grid.rows:
        sheet.append([row.marac, row.region, row.police_force_area,
                      *(wording.GRID_STATE_LABELS[c.state] for c in row.cells)])
        for cell, state in zip(sheet[sheet.max_row][3:], row.cells, strict=True):
            cell.fill = fills[state.state]
    sheet.freeze_panes = "B2"
    for letter, width in zip("ABC", (max([10, *(len(r.marac) for r in grid.rows)]) + 2, 26, 26),
                             strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.append([])
    sheet.append([wording.grid_title(grid.area, grid.year, grid.year_range, grid.as_of)])
    sheet.append([wording.GRID_KEY])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_png(grid: Grid) -> bytes:
    """The grid as an image: a coloured, labelled cell per Marac and quarter, with a key
    (drawn by ``reports.grid_png`` with Pillow: tens of milliseconds for every Marac)."""
    from reports.grid_png import to_png as draw

    return draw(grid, _COLOURS, STATES)
