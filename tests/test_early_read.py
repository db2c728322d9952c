"""The read begun while the guard looks (validation/reader.py ``start_early_read``): its rows
are the usual read's, a refused file's read is killed, and a file the scan finds unusual is
read the usual way."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from validation.context import ValidationContext
from validation.guards import check_container
from validation.isolated import reaping_later, run_capped
from validation.reader import read_workbook, start_early_read
from validation.validate import validate_bytes
from validation.xlsx_scan import XlsxScanner

FIXTURES = Path(__file__).parent / "fixtures"
CONTEXT = ValidationContext(today=date(2025, 2, 15))


def _children() -> set[int]:
    """This process's child processes, running or not yet reaped (Linux /proc)."""
    found: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        found.update(int(pid) for pid in (task / "children").read_text().split())
    return found


@pytest.fixture
def no_reader_left() -> Iterator[None]:
    before = _children()
    yield None
    assert _children() <= before


@pytest.mark.parametrize(
    "name",
    [
        "clean_libreoffice.xlsx",
        "instructions_sheet_first.xlsx",
        "blank_rows_between.xlsx",
        "excel_serial_dates.xlsx",
    ],
)
def test_the_early_read_gives_the_usual_rows(name: str, no_reader_left: None) -> None:
    data = (FIXTURES / name).read_bytes()
    usual = read_workbook(data, name)
    early = start_early_read(data, name)
    assert early is not None
    scanner = XlsxScanner()
    assert check_container(data, name, max_bytes=10 << 20, observe=scanner.feed) is None
    found = read_workbook(data, name, scanner, early)
    assert found == usual


def test_only_xlsx_packages_are_read_early(no_reader_left: None) -> None:
    early = start_early_read(b"PK\x03\x04", "a.xlsx")
    assert early is not None
    early.cancel()
    for name in ("clean_libreoffice.xls", "clean_libreoffice.ods", "utf8_bom_comma.csv"):
        assert start_early_read((FIXTURES / name).read_bytes(), name) is None


def test_a_refused_file_leaves_no_reader_behind(no_reader_left: None) -> None:
    fake = b"PK\x03\x04" + b"\x00" * 200  # a zip magic and nothing else: damaged
    report = validate_bytes(fake, "fake.xlsx", CONTEXT)
    assert [i.code for i in report.issues] == ["unreadable-file"]


def test_a_formula_with_no_value_is_read_the_usual_way(no_reader_left: None) -> None:
    report = validate_bytes(
        (FIXTURES / "formula_no_value_g4.xlsx").read_bytes(), "formula_no_value_g4.xlsx", CONTEXT
    )
    assert ("G4", "invalid-count") in {(i.cell, i.code) for i in report.issues}


def test_validation_reaps_its_forked_reader_once_the_rows_are_checked(
        no_reader_left: None) -> None:
    data = (FIXTURES / "clean_libreoffice.xlsx").read_bytes()
    report = validate_bytes(data, "clean_libreoffice.xlsx", CONTEXT)
    assert report.rows_total > 0


def test_a_child_left_to_reap_later_is_reaped_even_when_the_block_fails(
        no_reader_left: None) -> None:
    before = _children()
    with pytest.raises(RuntimeError), reaping_later():
        assert run_capped(len, b"abc") == 3
        assert len(_children() - before) == 1  # answered, not yet reaped
        raise RuntimeError("a check failed")


def test_the_collector_is_held_off_from_the_guard_on_and_resumed(
        monkeypatch: pytest.MonkeyPatch, no_reader_left: None) -> None:
    """The guard's objects are no garbage either: the collector waits from the start of a
    validation, and runs again after it, as it did before."""
    import gc

    from validation import validate

    seen: list[bool] = []
    guard = validate.check_container

    def watched(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return guard(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(validate, "check_container", watched)
    assert gc.isenabled()
    data = (FIXTURES / "clean_libreoffice.xlsx").read_bytes()
    assert validate_bytes(data, "clean_libreoffice.xlsx", CONTEXT).rows_accepted == 6
    assert seen == [False] and gc.isenabled()
