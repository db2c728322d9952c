"""The zip writing of the patched copy (reports.zip_copy): kept parts copied compressed.

Parts the annotation does not change go into the copy with their compressed bytes as they are;
the copy must still be a zip that zipfile, openpyxl, python-calamine and LibreOffice read, from
whatever zip a spreadsheet program (or a Java library) wrote: stored members, data descriptors
(LibreOffice's fixtures all have them), zip64 fields, extra fields, a comment, bytes in front.
The compressed bytes and local headers are read here with struct, not with the module tested.
"""

from __future__ import annotations

import dataclasses
import io
import struct
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import python_calamine
from openpyxl import load_workbook

from kernel import wording
from reports import annotate, xlsx_patch, zip_copy
from reports.annotate import annotate_workbook
from reports.xlsx_patch import patched_copy
from reports.zip_copy import ZipSource, ZipWriter
from tests.reports_support import sample_issues, soffice_convert
from validation import guards_zip
from validation.context import ValidationContext
from validation.report import FileReport
from validation.validate import validate_bytes

FIXTURES = Path(__file__).parent / "fixtures"
SHEET = "Marac data"
_LOCAL = struct.Struct("<4sHHHHHLLLHH")
_DESCRIPTOR_FLAG = 0x8
KEPT = "docProps/core.xml"  # a part the annotation never changes


def _report() -> FileReport:
    return FileReport(file="x.xlsx", sheet=SHEET, issues=sample_issues())


def _several_issues() -> bytes:
    return (FIXTURES / "several_issues.xlsx").read_bytes()


def _stored_bytes(data: bytes, info: zipfile.ZipInfo) -> bytes:
    """A member's compressed bytes, found from its local header."""
    fields = _LOCAL.unpack_from(data, info.header_offset)
    assert fields[0] == b"PK\x03\x04"
    start = info.header_offset + _LOCAL.size + fields[9] + fields[10]
    return data[start : start + info.compress_size]


def _local_flags(data: bytes, info: zipfile.ZipInfo) -> int:
    return int(_LOCAL.unpack_from(data, info.header_offset)[2])


def _assert_kept_parts_copied_compressed(source: bytes, copy: bytes) -> set[str]:
    """Every part whose content the copy keeps has the very same compressed bytes, method and
    CRC, and inflates to the same content; returns their names."""
    kept = set()
    with zipfile.ZipFile(io.BytesIO(source)) as old, zipfile.ZipFile(io.BytesIO(copy)) as new:
        assert new.testzip() is None  # every member inflates and matches its CRC
        for info in new.infolist():
            if info.filename not in old.namelist():
                continue
            before = old.getinfo(info.filename)
            if old.read(before) != new.read(info):
                continue
            assert _stored_bytes(copy, info) == _stored_bytes(source, before), info.filename
            assert (info.compress_type, info.CRC, info.file_size) == (
                before.compress_type,
                before.CRC,
                before.file_size,
            )
            assert zlib.crc32(new.read(info)) == before.CRC
            # Sizes and CRC in the local header: no data descriptor, whatever the source had.
            assert not _local_flags(copy, info) & _DESCRIPTOR_FLAG
            kept.add(info.filename)
    return kept


def _parts_never_changed(data: bytes) -> set[str]:
    """What the annotation changes in no package: all but the workbook, its rels, the styles,
    the content types and the sheets (of which only those marked or with formulas change)."""
    changed = {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels"}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
    return {n for n in names - changed if n != "xl/styles.xml" and "worksheets/" not in n}


def _assert_readable(copy: bytes) -> None:
    """openpyxl and python-calamine open the copy; the Issues sheet is last."""
    book = load_workbook(io.BytesIO(copy))
    assert book.sheetnames[-1] == wording.ANNOTATED_SHEET_TITLE
    calamine = python_calamine.load_workbook(io.BytesIO(copy))
    assert calamine.sheet_names == book.sheetnames
    for name in calamine.sheet_names:
        calamine.get_sheet_by_name(name).to_python()


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("*.xls[xm]")))
def test_kept_parts_of_every_fixture_are_copied_as_compressed(fixture: str) -> None:
    data = (FIXTURES / fixture).read_bytes()
    report = validate_bytes(data, fixture, ValidationContext(today=date(2025, 2, 1)))
    copy = patched_copy(data, report)
    assert copy is not None
    kept = _assert_kept_parts_copied_compressed(data, copy)
    assert kept >= _parts_never_changed(data) and "docProps/core.xml" in kept
    _assert_readable(copy)


def test_a_six_row_return_comes_out_as_zipfile_would_write_it() -> None:
    """A return openpyxl wrote: the copy is byte for byte what the zipfile writer makes of the
    same parts, the kept ones at openpyxl's level (zlib's default) and the others at ours."""
    from openpyxl import Workbook

    from tests.fixtures import make_fixtures as mf

    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET)
    sheet.append(mf.headers())
    for index in range(6):
        row = mf.meeting(index, "Croydon")
        if index == 0:  # one police referral too many: a soft issue to mark on the sheet
            row[mf.col("G")] = int(row[mf.col("G")]) + 1  # type: ignore[call-overload]
        sheet.append(row)
    written = io.BytesIO()
    book.save(written)
    data = written.getvalue()
    report = validate_bytes(data, "r.xlsx", ValidationContext(today=date(2025, 2, 1)))
    assert any(issue.cell for issue in report.issues)
    copy = patched_copy(data, report)
    assert copy is not None
    kept = _assert_kept_parts_copied_compressed(data, copy)
    assert kept == {"docProps/app.xml", "docProps/core.xml", "xl/theme/theme1.xml", "_rels/.rels"}
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(copy)) as ours, zipfile.ZipFile(buffer, "w") as theirs:
        for info in ours.infolist():
            again = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            again.compress_type = zipfile.ZIP_DEFLATED
            level = zlib.Z_DEFAULT_COMPRESSION if info.filename in kept else zip_copy.LEVEL
            theirs.writestr(again, ours.read(info), compresslevel=level)
    assert buffer.getvalue() == copy


class _Unseekable(io.RawIOBase):
    """A stream zipfile cannot seek back in, so it writes data descriptors."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        return self.buffer.write(b)


def _repacked(
    data: bytes,
    *,
    method: int = zipfile.ZIP_DEFLATED,
    descriptors: bool = False,
    force_zip64: bool = False,
    extra: bytes = b"",
    comment: bytes = b"",
    prefix: bytes = b"",
) -> bytes:
    """The same parts written again by zipfile in another way."""
    target: Any = _Unseekable() if descriptors else io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            again = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            again.compress_type = method
            again.extra = extra
            with out.open(again, "w", force_zip64=force_zip64) as member:
                member.write(source.read(info))
        out.comment = comment
    written = target.buffer.getvalue() if descriptors else target.getvalue()
    return prefix + written


def _zip64_package(data: bytes) -> bytes:
    """The parts as a zip64 package: 0xFFFFFFFF in every size and offset field, the real
    values in zip64 extra fields, and a zip64 end record (as some Java libraries write)."""
    body, directory = bytearray(), bytearray()
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        infos = source.infolist()
        for info in infos:
            content = source.read(info)
            packed = zlib.compress(content, 6, -15)
            name, crc, offset = info.filename.encode(), zlib.crc32(content), len(body)
            local_extra = struct.pack("<HHQQ", 1, 16, len(content), len(packed))
            body += _LOCAL.pack(
                b"PK\x03\x04", 45, 0, 8, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(name), 20
            )
            body += name + local_extra + packed
            central_extra = struct.pack("<HHQQQ", 1, 24, len(content), len(packed), offset)
            directory += struct.pack(
                "<4sHHHHHHLLLHHHHHLL",
                b"PK\x01\x02",
                45,
                45,
                0,
                8,
                0,
                0x21,
                crc,
                0xFFFFFFFF,
                0xFFFFFFFF,
                len(name),
                len(central_extra),
                0,
                0,
                0,
                0,
                0xFFFFFFFF,
            )
            directory += name + central_extra
    start, count = len(body), len(infos)
    end64 = start + len(directory)
    record = struct.pack(
        "<4sQHHLLQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, len(directory), start
    )
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, end64, 1)
    end = struct.pack(
        "<4sHHHHLLH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0
    )
    return bytes(body + directory + record + locator + end)


ODD_ZIPS: list[tuple[str, Callable[[bytes], bytes]]] = [
    ("stored members", lambda d: _repacked(d, method=zipfile.ZIP_STORED)),
    ("data descriptors", lambda d: _repacked(d, descriptors=True)),
    ("stored with data descriptors", lambda d: _repacked(d, method=0, descriptors=True)),
    ("zip64 local headers", lambda d: _repacked(d, force_zip64=True)),
    ("zip64 everywhere", _zip64_package),
    # An Info-ZIP "extended timestamp" field in both headers, as zip on Unix writes it.
    ("extra fields", lambda d: _repacked(d, extra=struct.pack("<HHBL", 0x5455, 5, 1, 0))),
    ("a zip comment", lambda d: _repacked(d, comment=b"made by hand")),
    ("bytes before the zip", lambda d: _repacked(d, prefix=b"#!/bin/sh\nexit 0\n" * 3)),
]


@pytest.mark.parametrize(("what", "make"), ODD_ZIPS, ids=[w for w, _ in ODD_ZIPS])
def test_odd_zips_still_give_a_valid_copy(what: str, make: Callable[[bytes], bytes]) -> None:
    data = make(_several_issues())
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None, what  # zipfile reads the odd input itself
    copy = patched_copy(data, _report())
    assert copy is not None, what
    kept = _assert_kept_parts_copied_compressed(data, copy)
    assert kept >= _parts_never_changed(data) and KEPT in kept, what
    _assert_readable(copy)
    # annotate_workbook gives the same copy: the patched path comes before its guard (which
    # would refuse the bytes before the zip; validation does, so a reply never gets here).
    assert annotate_workbook(data, "x.xlsx", _report()) == copy, what


def test_stored_members_stay_stored_and_new_parts_are_deflated() -> None:
    data = _repacked(_several_issues(), method=zipfile.ZIP_STORED)
    copy = patched_copy(data, _report())
    assert copy is not None
    with zipfile.ZipFile(io.BytesIO(copy)) as archive:
        methods = {i.filename: i.compress_type for i in archive.infolist()}
    assert methods[KEPT] == zipfile.ZIP_STORED
    assert methods["xl/styles.xml"] == methods["xl/comments1.xml"] == zipfile.ZIP_DEFLATED




def _central_entry(data: bytes, name: str) -> int:
    """Where the central directory entry of ``name`` starts."""
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        (length,) = struct.unpack_from("<H", data, at + 28)
        if data[at + 46 : at + 46 + length] == name.encode():
            return at
        at = data.find(b"PK\x01\x02", at + 4)
    raise AssertionError(f"{name} not in the central directory")


def _wrong_crc(data: bytes) -> bytes:
    at = _central_entry(data, KEPT) + 16
    (crc,) = struct.unpack_from("<L", data, at)
    return data[:at] + struct.pack("<L", crc ^ 1) + data[at + 4 :]


def _encrypted_flag(data: bytes) -> bytes:
    at = _central_entry(data, KEPT) + 8
    (flags,) = struct.unpack_from("<H", data, at)
    return data[:at] + struct.pack("<H", flags | 1) + data[at + 2 :]


def _local_name(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        at = archive.getinfo(KEPT).header_offset + _LOCAL.size
    assert data[at : at + len(KEPT)] == KEPT.encode()
    return data[:at] + b"docProps/cor3.xml" + data[at + len(KEPT) :]


def _garbled(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(KEPT)
    start = data.index(KEPT.encode(), info.header_offset) + len(KEPT)
    middle = start + info.compress_size // 2
    return data[:middle] + bytes(b ^ 0x55 for b in data[middle : middle + 8]) + data[middle + 8 :]


def _cut_off(data: bytes) -> bytes:
    """The kept part's compressed size one byte short: its deflate stream does not end."""
    at = _central_entry(data, KEPT) + 20
    (size,) = struct.unpack_from("<L", data, at)
    return data[:at] + struct.pack("<L", size - 1) + data[at + 4 :]


DAMAGED: list[tuple[str, Callable[[bytes], bytes]]] = [
    ("a kept part's CRC wrong", _wrong_crc),
    ("a kept part encrypted", _encrypted_flag),
    ("a local header naming another part", _local_name),
    ("a kept part's deflate stream garbled", _garbled),
    ("a kept part cut short", _cut_off),
]


@pytest.mark.parametrize(("what", "damage"), DAMAGED, ids=[w for w, _ in DAMAGED])
def test_a_damaged_kept_part_is_never_copied(what: str, damage: Callable[[bytes], bytes]) -> None:
    """A kept part is copied compressed, but checked first: damaged, the patcher declines (as
    zipfile's read did before) and annotate_workbook still answers."""
    data = damage(_repacked(_several_issues()))
    assert patched_copy(data, _report()) is None, what
    out = annotate_workbook(data, "x.xlsx", _report())
    assert load_workbook(io.BytesIO(out)).sheetnames[-1] == wording.ANNOTATED_SHEET_TITLE


def test_the_undamaged_package_of_those_tests_is_copied() -> None:
    assert patched_copy(_repacked(_several_issues()), _report()) is not None


def test_a_copy_that_would_need_zip64_is_refused_at_the_boundary() -> None:
    writer = ZipWriter()
    writer._offset = 0xFFFFFFFF - 1  # the last offset a plain zip can hold
    writer.add("a.xml", b"<a/>")
    with pytest.raises(zipfile.LargeZipFile):
        writer.add("b.xml", b"<b/>")
    with pytest.raises(zipfile.LargeZipFile):
        writer.getvalue()


def test_the_member_count_boundary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zip_copy, "_MAX_MEMBERS", 3)
    writer = ZipWriter()
    for name in ("a", "b"):
        writer.add(name, b"")
    with zipfile.ZipFile(io.BytesIO(writer.getvalue())) as archive:
        assert archive.namelist() == ["a", "b"]
    writer.add("c", b"")
    with pytest.raises(zipfile.LargeZipFile):
        writer.getvalue()


def test_a_copy_too_large_for_a_plain_zip_falls_back_to_openpyxl(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(zip_copy, "_LIMIT", 4000)
    assert patched_copy(_several_issues(), _report()) is None
    out = annotate_workbook(_several_issues(), "x.xlsx", _report())
    assert load_workbook(io.BytesIO(out)).sheetnames[-1] == wording.ANNOTATED_SHEET_TITLE


def test_names_times_and_methods_read_back() -> None:
    source = ZipWriter()
    source.add("xl/media/Bild-ä.xml", b"<a>" * 300, (2024, 2, 29, 23, 59, 58))
    source.add("empty/", b"")
    data = source.getvalue()
    copy = ZipWriter()
    for name in ZipSource(data).names:
        copy.copy(ZipSource(data), name)
    for package in (data, copy.getvalue()):
        with zipfile.ZipFile(io.BytesIO(package)) as archive:
            first, second = archive.infolist()
            assert first.filename == "xl/media/Bild-ä.xml" and first.flag_bits & 0x800
            assert first.date_time == (2024, 2, 29, 23, 59, 58)
            assert archive.read(first) == b"<a>" * 300
            assert second.date_time == zip_copy.NEW_PART_TIME and archive.read(second) == b""
    assert copy.getvalue() == data


@pytest.mark.slow
def test_libreoffice_opens_the_copy_of_an_odd_zip(tmp_path: Path) -> None:
    """Stored parts with data descriptors, extra fields and a comment: LibreOffice reads the
    copy (values as in the source, then the Issues sheet) and saves it again with the marks."""
    data = _repacked(
        _several_issues(),
        method=zipfile.ZIP_STORED,
        descriptors=True,
        extra=struct.pack("<HHBL", 0x5455, 5, 1, 0),
        comment=b"odd",
    )
    copy = patched_copy(data, _report())
    assert copy is not None
    source = tmp_path / "copy.xlsx"
    source.write_bytes(copy)
    (resaved,) = soffice_convert([source], "xlsx", tmp_path / "xlsx", tmp_path)
    book = load_workbook(resaved)
    assert book.sheetnames == [SHEET, wording.ANNOTATED_SHEET_TITLE]
    assert book[SHEET]["D7"].comment is not None
    original = load_workbook(io.BytesIO(_several_issues()), data_only=True)[SHEET]
    assert [list(r) for r in book[SHEET].iter_rows(max_row=8, values_only=True)] == [
        list(r) for r in original.iter_rows(max_row=8, values_only=True)
    ]


HOSTILE = sorted(p.name for p in (FIXTURES / "hostile").glob("*.xlsx"))


@pytest.mark.parametrize("fixture", HOSTILE)
def test_hostile_packages_are_declined_cheaply_and_answered_with_the_issues_sheet(
    fixture: str,
) -> None:
    """The patched copy runs before the guard: it must decline every hostile package itself,
    inflating little (a bomb's parts no further than their declared sizes), and the guard
    after it still refuses the file."""
    data = (FIXTURES / "hostile" / fixture).read_bytes()
    tracemalloc.start()
    try:
        assert patched_copy(data, _report()) is None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024, peak  # zip_bomb_lying_sizes inflates to 2 GB
    out = annotate_workbook(data, "x.xlsx", _report())
    assert load_workbook(io.BytesIO(out)).sheetnames == [wording.ANNOTATED_SHEET_TITLE]


def test_declared_limits_are_the_guards(monkeypatch: pytest.MonkeyPatch) -> None:
    """A package within the guard's limits is patched; one part more than it allows, a part
    expanding one step too fast, or one byte more of sheet XML than STYLED_COPY_MAX_SHEET_XML,
    and it is declined."""
    data = _several_issues()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
    sheets = sum(i.file_size for i in infos if i.filename.startswith("xl/worksheets/"))
    monkeypatch.setattr(annotate, "STYLED_COPY_MAX_SHEET_XML", sheets)
    assert patched_copy(data, _report()) is not None
    monkeypatch.setattr(annotate, "STYLED_COPY_MAX_SHEET_XML", sheets - 1)
    assert patched_copy(data, _report()) is None
    monkeypatch.undo()
    for most, declined in ((len(infos), False), (len(infos) - 1, True)):
        limits = dataclasses.replace(guards_zip.zip_limits(len(data)), max_entries=most)
        monkeypatch.setattr(xlsx_patch, "zip_limits", lambda size, limits=limits: limits)
        assert (patched_copy(data, _report()) is None) is declined, most
    # Expanding too fast: past the floor, more than max_ratio times the compressed size.
    largest = max(infos, key=lambda i: i.file_size)
    ratio = largest.file_size // largest.compress_size  # floor: file_size > ratio * compressed
    for floor, most, declined in (
        (largest.file_size, ratio, False),  # not past the floor
        (largest.file_size - 1, ratio + 1, False),  # past it, but within the ratio
        (largest.file_size - 1, ratio, True),
    ):
        limits = dataclasses.replace(
            guards_zip.zip_limits(len(data)), ratio_floor=floor, max_ratio=most
        )
        monkeypatch.setattr(xlsx_patch, "zip_limits", lambda size, limits=limits: limits)
        assert (patched_copy(data, _report()) is None) is declined, (floor, most)


def test_the_patched_copy_is_made_without_the_guards_second_look(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The guard re-inflates every part; the patched path does not need it (it is safe by
    itself, see above), so a return is annotated without it."""

    def no_guard(*args: object, **kwargs: object) -> None:
        raise AssertionError("the guard ran again")

    monkeypatch.setattr(annotate, "check_container", no_guard)
    data = _several_issues()
    assert annotate_workbook(data, "x.xlsx", _report()) == patched_copy(data, _report())
