"""Cells as Excel and LibreOffice save them after a formula: an error value (#N/A, #DIV/0!) is
not blank, and an empty text result is (spec §3: blank means "not collected"; §4
``invalid-count``, ``invalid-date``). calamine reads both as blank; the worksheet scan tells
them apart, so that a broken figure is never recorded as "not collected" and a template built
with ``=IF(…,"",…)`` keeps its rows. Through ``validate_bytes``: the guard, the capped
reader (the read begun early, then done again with the scan's findings) and the checks."""

from __future__ import annotations

import io
import re
import struct
import zipfile
from datetime import date

import openpyxl
import pytest

from tests.fixtures import make_fixtures as mf
from validation.context import ValidationContext
from validation.issues import Issue
from validation.report import FileReport
from validation.validate import validate_bytes
from validation.xls_scan import XlsFacts, workbook_facts, xls_facts

SHEET = "xl/worksheets/sheet1.xml"
CONTEXT = ValidationContext(today=date(2025, 6, 1))


def workbook(cells: dict[str, str]) -> bytes:
    """The six clean meetings, each cell in ``cells`` written as the raw XML given (a
    spreadsheet application's way of saving it), in place of openpyxl's."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in mf.baseline_grid():
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as source:
        parts = {info: source.read(info) for info in source.infolist()}
    for info in parts:
        if info.filename == SHEET:
            xml = parts[info].decode()
            for ref, raw in cells.items():
                xml, count = re.subn(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', raw, xml, count=1)
                assert count == 1, ref
            parts[info] = xml.encode()
    result = io.BytesIO()
    with zipfile.ZipFile(result, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in parts.items():
            target.writestr(info, data)
    return result.getvalue()


def checked(cells: dict[str, str]) -> FileReport:
    return validate_bytes(workbook(cells), "return.xlsx", CONTEXT)


def found(report: FileReport) -> list[tuple[str | None, str, object]]:
    return [(i.cell, i.code, i.value) for i in report.issues if i.code != "registry-not-checked"]


def test_an_error_value_in_a_count_is_an_invalid_count_not_a_blank() -> None:
    report = checked({
        "D3": '<c r="D3" t="e"><f>NA()</f><v>#N/A</v></c>',
        "E4": '<c r="E4" t="e"><v>#DIV/0!</v></c>',
    })
    assert found(report) == [("D3", "invalid-count", "#N/A"), ("E4", "invalid-count", "#DIV/0!")]
    assert all(i.is_hard for i in report.issues if i.code == "invalid-count")
    assert [r.sheet_row for r in report.rows if r.hard] == [3, 4]
    assert report.rows_accepted == 4


def test_an_error_value_in_the_meeting_date_is_an_invalid_date() -> None:
    report = checked({"B5": '<c r="B5" t="e"><f>DATE(2024,13,"x")</f><v>#VALUE!</v></c>'})
    assert found(report) == [("B5", "invalid-date", "#VALUE!")]
    assert report.rows_accepted == 5


def test_a_formula_whose_text_result_is_empty_is_a_blank_cell() -> None:
    """LibreOffice and Excel save ``=IF(C6="","",…)`` left empty as ``t="str"`` with an empty
    value: blank (not collected), the row accepted."""
    report = checked({"W6": '<c r="W6" t="str"><f>IF(C6&gt;0,"","")</f><v></v></c>'})
    assert found(report) == []
    assert report.rows_accepted == 6
    assert report.rows[4].counts["disabled"] is None  # W6


@pytest.mark.parametrize("raw", [
    '<c r="W6"><f>SUM(C6:D6)</f></c>',  # never calculated: openpyxl's own way
    '<c r="W6" t="str"><f>C6</f></c>',  # a text result, but no value at all
    '<c r="W6"><f>SUM(C6:D6)</f><v></v></c>',  # an empty value where a number belongs
])
def test_a_formula_with_no_stored_value_is_still_an_invalid_count(raw: str) -> None:
    report = checked({"W6": raw})
    assert found(report) == [("W6", "invalid-count", "a formula with no stored value")]
    assert report.rows_accepted == 5


def test_a_filled_down_formula_is_read_as_excel_writes_it() -> None:
    """Excel writes every cell of a formula filled down after the first as a self-closing
    shared formula, ``<f t="shared" si="0"/>``: its error value, or its lack of a value, is
    found as in any other cell; its stored value is read as usual."""
    report = checked({
        "D2": '<c r="D2"><f t="shared" ref="D2:D4" si="0">C2/3</f><v>1</v></c>',
        "D3": '<c r="D3" t="e"><f t="shared" si="0"/><v>#DIV/0!</v></c>',
        "D4": '<c r="D4"><f t="shared" si="0"/></c>',
        "D5": '<c r="D5"><f t="shared" si="0"/><v>2</v></c>',
    })
    assert found(report) == [("D3", "invalid-count", "#DIV/0!"),
                             ("D4", "invalid-count", "a formula with no stored value")]
    assert [r.sheet_row for r in report.rows if r.hard] == [3, 4]
    assert report.rows[3].counts["repeat_cases"] == 2  # D5, from its stored value


def test_every_kind_of_finding_is_kept_when_several_meet_in_one_file() -> None:
    report = checked({
        "D2": '<c r="D2" t="e"><v>#REF!</v></c>',
        "W6": '<c r="W6" t="str"><f>""</f><v></v></c>',
        "X7": '<c r="X7"><f>1/0</f></c>',
    })
    assert found(report) == [("D2", "invalid-count", "#REF!"),
                             ("X7", "invalid-count", "a formula with no stored value")]
    assert isinstance(report.issues[0], Issue)


def ods_with(old: bytes, new: bytes) -> bytes:
    """The clean LibreOffice .ods fixture with one cell of content.xml replaced."""
    source = zipfile.ZipFile(io.BytesIO((mf.FIXTURES_DIR / "clean_libreoffice.ods").read_bytes()))
    out = io.BytesIO()
    with source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "content.xml":
                assert old in data
                data = data.replace(old, new, 1)
            target.writestr(info, data)
    return out.getvalue()


def test_an_error_value_in_an_ods_is_an_invalid_count_too() -> None:
    """LibreOffice's own format saves ``=NA()`` as an empty string value beside its text."""
    first_d = b'office:value-type="float" office:value="5" calcext:value-type="float"><text:p>5'
    error = (b'table:formula="of:=NA()" office:value-type="string" office:string-value="" '
             b'calcext:value-type="error"><text:p>#N/A')
    report = validate_bytes(ods_with(first_d, error), "return.ods", CONTEXT)
    assert found(report) == [("D2", "invalid-count", "#N/A")]
    assert report.rows_accepted == 5


def test_an_error_value_in_an_xls_is_an_invalid_count_too() -> None:
    """LibreOffice's .xls (BIFF8) of the clean template with =NA() in D2, =1/0 in E3 and
    ="" in W6: calamine reads all three as blank; the first two are broken figures."""
    data = (mf.FIXTURES_DIR / "error_values_libreoffice.xls").read_bytes()
    report = validate_bytes(data, "return.xls", CONTEXT)
    invalid = [(i.cell, i.value) for i in report.issues if i.code == "invalid-count"]
    assert invalid == [("D2", "#N/A"), ("E3", "#DIV/0!")]
    assert not [i for i in report.issues if i.cell == "W6"]


def record(kind: int, body: bytes) -> bytes:
    return struct.pack("<HH", kind, len(body)) + body


def boundsheet(offset: int, name: str, *, wide: bool = False) -> bytes:
    raw = name.encode("utf-16-le" if wide else "latin-1")
    return record(0x0085, struct.pack("<IBBBB", offset, 0, 0, len(name), int(wide)) + raw)


def boolerr(row: int, column: int, value: int, *, error: bool) -> bytes:
    return record(0x0205, struct.pack("<HHHBB", row, column, 15, value, int(error)))


def formula(row: int, column: int, result: bytes) -> bytes:
    return record(0x0006, struct.pack("<HHH", row, column, 15) + result + b"\0" * 6)


def error_result(code: int) -> bytes:
    return bytes([2, 0, code, 0, 0, 0, 0xFF, 0xFF])


def stream(*sheets: tuple[str, bool, list[bytes]], globals_: bytes = b"") -> bytes:
    """A workbook stream: globals (BOF, ``globals_``, a BoundSheet8 per sheet, EOF), then each
    sheet's substream (BOF, its cells, EOF), the BoundSheet8 offsets pointing at those BOFs."""
    bof, eof = record(0x0809, b"\0\x06\x10\0"), record(0x000A, b"")
    globals_size = (len(bof) + len(globals_) + len(eof)
                    + sum(len(boundsheet(0, n, wide=w)) for n, w, _ in sheets))
    parts, offsets, at = [], [], globals_size
    for _, _, cells in sheets:
        offsets.append(at)
        part = bof + b"".join(cells) + eof
        parts.append(part)
        at += len(part)
    head = bof + globals_ + b"".join(boundsheet(o, n, wide=w)
                          for o, (n, w, _) in zip(offsets, sheets, strict=True)) + eof
    return head + b"".join(parts)


def test_the_xls_records_of_error_values_are_read_by_sheet() -> None:
    data = stream(
        ("Marac data", False, [boolerr(1, 3, 0x2A, error=True), boolerr(1, 4, 1, error=False),
                               formula(2, 4, error_result(0x07)),
                               formula(2, 5, struct.pack("<d", 12.0)),
                               formula(5, 22, bytes([3, 0, 0, 0, 0, 0, 0xFF, 0xFF]))]),
        ("Données €", True, [formula(0, 0, error_result(0x99))]),
    )
    assert workbook_facts(data) == XlsFacts({"Marac data": {"D2": "#N/A", "E3": "#DIV/0!"},
                                             "Données €": {"A1": "#ERROR"}}, date1904=False)


def test_unknown_error_codes_short_formulas_and_records_outside_a_sheet() -> None:
    # An error code of no known name is still an error; a FORMULA record of its least size
    # (14 bytes: cell, format, result) is read; a sheet may be named "" by a writer.
    shortest = record(0x0006, struct.pack("<HHH", 3, 2, 15) + error_result(0x2A))
    data = stream(("", False, [boolerr(1, 3, 0x63, error=True), shortest]))
    assert workbook_facts(data).errors == {"": {"D2": "#ERROR", "C4": "#N/A"}}
    # A cell record outside every sheet's substream (before the first BOF, between an EOF
    # and the next BOF) belongs to no sheet.
    stray = boolerr(9, 9, 0x2A, error=True)
    named = stream(("Marac data", False, [boolerr(1, 3, 0x2A, error=True)]))
    assert workbook_facts(stray + named).errors == {}  # the offsets no longer match: no sheet
    assert workbook_facts(named + stray).errors == {"Marac data": {"D2": "#N/A"}}


def test_an_encrypted_or_cut_xls_stream_gives_nothing_and_never_raises() -> None:
    cells = [boolerr(1, 3, 0x2A, error=True)]
    whole = stream(("Marac data", False, cells))
    assert workbook_facts(whole).errors == {"Marac data": {"D2": "#N/A"}}
    encrypted = record(0x002F, b"\0" * 6) + whole  # FILEPASS: what follows is encrypted
    assert workbook_facts(encrypted) == XlsFacts()
    wide = stream(("Données", True, cells))  # a UTF-16 name: a cut may halve a character
    for data in (whole, wide):
        for cut in range(len(data)):
            workbook_facts(data[:cut])  # a record cut short anywhere: no exception
    assert xls_facts(b"not an ole file") == xls_facts(b"\xd0\xcf\x11\xe0\xa1\xb1") == XlsFacts()


def test_the_date_system_is_read_from_the_globals_alone() -> None:
    cells = [boolerr(1, 3, 0x2A, error=True)]
    mac = stream(("Marac data", False, cells), globals_=record(0x0022, b"\x01\x00"))
    assert workbook_facts(mac) == XlsFacts({"Marac data": {"D2": "#N/A"}}, date1904=True)
    said_1900 = stream(("Marac data", False, cells), globals_=record(0x0022, b"\x00\x00"))
    assert not workbook_facts(said_1900).date1904
    # A DATEMODE record in a sheet's substream is not the workbook's: it is not read.
    in_sheet = stream(("Marac data", False, [record(0x0022, b"\x01\x00")]))
    assert not workbook_facts(in_sheet).date1904
