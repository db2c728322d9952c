"""The blank template: layout, formats and validation rules, and that real readers accept it."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import python_calamine
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from kernel import wording
from reports.template_file import LAST_TEMPLATE_ROW, write_template
from tests.reports_support import FILLED_DATES, consistent_counts, filled_template, soffice_convert
from validation.columns import FIELDS, Edition

EDITIONS = [Edition.UK, Edition.SCOTLAND]


def _data_sheet(data: bytes) -> Worksheet:
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert isinstance(sheet, Worksheet)
    return sheet


def _calamine_rows(data: bytes) -> list[list[Any]]:
    book = python_calamine.load_workbook(io.BytesIO(data))
    return book.get_sheet_by_index(0).to_python(skip_empty_area=False)


@pytest.mark.parametrize("edition", EDITIONS)
def test_headers_are_the_editions_canonical_headers_bold_and_wrapped(edition: Edition) -> None:
    book = load_workbook(io.BytesIO(write_template(edition)))
    titles = [wording.TEMPLATE_DATA_SHEET_TITLE, wording.TEMPLATE_INSTRUCTIONS_TITLE]
    assert book.sheetnames == titles
    sheet = book.worksheets[0]
    header = [sheet.cell(row=1, column=i).value for i in range(1, len(FIELDS) + 2)]
    assert header == [f.header(edition) for f in FIELDS] + [None]
    assert all(sheet.cell(row=1, column=i).font.b for i in range(1, len(FIELDS) + 1))
    assert all(sheet.cell(row=1, column=i).alignment.wrap_text for i in range(1, len(FIELDS) + 1))
    assert sheet.freeze_panes == "A2"
    assert all(sheet.column_dimensions[f.letter].width >= 14 for f in FIELDS)


def test_scotland_edition_differs_only_in_referral_headers() -> None:
    uk = _calamine_rows(write_template(Edition.UK))[0]
    scotland = _calamine_rows(write_template(Edition.SCOTLAND))[0]
    differing = {f.letter for f, a, b in zip(FIELDS, uk, scotland, strict=True) if a != b}
    assert differing == {"H", "I", "O", "R"}
    assert scotland[7] == "IDAA"


@pytest.mark.parametrize("edition", EDITIONS)
def test_date_format_and_count_validation_cover_rows_2_to_1000(edition: Edition) -> None:
    sheet = _data_sheet(write_template(edition))
    assert sheet.cell(row=2, column=2).number_format == "DD/MM/YYYY"
    assert sheet.cell(row=LAST_TEMPLATE_ROW, column=2).number_format == "DD/MM/YYYY"
    assert sheet.cell(row=1, column=2).number_format == "General"
    rules = sheet.data_validations.dataValidation
    assert len(rules) == 1
    (rule,) = rules
    assert (rule.type, rule.operator, rule.formula1) == ("whole", "greaterThanOrEqual", "0")
    assert str(rule.sqref) == f"C2:AF{LAST_TEMPLATE_ROW}"
    assert rule.allow_blank and rule.showErrorMessage and rule.errorStyle == "stop"
    assert rule.error == wording.TEMPLATE_COUNT_ERROR
    assert len(rule.error) <= 255 and len(rule.errorTitle) <= 32


@pytest.mark.parametrize("edition", EDITIONS)
def test_blank_template_has_only_the_header_row(edition: Edition) -> None:
    rows = _calamine_rows(write_template(edition))
    assert len(rows) == 1
    assert rows[0] == [f.header(edition) for f in FIELDS]


def test_instructions_sheet_carries_the_instructions() -> None:
    book = load_workbook(io.BytesIO(write_template()))
    texts = [c.value for c in book[wording.TEMPLATE_INSTRUCTIONS_TITLE]["A"] if c.value]
    assert texts[0] == wording.TEMPLATE_INSTRUCTIONS[0]
    for line in wording.TEMPLATE_INSTRUCTIONS:
        assert line in texts
    assert wording.template_edition_line("uk") in texts


@pytest.mark.parametrize("edition", EDITIONS)
def test_filled_copy_reads_back_with_exact_headers_and_figures(edition: Edition) -> None:
    rows = _calamine_rows(filled_template(edition))
    assert rows[0] == [f.header(edition) for f in FIELDS]
    assert len(rows) == 1 + len(FILLED_DATES)
    for index, (row, day) in enumerate(zip(rows[1:], FILLED_DATES, strict=True), start=1):
        assert row[0] == "Croydon"
        assert row[1] in (day, datetime.combine(day, datetime.min.time()))
        assert [int(v) for v in row[2:]] == consistent_counts(index)


def test_marac_template_names_the_marac_and_offers_only_it() -> None:
    data = write_template(marac="Croydon")
    book = load_workbook(io.BytesIO(data))
    texts = [c.value for c in book[wording.TEMPLATE_INSTRUCTIONS_TITLE]["A"] if c.value]
    assert wording.template_marac_line("Croydon") in texts
    rules = {str(r.sqref): r for r in book.worksheets[0].data_validations.dataValidation}
    names = rules[f"A2:A{LAST_TEMPLATE_ROW}"]
    assert names.type == "list"
    assert names.formula1 == '"Croydon"'
    assert names.error == wording.template_marac_error("Croydon")
    assert f"C2:AF{LAST_TEMPLATE_ROW}" in rules
    # Nothing pre-filled: a name with no figures would be a bad row.
    assert len(_calamine_rows(data)) == 1


def test_marac_name_with_a_comma_is_offered_from_its_cell() -> None:
    name = 'Bath, North East "Somerset"'
    book = load_workbook(io.BytesIO(write_template(marac=name)))
    rule = next(r for r in book.worksheets[0].data_validations.dataValidation if r.type == "list")
    sheet_part, cell = rule.formula1.split("!")
    assert sheet_part == f"'{wording.TEMPLATE_INSTRUCTIONS_TITLE}'"
    assert book[wording.TEMPLATE_INSTRUCTIONS_TITLE][cell.replace("$", "")].value == name


@pytest.mark.slow
def test_libreoffice_renders_every_variant(tmp_path: Path) -> None:
    sources = []
    for name, data in {
        "uk": write_template(Edition.UK),
        "scotland": write_template(Edition.SCOTLAND),
        "croydon": write_template(marac="Croydon"),
        "filled": filled_template(),
    }.items():
        path = tmp_path / f"{name}.xlsx"
        path.write_bytes(data)
        sources.append(path)
    for pdf in soffice_convert(sources, "pdf", tmp_path / "pdf", tmp_path):
        assert pdf.exists() and pdf.stat().st_size > 1000, pdf
        assert pdf.read_bytes().startswith(b"%PDF")


@pytest.mark.slow
def test_libreoffice_keeps_the_rules_when_it_saves_the_template(tmp_path: Path) -> None:
    """A coordinator who opens and saves the template in LibreOffice keeps its protections."""
    source = tmp_path / "template.xlsx"
    source.write_bytes(write_template(marac="Croydon"))
    (saved,) = soffice_convert([source], "ods", tmp_path / "ods", tmp_path)
    (back,) = soffice_convert([saved], "xlsx", tmp_path / "xlsx", tmp_path)
    sheet = _data_sheet(back.read_bytes())
    kinds = {r.type for r in sheet.data_validations.dataValidation}
    # (Headless conversion drops view settings such as the frozen pane, so that is not checked.)
    assert kinds == {"whole", "list"}
    assert _calamine_rows(back.read_bytes())[0] == [f.header(Edition.UK) for f in FIELDS]


def test_filled_template_passes_the_validator() -> None:
    """The lead's acceptance check, run here too: blank -> no-data-rows; filled -> no problems."""
    validate = pytest.importorskip("validation.validate")
    from validation.context import ValidationContext

    context = ValidationContext(today=date(2025, 1, 31))
    blank = validate.validate_bytes(write_template(), "template.xlsx", context)
    assert [i.code for i in blank.issues if i.is_hard] == ["no-data-rows"]
    for edition in EDITIONS:
        report = validate.validate_bytes(filled_template(edition), "filled.xlsx", context)
        problems = [(i.cell, i.code) for i in report.issues if i.severity.value != "info"]
        assert problems == []
        assert report.edition is edition
        assert report.rows_accepted == len(FILLED_DATES)
