"""The plain package a values copy starts from (reports/values_package.py), and the values copy
of .csv, .ods and .xls files that is made from it: every kind of value as openpyxl wrote it,
marks and comments where the validator put them, sheet titles within Excel's rules."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from xml.parsers import expat

import pytest
from openpyxl import load_workbook

from kernel import wording
from reports import annotate
from reports.annotate import annotate_workbook
from reports.values_package import (
    MAX_CELL_CHARS,
    SharedStrings,
    ValuesSheet,
    sheet_xml,
    values_package,
)
from reports.xlsx_cells import SEVERITY_COLOURS, UK_DATE, UK_DATE_TIME
from tests import hostile_corpus
from tests.reports_support import sample_issues
from tests.test_annotate import (
    _assert_issues_sheet,
    _assert_marked,
    _fill,
    _report,
    _values,
    _whole,
)
from tests.test_hostile_corpus import SEED
from validation.issues import Issue, Severity
from validation.reader import read_workbook

FIXTURES = Path(__file__).parent / "fixtures"


def _book(*sheets: ValuesSheet) -> Any:
    return load_workbook(io.BytesIO(values_package(list(sheets))))


def test_every_kind_of_value_comes_back_as_openpyxl_wrote_it() -> None:
    values = [12, 12.0, 2.5, -0.1, True, False, "Croydon", "", None, "=1+1", "a < b & c > d",
              date(2024, 10, 3), datetime(2024, 10, 3), datetime(2024, 10, 3, 9, 30),
              time(9, 30, 15), timedelta(hours=30), 1e300]
    sheet = _book(ValuesSheet("Marac data", [(1, values)], {}))["Marac data"]
    got = [cell.value for cell in sheet[1]]
    assert got[:4] == [12, 12, 2.5, -0.1]
    assert isinstance(got[1], int)  # a whole float is written as a whole number
    assert got[4:6] == [True, False]
    assert got[6] == "Croydon" and got[7] is None and got[8] is None
    formula_like = sheet.cell(1, 10)
    assert formula_like.value == "=1+1" and formula_like.data_type != "f"  # text, never a formula
    assert got[10] == "a < b & c > d"
    assert got[11] == datetime(2024, 10, 3) and sheet.cell(1, 12).number_format == UK_DATE
    assert got[12] == datetime(2024, 10, 3) and sheet.cell(1, 13).number_format == UK_DATE
    assert got[13] == datetime(2024, 10, 3, 9, 30)
    assert sheet.cell(1, 14).number_format == UK_DATE_TIME
    assert got[14] == time(9, 30, 15) and sheet.cell(1, 15).number_format == "h:mm:ss"
    assert got[15] == timedelta(hours=30) and sheet.cell(1, 16).number_format == "[h]:mm:ss"
    assert got[16] == 1e300


@pytest.mark.parametrize(("value", "shown"), [(float("nan"), "nan"), (float("inf"), "inf"),
                                               (float("-inf"), "-inf")])
def test_a_number_excel_cannot_hold_is_written_as_text(value: float, shown: str) -> None:
    sheet = _book(ValuesSheet("S", [(1, [value])], {}))["S"]
    assert sheet["A1"].value == shown


def test_text_is_cut_to_excels_cell_limit_and_loses_what_xml_cannot_hold() -> None:
    at_limit, over = "a" * MAX_CELL_CHARS, "b" * (MAX_CELL_CHARS + 1)
    odd = "x\x00y\x1bz\ufffe\uffff\ud800é"
    sheet = _book(ValuesSheet("S", [(1, [at_limit, over, odd, "\x00"])], {}))["S"]
    assert sheet["A1"].value == at_limit
    assert sheet["B1"].value == "b" * MAX_CELL_CHARS
    assert sheet["C1"].value == "xyzé"
    assert sheet["D1"].value is None  # nothing left to write: no cell


def test_row_numbers_widths_and_titles_are_kept_and_blank_rows_written_as_nothing() -> None:
    rows: list[tuple[int, list[Any]]] = [(1, ["Marac", "Date"]), (3, []), (4, [None, None]),
                                         (7, ["Leeds", 3])]
    book = _book(ValuesSheet("First", rows, {1: 8, 2: 40}),
                 ValuesSheet("Ann's \"sheet\" & co", [(2, [1])], {}))
    assert book.sheetnames == ["First", "Ann's \"sheet\" & co"]
    first = book["First"]
    assert first.max_row == 7 and first["A7"].value == "Leeds" and first["B7"].value == 3
    assert first["A3"].value is None and first["A4"].value is None
    assert first.column_dimensions["A"].width == 8 and first.column_dimensions["B"].width == 40
    assert book["Ann's \"sheet\" & co"]["A2"].value == 1
    xml = b"".join(sheet_xml(ValuesSheet("First", rows, {}), SharedStrings())).decode()
    assert '<row r="3"' not in xml and '<row r="4"' not in xml  # no empty rows
    assert "<cols>" not in xml  # no widths, no element


def test_every_part_is_well_formed_xml() -> None:
    values = ["<&>\"'", 1, date(2024, 1, 1), "\x1b[31m", "]]>"]
    data = values_package([ValuesSheet("A & B", [(1, values)], {1: 9})])
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert package.testzip() is None
        for name in package.namelist():
            expat.ParserCreate().Parse(package.read(name), True)


def test_a_csv_named_past_excels_31_characters_is_marked_on_its_cut_title() -> None:
    name = "croydon-marac-return-q3-2024-25-final-v2"  # 40 characters
    data = (FIXTURES / "utf8_bom_comma.csv").read_bytes()
    issues = sample_issues(sheet=name)
    book = load_workbook(io.BytesIO(annotate_workbook(data, f"{name}.csv",
                                                      _report(f"{name}.csv", issues, name))))
    title = name[:31]
    assert book.sheetnames == [title, wording.ANNOTATED_SHEET_TITLE]
    _assert_marked(book, title)
    _assert_issues_sheet(book, issues)
    # The Issues sheet names the sheet as the file did, not as Excel's title cut it.
    assert {row[2] for row in book[wording.ANNOTATED_SHEET_TITLE].iter_rows(
        min_row=2, values_only=True)} == {name}


@pytest.mark.parametrize("fixture", ["clean_libreoffice.ods", "clean_libreoffice.xls"])
def test_the_openpyxl_copy_still_serves_when_the_patcher_declines(
        fixture: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The way kept for a package the patcher does not take: the same sheets, values, marks."""
    data = (FIXTURES / fixture).read_bytes()
    issues = sample_issues()
    made = annotate_workbook(data, fixture, _report(fixture, issues))
    monkeypatch.setattr(annotate, "patched_copy", lambda *args, **kwargs: None)
    fallback = annotate_workbook(data, fixture, _report(fixture, issues))
    books = [load_workbook(io.BytesIO(out)) for out in (made, fallback)]
    for book in books:
        _assert_marked(book)
        _assert_issues_sheet(book, issues)
    sheets = [[list(row) for row in book["Marac data"].iter_rows(values_only=True)]
              for book in books]
    assert sheets[0] == sheets[1]
    assert books[0].sheetnames == books[1].sheetnames


def test_an_ods_whose_repeated_rows_unfold_to_16389_is_copied_whole_and_marked() -> None:
    """The hostile corpus's 15 KB .ods that took 11 s to copy through openpyxl."""
    name, data = hostile_corpus.one(SEED, 126)
    assert "repeated" in name and name.endswith(".ods")
    issues = [Issue.make("exceeds-cases", sheet="Marac data", cell="D16391", row=16391,
                         value=25, cases=20)]
    out = annotate_workbook(data, name, _report(name, issues))
    copied = _values(out, "Marac data")
    assert copied == [_whole(row) for row in _values(data, "Marac data")]
    assert len(copied) > 16_389 and copied[16_390][3] == 25
    sheet = load_workbook(io.BytesIO(out), read_only=True)["Marac data"]
    (marked,) = sheet.iter_rows(min_row=16_391, max_row=16_391)
    assert _fill(marked[3]) == SEVERITY_COLOURS[Severity.HARD]
    with zipfile.ZipFile(io.BytesIO(out)) as package:
        (comments,) = [n for n in package.namelist() if n.startswith("xl/comments")]
        assert 'ref="D16391"' in package.read(comments).decode()


def test_each_text_is_kept_once_and_named_by_its_place() -> None:
    rows: list[tuple[int, list[Any]]] = [(1, ["Croydon", "Leeds"]), (2, ["Croydon", "12"]),
                                         (3, ["Leeds", "Croydon"])]
    data = values_package([ValuesSheet("S", rows, {})])
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        table = package.read("xl/sharedStrings.xml").decode()
        sheet = package.read("xl/worksheets/sheet1.xml").decode()
    assert 'count="6" uniqueCount="3"' in table
    assert table.count(">Croydon<") == 1 and table.count(">Leeds<") == 1
    assert sheet.count('t="s"><v>0</v>') == 3  # Croydon, everywhere it stands
    assert [[c.value for c in row] for row in _book(ValuesSheet("S", rows, {}))["S"]] == [
        list(values) for _, values in rows]


def test_a_copy_past_the_cell_cap_is_written_by_openpyxl_and_marked_alike(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Up to VALUES_PACKAGE_MAX_CELLS the plain package and the patcher (comments in
    xl/comments1.xml); past it openpyxl, whose memory stays flat (xl/comments/comment1.xml)."""
    fixture = "clean_libreoffice.ods"
    data = (FIXTURES / fixture).read_bytes()
    read = read_workbook(data, fixture)
    assert not isinstance(read, Issue)
    cells = sum(len(values) for sheet in read.sheets for _, values in sheet.rows)
    assert annotate.VALUES_PACKAGE_MAX_CELLS >= 1_000_000 > 100 * cells
    parts = {}
    for cap in (cells, cells - 1):
        monkeypatch.setattr(annotate, "VALUES_PACKAGE_MAX_CELLS", cap)
        out = annotate_workbook(data, fixture, _report(fixture, sample_issues()))
        _assert_marked(load_workbook(io.BytesIO(out)))
        with zipfile.ZipFile(io.BytesIO(out)) as package:
            parts[cap] = {n for n in package.namelist() if n.endswith(".xml") and "comment" in n}
    assert parts[cells] == {"xl/comments1.xml"}
    assert parts[cells - 1] == {"xl/comments/comment1.xml"}


_CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_OFFICE = "application/vnd.openxmlformats-officedocument.spreadsheetml."
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _parts(data: bytes) -> dict[str, ElementTree.Element]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert {i.compress_type for i in package.infolist()} == {zipfile.ZIP_DEFLATED}
        return {name: ElementTree.fromstring(package.read(name)) for name in package.namelist()}


def _no_stray_text(root: ElementTree.Element, holding: tuple[str, ...] = ()) -> bool:
    """Text only where the schema has it (``holding``): nothing between elements."""
    return all(not (element.tail or "").strip() and (
        element.tag in holding or not (element.text or "").strip()) for element in root.iter())


def test_every_part_is_typed_and_related_as_excel_expects() -> None:
    parts = _parts(values_package([ValuesSheet("A", [(1, ["x"])], {}),
                                   ValuesSheet("B", [(1, [1])], {})]))
    types = parts["[Content_Types].xml"]
    defaults = {e.get("Extension"): e.get("ContentType") for e in types.iter(_CT + "Default")}
    assert defaults == {"rels": "application/vnd.openxmlformats-package.relationships+xml",
                        "xml": "application/xml"}
    overrides = {e.get("PartName"): e.get("ContentType") for e in types.iter(_CT + "Override")}
    assert overrides == {
        "/xl/workbook.xml": _OFFICE + "sheet.main+xml",
        "/xl/styles.xml": _OFFICE + "styles+xml",
        "/xl/sharedStrings.xml": _OFFICE + "sharedStrings+xml",
        "/xl/worksheets/sheet1.xml": _OFFICE + "worksheet+xml",
        "/xl/worksheets/sheet2.xml": _OFFICE + "worksheet+xml",
    }
    assert set(parts) == {"[Content_Types].xml", "_rels/.rels", "xl/_rels/workbook.xml.rels",
                          *(str(name).lstrip("/") for name in overrides)}
    assert [(r.get("Id"), r.get("Type"), r.get("Target")) for r in parts["_rels/.rels"]] == [
        ("rId1", f"{_REL}/officeDocument", "xl/workbook.xml")]
    related = {r.get("Id"): (r.get("Type"), r.get("Target"))
               for r in parts["xl/_rels/workbook.xml.rels"]}
    assert len(related) == len(parts["xl/_rels/workbook.xml.rels"]) == 4  # ids unique
    assert sorted(related.values()) == [
        (f"{_REL}/sharedStrings", "sharedStrings.xml"), (f"{_REL}/styles", "styles.xml"),
        (f"{_REL}/worksheet", "worksheets/sheet1.xml"),
        (f"{_REL}/worksheet", "worksheets/sheet2.xml")]
    sheets = [(s.get("name"), s.get("sheetId"), related[str(s.get(f"{{{_REL}}}id"))][1])
              for s in parts["xl/workbook.xml"].iter(_MAIN + "sheet")]
    assert sheets == [("A", "1", "worksheets/sheet1.xml"), ("B", "2", "worksheets/sheet2.xml")]
    for name in ("[Content_Types].xml", "_rels/.rels", "xl/_rels/workbook.xml.rels",
                 "xl/workbook.xml", "xl/styles.xml"):
        assert _no_stray_text(parts[name]), name
    assert _no_stray_text(parts["xl/sharedStrings.xml"], (_MAIN + "t",))
    assert _no_stray_text(parts["xl/worksheets/sheet1.xml"], (_MAIN + "v",))


def test_styles_hold_the_uk_formats_and_counts_that_match_what_they_list() -> None:
    styles = _parts(values_package([ValuesSheet("S", [], {})]))["xl/styles.xml"]
    formats = {n.get("numFmtId"): n.get("formatCode") for n in styles.iter(_MAIN + "numFmt")}
    assert formats == {"164": UK_DATE, "165": UK_DATE_TIME}
    for parent, child in (("numFmts", "numFmt"), ("fonts", "font"), ("fills", "fill"),
                          ("borders", "border"), ("cellStyleXfs", "xf"), ("cellXfs", "xf"),
                          ("cellStyles", "cellStyle")):
        listed = styles.find(_MAIN + parent)
        assert listed is not None, parent
        assert int(listed.get("count", "-1")) == len(listed.findall(_MAIN + child)) >= 1, parent
    cell_formats = styles.findall(f"{_MAIN}cellXfs/{_MAIN}xf")
    # Default, date, date and time, time (Excel's 21), duration (Excel's 46): the s="N" used.
    assert [x.get("numFmtId") for x in cell_formats] == ["0", "164", "165", "21", "46"]
    assert [x.get("applyNumberFormat") for x in cell_formats] == [None, "1", "1", "1", "1"]
    for xf in [*cell_formats, *styles.findall(f"{_MAIN}cellStyleXfs/{_MAIN}xf")]:
        assert (xf.get("fontId"), xf.get("fillId"), xf.get("borderId")) == ("0", "0", "0")
    assert {xf.get("xfId") for xf in cell_formats} == {"0"}
    fills = [f.find(_MAIN + "patternFill") for f in styles.iter(_MAIN + "fill")]
    assert [f.get("patternType") for f in fills if f is not None] == ["none", "gray125"]
    font = styles.find(f"{_MAIN}fonts/{_MAIN}font")
    assert font is not None
    assert [(e.tag[len(_MAIN):], e.get("val")) for e in font] == [
        ("sz", "11"), ("name", "Calibri"), ("family", "2")]
    border = styles.find(f"{_MAIN}borders/{_MAIN}border")
    assert border is not None
    assert [e.tag[len(_MAIN):] for e in border] == ["left", "right", "top", "bottom", "diagonal"]
    normal = styles.find(f"{_MAIN}cellStyles/{_MAIN}cellStyle")
    assert normal is not None
    assert (normal.get("name"), normal.get("xfId"), normal.get("builtinId")) == ("Normal", "0", "0")


def test_a_sheet_and_its_strings_are_written_exactly_so() -> None:
    strings = SharedStrings()
    rows: list[tuple[int, list[Any]]] = [(1, ["Marac", 3, None, True]), (2, []), (3, [None]),
                                         (4, [date(2024, 10, 3), "Leeds", "Marac"])]
    xml = b"".join(sheet_xml(ValuesSheet("S", rows, {1: 10.5, 3: 8}), strings)).decode()
    assert xml == (
        f'{_DECL}<worksheet xmlns="{_MAIN[1:-1]}"><cols>'
        '<col min="1" max="1" width="10.5" customWidth="1"/>'
        '<col min="3" max="3" width="8" customWidth="1"/></cols><sheetData>'
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1"><v>3</v></c>'
        '<c r="D1" t="b"><v>1</v></c></row>'
        '<row r="4"><c r="A4" s="1"><v>45568.0</v></c><c r="B4" t="s"><v>1</v></c>'
        '<c r="C4" t="s"><v>0</v></c></row></sheetData></worksheet>')
    assert strings.xml().decode() == (
        f'{_DECL}<sst xmlns="{_MAIN[1:-1]}" count="3" uniqueCount="2">'
        '<si><t xml:space="preserve">Marac</t></si><si><t xml:space="preserve">Leeds</t></si>'
        "</sst>")
    no_widths = b"".join(sheet_xml(ValuesSheet("S", [], {}), SharedStrings())).decode()
    assert no_widths == (
        f'{_DECL}<worksheet xmlns="{_MAIN[1:-1]}"><sheetData></sheetData></worksheet>')


def _csv(rows: list[list[str]]) -> bytes:
    return "".join(",".join(row) + "\r\n" for row in rows).encode()


@pytest.mark.parametrize("declined", [False, True])
def test_column_widths_follow_the_first_200_rows_between_8_and_40(
        declined: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if declined:  # the openpyxl way gives the same widths
        monkeypatch.setattr(annotate, "patched_copy", lambda *args, **kwargs: None)
    rows = [["Marac", "", "Cases discussed", "x" * 39, "y" * 60]]
    rows += [["Croydon", "", "12", "1", "2"]] * 198
    rows += [["A much longer Marac name than any before", "", "1", "1", "1"]]  # row 200: counted
    rows += [["z" * 30, "z" * 30, "1", "1", "1"]]  # row 201: not looked at
    out = annotate_workbook(_csv(rows), "w.csv", _report("w.csv", [], "w"))
    columns = load_workbook(io.BytesIO(out))["w"].column_dimensions
    # len + 2 for a long name, 8 at least (B is blank until row 201), 40 at most.
    assert [columns[c].width for c in "ABCDE"] == [42 - 2, 8, 17, 40, 40]


def test_marks_down_to_1000_rows_past_the_data_are_drawn_and_no_further(
        monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [["Marac", "Date"], ["Croydon", "03/10/2024"], [], ["Leeds", "04/10/2024"]]
    data = _csv(rows)  # its data ends on row 4, with row 3 blank between
    issues = [Issue.make("missing-date", sheet="m", cell=f"B{row}", row=row)
              for row in (3, 1004, 1005)]
    copies = [annotate_workbook(data, "m.csv", _report("m.csv", issues, "m"))]
    monkeypatch.setattr(annotate, "patched_copy", lambda *args, **kwargs: None)
    copies.append(annotate_workbook(data, "m.csv", _report("m.csv", issues, "m")))
    for out in copies:
        sheet = load_workbook(io.BytesIO(out))["m"]
        marked = [c.coordinate for row in sheet.iter_rows() for c in row if c.comment]
        assert marked == ["B3", "B1004"]
        assert sheet["A4"].value == "Leeds" and sheet.max_row == 1004


def test_an_empty_sheet_is_marked_down_to_row_1000(monkeypatch: pytest.MonkeyPatch) -> None:
    issues = [Issue.make("missing-date", sheet="e", cell=f"B{row}", row=row)
              for row in (1000, 1001)]
    blank = b",,\r\n\r\n"  # a sheet with no row of data
    copies = [annotate_workbook(blank, "e.csv", _report("e.csv", issues, "e"))]
    monkeypatch.setattr(annotate, "patched_copy", lambda *args, **kwargs: None)
    copies.append(annotate_workbook(blank, "e.csv", _report("e.csv", issues, "e")))
    for out in copies:
        book = load_workbook(io.BytesIO(out))
        assert book.sheetnames == ["e", wording.ANNOTATED_SHEET_TITLE]
        marked = [c.coordinate for row in book["e"].iter_rows() for c in row if c.comment]
        assert marked == ["B1000"]


def test_an_issue_without_a_sheet_marks_the_reports_sheet_in_a_values_copy() -> None:
    data = (FIXTURES / "clean_libreoffice.ods").read_bytes()
    out = annotate_workbook(data, "x.ods", _report("x.ods", sample_issues(sheet=None)))
    _assert_marked(load_workbook(io.BytesIO(out)))


def test_a_file_that_cannot_be_read_again_gives_the_issues_sheet_and_a_log_line(
        caplog: pytest.LogCaptureFixture) -> None:
    # A package the guard lets through whose content.xml is not XML: the reader gives up.
    source = zipfile.ZipFile(FIXTURES / "clean_libreoffice.ods")
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as package:
        for info in source.infolist():
            package.writestr(info, b"<not xml" if info.filename == "content.xml"
                             else source.read(info.filename))
    data = broken.getvalue()
    issues = sample_issues()
    with caplog.at_level("INFO", logger="reports.annotate"):
        out = annotate_workbook(data, "x.ods", _report("x.ods", issues))
    book = load_workbook(io.BytesIO(out))
    assert book.sheetnames == [wording.ANNOTATED_SHEET_TITLE]
    _assert_issues_sheet(book, issues)
    (line,) = [r.getMessage() for r in caplog.records if "cannot copy" in r.getMessage()]
    assert line == "cannot copy x.ods (unreadable-file): Issues sheet only"
