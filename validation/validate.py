"""Validate one file in one pass: guard, read, find the layout, parse rows, run every check.

Returns a ``FileReport``; never raises for anything the file contains (STYLE.md 8).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from validation.checks import FILE_CHECKS, QUARTER_CHECKS, ROW_CHECKS, STORED_ROW_CHECKS, RowView
from validation.context import ValidationContext
from validation.guards import check_container
from validation.issues import Issue, Severity
from validation.layout import Layout, find_layout
from validation.parse import parse_row
from validation.reader import Workbook, read_workbook
from validation.report import FileReport

logger = logging.getLogger(__name__)


def validate_path(path: Path, context: ValidationContext) -> FileReport:
    """Validate a file on disk (the caller has checked it exists)."""
    return validate_bytes(path.read_bytes(), path.name, context)


def validate_bytes(data: bytes, filename: str, context: ValidationContext) -> FileReport:
    """Validate a spreadsheet's bytes; ``filename`` decides the format by its extension."""
    report = FileReport(file=filename, sha256=hashlib.sha256(data).hexdigest())
    refused = check_container(data, filename, max_bytes=context.max_file_bytes)
    if refused is not None:
        report.issues.append(refused)
        return report
    book = read_workbook(data, filename)
    if isinstance(book, Issue):
        report.issues.append(book)
        return report
    _validate_workbook(book, report, context)
    return report


def _validate_workbook(book: Workbook, report: FileReport, context: ValidationContext) -> None:
    layout, notes = find_layout(book.sheets)
    report.issues.extend(notes)
    if layout is None:
        return
    report.edition, report.sheet = layout.edition, layout.sheet.name
    if any(i.is_hard for i in notes):
        return  # duplicate-column: the file cannot be read reliably
    if not layout.data_rows:
        report.issues.append(Issue.make("no-data-rows", sheet=layout.sheet.name))
        return
    if context.registry is None or context.registry.is_empty():
        report.issues.append(Issue.make("registry-not-checked"))
    rows = _check_rows(layout, report, context)
    report.rows = [r.parsed for r in rows]
    _mark_outcomes(rows, report)


def _check_rows(layout: Layout, report: FileReport, context: ValidationContext) -> list[RowView]:
    rows: list[RowView] = []
    for number, cells in layout.data_rows:
        row, issues = parse_row(layout, number, cells)
        for check in ROW_CHECKS:
            issues.extend(check(row, context))
        report.issues.extend(issues)
        row.parsed.hard = any(i.is_hard for i in issues)
        rows.append(row)
    for file_check in FILE_CHECKS:
        _add_row_issues(list(file_check(rows, context)), rows, report)
    for row in rows:
        if not row.parsed.hard:
            for check in STORED_ROW_CHECKS:
                report.issues.extend(check(row, context))
    for quarter_check in QUARTER_CHECKS:
        report.issues.extend(quarter_check(rows, context))
    return rows


def _add_row_issues(issues: list[Issue], rows: list[RowView], report: FileReport) -> None:
    by_number = {r.number: r for r in rows}
    for issue in issues:
        report.issues.append(issue)
        if issue.is_hard and issue.row in by_number:
            by_number[issue.row].parsed.hard = True


def _mark_outcomes(rows: list[RowView], report: FileReport) -> None:
    """Held and unchanged rows, from the stored-meeting findings; issues sorted by place."""
    codes_by_row: dict[int, set[str]] = {}
    for issue in report.issues:
        if issue.row is not None:
            codes_by_row.setdefault(issue.row, set()).add(issue.code)
    for row in rows:
        codes = codes_by_row.get(row.number, set())
        row.parsed.held = "changed-from-previous" in codes and not row.parsed.hard
        row.parsed.unchanged = "unchanged" in codes and not row.parsed.hard
    order = {Severity.HARD: 0, Severity.SOFT: 1, Severity.INFO: 2}
    report.issues.sort(key=lambda i: (order[i.severity], i.row or 0))
