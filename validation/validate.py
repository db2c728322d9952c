"""Validate one file in one pass: guard, read, find the layout, parse rows, run every check.

Returns a ``FileReport``; never raises for anything the file contains (STYLE.md 8).
"""

from __future__ import annotations

import gc
import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from validation.ahead import ReadAhead
from validation.checks import (
    QUARTER_CHECKS,
    ROW_CHECKS,
    STORED_ROW_CHECKS,
    TABLE_CHECKS,
    RowView,
    row_views,
)
from validation.context import ValidationContext
from validation.findings import Findings
from validation.guards import check_container
from validation.isolated import Capped, reaping_later
from validation.issues import Issue, RowMark, Severity, declared
from validation.names import resolve_names
from validation.prepare import Prepared, prepare, prepare_to_send
from validation.reader import Workbook, read_workbook_then, start_early_read
from validation.report import FileReport, ParsedRow
from validation.table import Table, to_parsed_rows
from validation.xlsx_scan import XlsxScanner

logger = logging.getLogger(__name__)

# The codes this module gives itself, about the file as a whole (every other step declares its
# own: the guard, the reader, the layout, reading the rows and each check unit).
VALIDATE_CODES = declared("no-data-rows", "registry-not-checked")


def validate_path(path: Path, context: ValidationContext) -> FileReport:
    """Validate a file on disk (the caller has checked it exists)."""
    return validate_bytes(path.read_bytes(), path.name, context)


def validate_ahead(ahead: ReadAhead, context: ValidationContext) -> FileReport:
    """Validate a file whose read was begun before validation was loaded
    (validation/ahead.py)."""
    return validate_bytes(ahead.data, ahead.path.name, context, early=ahead.early)


def validate_bytes(data: bytes, filename: str, context: ValidationContext, *,
                   early: Capped[Prepared] | None = None) -> FileReport:
    """Validate a spreadsheet's bytes; ``filename`` decides the format by its extension.
    ``early``: a read of these bytes already begun (validation/ahead.py), or None to begin
    one here."""
    with _collector_paused():  # from the start: the guard's objects are no garbage either
        return _validate_bytes(data, filename, context, early)


def begin_read(data: bytes, filename: str, max_file_bytes: int) -> Capped[Prepared] | None:
    """The read ``validate_bytes`` takes as ``early``, begun now in its capped child (None:
    not an .xlsx package, or too large to read at all). A caller with other work to do first
    (looking the sender up) begins it sooner, and gives it to ``validate_bytes``, or cancels
    it; until the guard has passed the file, its rows are not used."""
    if len(data) > max_file_bytes:
        return None
    return start_early_read(data, filename, prepare_to_send)


def _validate_bytes(data: bytes, filename: str, context: ValidationContext,
                    early: Capped[Prepared] | None) -> FileReport:
    # Read while the guard looks (reader.start_early_read): its rows are used only if the
    # guard lets the file through.
    if early is None:
        early = begin_read(data, filename, context.max_file_bytes)
    report = FileReport(file=filename, sha256=hashlib.sha256(data).hexdigest())
    scanner = XlsxScanner()
    try:
        refused = check_container(data, filename, max_bytes=context.max_file_bytes,
                                  observe=scanner.feed)
    except BaseException:
        _cancel(early)
        raise
    if refused is not None:
        _cancel(early)
        report.issues.append(refused)
        return report
    with reaping_later():
        # The reader's child also finds the layout and reads the rows into columns
        # (validation/prepare.py): the columns come back, not every cell. A forked child is
        # reaped once the rows are checked, while it tears down.
        prepared = read_workbook_then(data, filename, prepare_to_send, scanner, early)
        if isinstance(prepared, Issue):
            report.issues.append(prepared)
            return report
        _check_prepared(prepared, report, context)
    return report


def validate_workbook(book: Workbook, name: str, context: ValidationContext) -> FileReport:
    """Validate sheets already read: a meeting entered by hand arrives as a one-row sheet
    (validation/hand_entry.py) and takes every step a file's rows take from here on."""
    report = FileReport(file=name)
    _check_prepared(prepare(book), report, context)
    return report


def _cancel(early: Capped[Prepared] | None) -> None:
    if early is not None:
        early.cancel()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a file is guarded, read and checked.

    A large file makes a few hundred thousand lists and dicts, none of them in a cycle, and
    each run of the collector walks all of them again: a tenth of the time, for nothing.
    Reference counting frees everything as usual meanwhile. If another thread paused it too,
    whoever paused it first resumes it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _check_prepared(prepared: Prepared, report: FileReport, context: ValidationContext
                    ) -> None:
    layout = prepared.layout
    report.issues.extend(prepared.notes)
    if layout is None:
        return
    report.edition, report.sheet = layout.edition, layout.sheet.name
    if prepared.stopped:
        return  # duplicate-column: the file cannot be read reliably
    if prepared.table is None:
        report.issues.append(Issue.make("no-data-rows", sheet=layout.sheet.name))
        return
    if context.registry is None or context.registry.is_empty():
        report.issues.append(Issue.make("registry-not-checked"))
    report.rows = _check_rows(prepared.table, prepared.found, report, context)
    _sort_issues(report)


def _check_rows(table: Table, found: Findings, report: FileReport, context: ValidationContext
                ) -> list[ParsedRow]:
    """Every unit over every row. Units run one after another over all rows; the issues are
    put in row order at the end (``_sort_issues``), so a row's issues read as if each row
    had been checked on its own: reading, registry, the row rules, then the stored meetings.
    ``Findings`` keeps a capped number of each code; every finding still acts on its row.
    ``found`` holds what reading the rows met already (validation/prepare.py).
    The checks only yield issues: what they mean for the rows is set here."""
    parsed = to_parsed_rows(table)
    _name_rows(table, parsed, context)
    views: list[RowView] = []
    for row_check in ROW_CHECKS:
        if row_check.applies(context):
            views = views or row_views(table, parsed)
            for view in views:
                found.extend(row_check(view, context))
    for table_check in TABLE_CHECKS:
        found.extend(table_check(table, context))
    _mark_hard(found.hard_rows, parsed)
    for stored_check in STORED_ROW_CHECKS:
        if stored_check.applies(context):
            views = views or row_views(table, parsed)
            for view in views:
                if not view.parsed.hard:
                    found.extend(stored_check(view, context))
    # Held rows are known before the quarter's rules, which are about what is accepted after
    # this file (spec §4): a held row's meeting keeps its stored figures there.
    _mark_rows(found, parsed)
    for quarter_check in QUARTER_CHECKS:
        if quarter_check.applies(context):
            views = views or row_views(table, parsed)
            found.extend(quarter_check(views, context))
    report.issues.extend(found.kept)
    report.omitted = found.omitted
    return parsed


def _name_rows(table: Table, rows: list[ParsedRow], context: ValidationContext) -> None:
    """The registry's name for each row's Marac, before the checks that go by it (the registry
    check, duplicates, stored meetings, quarter bands). Without a registry rows keep none."""
    registry = context.registry
    if registry is None or registry.is_empty():
        return
    table.marac = resolve_names(table.marac_text, registry)
    for row, name in zip(rows, table.marac, strict=True):
        row.marac = name


def _mark_hard(hard: set[int], rows: list[ParsedRow]) -> None:
    """A row-level hard issue rejects its row (and only that row, or its group's rows)."""
    if hard:
        for row in rows:
            if row.sheet_row in hard:
                row.hard = True


def _mark_rows(found: Findings, rows: list[ParsedRow]) -> None:
    """Held and unchanged rows, from the findings that mark them (every one, kept or not)."""
    held, unchanged = found.marked[RowMark.HELD], found.marked[RowMark.UNCHANGED]
    if held or unchanged:
        for row in rows:
            row.held = row.sheet_row in held and not row.hard
            row.unchanged = row.sheet_row in unchanged and not row.hard


def _sort_issues(report: FileReport) -> None:
    """Issues by severity, then by place."""
    order = {Severity.HARD: 0, Severity.SOFT: 1, Severity.INFO: 2}
    report.issues.sort(key=lambda i: (order[i.severity], i.row or 0))
