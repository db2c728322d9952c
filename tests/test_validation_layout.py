"""Finding the template in a file (spec §3) and saying why not (spec §4 unknown-template):
workbooks written with openpyxl, one thing changed from the clean quarter."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from kernel import wording
from kernel.quarters import Quarter
from tests.fixtures import make_fixtures as mf
from validation.columns import FIELDS, Edition
from validation.context import ValidationContext
from validation.issues import Issue, Severity
from validation.report import FileReport
from validation.validate import validate_path

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = date(2025, 2, 15)


def validate(path: Path) -> FileReport:
    return validate_path(path, ValidationContext(today=TODAY, declared_quarter=Quarter(2024, 3)))


def saved(tmp_path: Path, grid: mf.Grid, name: str = "book.xlsx") -> Path:
    path = tmp_path / name
    mf.to_workbook({mf.DATA_SHEET: grid}).save(path)
    return path


def found(report: FileReport, code: str) -> list[Issue]:
    return [i for i in report.issues if i.code == code]


# --------------------------------------------------------------------------------------------
# Headers written with other punctuation are the template's headers.
# --------------------------------------------------------------------------------------------

PUNCTUATED = {
    "I1": "Childrens social care",
    "S1": "M.A.S.H",
    "V1": "LGBTQ community cases",
    "Y1": "Victims 16/17 years old cases",
}


def test_headers_punctuated_otherwise_are_the_templates(tmp_path: Path) -> None:
    grid = mf.baseline_grid()
    for cell, header in PUNCTUATED.items():
        mf.put(grid, cell, header)
    report = validate(saved(tmp_path, grid))
    assert not found(report, "unknown-template"), report.flatten()
    assert not found(report, "ignored-column")
    assert report.status == "accepted" and report.rows_accepted == 6
    assert report.rows[0].counts["lgbtq"] == 0 and report.rows[1].counts["lgbtq"] == 1


# --------------------------------------------------------------------------------------------
# unknown-template names what is missing and what was found instead, even when nothing matched.
# --------------------------------------------------------------------------------------------

OTHER_FORM = ["Idva service", "Month", "Referrals received", "High-risk cases", "Cases closed",
              "Notes"]
UK_HEADERS = [f.header(Edition.UK) for f in FIELDS]


def the_refusal(report: FileReport) -> Issue:
    refusals = found(report, "unknown-template")
    assert len(refusals) == 1 and report.status == "rejected", report.flatten()
    return refusals[0]


def assert_names_missing_and_found(issue: Issue, headers_found: list[str]) -> None:
    assert "No sheet has column headers" not in issue.message
    assert wording.short_list(UK_HEADERS) in issue.message
    assert wording.short_list(UK_HEADERS).endswith(f"and {len(UK_HEADERS) - 10} more")
    assert f"Headers we did not expect: {wording.short_list(headers_found)}." in issue.message


def test_a_file_of_another_form_is_told_what_is_missing_and_what_it_has() -> None:
    issue = the_refusal(validate(FIXTURES / "unknown_template.xlsx"))
    assert_names_missing_and_found(issue, OTHER_FORM)
    assert (issue.sheet, issue.row) == ("Sheet1", 1)


def test_a_tab_separated_csv_names_its_headers_one_by_one(tmp_path: Path) -> None:
    path = tmp_path / "idva.csv"
    lines = ["\t".join(OTHER_FORM), "Croydon FJC\tOct 2024\t41\t17\t22\t"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    issue = the_refusal(validate(path))
    assert_names_missing_and_found(issue, OTHER_FORM)
    assert "\t" not in issue.message and issue.row == 1


def test_the_first_sheets_first_row_is_named_when_no_sheet_has_a_template_header(
        tmp_path: Path) -> None:
    path = tmp_path / "two.xlsx"
    mf.to_workbook({"Blank": [], "Summary": [[None], ["Quarter", "Total"], ["Q3", 95]],
                    "Other": [["Idva service", "Month"]]}).save(path)
    issue = the_refusal(validate(path))
    assert_names_missing_and_found(issue, ["Quarter", "Total"])
    assert (issue.sheet, issue.row) == ("Summary", 2)


def test_with_one_template_header_the_sheet_having_it_is_named(tmp_path: Path) -> None:
    path = tmp_path / "one.xlsx"
    mf.to_workbook({"Summary": [["Quarter", "Total"]],
                    "Data": [["Marac name", "Month"]]}).save(path)
    issue = the_refusal(validate(path))
    assert issue.sheet == "Data"
    assert "None of its column headers" not in issue.message
    assert f"Missing headers: {wording.short_list(UK_HEADERS[1:])}." in issue.message
    assert "Headers we did not expect: Month." in issue.message


def test_a_blank_workbook_is_told_every_sheet_is_blank(tmp_path: Path) -> None:
    path = tmp_path / "blank.xlsx"
    mf.to_workbook({"Sheet1": [], "Sheet2": [[None, " "]]}).save(path)
    issue = the_refusal(validate(path))
    assert wording.UNKNOWN_TEMPLATE_ALL_BLANK in issue.message
    assert "Missing headers" not in issue.message and issue.sheet is None


# --------------------------------------------------------------------------------------------
# A column with no header that holds something is ignored, and said to be, once.
# --------------------------------------------------------------------------------------------


def ignored_notes(report: FileReport) -> list[Issue]:
    notes = found(report, "ignored-column")
    assert all(n.severity is Severity.INFO for n in notes)
    return notes


def test_notes_in_a_column_with_no_header_are_ignored_and_said_to_be(tmp_path: Path) -> None:
    grid = mf.put(mf.put(mf.baseline_grid(), "AH3", "chair on leave"), "AH6", "moved to Teams")
    report = validate(saved(tmp_path, grid))
    [note] = ignored_notes(report)
    assert wording.unheaded_column("AH") in note.message and "AG" not in note.message
    assert report.status == "accepted" and report.rows_accepted == 6


def test_headed_and_unheaded_extra_columns_share_the_one_note(tmp_path: Path) -> None:
    grid = mf.put(mf.put(mf.baseline_grid(), "AG1", "Notes"), "AG2", "first of the quarter")
    mf.put(grid, "AI7", 95)
    [note] = ignored_notes(validate(saved(tmp_path, grid)))
    assert f"Notes, {wording.unheaded_column('AI')}." in note.message


def test_a_column_with_no_header_and_only_blanks_is_not_named(tmp_path: Path) -> None:
    grid = mf.put(mf.put(mf.baseline_grid(), "AH3", "  "), "AJ5", "")
    assert not ignored_notes(validate(saved(tmp_path, grid)))
    # Above the header row is no data: a title beside it there is not a column of data.
    title: mf.Row = ["Croydon Marac return", *[None] * 33, "draft"]
    titled: mf.Grid = [title, *mf.baseline_grid()]
    assert not ignored_notes(validate(saved(tmp_path, titled, "titled.xlsx")))


def test_a_csv_row_longer_than_its_header_names_the_extra_column(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        write = csv.writer(out).writerow
        write(mf.headers())
        for number, row in enumerate(mf.baseline_rows(), start=2):
            cells = [r.strftime("%d/%m/%Y") if isinstance(r, date) else r for r in row]
            write(cells + (["", "late"] if number == 4 else []))
    report = validate(path)
    [note] = ignored_notes(report)
    assert wording.unheaded_column("AH") in note.message and report.rows_accepted == 6


# --------------------------------------------------------------------------------------------
# A guide to the template that shows a worked example is not the data (spec §3).
# --------------------------------------------------------------------------------------------


def example_guide() -> mf.Grid:
    example = list(mf.baseline_rows()[0])
    example[0] = "Example Marac"
    return [[mf.INSTRUCTIONS[0]], [mf.INSTRUCTIONS[1]], mf.headers(), example]


def saved_book(tmp_path: Path, book: mf.Book) -> Path:
    path = tmp_path / "book.xlsx"
    mf.to_workbook(book).save(path)
    return path


def ignored_sheets(report: FileReport) -> set[str | None]:
    return {issue.sheet for issue in found(report, "ignored-sheet")}


@pytest.mark.parametrize("guide", ["Instructions", "Guidance", "How to fill in", "Read me"])
def test_a_guide_with_a_worked_example_gives_way_to_the_data(tmp_path: Path, guide: str) -> None:
    report = validate(saved_book(tmp_path, {guide: example_guide(),
                                            mf.DATA_SHEET: mf.baseline_grid()}))
    assert report.sheet == mf.DATA_SHEET and report.rows_accepted == 6, report.flatten()
    assert mf.DATA_SHEET not in ignored_sheets(report)
    # Our own template's instructions sheet is expected; any other guide is said to be ignored.
    assert ignored_sheets(report) == (set() if guide == "Instructions" else {guide})


def test_a_sheet_holding_only_an_example_marac_gives_way_to_the_data(tmp_path: Path) -> None:
    report = validate(saved_book(tmp_path, {"Sheet1": example_guide(),
                                            "Sheet2": mf.baseline_grid()}))
    assert report.sheet == "Sheet2" and report.rows_accepted == 6, report.flatten()
    assert ignored_sheets(report) == {"Sheet1"}


def test_data_on_the_only_sheet_with_headers_is_read_whatever_its_name(tmp_path: Path) -> None:
    report = validate(saved_book(tmp_path, {"Instructions": mf.baseline_grid(),
                                            "Notes": [["Chair on leave in November"]]}))
    assert report.sheet == "Instructions" and report.rows_accepted == 6, report.flatten()


# --------------------------------------------------------------------------------------------
# A blank copy of the template kept before the filled one: the data is read where it is.
# --------------------------------------------------------------------------------------------


def test_a_blank_copy_of_the_template_gives_way_to_the_filled_sheet(tmp_path: Path) -> None:
    report = validate(saved_book(tmp_path, {"Template": [mf.headers()],
                                            "Q3": mf.baseline_grid()}))
    assert report.sheet == "Q3" and report.rows_accepted == 6, report.flatten()
    assert ignored_sheets(report) == {"Template"}


def test_with_no_data_anywhere_the_blank_sheet_is_said_to_have_none(tmp_path: Path) -> None:
    # Not the worked example read as data: the sheet to fill in is empty.
    report = validate(saved_book(tmp_path, {"Guidance": example_guide(),
                                            mf.DATA_SHEET: [mf.headers()]}))
    assert report.sheet == mf.DATA_SHEET and report.rows == [], report.flatten()
    assert found(report, "no-data-rows")


def test_data_typed_into_a_sheet_named_as_a_guide_beats_a_blank_sheet(tmp_path: Path) -> None:
    report = validate(saved_book(tmp_path, {"Instructions": mf.baseline_grid(),
                                            mf.DATA_SHEET: [mf.headers()]}))
    assert report.sheet == "Instructions" and report.rows_accepted == 6, report.flatten()


def test_a_guide_known_by_its_name_alone_gives_way_to_the_data(tmp_path: Path) -> None:
    # Its worked example names a real Marac, so only the sheet's name says it is a guide.
    report = validate(saved_book(tmp_path, {"Read_Me": [mf.headers(), mf.meeting(0)],
                                            mf.DATA_SHEET: mf.baseline_grid()}))
    assert report.sheet == mf.DATA_SHEET and report.rows_accepted == 6, report.flatten()
    assert ignored_sheets(report) == {"Read_Me"}


def test_a_row_ending_before_the_marac_column_names_no_example(tmp_path: Path) -> None:
    # The Marac column moved to the end, and a .csv row ending just before it:
    # it is no example row, so the sheet is not a guide, and it is read (its row rejected).
    header = [*mf.headers()[1:], mf.headers()[0]]
    all_but_marac = ["03/10/2024", *["1"] * (len(header) - 2)]
    path = tmp_path / "moved.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([header, all_but_marac])
    report = validate(path)
    assert report.rows_accepted == 0 and len(report.rows) == 1, report.flatten()
    assert not found(report, "unknown-template")
