"""The data rows of the sheet as columns, which is what the check units look at.

Validation spends its time on rows that are fine, so every rule is a few numpy operations over
whole columns, and Python work is done only for the rows that break a rule. Counts are float64
with NaN for a blank or unreadable cell (a NaN never compares true, so a blank never exceeds
anything); ``invalid`` keeps unreadable cells apart from blank ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import repeat
from typing import Any

import numpy as np
import numpy.typing as npt

from validation.columns import FIELD_BY_KEY, column_letter
from validation.issues import Issue
from validation.layout import Layout
from validation.report import LaterCounts, ParsedRow

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]

_EXACT = 2.0**53  # float64 holds every whole number below this


@dataclass
class Table:
    """One value per data row in each column; index ``i`` is the row numbered ``numbers[i]``."""

    layout: Layout
    numbers: list[int]  # the row numbers as the user sees them in the sheet
    raw: list[list[Any]]  # the cells as read; [] once read (validation/prepare.py)
    marac_text: list[str | None] = field(default_factory=list)
    meeting_date: list[date | None] = field(default_factory=list)
    day_number: Ints = field(default_factory=lambda: np.zeros(0, np.int64))  # 0: no date
    counts: dict[str, Floats] = field(default_factory=dict)  # NaN: blank or invalid
    block: Floats | None = None  # the counts side by side, in layout.count_columns order
    invalid: dict[str, Bools] = field(default_factory=dict)  # only fields with an invalid cell
    marac: list[str | None] = field(default_factory=list)  # registry names, once resolved

    def __post_init__(self) -> None:
        self._letters = {key: column_letter(index + 1)
                         for key, index in self.layout.column_of.items()}

    def __len__(self) -> int:
        return len(self.numbers)

    def count(self, key: str) -> Floats:
        """The column of a count field (all NaN when the sheet lacks it)."""
        column = self.counts.get(key)
        return column if column is not None else np.full(len(self), np.nan)

    def is_invalid(self, key: str) -> Bools:
        column = self.invalid.get(key)
        return column if column is not None else np.zeros(len(self), bool)

    def columns(self, keys: Sequence[str]) -> Floats:
        """The columns of ``keys`` side by side: a view of the block when they sit next to
        each other in it (the template's G–T, AB–AF), else a copy."""
        if self.block is not None and keys:
            order = [key for key, _ in self.layout.count_columns]
            if keys[0] in order:
                start = order.index(keys[0])
                if order[start:start + len(keys)] == list(keys):
                    return self.block[:, start:start + len(keys)]
        return np.column_stack([self.count(k) for k in keys])

    def total(self, keys: Sequence[str]) -> npt.NDArray[Any]:
        """Row sums of the filled cells of ``keys`` (blank counts nothing)."""
        block = self.columns(keys)
        total = np.nansum(block, axis=1)
        if not total.size or total.max() < _EXACT:  # counts are >= 0: every partial sum exact
            return total
        # Absurd figures (a phone number in a count) still add up exactly, as Python ints,
        # and compare exactly with the float cells.
        exact = [sum(int(v) for v in row if v == v) for row in block.tolist()]
        return np.array(exact, dtype=object)

    def all_filled(self, keys: Sequence[str]) -> Bools:
        blank = np.isnan(self.columns(keys))
        return np.asarray(~blank.any(axis=1), dtype=bool)

    def ref(self, key: str, index: int) -> str:
        """The cell of a field in a row, e.g. "D7" (the file's own column)."""
        return f"{self._letters[key]}{self.numbers[index]}"

    def header(self, key: str) -> str:
        return self.layout.header_of.get(key) or FIELD_BY_KEY[key].uk_header

    def issue(self, code: str, index: int, key: str | None = None, *, value: Any = None,
              **params: Any) -> Issue:
        """An issue located at a row, and at the field's cell when a key is given."""
        return Issue.make(
            code,
            sheet=self.layout.sheet.name,
            cell=self.ref(key, index) if key else None,
            row=self.numbers[index],
            column=self.header(key) if key else None,
            value=value,
            **params,
        )


def exceeds(values: npt.NDArray[Any], limit: npt.NDArray[Any]) -> Bools:
    """``values > limit`` row by row; false where either is blank (NaN compares false)."""
    with np.errstate(invalid="ignore"):  # NaN beside the exact totals' Python ints warns
        return np.asarray(values > limit, dtype=bool)


def to_parsed_rows(table: Table) -> list[ParsedRow]:
    """The rows as the report and the store take them: ints, and None for blank or invalid.
    Each row's counts become a dict when first read (``report.LaterCounts``): map() keeps
    the loop in C, and no row's values or dict are made before something needs them."""
    source = _TableCounts(table)
    counts = map(LaterCounts, zip(repeat(source), range(len(table))))
    return list(map(ParsedRow, table.numbers, table.marac_text, table.meeting_date, counts))


class _TableCounts:
    """Every row's counts as Python values, made from the table's columns once, on the
    first row's read (``report.CountSource``)."""

    def __init__(self, table: Table) -> None:
        self.keys = tuple(key for key, _ in table.layout.count_columns)
        self._table: Table | None = table
        self._values: list[list[int | None]] = []

    def values(self) -> list[list[int | None]]:
        if self._table is not None:
            self._values = _python_counts(self._table, list(self.keys))
            self._table = None  # the rows keep their values, not the whole table
        return self._values


def _python_counts(table: Table, keys: list[str]) -> list[list[int | None]]:
    if not keys:
        return [[] for _ in table.numbers]
    block = table.block if table.block is not None else np.column_stack(
        [table.count(k) for k in keys])
    blank = np.isnan(block)
    any_blank = bool(blank.any())
    filled = np.where(blank, 0.0, block) if any_blank else block
    if filled.size and filled.max() >= 2.0**62:  # past int64: Python ints, slowly
        return [[None if v != v else int(v) for v in row] for row in block.tolist()]
    ints = filled.astype(np.int64)
    if not any_blank:
        rows: list[list[int | None]] = ints.tolist()
        return rows
    mixed = ints.astype(object)
    mixed[blank] = None
    rows = mixed.tolist()
    return rows
