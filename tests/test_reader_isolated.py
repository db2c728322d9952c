"""Damaged .xls / .ods files are read in a memory-capped child: the bot survives them."""

from __future__ import annotations

import io
import os
import zipfile
from datetime import date
from pathlib import Path

import pytest

from validation.context import ValidationContext
from validation.guards import check_container
from validation.isolated import ChildFailed, ChildRaised, run_capped
from validation.validate import validate_bytes, validate_path
from validation.xlsx_scan import XlsxScanner

FIXTURES = Path(__file__).parent / "fixtures"
CONTEXT = ValidationContext(today=date(2025, 2, 15))
PID = os.getpid()


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


def _with_shared_strings_tag(tag: bytes, *, padding: bytes = b"") -> bytes:
    """The clean LibreOffice workbook with its <sst …> opening tag replaced by ``tag``."""
    source = zipfile.ZipFile(FIXTURES / "clean_libreoffice.xlsx")
    out = io.BytesIO()
    with source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/sharedStrings.xml":
                start = content.index(b"<sst")
                end = content.index(b">", start) + 1
                content = content[:start] + padding + tag + content[end:]
            target.writestr(info, content)
    return out.getvalue()


_SST = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '


def test_an_absurd_shared_string_count_is_dropped_and_the_file_read() -> None:
    # Issue 10, finding 1: 4,294,967,295 claimed strings made calamine reserve ~100 GB and
    # Rust abort the whole bot. The claim is dropped before calamine sees it.
    data = _with_shared_strings_tag(_SST + b'count="4294967295" uniqueCount="4294967295">')
    report = validate_bytes(data, "sst_count.xlsx", CONTEXT)
    assert report.rows_accepted == 6
    assert not [i for i in report.issues if i.is_hard]


def test_a_plausible_shared_string_count_is_left_alone() -> None:
    data = _with_shared_strings_tag(_SST + b'count="38" uniqueCount="33">')
    scanner = XlsxScanner()
    assert check_container(data, "x.xlsx", max_bytes=10 << 20, observe=scanner.feed) is None
    assert scanner.absurd_shared_strings() == []
    assert validate_bytes(data, "plain.xlsx", CONTEXT).rows_accepted == 6


def test_an_xlsx_that_kills_calamine_is_unreadable_and_the_process_lives() -> None:
    # The absurd claim hidden past the first megabyte, where the scan does not look for it:
    # calamine aborts, but in the capped child; this process only sees an unreadable file.
    padding = b"<!--" + b" " * (2 << 20) + b"-->"
    data = _with_shared_strings_tag(_SST + b'uniqueCount="4294967295">', padding=padding)
    report = validate_bytes(data, "hidden_claim.xlsx", CONTEXT)
    assert [(i.cell, i.code) for i in report.issues] == [(None, "unreadable-file")]
    assert os.getpid() == PID  # still us: nothing aborted this process
