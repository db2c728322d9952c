"""The national (or regional) picture of a financial year, spec §5: Maracs that sent figures,
those filled from their previous quarter and those left out (two quarters missed in a row),
meetings, cases, children, cases per 10,000 adult women, repeat and partner-agency shares, per
quarter and for the year, beside the national reference; as a table (reports/table.py) and a
bar chart of cases per quarter that says how many Maracs each bar stands for.

The figures are handlers/national.py's, under kernel/national_rule.py: a report, the
dashboard and an answer in chat never disagree. Blank is never 0: a quarter not started, or a
figure nobody filled in, is blank in the table and has no bar in the chart.
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
    figures: dict[str, Any] | None  # handlers.questions.figures' dict; None: not started
    started: bool = True
    sent: int = 0  # Maracs that sent figures for it
    counted: int = 0  # Maracs in its figures (sent, or filled from the quarter before)
    filled: tuple[str, ...] = ()  # counted with the previous quarter's figures
    left_out: tuple[str, ...] = ()  # two quarters missed in a row
    awaited: int = 0  # not sent yet, the quarter not yet due


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
        figures = self.whole_year.figures
        return int(figures["min_cases_for_rates"]) if figures else 0


# Rows that count Maracs: known for every started period (0 is a real count there).
_MARAC_ROWS = {
    "sent": "maracs_sent",
    "filled": "maracs_filled",
    "left_out": "maracs_left_out",
    "counted": "maracs_counted",
}


def _marac_count(period: Period, key: str) -> Cell:
    if not period.started:
        return None
    value = getattr(period, key)
    return len(value) if isinstance(value, tuple) else int(value)


def _names(period: Period, key: str) -> Cell:
    names: tuple[str, ...] = getattr(period, key)
    return "; ".join(names) if period.started else None


def _value(period: Period, key: str) -> Cell:
    """One figure of a period as a table cell; blank where nothing stands behind it."""
    figures = period.figures
    if figures is None or not figures["meetings"]:
        return None
    if key == "meetings":
        return int(figures["meetings"])
    found = figures[key]
    if key in ("cases", "children"):
        known = int(figures["meetings"]) - int(found["blank_meetings"])
        return int(found["total"]) if known else None  # every meeting left it blank
    value = found["value"]
    if value is None:
        return None
    return float(value) if key == "per_10k" else Share(float(value))


def _national(period: Period, key: str) -> Cell:
    """The configured national reference of a figure, where there is one."""
    found = period.figures.get(key) if period.figures else None
    reference = found.get("national") if isinstance(found, dict) else None
    if reference is None:
        return None
    return float(reference) if key == "per_10k" else Share(float(reference))


def to_table(picture: NationalPicture, *, names_in_rows: bool = False) -> Table:
    """Figures down, the quarters, the year and the national reference across.

    The notes say which Maracs were filled or left out; ``names_in_rows`` puts the names in
    two rows as well, for a CSV file, which carries no notes.
    """
    periods = (*picture.quarters, picture.whole_year)
    rows: list[tuple[Cell, ...]] = [
        (wording.NATIONAL_MARAC_ROWS[label], *(_marac_count(p, key) for p in periods), None)
        for key, label in _MARAC_ROWS.items()
    ]
    if names_in_rows:
        rows += [
            (wording.NATIONAL_NAME_ROWS[key], *(_names(p, key) for p in periods), None)
            for key in ("filled", "left_out")
        ]
    rows += [
        (label, *(_value(p, key) for p in periods), _national(picture.whole_year, key))
        for key, label in wording.NATIONAL_ROWS.items()
    ]
    return Table(
        title=wording.national_title(picture.area, picture.year, picture.year_range),
        sheet=wording.NATIONAL_XLSX_SHEET,
        headings=(
            wording.REPORT_FIGURE_HEADING,
            *(q.label for q in picture.quarters),
            wording.REPORT_YEAR_HEADING,
            wording.REPORT_NATIONAL_HEADING,
        ),
        rows=tuple(rows),
        notes=notes(picture),
    )


def notes(picture: NationalPicture) -> tuple[str, ...]:
    """The reading notes, then the rule and who it touched, quarter by quarter and the year."""
    lines = list(wording.national_notes(picture.maracs_asked, picture.min_cases_for_rates))
    lines.append(wording.NATIONAL_RULE)
    for period in (*picture.quarters, picture.whole_year):
        # The year's line leaves out who is awaited: its quarter's line says so.
        awaited = 0 if period is picture.whole_year else period.awaited
        if period.started:
            lines.append(
                wording.national_rule_applied(period.label, period.filled, period.left_out, awaited)
            )
        else:
            lines.append(wording.national_not_started(period.label))
    return tuple(lines)


def to_png(picture: NationalPicture) -> bytes:
    """A bar chart of the cases discussed in each quarter, each bar labelled with its count and
    how many Maracs it stands for; a quarter not started, or with nothing sent, has no bar.

    matplotlib's object API on the Agg canvas, as reports/grid.py: no pyplot global state.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 3.8), dpi=_DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    found = chart_bars(picture)
    heights = [cases or 0 for _, cases in found]  # a blank quarter: no bar and no label
    bars = axes.bar([caption for caption, _ in found], heights, color=_BAR_COLOUR)
    axes.bar_label(bars, labels=["" if c is None else f"{c:,}" for _, c in found], fontsize=8)
    axes.set_title(wording.national_chart_title(picture.area, picture.year), fontsize=10)
    axes.set_ylabel(wording.NATIONAL_CHART_Y, fontsize=8)
    axes.tick_params(labelsize=7)
    axes.set_ylim(0, max([*heights, 1]) * 1.15)  # room for the labels above the bars
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=_DPI)
    return out.getvalue()


def chart_bars(picture: NationalPicture) -> list[tuple[str, int | None]]:
    """Each quarter's caption and cases discussed (None: blank, so no bar, never a 0 bar)."""
    return [
        (_tick(q, picture.maracs_asked), c if isinstance(c := _value(q, "cases"), int) else None)
        for q in picture.quarters
    ]


def _tick(period: Period, asked: int) -> str:
    """ "Q1" over how many Maracs the bar stands for: "6 of 33 sent, 2 filled"."""
    short = period.label.split()[0]
    if not period.started:
        return f"{short}\n{wording.NATIONAL_CHART_NOT_STARTED}"
    return f"{short}\n{wording.national_chart_reporting(period.sent, asked, len(period.filled))}"
