"""Reading the data rows into a ``Table`` of columns, noting blank, unreadable and normalised
cells (spec §3): the name and date here, the counts in ``validation.parse_counts``.

A column repeats a few hundred names and dates at most, so each distinct value is converted
once and the rows look theirs up.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from functools import lru_cache, partial
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np

from kernel import wording
from validation.cells import Converted, Status, to_date, to_name
from validation.issues import Issue, declared
from validation.layout import Layout
from validation.parse_cells import Distinct, formula_rows, normalised_issue, shown_value
from validation.parse_counts import read_counts
from validation.table import Table

# The codes reading a row may give (the check units declare theirs).
PARSE_CODES = declared("missing-marac", "missing-date", "invalid-date", "invalid-count",
                       "normalised-value")
_CACHED_NAME_LENGTH = 200  # longer text is no name, and not worth keeping
_NUMBER, _CELLS = itemgetter(0), itemgetter(1)  # of a (row number, cells) pair


def parse_table(layout: Layout) -> tuple[Table, list[Issue]]:
    """The data rows as columns (blank kept apart from 0) and the issues met reading them,
    field by field: the names, the dates, then each count column in template order (the
    report puts them in row order)."""
    table, issues = parse_table_lazily(layout)
    return table, list(issues)


def parse_table_lazily(layout: Layout) -> tuple[Table, Iterator[Issue]]:
    """As ``parse_table``, the issues as they are met: reading fills the table's columns as
    they are drawn, so draw every one before using the table."""
    numbered = layout.data_rows
    numbers = list(map(_NUMBER, numbered))
    width = max(layout.column_of.values()) + 1
    cells = _rectangular(list(map(_CELLS, numbered)), width=width)
    table = Table(layout, numbers, cells, marac=[None] * len(numbers))
    issues = chain(
        _read_names(table, _column(cells, layout.column_of["marac"])),
        _read_dates(table, _column(cells, layout.column_of["meeting_date"])),
        read_counts(table),
    )
    return table, issues


def _rectangular(cells: list[list[Any]], *, width: int) -> list[list[Any]]:
    """Rows of one length, at least ``width``; a short row (CSV, openpyxl) padded with None,
    which is what a missing cell reads as."""
    lengths = set(map(len, cells))
    if len(lengths) <= 1 and min(lengths, default=width) >= width:
        return cells
    wide = max(width, *lengths)
    return [row + [None] * (wide - len(row)) if len(row) < wide else row for row in cells]


def _column(cells: list[list[Any]], index: int) -> list[Any]:
    return list(map(itemgetter(index), cells))


def _not_ok(converted: dict[Any, Converted[Any]]) -> set[Any]:
    return {key for key, c in converted.items() if c.status is not Status.OK}


def _read_names(table: Table, values: list[Any]) -> Iterator[Issue]:
    distinct = Distinct(values)
    converted: dict[Any, Converted[str]] = distinct.convert(_name)
    table.marac_text = distinct.each({key: c.value for key, c in converted.items()})
    for i in distinct.rows_where(_not_ok(converted)):
        name = converted[distinct.keys[i]]
        if name.status is Status.BLANK:
            yield table.issue("missing-marac", i, "marac")
        else:
            yield normalised_issue(table, i, "marac", values[i], name.value)


def _name(value: Any) -> Converted[str]:
    """``to_name``, remembered for names of a usual length: ``run`` meets the same few hundred
    Marac names in file after file, and cleaning one is a few regular expressions."""
    if value.__class__ is str and len(value) <= _CACHED_NAME_LENGTH:
        return _cached_name(value)
    return to_name(value)


@lru_cache(maxsize=4096)
def _cached_name(text: str) -> Converted[str]:
    return to_name(text)  # Converted is frozen: one result is safely shared


def _read_dates(table: Table, values: list[Any]) -> Iterator[Issue]:
    distinct = Distinct(values)
    sheet = table.layout.sheet
    read = partial(to_date, text_native=sheet.text_native, date1904=sheet.date1904)
    converted: dict[Any, Converted[date]] = distinct.convert(read)
    table.meeting_date = distinct.each({key: c.value for key, c in converted.items()})
    ordinal = {key: c.value.toordinal() if c.value else 0 for key, c in converted.items()}
    table.day_number = distinct.array(ordinal, np.int64)
    invalid = np.zeros(len(values), bool)
    formulas = _date_formulas(table)
    for i in distinct.rows_where(_not_ok(converted)):
        day = converted[distinct.keys[i]]
        if day.status is Status.BLANK and i in formulas:  # read as blank, yet not left blank
            invalid[i] = True
            yield table.issue("invalid-date", i, "meeting_date",
                              value=wording.FORMULA_WITHOUT_VALUE)
        elif day.status is Status.BLANK:
            yield table.issue("missing-date", i, "meeting_date")
        elif day.status is Status.INVALID:
            invalid[i] = True
            yield table.issue("invalid-date", i, "meeting_date", value=shown_value(values[i]))
        elif day.value is not None:
            yield normalised_issue(table, i, "meeting_date", values[i], wording.day_text(day.value))
    if invalid.any():
        table.invalid["meeting_date"] = invalid




def _date_formulas(table: Table) -> set[int]:
    """The rows whose date cell is a formula with no stored value (as counts do)."""
    found = formula_rows(table.layout, table.numbers)
    return set(found.get(table.layout.column_of["meeting_date"], ()))
