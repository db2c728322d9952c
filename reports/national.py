"""The national (or regional) picture of a financial year, spec §5: Maracs that sent figures,
meetings, cases, children, cases per 10,000 adult women, repeat and partner-agency shares, per
quarter and for the year, beside the national reference; as a table (reports/table.py) and a
small bar chart of cases per quarter.

The figures are handlers.questions.figures' dicts, so a report and an answer in chat never
disagree.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from kernel import wording
from reports.table import Cell, Share, Table

_BAR_COLOUR = "#5c8dbf"
_DPI = 100


@dataclass(frozen=True)
class Period:
    label: str  # "Q1 2024/25", or "2024/25" for the whole year
    range: str  # "1 Apr 2024 – 30 Jun 2024"
    figures: dict[str, Any]  # handlers.questions.figures.figures()


@dataclass(frozen=True)
class NationalPicture:
    year: str
    year_range: str
    area: str | None  # None: every Marac
    maracs_asked: int
    quarters: tuple[Period, ...]
    whole_year: Period

    @property
    def min_cases_for_rates(self) -> int:
        return int(self.whole_year.figures["min_cases_for_rates"])


def _value(figures: dict[str, Any], key: str) -> Cell:
    """One figure of a period as a table cell."""
    found = figures[key]
    if key in ("maracs_submitted", "meetings"):
        return int(found)
    if key in ("cases", "children"):
        return int(found["total"])
    value = found["value"]
    if value is None:
        return None
    return float(value) if key == "per_10k" else Share(float(value))


def _national(figures: dict[str, Any], key: str) -> Cell:
    """The configured national reference of a figure, where there is one."""
    found = figures[key]
    reference = found.get("national") if isinstance(found, dict) else None
    if reference is None:
        return None
    return float(reference) if key == "per_10k" else Share(float(reference))


def to_table(picture: NationalPicture) -> Table:
    """Figures down, the quarters, the year and the national reference across."""
    periods = (*picture.quarters, picture.whole_year)
    rows = tuple(
        (label, *(_value(p.figures, key) for p in periods),
         _national(picture.whole_year.figures, key))
        for key, label in wording.NATIONAL_ROWS.items()
    )
    return Table(
        title=wording.national_title(picture.area, picture.year, picture.year_range),
        sheet=wording.NATIONAL_XLSX_SHEET,
        headings=(wording.REPORT_FIGURE_HEADING, *(q.label for q in picture.quarters),
                  wording.REPORT_YEAR_HEADING, wording.REPORT_NATIONAL_HEADING),
        rows=rows,
        notes=wording.national_notes(picture.maracs_asked, picture.min_cases_for_rates),
    )


def to_png(picture: NationalPicture) -> bytes:
    """A bar chart of the cases discussed in each quarter, each bar labelled with its count.

    matplotlib's object API on the Agg canvas, as reports/grid.py: no pyplot global state.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.0, 3.6), dpi=_DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    labels = [q.label.split()[0] for q in picture.quarters]
    cases = [int(q.figures["cases"]["total"]) for q in picture.quarters]
    bars = axes.bar(labels, cases, color=_BAR_COLOUR)
    axes.bar_label(bars, labels=[f"{n:,}" for n in cases], fontsize=8)
    axes.set_title(wording.national_chart_title(picture.area, picture.year), fontsize=10)
    axes.set_ylabel(wording.NATIONAL_CHART_Y, fontsize=8)
    axes.tick_params(labelsize=8)
    axes.set_ylim(0, max([*cases, 1]) * 1.15)  # room for the labels above the bars
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=_DPI)
    return out.getvalue()
