"""Report tables through pandas (issue 13): whole-number columns are nullable Int64, so a
blank is <NA> and is written blank in CSV and xlsx, never 0; shares keep their format."""

from __future__ import annotations

import csv
import io

import pandas as pd
from openpyxl import load_workbook

from reports.table import Share, Table, to_csv, to_frame, to_xlsx

TABLE = Table(
    title="Overview, all Maracs, 2024/25",
    sheet="Overview",
    headings=("Marac", "Meetings", "Repeat cases", "Cases per 10,000", "Mixed"),
    rows=(
        ("Croydon", 6, Share(0.25), 41.26, 3),
        ("Glasgow", None, None, None, Share(0.5)),  # sent nothing: blank, not 0
        ("Leeds", 0, Share(0.0), 0.0, "text"),  # a real 0 stays 0
    ),
    notes=("A note.",),
)


def test_blank_is_na_and_0_is_0() -> None:
    frame = to_frame(TABLE)
    assert str(frame["Meetings"].dtype) == "Int64"
    assert str(frame["Repeat cases"].dtype) == "Float64"
    assert frame["Mixed"].dtype == object
    assert frame["Meetings"].tolist()[0] == 6 and frame["Meetings"].tolist()[2] == 0
    assert frame["Meetings"].isna().tolist() == [False, True, False]
    assert frame["Repeat cases"].isna().tolist() == [False, True, False]


def test_csv_writes_blank_as_empty_and_shares_as_percentages() -> None:
    rows = list(csv.reader(io.StringIO(to_csv(TABLE))))
    assert rows == [
        list(TABLE.headings),
        ["Croydon", "6", "25.0", "41.3", "3"],
        ["Glasgow", "", "", "", "50.0"],
        ["Leeds", "0", "0.0", "0.0", "text"],
    ]
    back = pd.read_csv(io.StringIO(to_csv(TABLE)), dtype={"Meetings": "Int64"})
    assert back["Meetings"].isna().tolist() == [False, True, False]


def test_xlsx_keeps_blank_cells_empty_and_formats_shares() -> None:
    sheet = load_workbook(io.BytesIO(to_xlsx(TABLE))).active
    assert sheet is not None and sheet.title == "Overview" and sheet.freeze_panes == "B2"
    assert [c.value for c in sheet[1]] == list(TABLE.headings)
    assert [c.value for c in sheet[3]] == ["Glasgow", None, None, None, 0.5]
    assert sheet["C2"].value == 0.25 and sheet["C2"].number_format == "0.0%"
    assert sheet["E3"].number_format == "0.0%" and sheet["B4"].value == 0
    assert sheet["D2"].number_format == "#,##0.0"
    assert [sheet.cell(r, 1).value for r in (6, 7)] == [TABLE.title, "A note."]
