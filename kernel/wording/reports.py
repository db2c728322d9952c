"""Reports: the national picture, the overview, the grid as a workbook."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kernel.wording.common import and_list, plural

if TYPE_CHECKING:
    from kernel.national_rule import RuleNote

# ---------------------------------------------------------------------------------------------
# Reports: the national picture, the overview, the grid as a workbook (marac-bot report …)
# ---------------------------------------------------------------------------------------------

REPORT_BLANK = "–"  # a figure nobody sent, or a rate with no cases to take it over
REPORT_FIGURE_HEADING = "Figure"
REPORT_YEAR_HEADING = "Year"
REPORT_NATIONAL_HEADING = "National reference"
GRID_XLSX_SHEET = "Upload grid"
NATIONAL_XLSX_SHEET = "National picture"
OVERVIEW_XLSX_SHEET = "Overview"
# The rows of the national picture, in order (keys are handlers.questions.figures' keys).
NATIONAL_ROWS: dict[str, str] = {
    "meetings": "Meetings",
    "cases": "Cases discussed",
    "children": "Children in the households",
    "per_10k": "Cases per 10,000 adult women (a year)",
    "repeat_rate": "Repeat cases",
    "partner_share": "Referred by partner agencies (not police)",
}
NATIONAL_CHART_Y = "Cases discussed"
NATIONAL_CHART_NOT_STARTED = "not started"
# The rows saying which Maracs a period's figures stand for (reports/national.py).
NATIONAL_MARAC_ROWS: dict[str, str] = {
    "maracs_sent": "Maracs that sent figures",
    "maracs_filled": "Filled from their previous quarter",
    "maracs_left_out": "Left out: two quarters missed in a row",
    "maracs_counted": "Maracs in these figures",
}
NATIONAL_NAME_ROWS: dict[str, str] = {
    "filled": "Which were filled (names)",
    "left_out": "Which were left out (names)",
}
NATIONAL_RULE = (
    "National rule: a Marac that missed a quarter counts with its previous quarter's figures; "
    "one that missed two quarters in a row is left out of that quarter. The year adds up its "
    "quarters. A quarter not yet due counts only the Maracs that have sent; one not started "
    "is blank."
)
OVERVIEW_HEADINGS = (
    "Marac",
    "Region",
    "Police force area",
    "Quarters uploaded",
    "Which quarters",
    "Meetings",
    "Cases",
    "Repeat cases",
    "Police referrals",
    "Cases per 10,000 a year",
    "Held changes open",
    "National figures",
)
REPORT_KINDS = {
    "grid": "the upload grid",
    "national": "the national picture",
    "overview": "the overview",
}


def national_title(area: str | None, year: str, year_range: str) -> str:
    return f"{'National picture' if area is None else area}, {year} ({year_range})"


def national_chart_title(area: str | None, year: str) -> str:
    return f"Cases discussed each quarter, {area or 'all Maracs'}, {year}"


def national_notes(maracs_asked: int, min_cases: int) -> tuple[str, ...]:
    """What a reader of the national picture needs to read its figures right."""
    return (
        f"Out of {plural(maracs_asked, 'Marac')} in the registry for this area.",
        "Rates are taken over the meetings that filled in both figures; a blank is not a zero.",
        "Cases per 10,000 adult women are annualised per Marac (cases × 4 ÷ the quarters it "
        "counts with), over the Maracs whose population is known.",
        f"Rates over fewer than {min_cases} cases are too few to read much into.",
    )


def overview_title(area: str | None, year: str, year_range: str) -> str:
    return f"Overview, {area or 'all Maracs'}, {year} ({year_range})"


OVERVIEW_NOTE = (
    "Rates are taken over the meetings that filled in both figures; cases per 10,000 adult "
    "women are annualised (cases × 4 ÷ the quarters sent) and blank where the population is "
    "not known."
)


def report_written(kind: str, area: str | None, year: str, out: object) -> str:
    return f"Wrote {REPORT_KINDS[kind]} ({area or 'all Maracs'}, {year}) to {out}"


def report_bad_out(out: object, suffixes: Sequence[str]) -> str:
    *rest, last = suffixes
    return (
        f"--out: {out} must end {', '.join(rest)} or {last}"
        if rest
        else (f"--out: {out} must end {last}")
    )


def report_bad_year(text: str) -> str:
    return f"--year: {text!r} is not a financial year (try 2024/25)"


def national_rule_applied(
    period: str, filled: Sequence[str], left_out: Sequence[str], awaited: int
) -> str:
    """Who the national rule touched in a quarter or a year, by name."""
    parts = [
        f"filled from their previous quarter: {and_list(list(filled))}"
        if filled
        else "no Marac filled from a previous quarter",
        f"left out (two quarters missed in a row): {and_list(list(left_out))}"
        if left_out
        else "none left out",
    ]
    if awaited:
        parts.append(f"{plural(awaited, 'Marac')} not sent yet (not yet due)")
    return f"{period}: {'; '.join(parts)}."


def national_not_started(period: str) -> str:
    return f"{period}: not started yet, so blank."


def national_chart_reporting(sent: int, asked: int, filled: int) -> str:
    """Under a bar: how many Maracs it stands for."""
    return f"{sent} of {asked} sent" + (f", {filled} filled" if filled else "")


def national_rule_line(note: RuleNote) -> str:
    """The national rule in an answer about several Maracs: who was filled, who left out."""
    if not note.filled and not note.left_out:
        return "No Marac needed filling from a previous quarter, and none was left out."
    parts = []
    if note.filled:
        parts.append(
            f"{and_list(list(note.filled))} missed a quarter, so "
            f"{'its' if len(note.filled) == 1 else 'their'} previous quarter's "
            "figures stand in"
        )
    if note.left_out:
        where = " of each quarter that made two missed in a row" if note.quarters > 1 else ""
        parts.append(
            f"{and_list(list(note.left_out))} missed two quarters in a row, so "
            f"{'is' if len(note.left_out) == 1 else 'are'} left out{where}"
        )
    return "National rule: " + "; ".join(parts) + "."


def overview_national(filled: Sequence[tuple[str, str]], left_out: Sequence[str]) -> str:
    """How the national figures take a Marac over a year: "Q2 filled from Q1; left out of Q3"
    (quarters by their short name), or blank when it counts with its own figures."""
    parts = [f"{quarter} filled from {source}" for quarter, source in filled]
    if left_out:
        parts.append(f"left out of {and_list(list(left_out))}")
    return "; ".join(parts)
