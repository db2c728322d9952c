"""Finding the template in a file (spec §3) and saying why not (spec §4 unknown-template):
workbooks written with openpyxl, one thing changed from the clean quarter."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from kernel.quarters import Quarter
from tests.fixtures import make_fixtures as mf
from validation.context import ValidationContext
from validation.issues import Issue
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
