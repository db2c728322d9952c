"""The blank data template (spec §3): the data sheet, then an Instructions sheet.

The data sheet carries the edition's canonical headers in row 1 and nothing else of value: no
row is pre-filled, because a Marac name with no figures would be a bad row. Spreadsheet data
validation (whole numbers >= 0 in C–AF; with ``marac``, a one-name list in column A) catches
typing mistakes before the file is ever sent.
"""

from __future__ import annotations

import io
import logging
import math

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from kernel import wording
from validation.columns import FIELDS, Edition

logger = logging.getLogger(__name__)

LAST_TEMPLATE_ROW = 1000
DATE_FORMAT = "DD/MM/YYYY"
_FIRST_COUNT, _LAST_COUNT = FIELDS[2].letter, FIELDS[-1].letter  # C, AF
_WIDTHS = {"A": 28.0, "B": 14.0}
_COUNT_WIDTH = 16.0
_HEADER_FILL = PatternFill(fill_type="solid", start_color="FFD9E1F2", end_color="FFD9E1F2")
_LINE_PT = 15
# Excel's limit on a data validation message, and on a literal list ("a,b,c") in one.
_MESSAGE_LIMIT = 255
_LIST_LIMIT = 255


def write_template(edition: Edition = Edition.UK, *, marac: str | None = None) -> bytes:
    """The blank template as .xlsx bytes; with ``marac``, column A offers just that name."""
    book = Workbook()
    data = book.worksheets[0]
    data.title = wording.TEMPLATE_DATA_SHEET_TITLE
    _write_headers(data, edition)
    _format_dates(data)
    _validate_counts(data)
    instructions = book.create_sheet(wording.TEMPLATE_INSTRUCTIONS_TITLE)
    name_cell = _write_instructions(instructions, edition, marac)
    if marac is not None:
        _validate_marac(data, marac, name_cell)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _write_headers(sheet: Worksheet, edition: Edition) -> None:
    for column, field in enumerate(FIELDS, start=1):
        cell = sheet.cell(row=1, column=column, value=field.header(edition))
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        cell.fill = _HEADER_FILL
        sheet.column_dimensions[field.letter].width = _WIDTHS.get(field.letter, _COUNT_WIDTH)
    sheet.freeze_panes = "A2"
    # Not every application sizes a wrapped header row by itself: give it room for the longest.
    sheet.row_dimensions[1].height = _header_height(edition)


def _header_height(edition: Edition) -> int:
    lines = max(
        math.ceil(len(f.header(edition)) / (_WIDTHS.get(f.letter, _COUNT_WIDTH) - 2))
        for f in FIELDS
    )
    return lines * _LINE_PT + 6


def _format_dates(sheet: Worksheet) -> None:
    # Styled empty cells hold no value, so readers still see the rows as blank.
    for row in range(2, LAST_TEMPLATE_ROW + 1):
        sheet.cell(row=row, column=2).number_format = DATE_FORMAT


def _validate_counts(sheet: Worksheet) -> None:
    rule = DataValidation(
        type="whole",
        operator="greaterThanOrEqual",
        formula1="0",
        allow_blank=True,  # blank means "not collected", which is allowed
        showErrorMessage=True,
        errorStyle="stop",
        errorTitle=wording.TEMPLATE_COUNT_ERROR_TITLE,
        error=wording.TEMPLATE_COUNT_ERROR[:_MESSAGE_LIMIT],
    )
    rule.add(f"{_FIRST_COUNT}2:{_LAST_COUNT}{LAST_TEMPLATE_ROW}")
    sheet.add_data_validation(rule)


def _validate_marac(sheet: Worksheet, marac: str, name_cell: str) -> None:
    rule = DataValidation(
        type="list",
        formula1=_list_source(marac, name_cell),
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="stop",
        errorTitle=wording.TEMPLATE_MARAC_ERROR_TITLE,
        error=wording.template_marac_error(marac)[:_MESSAGE_LIMIT],
    )
    rule.add(f"A2:A{LAST_TEMPLATE_ROW}")
    sheet.add_data_validation(rule)


def _list_source(marac: str, name_cell: str) -> str:
    """A literal one-item list, or a reference to the name's cell when a literal cannot hold it.

    A literal list separates items with commas and is capped at 255 characters, so a name with
    a comma or a very long name is offered from its cell on the Instructions sheet instead.
    """
    if "," in marac or len(marac) + 2 > _LIST_LIMIT:
        sheet, cell = name_cell.split("!")
        return f"'{sheet}'!{cell}"
    return '"' + marac.replace('"', '""') + '"'


def _write_instructions(sheet: Worksheet, edition: Edition, marac: str | None) -> str:
    """Write the instructions; return where the Marac's bare name sits ("Instructions!$B$n")."""
    title, *lines = wording.TEMPLATE_INSTRUCTIONS
    lines = [wording.template_edition_line(edition.value), *lines]
    if marac is not None:
        lines.insert(0, wording.template_marac_line(marac))
    sheet.column_dimensions["A"].width = 100
    sheet.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
    for row, text in enumerate(lines, start=2):
        sheet.cell(row=row, column=1, value=text).alignment = Alignment(
            wrap_text=True, vertical="top"
        )
    name_row = len(lines) + 3
    if marac is not None:
        # The bare name, for the column A list to refer to when a literal list cannot hold it.
        sheet.cell(row=name_row, column=1, value=marac).font = Font(bold=True)
    return f"{sheet.title}!$A${name_row}"
