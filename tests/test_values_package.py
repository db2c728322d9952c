"""The plain package a values copy starts from (reports/values_package.py), and the values copy
of .csv, .ods and .xls files that is made from it: every kind of value as openpyxl wrote it,
marks and comments where the validator put them, sheet titles within Excel's rules."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
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
    rows = [(1, ["Marac", "Date"]), (3, []), (4, [None, None]), (7, ["Leeds", 3])]
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
    rows = [(1, ["Croydon", "Leeds"]), (2, ["Croydon", "12"]), (3, ["Leeds", "Croydon"])]
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
