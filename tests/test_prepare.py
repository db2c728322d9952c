"""The reader's child finds the layout and reads the rows into columns (validation/prepare.py):
what comes back holds no cell, and the report is the one validating in this process gives."""

from __future__ import annotations

import os
import pickle
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from validation.context import ValidationContext
from validation.prepare import Prepared, prepare, prepare_to_send
from validation.reader import Workbook, read_workbook, read_workbook_then
from validation.validate import validate_path, validate_workbook

FIXTURES = Path(__file__).parent / "fixtures"
CONTEXT = ValidationContext(today=date(2025, 2, 15))
US = os.getpid()


def _book(name: str) -> Workbook:
    book = read_workbook((FIXTURES / name).read_bytes(), name)
    assert isinstance(book, Workbook)
    return book


@pytest.mark.parametrize("name", ["clean_libreoffice.xlsx", "many_issues.xlsx",
                                  "text_numbers_and_dates.xlsx", "formula_no_value_g4.xlsx",
                                  "clean_libreoffice.ods", "clean_libreoffice.xls",
                                  "utf8_bom_comma.csv", "duplicate_column.xlsx",
                                  "no_data_rows.xlsx", "unknown_template.xlsx"])
def test_the_report_is_the_one_validating_here_gives(name: str) -> None:
    here = validate_workbook(_book(name), name, CONTEXT)
    there = validate_path(FIXTURES / name, CONTEXT)
    assert there.to_dict() == {**here.to_dict(), "file": name}
    assert [(r.sheet_row, r.marac_text, r.meeting_date, r.counts, r.hard) for r in there.rows] \
        == [(r.sheet_row, r.marac_text, r.meeting_date, r.counts, r.hard) for r in here.rows]


def test_what_comes_back_holds_no_cell() -> None:
    data = (FIXTURES / "clean_libreoffice.xlsx").read_bytes()
    prepared = read_workbook_then(data, "x.xlsx", prepare_to_send)
    assert isinstance(prepared, Prepared)
    assert prepared.layout is not None and prepared.table is not None
    assert prepared.layout.sheet.rows == [] and prepared.table.raw == []
    assert len(prepared.table) == 6
    # The count columns are made again on arrival, as views of the block, in column order.
    block = prepared.table.block
    assert block is not None
    for j, (key, _) in enumerate(prepared.table.layout.count_columns):
        column = prepared.table.counts[key]
        assert column.base is block or column.base is block.base
        assert np.array_equal(column, block[:, j], equal_nan=True)


def test_the_trip_back_does_not_copy_each_count_column() -> None:
    prepared = prepare(_book("clean_libreoffice.xlsx"))
    assert prepared.table is not None and prepared.table.block is not None
    sent = pickle.dumps(prepared, protocol=pickle.HIGHEST_PROTOCOL)
    back = pickle.loads(sent)
    assert back.table.counts.keys() == prepared.table.counts.keys()
    assert all(np.array_equal(back.table.counts[k], v, equal_nan=True)
               for k, v in prepared.table.counts.items())
    assert prepared.table.counts  # the sender's own table is left whole
    without_columns = pickle.dumps(prepared.table.block, protocol=pickle.HIGHEST_PROTOCOL)
    assert len(sent) < 2 * len(without_columns) + 20_000


def _fails_in_a_child(book: Workbook) -> str:
    if os.getpid() != US:
        raise RuntimeError("only here")
    return f"{len(book.sheets)} sheets, here"


def _always_fails(book: Workbook) -> str:
    raise KeyError("a bug in reading the rows")  # KeyError: also what a damaged file raises


def test_what_fails_in_the_child_is_done_again_here() -> None:
    data = (FIXTURES / "clean_libreoffice.xlsx").read_bytes()
    assert read_workbook_then(data, "x.xlsx", _fails_in_a_child) == "1 sheets, here"


def test_a_failure_of_our_own_is_raised_not_turned_into_an_unreadable_file() -> None:
    data = (FIXTURES / "clean_libreoffice.xlsx").read_bytes()
    with pytest.raises(KeyError):
        read_workbook_then(data, "x.xlsx", _always_fails)
