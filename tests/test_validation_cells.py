"""What a bad cell of the data is told (spec §4): workbooks written with openpyxl, the clean
quarter with one cell changed."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from pathlib import Path

import pytest
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from kernel import wording
from kernel.quarters import Quarter
from tests.fixtures import make_fixtures as mf
from validation.cells import to_date
from validation.context import ValidationContext
from validation.issues import Issue
from validation.reader import Workbook, _ods_prepared, read_workbook
from validation.report import FileReport
from validation.validate import validate_path

TODAY = date(2025, 2, 15)
BLANK_ADVICE = "leave it blank"


def validate(path: Path) -> FileReport:
    return validate_path(path, ValidationContext(today=TODAY, declared_quarter=Quarter(2024, 3)))


def with_cell(tmp_path: Path, cell: str, value: object) -> Path:
    path = tmp_path / "book.xlsx"
    mf.to_workbook({mf.DATA_SHEET: mf.put(mf.baseline_grid(), cell, value)}).save(path)
    return path


def only_hard(report: FileReport) -> Issue:
    hard = [i for i in report.issues if i.is_hard]
    assert len(hard) == 1, report.flatten()
    return hard[0]


# --------------------------------------------------------------------------------------------
# invalid-count: a count may be left blank if not collected; cases discussed (C) may not.
# --------------------------------------------------------------------------------------------


def test_an_unreadable_cases_discussed_is_not_told_to_leave_it_blank(tmp_path: Path) -> None:
    issue = only_hard(validate(with_cell(tmp_path, "C3", "twelve")))
    assert (issue.cell, issue.code, issue.value) == ("C3", "invalid-count", "twelve")
    assert BLANK_ADVICE not in issue.message
    assert "(0 if none)" in issue.message and "'twelve'" in issue.message
    # Following the advice to leave C blank is what missing-cases refuses.
    blank = only_hard(validate(with_cell(tmp_path, "C3", None)))
    assert (blank.cell, blank.code) == ("C3", "missing-cases")


@pytest.mark.parametrize("cell", ["D3", "E3", "G3", "AF3"])
def test_any_other_unreadable_count_may_still_be_left_blank(tmp_path: Path, cell: str) -> None:
    issue = only_hard(validate(with_cell(tmp_path, cell, "twelve")))
    assert (issue.cell, issue.code) == (cell, "invalid-count")
    assert f"or {BLANK_ADVICE} if the figure was not collected" in issue.message
    assert not issue.params.get("required")


def test_a_form_and_its_reply_say_the_same_of_cases_discussed(tmp_path: Path) -> None:
    cases = only_hard(validate(with_cell(tmp_path, "C3", "twelve")))
    params = {**cases.params, "value": cases.value, "column": cases.column}
    beside = wording.field_error(cases.code, params)
    line = wording.form_issue_line(cases.code, params, fallback="")
    assert beside is not None and BLANK_ADVICE not in beside and "'twelve'" in beside
    assert BLANK_ADVICE not in line and beside in line
    other = {"value": "twelve", "column": "Police"}
    assert BLANK_ADVICE in (wording.field_error("invalid-count", other) or "")
    assert BLANK_ADVICE in wording.form_issue_line("invalid-count", other, fallback="")


# --------------------------------------------------------------------------------------------
# A date formula never calculated is unreadable, not blank (as a count's is: invalid-count).
# --------------------------------------------------------------------------------------------


def test_a_date_formula_with_no_stored_value_is_an_invalid_date(tmp_path: Path) -> None:
    path = with_cell(tmp_path, "B5", "=DATE(2024,11,21)")  # openpyxl saves no value for it
    issue = only_hard(validate(path))
    assert (issue.cell, issue.code, issue.value) == (
        "B5", "invalid-date", wording.FORMULA_WITHOUT_VALUE)
    assert repr(wording.FORMULA_WITHOUT_VALUE) in issue.message


def test_a_blank_date_beside_a_date_formula_is_still_missing(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    grid = mf.put(mf.put(mf.baseline_grid(), "B5", "=DATE(2024,11,21)"), "B6", None)
    mf.to_workbook({mf.DATA_SHEET: grid}).save(path)
    report = validate(path)
    assert sorted((i.cell, i.code) for i in report.issues if i.is_hard) == [
        ("B5", "invalid-date"), ("B6", "missing-date")]
    assert report.rows_accepted == 4


def test_a_count_formula_with_no_stored_value_is_still_an_invalid_count(tmp_path: Path) -> None:
    issue = only_hard(validate(with_cell(tmp_path, "G4", "=1+1")))
    assert (issue.cell, issue.code, issue.value) == (
        "G4", "invalid-count", wording.FORMULA_WITHOUT_VALUE)


# --------------------------------------------------------------------------------------------
# A workbook in the 1904 date system (Excel for Mac): a date kept as a plain serial number
# counts from 1 Jan 1904, and a cell read as a date already is not moved again.
# --------------------------------------------------------------------------------------------

SERIAL_1904 = {"B3": 44120, "B4": 44141}  # 17 Oct and 7 Nov 2024 counted from 1904


def saved_1904(tmp_path: Path) -> Path:
    grid = mf.baseline_grid()
    mf.put(grid, "B3", mf.Shown(SERIAL_1904["B3"], "General"))
    mf.put(grid, "B4", mf.Shown(SERIAL_1904["B4"], '"Meeting "dd/mm/yyyy'))
    book = mf.to_workbook({mf.DATA_SHEET: grid})
    book.epoch = CALENDAR_MAC_1904  # written as <workbookPr date1904="1"/>
    path = tmp_path / "mac.xlsx"
    book.save(path)
    return path


def test_plain_serials_in_a_1904_workbook_count_from_1904(tmp_path: Path) -> None:
    report = validate(saved_1904(tmp_path))
    assert [row.meeting_date for row in report.rows] == list(mf.MEETING_DATES), report.flatten()
    assert report.status == "accepted" and report.rows_accepted == 6


def test_both_reads_of_a_package_carry_its_date_system(tmp_path: Path) -> None:
    data = saved_1904(tmp_path).read_bytes()
    book = read_workbook(data, "mac.xlsx")  # no early read: the scanning read
    assert isinstance(book, Workbook) and all(sheet.date1904 for sheet in book.sheets)
    plain = validate(with_cell(tmp_path, "B3", mf.Shown(44120, "General")))
    assert plain.rows[1].meeting_date == date(2020, 10, 16)  # the 1900 system, as before


def _ods(head: str, table: str = "") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("content.xml", f"<office:spreadsheet>{head}<table:table "
                                        f'table:name="Marac data">{table}</table:table>'
                                        "</office:spreadsheet>")
    return out.getvalue()


def test_an_ods_counts_from_1904_only_when_its_null_date_says_so() -> None:
    null_1904 = '<table:null-date table:date-value="1904-01-01"/>'
    error = ('<table:table-cell office:string-value="" calcext:value-type="error">'
             "<text:p>#N/A</text:p></table:table-cell>")
    assert _ods_prepared(_ods(null_1904))[1]
    assert _ods_prepared(_ods(null_1904, error))[1]  # its error values rewritten as well
    assert not _ods_prepared(_ods('<table:null-date table:date-value="1899-12-30"/>'))[1]
    assert not _ods_prepared(_ods(""))[1]  # LibreOffice's default: no element at all
    # Only the settings before the first table count: a table's content is not read for it,
    # nor that of the tables after it.
    row = f"<table:table-row>{null_1904}</table:table-row>"
    assert not _ods_prepared(_ods("", row))[1]
    assert not _ods_prepared(_ods("", f'{row}</table:table><table:table table:name="2">'))[1]
    # A document with no table at all: its whole content is settings.
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("content.xml", f"<office:spreadsheet>{null_1904}</office:spreadsheet>")
    assert _ods_prepared(out.getvalue())[1]


def test_to_date_counts_a_serial_from_the_workbooks_epoch() -> None:
    assert to_date(44120, date1904=True).value == date(2024, 10, 17)
    assert to_date("44120", date1904=True).value == date(2024, 10, 17)
    assert to_date(44120).value == date(2020, 10, 16)
    assert to_date(date(2024, 10, 17), date1904=True).value == date(2024, 10, 17)


# --------------------------------------------------------------------------------------------
# A .csv saved from Excel keeps a long date as it is shown, its weekday first.
# --------------------------------------------------------------------------------------------

LONG_DATES = ["Thursday, 3 October 2024", "Thursday 3 October 2024", "Thu 3 Oct 2024",
              "Thu, 3 Oct 2024", "Thursday, October 3, 2024"]


@pytest.mark.parametrize("text", LONG_DATES)
def test_a_long_date_with_its_weekday_is_read(text: str) -> None:
    assert to_date(text, text_native=True).value == date(2024, 10, 3)


def test_a_csv_of_long_dates_is_read_day_first(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        write = csv.writer(out).writerow
        write(mf.headers())
        for row in mf.baseline_rows():
            day = row[1]
            assert isinstance(day, date)
            write([f"{day:%A}, {day.day} {day:%B %Y}" if cell is day else cell for cell in row])
    report = validate(path)
    assert not [i for i in report.issues if i.code == "invalid-date"], report.flatten()
    assert [row.meeting_date for row in report.rows] == list(mf.MEETING_DATES)
