"""Reading the count columns (C–AF) of every row at once into the table's float block.

The usual file holds typed numbers only, so the count cells are checked for their type and
converted in one sweep along the rows. Where a column holds text, blanks, dates or bools, that
column is read once per distinct value instead. Only the odd cells (negative, decimal, text,
a formula with no stored value) go through ``validation.cells.to_count`` one by one.
"""

from __future__ import annotations

import marshal
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from kernel import wording
from validation.cells import MAX_COUNT, Status, to_count
from validation.issues import Issue
from validation.parse_cells import Distinct, formula_rows, normalised_issue, shown_value
from validation.table import Bools, Floats, Table

# Per cell: fine (a number or blank), normalised from text, invalid, a formula with no value.
_FINE, _NORMALISED, _INVALID, _FORMULA = 0, 1, 2, 3
_CODE = {Status.BLANK: _FINE, Status.OK: _FINE, Status.NORMALISED: _NORMALISED,
         Status.INVALID: _INVALID}
_MARSHAL_ROWS = 1024  # rows per marshal.dumps in _all_floats
# The one count that may not be left blank (missing-cases): its advice never says to.
REQUIRED_COUNT = "cases"
Codes = npt.NDArray[np.int8]
Codes2D = npt.NDArray[np.int8]  # rows x count columns
Floats2D = npt.NDArray[np.float64]


def read_counts(table: Table) -> Iterator[Issue]:
    """Fill ``table.block``, ``table.counts`` and ``table.invalid``; the issues met, by
    column in template order and down each column."""
    columns = table.layout.count_columns
    formulas = formula_rows(table.layout, table.numbers)
    indices = [index for _, index in columns]
    number, code = _count_block(table.raw, indices, table.layout.sheet.text_native)
    for j, (_, index) in enumerate(columns):
        for i in formulas.get(index, []):  # calamine reads these as blank
            if not _is_whole_float(table.raw[i][index]):
                number[i, j], code[i, j] = np.nan, _FORMULA
    table.block = number
    for j, (key, _) in enumerate(columns):
        table.counts[key] = number[:, j]
    if not code.any():  # the usual file: every cell a count or blank
        return
    invalid: Bools = code >= _INVALID
    for j in np.flatnonzero(invalid.any(axis=0)).tolist():
        table.invalid[columns[j][0]] = invalid[:, j]
    found_in, found_at = np.nonzero(code.T)  # column by column, each from the top
    for j, i in zip(found_in.tolist(), found_at.tolist(), strict=True):
        key, raw = columns[j][0], table.raw[i][columns[j][1]]
        if code[i, j] == _FORMULA:
            yield table.issue("invalid-count", i, key, value=wording.FORMULA_WITHOUT_VALUE,
                              required=key == REQUIRED_COUNT)
        elif code[i, j] == _INVALID:
            yield table.issue("invalid-count", i, key, value=shown_value(raw),
                              required=key == REQUIRED_COUNT)
        else:
            yield normalised_issue(table, i, key, raw, int(number[i, j]))


def _taker(indices: list[int]) -> Callable[[list[Any]], Sequence[Any]]:
    """Takes a row's count cells: a slice when they sit side by side, as in the template."""
    first = indices[0] if indices else 0
    if indices == list(range(first, first + len(indices))):
        return itemgetter(slice(first, first + len(indices)))
    return itemgetter(*indices)


def _count_block(raw: list[list[Any]], indices: list[int], text_native: bool
                 ) -> tuple[Floats2D, Codes2D]:
    """Every count cell as a float (NaN: blank or invalid), and what reading it found."""
    width = len(indices)
    # The count cells of each row, taken in row order: the cells lie in memory in the order
    # calamine made them, and a pass along them is much quicker than one down each column.
    # Taken twice rather than kept: 50,000 short-lived slices reuse the same memory, where a
    # list of them would be 15 MB of fresh pages in the reader's child.
    take = _taker(indices)
    floats = _all_floats(raw, take, width)
    if floats is not None or (
            raw and set(map(type, chain.from_iterable(map(take, raw)))) <= {float, int}):
        # The usual file: typed numbers only (floats; ints from .xls), all in one go.
        if floats is not None:
            number: Floats2D = floats
        else:
            cells = chain.from_iterable(map(take, raw))
            number = np.fromiter(cells, np.float64, len(raw) * width)
            number = number.reshape(len(raw), width)
        code: Codes2D = np.zeros(number.shape, np.int8)
        if not _all_whole(number):
            for i, j in zip(*np.nonzero(~_whole(number)), strict=True):  # negative, decimal..
                number[i, j], code[i, j] = _count_of(raw[i][indices[j]], text_native)
        return number, code
    rows = list(map(take, raw))
    number, code = np.empty((len(rows), width)), np.empty((len(rows), width), np.int8)
    for j, column in enumerate(zip(*rows, strict=True)):  # text or blanks in some column
        number[:, j], code[:, j] = _count_column(list(column), text_native)
    return number, code


def _all_floats(raw: list[list[Any]], take: Callable[[list[Any]], Sequence[Any]],
                width: int) -> Floats2D | None:
    """The count cells as a block when every one is a float (an .xlsx of typed numbers),
    else None. marshal (format 2: no back-references) writes a list of floats as a list (or
    tuple) header and, per cell, a type byte and the IEEE double, so one ``marshal.dumps`` of
    a stretch of rows both checks every cell's type (``g``: exactly a float; a bool, an int,
    a text each have their own byte) and hands numpy the values: twice as quick as a
    ``type`` of every cell and then ``np.fromiter``. Stretches of rows keep it in cache."""
    if not raw or not width:
        return None
    layout = np.dtype([("list", "S1"), ("length", "<i4"),
                       ("cells", [("type", "S1"), ("value", "<f8")], (width,))])
    block: Floats2D = np.empty((len(raw), width))
    for start in range(0, len(raw), _MARSHAL_ROWS):
        rows = list(map(take, raw[start:start + _MARSHAL_ROWS]))
        try:
            packed = marshal.dumps(rows, 2)
        except ValueError:  # a value marshal cannot write: not a plain float anyway
            return None
        if len(packed) != 5 + len(rows) * layout.itemsize:
            return None
        found = np.frombuffer(packed, layout, offset=5)
        if not (np.isin(found["list"], (b"[", b"(")).all() and (found["length"] == width).all()
                and (found["cells"]["type"] == b"g").all()):
            return None
        block[start:start + len(rows)] = found["cells"]["value"]
    return block


def _all_whole(number: Floats2D) -> bool:
    """``_whole`` of every cell, in the usual case without a mask the size of the block."""
    if not number.size:
        return True
    low, high = number.min(), number.max()  # NaN if any: then the cell-by-cell mask
    return bool(low >= 0 and high <= MAX_COUNT and np.array_equal(np.floor(number), number))


def _whole(number: Any) -> Any:
    """Where a cell is a count as it stands: whole, 0 or more, and one a database can hold."""
    return (np.isfinite(number) & (number >= 0) & (number <= MAX_COUNT)
            & (number == np.floor(number)))


def _count_column(values: list[Any], text_native: bool) -> tuple[Floats, Codes]:
    if not set(map(type, values)) <= {float, int}:  # text, blanks, dates, bools
        return _count_distinct(values, text_native)
    number = np.array(values, np.float64)
    code = np.zeros(len(values), np.int8)
    whole = _whole(number)
    for i in np.flatnonzero(~whole).tolist():  # negative, decimal or huge: to_count says
        number[i], code[i] = _count_of(values[i], text_native)
    return number, code


def _count_distinct(values: list[Any], text_native: bool) -> tuple[Floats, Codes]:
    distinct = Distinct(values)
    read = distinct.convert(partial(_count_of, text_native=text_native))
    numbers = {key: found[0] for key, found in read.items()}
    codes = {key: found[1] for key, found in read.items()}
    return distinct.array(numbers, np.float64), distinct.array(codes, np.int8)


def _count_of(raw: Any, text_native: bool) -> tuple[float, int]:
    converted = to_count(raw, text_native=text_native)
    value = np.nan if converted.value is None else float(converted.value)
    return value, _CODE[converted.status]


def _is_whole_float(value: Any) -> bool:
    return value.__class__ is float and value >= 0 and value.is_integer()
