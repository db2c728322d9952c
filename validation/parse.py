"""Reading one data row into a ``ParsedRow``, noting blank, unreadable and normalised cells."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from reports import wording
from validation.cells import Converted, Status, to_count, to_date, to_name
from validation.checks.base import RowView
from validation.columns import COUNT_KEYS
from validation.issues import Issue
from validation.layout import Layout
from validation.report import ParsedRow


def parse_row(layout: Layout, number: int, cells: list[Any]) -> tuple[RowView, list[Issue]]:
    """The row's values (blank kept as None) and the issues met while reading them."""
    row = RowView(layout, ParsedRow(number, None, None, {}), cells)
    issues = list(_read_name(row)) + list(_read_date(row)) + list(_read_counts(row))
    return row, issues


def _read_name(row: RowView) -> Iterator[Issue]:
    converted = to_name(row.raw_value("marac"))
    row.parsed.marac_text = converted.value
    if converted.status is Status.BLANK:
        yield row.issue("missing-marac", "marac")
    elif converted.status is Status.NORMALISED:
        yield _normalised(row, "marac", converted.value)


def _read_date(row: RowView) -> Iterator[Issue]:
    raw = row.raw_value("meeting_date")
    converted: Converted[date] = to_date(raw, text_native=row.layout.sheet.text_native)
    row.parsed.meeting_date = converted.value
    if converted.status is Status.BLANK:
        yield row.issue("missing-date", "meeting_date")
    elif converted.status is Status.INVALID:
        row.invalid.add("meeting_date")
        yield row.issue("invalid-date", "meeting_date", value=_shown(raw))
    elif converted.status is Status.NORMALISED and converted.value is not None:
        yield _normalised(row, "meeting_date", wording.day_text(converted.value))


def _read_counts(row: RowView) -> Iterator[Issue]:
    formulas = row.layout.sheet.formulas_without_value
    text_native = row.layout.sheet.text_native
    for key in COUNT_KEYS:
        if key not in row.layout.column_of:
            continue
        raw = row.raw_value(key)
        if row.ref(key) in formulas:
            row.invalid.add(key)
            row.parsed.counts[key] = None
            yield row.issue("invalid-count", key, value="a formula with no stored value")
            continue
        converted = to_count(raw, text_native=text_native)
        row.parsed.counts[key] = converted.value
        if converted.status is Status.INVALID:
            row.invalid.add(key)
            yield row.issue("invalid-count", key, value=_shown(raw))
        elif converted.status is Status.NORMALISED:
            yield _normalised(row, key, converted.value)


def _normalised(row: RowView, key: str, normalised: object) -> Issue:
    raw = row.raw_value(key)
    shown = raw if isinstance(raw, str) else _shown(raw)  # keep the spaces that were trimmed
    return row.issue("normalised-value", key, value=shown, normalised=normalised)


def _shown(value: Any) -> Any:
    """The offending value as the user typed it (floats that are whole shown without .0)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return value.strip()
    return value
