"""The count block's quick path (validation/parse_counts.py ``_all_floats``: one marshal of a
stretch of rows checks every cell is a float and gives its value) must read every sheet as the
cell-by-cell path does: the same numbers, and the same findings for odd cells."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from validation import parse_counts
from validation.parse_counts import _all_floats, _count_block, _taker


class Subfloat(float):
    """A float that is not exactly a float (calamine never gives one; marshal refuses it)."""


def _rows(odd: Any = None, *, at: tuple[int, int] = (2500, 7), rows: int = 3000) -> list[list[Any]]:
    made = [["Croydon", None, *[float((r * 7 + c) % 23) for c in range(30)]] for r in range(rows)]
    if odd is not None:
        made[at[0]][2 + at[1]] = odd
    return made


ODD_CELLS = [None, True, False, 1, 2**70, "12", " 7 ", "", "n/a", -3.0, 2.5, math.nan, math.inf,
             Subfloat(4.0), 1e300]


def _by_cell(raw: list[list[Any]], indices: list[int]) -> tuple[np.ndarray, np.ndarray]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parse_counts, "_all_floats", lambda *args: None)
        return _count_block(raw, indices, False)


@pytest.mark.parametrize("odd", ODD_CELLS, ids=repr)
def test_one_odd_cell_reads_as_cell_by_cell(odd: Any) -> None:
    raw = _rows(odd)
    indices = list(range(2, 32))
    number, code = _count_block(raw, indices, False)
    expected_number, expected_code = _by_cell(raw, indices)
    assert np.array_equal(number, expected_number, equal_nan=True)
    assert np.array_equal(code, expected_code)
    plain = type(odd) is float  # NaN and inf too: the block holds them, the check then says
    assert (_all_floats(raw, _taker(indices), 30) is not None) == (odd is None or plain)


def test_columns_apart_and_short_sheets_read_the_same() -> None:
    raw = _rows(rows=5)
    for indices in ([2, 4, 9, 31], [3], list(range(2, 32))):
        number, code = _count_block(raw, indices, False)
        expected_number, expected_code = _by_cell(raw, indices)
        assert np.array_equal(number, expected_number) and np.array_equal(code, expected_code)
        assert number.shape == (5, len(indices))
    empty_number, _ = _count_block([], list(range(2, 32)), False)
    assert empty_number.shape == (0, 30)
