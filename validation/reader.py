"""Spreadsheet bytes to rows of plain cell values, one sheet at a time.

python-calamine reads .xlsx, .xlsm (values only: macros never run), .xls and .ods; the csv
module reads .csv. Every failure of the file becomes a file-level ``Issue``; the guard in
``validation.guards`` has already refused hostile containers before we get here.

Every native read runs in a memory- and time-capped child (``validation.isolated``), whatever
the format: calamine trusts sizes written inside the file (an .xlsx whose shared-string table
claims 4,294,967,295 entries makes it ask for ~100 GB) and Rust aborts the process on a failed
allocation, which no ``except`` can catch. The guard cannot know every such size, so the bot
never lets calamine run in its own process. Only the csv module, pure Python and linear in
its input, reads in-process.
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, TypeVar

import python_calamine

from validation.cells import is_blank
from validation.columns import column_index
from validation.isolated import Capped, ChildFailed, ChildRaised, keep_until_sent
from validation.issues import Issue, declared
from validation.sheet_parts import Limits, large_sheets, parts_wanted, read_in_parts
from validation.xls_scan import xls_facts
from validation.xlsx_scan import (
    SheetScan,
    XlsxScanner,
    uses_1904_dates,
    without_string_counts,
)

logger = logging.getLogger(__name__)

# A run of this many blank rows ends a sheet: files that claim 1,048,576 rows stop here.
BLANK_RUN_LIMIT = 500
# More meeting rows than any Marac holds in decades; past this the file is refused.
MAX_DATA_ROWS = 100_000
# calamine allocates rows x columns up front; beyond this we stream with openpyxl instead.
DENSE_ROW_LIMIT = 200_000
# Up to this many cells a sheet becomes Python lists in one call; a taller sheet (mostly blank
# rows, or one refused for its size) is streamed so that blank rows are never all held.
DENSE_CELL_LIMIT = 4_000_000
# The codes of a file the reader cannot read (the guard has refused most such files already).
READER_CODES = declared("unreadable-file", "encrypted-file", "file-too-large")
# Only the first columns matter: the template has 32, extra notes columns are merely noted.
MAX_COLUMNS = 64

Row = tuple[int, list[Any]]  # (row number as the user sees it, cell values from column A)
_CELL_REF = re.compile(r"([A-Z]{1,3})([1-9][0-9]{0,6})")
# An .ods cell holding an error value, as LibreOffice saves it; each run bounded, so that a
# damaged content.xml costs a pass, not a rescan per tag.
_ODS_ERROR_HINT = b'calcext:value-type="error"'
_ODS_ERROR_CELL = re.compile(
    rb'(<table:table-cell\b[^>]{0,1024}?)\boffice:string-value=""([^>]{0,1024}?'
    rb'\bcalcext:value-type="error"[^>]{0,1024}+>\s*+<text:p>)([^<]{1,64})(</text:p>)')
# The document's null date (LibreOffice: Tools > Options > Calc > Calculate), written before
# its first table: one converted from an Excel for Mac workbook counts from 1904.
_ODS_FIRST_TABLE = b"<table:table "
_ODS_NULL_DATE_1904 = re.compile(
    rb'<table:null-date\b[^>]{0,1024}?\btable:date-value="1904-01-01"')
_LIMITS = Limits(columns=MAX_COLUMNS, cells=DENSE_CELL_LIMIT)
R = TypeVar("R")


@dataclass
class SheetData:
    """One sheet's non-blank rows and what the pre-scan learnt about it."""

    name: str
    rows: list[Row]
    formulas_without_value: set[str] = field(default_factory=set)
    text_native: bool = False  # CSV: every value is text, so text numbers are not news
    # The workbook's date serials count from 1904 (Excel for Mac). calamine turns a
    # date-formatted serial into a date itself; one shown as General (or in a format it does
    # not take for a date) comes as a plain number, which ``cells.to_date`` counts from here.
    date1904: bool = False


@dataclass
class Workbook:
    sheets: list[SheetData]


class TooManyRows(Exception):
    """Raised inside reading when a sheet holds more data rows than we accept."""


def start_early_read(data: bytes, filename: str,
                     then: Callable[[Workbook], Any] | None = None,
                     preload: tuple[str, ...] = ()) -> Capped[Any] | None:
    """An .xlsx read begun in its capped child before the guard has looked at the bytes, so
    that calamine parses on one core while the guard inflates and scans on the other.

    Safe because the child is the real defence (memory cap, time limit, nothing shared back
    but rows): a hostile file only kills it. ``read_workbook`` takes its rows only when the
    guard let the file through and the scan found nothing that reads differently (a wide or
    very tall sheet, formulas with no value, an absurd shared-string count); else it is
    cancelled and the file read as usual. ``then``: as for ``read_workbook_then``;
    ``preload``: the modules it imports, if this process has not (``isolated.Capped``).
    """
    if data.startswith(b"PK") and _suffix(filename) in {"xlsx", "xlsm"}:
        return Capped(_read_then, then or _as_read, _read_plain, data, preload=preload)
    return None


def read_workbook(
    data: bytes, filename: str, scanner: XlsxScanner | None = None,
    early: Capped[Workbook] | None = None,
) -> Workbook | Issue:
    """Read every sheet of a spreadsheet, or say why it cannot be read.

    ``scanner`` has seen the worksheets of an .xlsx as the guard inflated them; without one
    (a direct caller) the package is inflated here to scan it. ``early``: the read begun by
    ``start_early_read``, taken or cancelled here.
    """
    return read_workbook_then(data, filename, _as_read, scanner, early)


def read_workbook_then(
    data: bytes, filename: str, then: Callable[[Workbook], R],
    scanner: XlsxScanner | None = None, early: Capped[Any] | None = None,
) -> R | Issue:
    """As ``read_workbook``, and ``then(workbook)`` done where the cells are: in the capped
    child when the read is isolated, so that only its (smaller) result comes back. ``then``
    must be a module-level function (it is sent by name to ``run``'s reader process). Should
    it fail in the child, the workbook comes back and ``then`` runs here, so that whatever it
    raises is raised where it always was."""
    read = _read(data, filename, then, scanner, early)
    return read if isinstance(read, Issue) else _done_here(read, then)


def _read(data: bytes, filename: str, then: Callable[[Workbook], Any],
          scanner: XlsxScanner | None, early: Capped[Any] | None) -> Any:
    """The workbook, or ``then`` of it done in the child; an ``Issue`` if it cannot be read."""
    suffix = _suffix(filename)
    try:
        if suffix == "csv":
            return Workbook([_read_csv(data, filename)])
        if early is not None:
            if scanner is not None and _reads_plainly(scanner):
                with contextlib.suppress(ChildFailed):  # died early: read again the usual way
                    return _result(early)
            early.cancel()  # before the usual read, so the two never share the cores
        return _read_isolated(data, suffix, scanner, then)
    except TooManyRows:
        return Issue.make(
            "file-too-large", reason=f"more than {MAX_DATA_ROWS:,} rows", limit="that size"
        )
    except python_calamine.PasswordError:
        return Issue.make("encrypted-file")
    except (
        python_calamine.CalamineError,
        zipfile.BadZipFile,
        csv.Error,
        KeyError,
        ValueError,
        OSError,
        EOFError,
    ) as exc:
        logger.info("unreadable %s: %s", filename, exc)
        return Issue.make("unreadable-file", reason="the file is damaged or not a spreadsheet")
    except ChildFailed as exc:  # the reader died (abort, memory cap) or overran its time
        logger.warning("the reader gave up on %s: %s", filename, exc)
        return Issue.make("unreadable-file", reason="the file is damaged or not a spreadsheet")
    finally:
        if early is not None:
            early.cancel()


def _as_read(book: Workbook) -> Workbook:
    return book


def _read_then(then: Callable[[Workbook], Any], read: Callable[..., Workbook], *args: Any
               ) -> Any:
    """In the child: the read, then ``then`` of it; the workbook itself if ``then`` failed.
    The workbook is freed only after the answer is sent (``isolated.keep_until_sent``)."""
    book = read(*args)
    keep_until_sent(book)
    try:
        return then(book)
    except Exception:  # raised again in the caller's process, where it can be seen
        return book


def _done_here(result: Any, then: Callable[[Workbook], R]) -> R:
    """What the child sent back: ``then`` already done, or a workbook to do it to here."""
    if then is not _as_read and isinstance(result, Workbook):
        return then(result)
    done: R = result
    return done


def _suffix(filename: str) -> str:
    return filename.lower().rsplit(".", 1)[-1] if "." in filename else ""


def _reads_plainly(scanner: XlsxScanner) -> bool:
    """Whether the usual read of this package is a plain calamine read of every sheet."""
    return not scanner.absurd_shared_strings() and not any(
        scan.wide or scan.last_row > DENSE_ROW_LIMIT or scan.formulas_without_value
        or scan.errors for scan in scanner.parts.values())


def _read_plain(data: bytes) -> Workbook:
    """Every worksheet as calamine reads it: the usual read of an ordinary package. A large
    sheet is parsed in parts on every core this child may use (validation.sheet_parts)."""
    book = python_calamine.load_workbook(io.BytesIO(data))
    parts = parts_wanted()
    large, date1904 = _package_facts(data, parts)
    sheets = []
    for meta in book.sheets_metadata:
        if not _is_worksheet(meta):
            continue
        cut = (read_in_parts(data, meta.name, large[meta.name], parts, _LIMITS)
               if meta.name in large else None)
        rows = (_trimmed_list(cut, set()) if cut is not None
                else _calamine_trimmed(book.get_sheet_by_name(meta.name), set()))
        sheets.append(SheetData(meta.name, rows, date1904=date1904))
    return Workbook(sheets)


def _package_facts(data: bytes, parts: int) -> tuple[dict[str, str], bool]:
    """The sheets worth reading in parts, and whether dates count from 1904, from one look
    at the package. A package calamine reads but the zipfile module will not (an odd
    writer's): no parts, the 1900 system, as calamine assumes."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            return (large_sheets(package) if parts > 1 else {}), uses_1904_dates(package)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return {}, False


def _is_worksheet(meta: Any) -> bool:
    return str(meta.typ) in {"SheetTypeEnum.WorkSheet", "WorkSheet"}


def _read_isolated(data: bytes, suffix: str, scanner: XlsxScanner | None,
                   then: Callable[[Workbook], Any]) -> Any:
    """Every calamine (and openpyxl streaming) read, in a memory- and time-capped child.

    The child is forked, so ``data`` and the scanner reach it without being copied or pickled
    (or sent once to ``run``'s reader process); only ``then`` of the rows comes back. A child
    that dies or overruns is an unreadable file.
    """
    return _result(Capped(_read_then, then, _read_with_calamine, data, suffix, scanner))


def _result(child: Capped[Any]) -> Any:
    """The child's workbook, its exceptions as the reader's own."""
    try:
        return child.result()
    except ChildRaised as exc:
        if exc.type_name == "PasswordError":
            raise python_calamine.PasswordError(str(exc)) from exc
        if exc.type_name == "TooManyRows":
            raise TooManyRows from exc
        raise ValueError(str(exc)) from exc  # a pyo3 PanicException too: calamine gave up


def _read_with_calamine(data: bytes, suffix: str, scanner: XlsxScanner | None) -> Workbook:
    # The guard lets a real .xls travel under an .xlsx name; only zip packages are scanned.
    is_package = data.startswith(b"PK") and suffix in {"xlsx", "xlsm"}
    scans: dict[str, SheetScan] = {}
    date1904 = False
    if is_package:
        scanner = scanner or _scanned(data)
        scans, date1904 = _sheet_scans(data, scanner)
        if absurd := scanner.absurd_shared_strings():
            data = without_string_counts(data, absurd)  # else calamine reserves ~100 GB
    elif suffix == "ods" and data.startswith(b"PK"):
        data, date1904 = _ods_prepared(data)
    legacy = xls_facts(data)  # an .xls (under any name): its error values and date system
    date1904 = date1904 or legacy.date1904
    book = python_calamine.load_workbook(io.BytesIO(data))
    sheets = []
    for meta in book.sheets_metadata:
        if not _is_worksheet(meta):
            continue
        scan = scans.get(meta.name, SheetScan())
        errors = scan.errors or legacy.errors.get(meta.name, {})
        # A formula with no stored value, or an error value, reads as blank, yet its row is
        # not blank.
        keep = {int(re.sub(r"^[A-Z]+", "", ref))
                for ref in (*scan.formulas_without_value, *errors)}
        if scan.wide or scan.last_row > DENSE_ROW_LIMIT:
            rows = _trimmed(_stream_rows_openpyxl(data, meta.name), keep)
        else:
            rows = _calamine_trimmed(book.get_sheet_by_name(meta.name), keep)
        _put_errors(rows, errors)
        sheets.append(SheetData(meta.name, rows, scan.formulas_without_value, date1904=date1904))
    return Workbook(sheets)


def _put_errors(rows: list[Row], errors: dict[str, str]) -> None:
    """Each error value ("#N/A", "#DIV/0!") back in its cell as the text it shows: calamine
    reads one as blank, which would record a broken figure as "not collected" (spec §3), where
    as text it is what it is, a value that is not a count, a date or a name."""
    if not errors:
        return
    cells_of = dict(rows)
    for ref, text in errors.items():
        found = _CELL_REF.fullmatch(ref)
        cells = cells_of.get(int(found[2])) if found else None
        if found is None or cells is None:
            continue
        column = column_index(found[1])
        if column < len(cells) and is_blank(cells[column]):
            cells[column] = text


def _ods_prepared(data: bytes) -> tuple[bytes, bool]:
    """The .ods as calamine should read it, and whether its dates count from 1904.

    Its error values ("#N/A": LibreOffice writes an empty string value beside the error's
    text) are given their text as their value, so that calamine reads what the cell shows
    rather than blank, as ``_put_errors`` does for .xlsx; without any, the bytes are as they
    were. calamine reads a cell typed as a date as that date, but a date kept as a plain
    number counts from the document's null date (``cells.to_date``)."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        content = package.read("content.xml")
        head_end = content.find(_ODS_FIRST_TABLE)
        date1904 = _ODS_NULL_DATE_1904.search(
            content, 0, head_end if head_end >= 0 else len(content)) is not None
        if _ODS_ERROR_HINT not in content:
            return data, date1904
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as patched:
            for info in package.infolist():
                part = content if info.filename == "content.xml" else package.read(info)
                if info.filename == "content.xml":
                    part = _ODS_ERROR_CELL.sub(rb'\1office:string-value="\3"\2\3\4', part)
                patched.writestr(info, part)
    return out.getvalue(), date1904


def _scanned(data: bytes) -> XlsxScanner:
    """A scan of the package for a direct caller whose bytes the guard did not inflate."""
    scanner = XlsxScanner()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for part in archive.namelist():
            with archive.open(part) as stream:
                while chunk := stream.read(1 << 20):
                    scanner.feed(part, chunk)
    return scanner


def _sheet_scans(data: bytes, scanner: XlsxScanner) -> tuple[dict[str, SheetScan], bool]:
    """The scans by sheet name, and whether the workbook's dates count from 1904, from one
    opening of the package."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        date1904 = uses_1904_dates(archive)
        try:
            return scanner.by_sheet_name(archive), date1904
        except (KeyError, SyntaxError) as exc:  # odd but readable packages: let calamine try
            logger.info("xlsx scan skipped: %s", exc)
            return {}, date1904


def _calamine_trimmed(sheet: python_calamine.CalamineSheet, keep: set[int]) -> list[Row]:
    """The sheet's non-blank rows: all at once when the sheet is of a size to hold in memory
    (calamine makes the lists in one call, and the rows are kept as it made them), else
    streamed row by row."""
    end_row, end_column = sheet.end or (-1, -1)
    if (end_row + 1) * min(end_column + 1, MAX_COLUMNS) > DENSE_CELL_LIMIT:
        return _trimmed(_calamine_rows(sheet), keep)
    rows: list[list[Any]] = sheet.to_python(skip_empty_area=False)  # from A1, rectangular
    if rows and len(rows[0]) > MAX_COLUMNS:
        rows = list(map(itemgetter(slice(0, MAX_COLUMNS)), rows))
    return _trimmed_list(rows, keep)


def _trimmed_list(rows: list[list[Any]], keep: set[int]) -> list[Row]:
    """As ``_trimmed``, for rows already in memory, each at least one cell wide. Only the
    rows whose first cell is blank are looked at one by one; in a data sheet those are few."""
    if not rows or not rows[0]:
        return []
    blank = [i for i in _blank_first(rows) if _is_blank_row(rows[i]) and i + 1 not in keep]
    end = _end_of_data(blank, len(rows))
    if not blank:
        found = list(zip(range(1, end + 1), rows[:end], strict=True))
    else:
        skip = set(blank)
        found = [(i + 1, rows[i]) for i in range(end) if i not in skip]
    if len(found) > MAX_DATA_ROWS:
        raise TooManyRows
    return found


def _blank_first(rows: list[list[Any]]) -> list[int]:
    """The rows whose first cell is blank (None, or text of nothing but spaces)."""
    firsts = map(itemgetter(0), rows)
    return [i for i, v in enumerate(firsts) if v is None or (v.__class__ is str and not v.strip())]


def _end_of_data(blank: list[int], total: int) -> int:
    """How many rows to keep: all, or up to a run of ``BLANK_RUN_LIMIT`` blank rows that has
    a non-blank row before it (blank rows above the data never end it)."""
    run_start, previous = -1, -2
    for i in blank:
        if i != previous + 1:
            run_start = i
        previous = i
        if i - run_start + 1 >= BLANK_RUN_LIMIT and run_start > 0:
            return i + 1
    return total


def _calamine_rows(sheet: python_calamine.CalamineSheet) -> Iterator[list[Any]]:
    # iter_rows() starts at row 1 but at the sheet's first used column: pad back to column A.
    first_column = sheet.start[1] if sheet.start else 0
    if first_column == 0 and sheet.width <= MAX_COLUMNS:
        return sheet.iter_rows()  # the usual sheet: its rows as they are, no copy
    return _padded(sheet.iter_rows(), [""] * first_column)


def _padded(rows: Iterator[list[Any]], pad: list[Any]) -> Iterator[list[Any]]:
    for values in rows:
        yield (pad + list(values))[:MAX_COLUMNS]


def _stream_rows_openpyxl(data: bytes, sheet_name: str) -> Iterator[list[Any]]:
    """Bounded-memory reading for sheets whose extent would make calamine allocate gigabytes."""
    import openpyxl  # only for the rare hostile or odd file

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = book[sheet_name]
        expected = 1
        for row in sheet.iter_rows(max_col=MAX_COLUMNS):
            number = row[0].row if row and getattr(row[0], "row", None) else expected
            while expected < number:  # read-only mode skips empty rows: keep numbering right
                yield []
                expected += 1
            yield [("" if c.value is None else c.value) for c in row]
            expected += 1
    finally:
        book.close()


def _trimmed(values: Iterator[list[Any]], keep: set[int] | None = None) -> list[Row]:
    """Non-blank rows with their sheet row numbers, stopping after a long blank run."""
    rows: list[Row] = []
    blank_run = 0
    for number, cells in enumerate(values, start=1):
        if _has_first(cells) or not _is_blank_row(cells) or (keep and number in keep):
            blank_run = 0
            rows.append((number, cells))
            if len(rows) > MAX_DATA_ROWS:
                raise TooManyRows
            continue
        blank_run += 1
        if blank_run >= BLANK_RUN_LIMIT and rows:
            break
    return rows


def _has_first(cells: list[Any]) -> bool:
    """Whether the first cell holds a value: in a data row (the Marac name) it settles that
    the row is not blank without looking at the other 31 cells."""
    if not cells:
        return False
    first = cells[0]
    return first is not None and (not isinstance(first, str) or bool(first.strip()))


def _is_blank_row(cells: list[Any]) -> bool:
    return all(is_blank(c) for c in cells)


def _read_csv(data: bytes, filename: str) -> SheetData:
    text = _decode(data)
    sample = text[:4096].splitlines()[0] if text.strip() else ""
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = (row[:MAX_COLUMNS] for row in reader)
    name = filename.rsplit("/", 1)[-1].rsplit(".", 1)[0] or "csv"
    return SheetData(name, _trimmed(rows), text_native=True)


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252, the two encodings spec §3 accepts."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")
