"""Cells the bot writes into workbooks: safe text, UK dates, and problem-cell highlighting.

Shared by the annotated copy and its Issues sheet. Cells are built with ``WriteOnlyCell`` so the
same code serves write-only workbooks (large copies) and normal ones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, TypeAlias

from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

from kernel import wording
from validation.issues import Issue, Severity

AnySheet: TypeAlias = Worksheet | WriteOnlyWorksheet

UK_DATE = "DD/MM/YYYY"
UK_DATE_TIME = "DD/MM/YYYY HH:MM"

SEVERITY_RANK: dict[Severity, int] = {Severity.HARD: 0, Severity.SOFT: 1, Severity.INFO: 2}
# Hard red, soft amber, info light blue; each light enough that black text stays readable.
SEVERITY_COLOURS: dict[Severity, str] = {
    Severity.HARD: "FFFF7C80",
    Severity.SOFT: "FFFFC000",
    Severity.INFO: "FFBDD7EE",
}

COMMENT_WIDTH_PT = 260
_COMMENT_CHARS_PER_LINE = 45
_COMMENT_LINE_PT = 14


def plain_value(value: Any) -> Any:
    """A value openpyxl can store: whole floats as ints, text without control characters."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value) if value else None
    if value is None or isinstance(value, (int, float, bool, date)):
        return value
    if hasattr(value, "total_seconds") or hasattr(value, "hour"):  # timedelta, time
        return value
    return str(value)


def needs_cell(value: Any) -> bool:
    """True when a value cannot be appended bare: a date (needs a UK format) or "=..." text."""
    return isinstance(value, date) or (isinstance(value, str) and value.startswith("="))


def make_cell(sheet: AnySheet, value: Any) -> Cell:
    """A cell holding ``value`` as data: "=..." text stays text, never a formula."""
    value = plain_value(value)
    cell = WriteOnlyCell(sheet, value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # a submitted value must never become a live formula
    elif isinstance(value, datetime):
        cell.number_format = UK_DATE if value.time() == datetime.min.time() else UK_DATE_TIME
    elif isinstance(value, date):
        cell.number_format = UK_DATE
    return cell


def fill_for(severity: Severity) -> PatternFill:
    colour = SEVERITY_COLOURS[severity]
    return PatternFill(fill_type="solid", start_color=colour, end_color=colour)


def worst(issues: Sequence[Issue]) -> Severity:
    return min((i.severity for i in issues), key=SEVERITY_RANK.__getitem__)


def mark_cell(cell: Cell, issues: Sequence[Issue]) -> None:
    """Fill a problem cell by its worst issue and attach one comment listing every issue."""
    cell.fill = fill_for(worst(issues))
    text = comment_text(issues, cell.comment.text if cell.comment is not None else None)
    cell.comment = Comment(
        text,
        wording.ANNOTATION_AUTHOR,
        height=comment_height(text),
        width=COMMENT_WIDTH_PT,
    )


def comment_text(issues: Sequence[Issue], earlier: str | None = None) -> str:
    """A problem cell's comment: every issue, worst first, then any comment it already had.

    Shared with reports.xlsx_patch, which writes the same comments without openpyxl."""
    ordered = sorted(issues, key=lambda i: SEVERITY_RANK[i.severity])
    return wording.annotation_comment(
        [(i.severity.value, ILLEGAL_CHARACTERS_RE.sub("", i.message)) for i in ordered],
        earlier=earlier,
    )


def comment_height(text: str) -> int:
    lines = sum(max(1, math.ceil(len(p) / _COMMENT_CHARS_PER_LINE)) for p in text.split("\n"))
    return 20 + lines * _COMMENT_LINE_PT
