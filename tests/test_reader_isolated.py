"""Damaged .xls / .ods files are read in a memory-capped child: the bot survives them."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from validation.context import ValidationContext
from validation.isolated import ChildFailed, ChildRaised, run_capped
from validation.validate import validate_path

FIXTURES = Path(__file__).parent / "fixtures"
CONTEXT = ValidationContext(today=date(2025, 2, 15))


def test_a_damaged_xls_that_makes_calamine_abort_is_unreadable_not_fatal() -> None:
    # Found by fuzzing: calamine asks for ~4 TB and Rust aborts the process it runs in.
    report = validate_path(FIXTURES / "damaged" / "xls_huge_allocation.xls", CONTEXT)
    assert [(i.cell, i.code) for i in report.issues] == [(None, "unreadable-file")]
    assert report.status == "rejected"


@pytest.mark.parametrize("name", ["clean_libreoffice.xls", "clean_libreoffice.ods"])
def test_isolated_reads_give_the_same_rows_as_ever(name: str) -> None:
    report = validate_path(FIXTURES / name, CONTEXT)
    assert report.rows_accepted == 6
    assert report.rows[0].counts["cases"] is not None


def _allocate(n_bytes: int) -> int:
    return len(bytearray(n_bytes))


def test_the_child_cannot_grow_past_its_cap() -> None:
    with pytest.raises(ChildRaised) as raised:
        run_capped(_allocate, 8 << 30)
    assert raised.value.type_name == "MemoryError"
    assert run_capped(_allocate, 1 << 20) == 1 << 20


def test_a_child_that_dies_is_reported_not_hung() -> None:
    with pytest.raises(ChildFailed):
        run_capped(os.abort)
