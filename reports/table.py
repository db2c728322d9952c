"""A report table (a title, headings, rows of typed cells, notes) written as fixed-width text,
CSV or an xlsx workbook: the national picture and the overview share these writers.

Cells are typed so each format shows them right: a ``Share`` is a fraction, shown "31.2%" in
text, 31.2 in CSV and a percentage-formatted number in the workbook; a float is shown to one
decimal place; ``None`` is a blank (nothing sent, or no cases to take a rate over).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from kernel import wording


@dataclass(frozen=True)
class Share:
    value: float  # a fraction of 1


Cell = str | int | float | Share | None


@dataclass(frozen=True)
class Table:
    title: str
    sheet: str  # the workbook's sheet name (31 characters at most)
    headings: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    notes: tuple[str, ...] = ()


def _text(cell: Cell) -> str:
    if cell is None:
        return wording.REPORT_BLANK
    if isinstance(cell, Share):
        return wording.percent(cell.value)
    if isinstance(cell, float):
        return f"{cell:,.1f}"
    if isinstance(cell, int):
        return f"{cell:,}"
    return cell


def to_text(table: Table) -> str:
    """Title, a blank line, the table (words left, numbers right aligned), notes."""
    cells = [list(table.headings), *([_text(c) for c in row] for row in table.rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(table.headings))]
    # Words line up on the left, numbers on the right.
    left = [all(isinstance(row[i], str | None) for row in table.rows)
            for i in range(len(table.headings))]
    lines = [table.title, ""]
    for row in cells:
        parts = [c.ljust(w) if is_left else c.rjust(w)
                 for c, w, is_left in zip(row, widths, left, strict=True)]
        lines.append("  ".join(parts).rstrip())
    if table.notes:
        lines += ["", *table.notes]
    return "\n".join(lines)


def _csv_value(cell: Cell) -> str | int | float:
    if cell is None:
        return ""
    if isinstance(cell, Share):
        return round(cell.value * 100, 1)
    if isinstance(cell, float):
        return round(cell, 1)
    return cell


def to_csv(table: Table) -> str:
    """Headings then rows, numbers as numbers (shares as percentages); no title or notes, so
    the file loads straight into a spreadsheet or pandas."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.headings)
    for row in table.rows:
        writer.writerow([_csv_value(c) for c in row])
    return out.getvalue()


def to_xlsx(table: Table) -> bytes:
    """One sheet: bold, frozen headings in row 1, the rows, then the title and notes below."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has its first sheet
    sheet.title = table.sheet
    book.properties.title = table.title
    sheet.append(list(table.headings))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append([_xlsx_value(c) for c in row])
        for cell, value in zip(sheet[sheet.max_row], row, strict=True):
            if isinstance(value, Share):
                cell.number_format = "0.0%"
            elif isinstance(value, float):
                cell.number_format = "#,##0.0"
    sheet.freeze_panes = "B2"
    for n, heading in enumerate(table.headings):
        longest = max([len(heading), *(len(_text(row[n])) for row in table.rows)])
        sheet.column_dimensions[sheet.cell(1, n + 1).column_letter].width = min(longest + 2, 60)
    sheet.append([])
    for line in (table.title, *table.notes):
        sheet.append([line])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_value(cell: Cell) -> str | int | float | None:
    return cell.value if isinstance(cell, Share) else cell
