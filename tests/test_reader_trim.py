"""The in-memory trimming of a sheet's rows (issue 14) keeps exactly what the streaming one
keeps: the same rows, the same numbers, the same stop after a long blank run."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

from validation.reader import BLANK_RUN_LIMIT, _trimmed, _trimmed_list
from validation.xlsx_scan import _WIDE_CELL_RE

WIDTH = 4


def _row(kind: str) -> list[Any]:
    if kind == "data":
        return ["Croydon", 3.0, "", 1.0]
    if kind == "late":  # blank first cell, a value further along: not a blank row
        return ["  ", "", "", 2.0]
    return ["", "", " ", ""]  # blank


def _sheet(kinds: list[str]) -> list[list[Any]]:
    return [_row(k) for k in kinds]


def _both(rows: list[list[Any]], keep: set[int]) -> tuple[list[Any], list[Any]]:
    return _trimmed_list(rows, keep), _trimmed(iter(rows), keep)


@pytest.mark.parametrize("gap", [BLANK_RUN_LIMIT - 1, BLANK_RUN_LIMIT, BLANK_RUN_LIMIT + 1])
def test_a_blank_run_ends_the_sheet_from_its_limit_on(gap: int) -> None:
    rows = _sheet(["data"] * 3 + ["blank"] * gap + ["data"] * 2)
    listed, streamed = _both(rows, set())
    assert listed == streamed
    expected = 3 if gap >= BLANK_RUN_LIMIT else 5
    assert [n for n, _ in listed][-1] == (3 if expected == 3 else 3 + gap + 2)
    assert len(listed) == expected


def test_blank_rows_above_the_data_never_end_it() -> None:
    rows = _sheet(["blank"] * (BLANK_RUN_LIMIT + 5) + ["data", "late"])
    listed, streamed = _both(rows, set())
    assert listed == streamed
    assert [n for n, _ in listed] == [BLANK_RUN_LIMIT + 6, BLANK_RUN_LIMIT + 7]


def test_a_kept_row_counts_as_data() -> None:
    rows = _sheet(["data", "blank", "blank", "data"])
    listed, streamed = _both(rows, {3})
    assert listed == streamed
    assert [n for n, _ in listed] == [1, 3, 4]


def test_random_sheets_trim_alike() -> None:
    rng = random.Random(14)
    for _ in range(200):
        kinds = [rng.choice(["data", "data", "late", "blank"]) for _ in range(rng.randrange(30))]
        if rng.random() < 0.2:
            at = rng.randrange(len(kinds) + 1)
            kinds[at:at] = ["blank"] * rng.choice([BLANK_RUN_LIMIT - 1, BLANK_RUN_LIMIT])
        keep = {rng.randrange(1, 40) for _ in range(rng.randrange(3))}
        listed, streamed = _both(_sheet(kinds), keep)
        assert listed == streamed


def _column(n: int) -> str:
    letters = ""
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@pytest.mark.parametrize("column", [1, 26, 27, 32, 207, 208, 209, 210, 676, 677, 703, 16384])
def test_the_wide_cell_pattern_marks_column_ha_and_beyond(column: int) -> None:
    original = re.compile(rb'r="(?:[A-Z]{3}|[H-Z][A-Z]\d)')
    cell = f'<c r="{_column(column)}7"><v>1</v></c>'.encode()
    assert bool(_WIDE_CELL_RE.search(cell)) is (column >= 209)
    assert bool(_WIDE_CELL_RE.search(cell)) is bool(original.search(cell))
