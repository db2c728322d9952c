"""The annotated copy of a submitted file: problem cells filled and commented, plus an Issues sheet.

Hard issues are filled red, soft amber and info light blue; a cell with several issues gets the
worst one's fill and a single comment listing them all. Issues without a cell (file-level ones,
most often) appear in the Issues sheet only.

Two ways to copy, so a large file stays quick:
- .xlsx/.xlsm up to ``STYLED_COPY_MAX_SHEET_XML`` bytes of sheet XML keep the submitter's own
  formatting (values, not formulas; macros dropped). ``reports.xlsx_patch`` patches the package
  in one pass over the XML, copying unchanged parts compressed (about 1.3 ms for a six-row
  return); packages it does not handle (comments already on a marked sheet, strict OOXML, odd
  XML...) are loaded and saved with openpyxl once the file guard has let them through;
- everything else (.xls, .ods, .csv, large or odd workbooks) is read by ``validation.reader``,
  the validator's own reader; its values are written as XML text into a plain package with
  the same sheet names (``reports.values_package``), which ``reports.xlsx_patch`` then marks.
  For 50,000 x 32 cells openpyxl's normal mode takes ~27 s to load and save, and a fresh
  write-only openpyxl workbook ~16 s of CPU (~10 µs a cell); that is kept only for a package
  the patcher declines.
If the file cannot be opened at all, the result holds only the Issues sheet.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections import defaultdict
from collections.abc import Sequence
from itertools import islice, product
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import MergedCell
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet.worksheet import Worksheet

from reports.issue_sheet import add_issues_sheet, issues_csv_bytes, unique_title
from reports.values_package import ValuesSheet, values_package
from reports.xlsx_cells import AnySheet, make_cell, mark_cell, needs_cell, plain_value
from reports.xlsx_patch import patched_copy
from validation.guards import check_container
from validation.issues import Issue
from validation.reader import SheetData, read_workbook
from validation.report import FileReport

logger = logging.getLogger(__name__)

# Uncompressed worksheet XML is ~35 bytes a cell: 8 MB is ~240,000 cells, a few seconds styled.
STYLED_COPY_MAX_SHEET_XML = 8 * 1024 * 1024
# A values copy of up to this many cells is written as XML text and marked by the patcher,
# which holds a marked sheet's XML in memory several times over (~220 MB more at 1.6 million
# cells, ~45 MB of XML); a larger one by openpyxl, row by row to a temporary file: ~10 µs a
# cell, but memory that stays flat. Returns are far below it (2,000 rows of 40 columns is
# 80,000 cells).
VALUES_PACKAGE_MAX_CELLS = 1_000_000
# A range in an issue's cell (e.g. "AB7:AF7") marks at most this many cells.
MAX_CELLS_PER_ISSUE = 64
# A finding about many rows (a duplicated meeting) highlights at most this many of them.
MAX_GROUP_MARKS = 1000
# Expansion limits of the guard re-check scale with this (the default MARAC_MAX_FILE_MB).
GUARD_MIN_BYTES = 10 * 1024 * 1024
# Files refused before parsing are never opened again to be copied.
_NOT_OPENED = frozenset({"unreadable-file", "encrypted-file", "file-too-large"})
_STYLED_SUFFIXES = (".xlsx", ".xlsm")
_EXCEL_ROWS, _EXCEL_COLUMNS = 1_048_576, 16_384
# A values copy writes every row up to the last marked one; marks far below the data (which the
# validator never reports) would mean writing a million empty rows, so they are not drawn.
MARK_ROWS_PAST_DATA = 1000

Position = tuple[int, int]  # (row, column), both 1-based
Marks = dict[str, dict[Position, list[Issue]]]  # sheet name -> cell -> its issues


def annotate_workbook(data: bytes, filename: str, report: FileReport) -> bytes:
    """The submitted file as .xlsx bytes, problem cells highlighted, with an Issues sheet."""
    if any(i.code in _NOT_OPENED for i in report.issues):
        return _save(_issues_only(report.issues))
    styled_kind = filename.lower().endswith(_STYLED_SUFFIXES)
    # The patched copy needs no guard before it: it inflates no part past its declared size
    # and declines what the guard's limits on declared sizes refuse (reports.xlsx_patch), so
    # a zip bomb costs it no more than its central directory. The guard's look, a second
    # inflation of every part, is left to the ways that load the whole file.
    if styled_kind:
        styled = patched_copy(data, report)
        if styled is not None:
            return styled
    if _refused(data, filename):
        return _save(_issues_only(report.issues))
    if styled_kind and not _is_large_package(data):
        styled = _styled_copy(data, report)
        if styled is not None:
            return styled
    return _values_copy(data, filename, report)


def issues_csv(report: FileReport) -> bytes:
    """Every issue of the report as CSV (hard first), the "full list" attachment of a reply."""
    return issues_csv_bytes(report.issues)


def _refused(data: bytes, filename: str) -> bool:
    """The guard again, in case the caller did not validate first: never inflate a zip bomb.

    The size limit is the caller's business by now; the expansion limits still apply.
    """
    limit = max(len(data), GUARD_MIN_BYTES)
    return check_container(data, filename, max_bytes=limit) is not None


def _save(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _issues_only(issues: Sequence[Issue]) -> Workbook:
    book = Workbook(write_only=True)
    add_issues_sheet(book, issues)
    return book


def _is_large_package(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            size = sum(
                info.file_size
                for info in archive.infolist()
                if info.filename.startswith("xl/worksheets/")
            )
    except (zipfile.BadZipFile, OSError):
        return False  # not a zip after all: openpyxl will fail and the reader takes over
    return size > STYLED_COPY_MAX_SHEET_XML


def _styled_copy(data: bytes, report: FileReport) -> bytes | None:
    """The workbook with its own formatting kept, or None when openpyxl cannot handle it."""
    try:
        # openpyxl warns (UserWarning) about Excel extensions it drops, e.g. slicers; the
        # warnings are left alone because catch_warnings() is not thread-safe.
        book = load_workbook(io.BytesIO(data), data_only=True, keep_vba=False)
        book.template = False  # an .xltx sent as .xlsx must come back as a workbook
        sheets = {ws.title: ws for ws in book.worksheets}
        for name, cells in collect_marks(report.issues, list(sheets), report.sheet).items():
            for (row, column), issues in cells.items():
                mark_cell(_writable_cell(sheets[name], row, column), issues)
        add_issues_sheet(book, report.issues)
        return _save(book)
    # openpyxl raises almost anything on files other applications wrote oddly (KeyError,
    # TypeError, ValueError, its own exceptions...); the values copy still serves the user.
    except Exception as exc:
        logger.info("styled copy of %s failed, writing a values copy: %r", report.file, exc)
        return None


def _writable_cell(sheet: Worksheet, row: int, column: int) -> Any:
    cell = sheet.cell(row=row, column=column)
    if not isinstance(cell, MergedCell):
        return cell
    for merged in sheet.merged_cells.ranges:  # only the top-left cell of a merge holds anything
        if cell.coordinate in merged:
            return sheet.cell(row=merged.min_row, column=merged.min_col)
    return cell


def _values_copy(data: bytes, filename: str, report: FileReport) -> bytes:
    """The file's values as read by the validator, written as a plain package and marked by
    the patcher (``reports.values_package``); written by openpyxl should the patcher decline."""
    read = read_workbook(data, filename)
    if isinstance(read, Issue):
        logger.info("cannot copy %s (%s): Issues sheet only", filename, read.code)
        return _save(_issues_only(report.issues))
    titles: list[str] = []
    for sheet in read.sheets:
        titles.append(unique_title(_valid_title(sheet.name), titles))
    marks = collect_marks(report.issues, [sheet.name for sheet in read.sheets], report.sheet)
    drawn = {title: _near_the_data(marks.get(sheet.name, {}), sheet)
             for title, sheet in zip(titles, read.sheets, strict=True)}
    cells = sum(len(values) for sheet in read.sheets for _, values in sheet.rows)
    if cells <= VALUES_PACKAGE_MAX_CELLS:
        package = values_package([ValuesSheet(title, sheet.rows, _widths(sheet.rows))
                                  for title, sheet in zip(titles, read.sheets, strict=True)])
        copy = patched_copy(package, report, marks=drawn)
        if copy is not None:
            return copy
    book = Workbook(write_only=True)
    for title, sheet in zip(titles, read.sheets, strict=True):
        _write_values_sheet(book.create_sheet(title), sheet, drawn[title])
    add_issues_sheet(book, report.issues)
    return _save(book)


def _near_the_data(marks: dict[Position, list[Issue]], sheet: SheetData
                   ) -> dict[Position, list[Issue]]:
    """The marks a values copy draws: none far below the sheet's last row of data."""
    last = max((number for number, _ in sheet.rows), default=0) + MARK_ROWS_PAST_DATA
    return {(row, column): issues for (row, column), issues in marks.items() if row <= last}


def _valid_title(name: str) -> str:
    """Excel refuses []:*?/\\ in sheet titles, more than 31 characters (.ods allows both) and
    the title "History", which it reserves."""
    title = re.sub(r"[\[\]:*?/\\]", "_", name).strip("'")[:31] or "Sheet"
    return f"{title[:30]}_" if title.lower() == "history" else title


def _write_values_sheet(
    sheet: AnySheet, data: SheetData, marks: dict[Position, list[Issue]]
) -> None:
    by_number = dict(data.rows)
    _set_widths(sheet, data.rows)
    by_row: dict[int, dict[int, list[Issue]]] = defaultdict(dict)
    for (row, column), issues in marks.items():  # none far below the data (_near_the_data)
        by_row[row][column] = issues
    last = max([*by_number, *by_row], default=0)
    for number in range(1, last + 1):  # write-only sheets are written row after row
        sheet.append(_row_cells(sheet, by_number.get(number, []), by_row.get(number, {})))


def _row_cells(sheet: AnySheet, values: list[Any], marks: dict[int, list[Issue]]) -> list[Any]:
    cells = [make_cell(sheet, v) if needs_cell(v) else plain_value(v) for v in values]
    for column, issues in marks.items():
        cells.extend([None] * (column - len(cells)))
        cell = make_cell(sheet, values[column - 1] if column <= len(values) else None)
        mark_cell(cell, issues)
        cells[column - 1] = cell
    return cells


def _set_widths(sheet: AnySheet, rows: list[tuple[int, list[Any]]]) -> None:
    for index, width in _widths(rows).items():
        sheet.column_dimensions[get_column_letter(index)].width = width


def _widths(rows: list[tuple[int, list[Any]]]) -> dict[int, float]:
    """Widths from the first rows' contents, between 8 and 40 characters, by column (1-based)."""
    widest: dict[int, int] = defaultdict(int)
    for _, values in rows[:200]:
        for index, value in enumerate(values, start=1):
            widest[index] = max(widest[index], len(str(value)) if value is not None else 0)
    return {index: min(40, max(8, width + 2)) for index, width in widest.items()}


def collect_marks(
    issues: Sequence[Issue], sheet_names: Sequence[str], default: str | None
) -> Marks:
    """Which cells of which sheet each issue marks; issues with no usable cell mark none."""
    marks: Marks = defaultdict(lambda: defaultdict(list))
    for issue in issues:
        name = _target_sheet(issue.sheet, sheet_names, default)
        if not issue.cell or name is None:
            continue
        for position in [*cell_positions(issue.cell), *_group_positions(issue)]:
            marks[name][position].append(issue)
    return marks


def _group_positions(issue: Issue) -> list[Position]:
    """The same column in the further rows a finding covers (a duplicate's other rows),
    at most ``MAX_GROUP_MARKS`` of them."""
    if not issue.also_rows or issue.cell is None:
        return []
    first = cell_positions(issue.cell)
    if not first:
        return []
    column = first[0][1]
    return [(row, column) for row in issue.also_rows[:MAX_GROUP_MARKS] if row <= _EXCEL_ROWS]


def _target_sheet(sheet: str | None, names: Sequence[str], default: str | None) -> str | None:
    """The sheet an issue names; for an issue naming none, the report's data sheet or the only
    sheet there is. A sheet that is not in the workbook gets no marks."""
    wanted = sheet if sheet is not None else default
    if wanted is not None:
        matches = [n for n in names if n == wanted] or [
            n for n in names if n.lower() == wanted.lower()
        ]
        if matches or sheet is not None:
            return matches[0] if matches else None
    return names[0] if len(names) == 1 else None


def cell_positions(ref: str) -> list[Position]:
    """(row, column) pairs of "D7", "$D$7", "AB7:AF7" or "C7, D7"; nonsense gives none.

    At most ``MAX_CELLS_PER_ISSUE`` cells, all inside Excel's grid.
    """
    positions: list[Position] = []
    for part in re.split(r"[,;\s]+", ref.replace("$", "").strip()):
        bounds = _bounds(part)
        if bounds is None:
            continue
        min_col, min_row, max_col, max_row = bounds
        cells = product(range(min_row, max_row + 1), range(min_col, max_col + 1))
        positions.extend(islice(cells, MAX_CELLS_PER_ISSUE - len(positions)))
    return positions


def _bounds(part: str) -> tuple[int, int, int, int] | None:
    try:
        min_col, min_row, max_col, max_row = range_boundaries(part)
    except (ValueError, TypeError):
        return None
    if not (min_col and min_row and max_col and max_row):
        return None  # whole rows or columns ("D:D") are not cells
    if max_row > _EXCEL_ROWS or max_col > _EXCEL_COLUMNS:
        return None
    return min_col, min_row, max_col, max_row
