"""The full issue list, hard first: as the annotated copy's Issues sheet and as CSV."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from kernel import wording
from reports.xlsx_cells import SEVERITY_RANK, fill_for, make_cell
from validation.issues import Issue, shown

# One width per wording.ANNOTATED_COLUMNS entry; the message column is wide and wraps.
_WIDTHS = (13, 26, 16, 9, 7, 34, 20, 90)
_MESSAGE_COLUMN = 8
_SPREADSHEET_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def ordered(issues: Iterable[Issue]) -> list[Issue]:
    """Hard first, then soft, then info; the validator's order within each severity."""
    return sorted(issues, key=lambda i: SEVERITY_RANK[i.severity])


def issue_fields(issue: Issue) -> tuple[Any, ...]:
    """One issue as the values of wording.ANNOTATED_COLUMNS, in that order."""
    return (
        wording.ANNOTATED_SEVERITY_LABELS[issue.severity.value],
        issue.code,
        None if issue.sheet is None else shown(issue.sheet),
        issue.cell,
        issue.row,
        issue.column,
        issue.value,
        issue.message,
    )


def add_issues_sheet(book: Workbook, issues: Sequence[Issue]) -> str:
    """Append the Issues sheet (frozen header, autofilter, wrapped messages); return its title."""
    title = unique_title(wording.ANNOTATED_SHEET_TITLE, book.sheetnames)
    sheet = book.create_sheet(title)
    # Write-only sheets need widths and panes before the first row is written.
    for index, width in enumerate(_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.append([_header_cell(sheet, text) for text in wording.ANNOTATED_COLUMNS])
    for issue in ordered(issues):
        sheet.append(_issue_cells(sheet, issue))
    last_column = get_column_letter(len(wording.ANNOTATED_COLUMNS))
    sheet.auto_filter.ref = f"A1:{last_column}{len(issues) + 1}"
    return title


def _header_cell(sheet: Any, text: str) -> Any:
    cell = make_cell(sheet, text)
    cell.font = Font(bold=True)
    return cell


def _issue_cells(sheet: Any, issue: Issue) -> list[Any]:
    cells = [make_cell(sheet, value) for value in issue_fields(issue)]
    cells[0].fill = fill_for(issue.severity)
    cells[_MESSAGE_COLUMN - 1].alignment = Alignment(wrap_text=True, vertical="top")
    return cells


def unique_title(base: str, taken: Sequence[str]) -> str:
    """A sheet title not already used (compared as Excel does, ignoring case)."""
    lowered = {name.lower() for name in taken}
    title, n = base, 1
    while title.lower() in lowered:
        n += 1
        title = f"{base} ({n})"
    return title


def issues_csv_bytes(issues: Sequence[Issue]) -> bytes:
    """UTF-8 with a BOM, so Excel shows the en dashes and pound signs of the messages."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(wording.ANNOTATED_COLUMNS)
    for issue in ordered(issues):
        writer.writerow([_csv_text(value) for value in issue_fields(issue)])
    return buffer.getvalue().encode("utf-8-sig")


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    # A submitted value such as "=HYPERLINK(...)" would run as a formula when the list is
    # opened in a spreadsheet; a leading apostrophe keeps it text. Plain numbers are left alone.
    if text.startswith(_SPREADSHEET_TRIGGERS) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    return re.fullmatch(r"[-+]?\d+(\.\d+)?", text) is not None
