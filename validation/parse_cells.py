"""Helpers for reading a column of cells: each distinct value converted once, and an
offending value shown as the user typed it."""

from __future__ import annotations

import re
from collections.abc import Callable
from operator import itemgetter
from typing import Any

import numpy as np

from validation.columns import column_index
from validation.issues import Issue
from validation.layout import Layout
from validation.table import Table


class Distinct:
    """A column's values and its distinct values, to convert each distinct value once."""

    def __init__(self, values: list[Any]) -> None:
        self.raw: Callable[[Any], Any]
        try:
            if bool in set(map(type, values)):  # True == 1 == 1.0, yet a bool is no number
                self.keys: list[Any] = list(zip(map(type, values), values, strict=True))
                self.unique = set(self.keys)
                self.raw = itemgetter(1)
            else:
                self.keys, self.unique, self.raw = values, set(values), _same
        except TypeError:  # a value that cannot be hashed: every cell is its own key
            self.keys = list(range(len(values)))
            self.unique, self.raw = set(self.keys), values.__getitem__

    def convert(self, convert: Callable[[Any], Any]) -> dict[Any, Any]:
        return {key: convert(self.raw(key)) for key in self.unique}

    def each(self, found: dict[Any, Any]) -> list[Any]:
        return list(map(found.__getitem__, self.keys))

    def array(self, found: dict[Any, Any], dtype: type) -> np.ndarray[Any, Any]:
        return np.fromiter(map(found.__getitem__, self.keys), dtype, len(self.keys))

    def rows_where(self, keys: set[Any]) -> list[int]:
        """The rows whose value is one of ``keys``, in order."""
        if not keys:
            return []
        return [i for i, key in enumerate(self.keys) if key in keys]


def normalised_issue(table: Table, i: int, key: str, raw: Any, normalised: object) -> Issue:
    """``normalised-value`` at a cell: what was typed and what it was read as."""
    shown = raw if isinstance(raw, str) else shown_value(raw)  # keep the spaces trimmed
    return table.issue("normalised-value", i, key, value=shown, normalised=normalised)


def shown_value(value: Any) -> Any:
    """The offending value as the user typed it (floats that are whole shown without .0)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return value.strip()
    return value


def formula_rows(layout: Layout, numbers: list[int]) -> dict[int, list[int]]:
    """Rows (table indices) of the formulas with no stored value, by column index: the
    reader reads such a cell as blank, though it is no blank the submitter left."""
    refs = layout.sheet.formulas_without_value
    if not refs:
        return {}
    index_of = {number: i for i, number in enumerate(numbers)}
    found: dict[int, list[int]] = {}
    for ref in sorted(refs):
        match = re.fullmatch(r"([A-Z]+)([0-9]+)", ref)
        if match is None or int(match[2]) not in index_of:
            continue
        if match[2] == str(int(match[2])):  # "G04" is not the cell G4
            found.setdefault(column_index(match[1]), []).append(index_of[int(match[2])])
    return found


def _same(key: Any) -> Any:
    return key
