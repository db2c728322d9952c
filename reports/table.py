"""A report table (a title, headings, rows of typed cells, notes) written as fixed-width text,
CSV or an xlsx workbook: the national picture and the overview share these writers. CSV and
xlsx go through pandas (imported when used): nullable ``Int64`` columns keep a blank distinct
from 0, and ``to_csv`` / ``to_excel`` (openpyxl) do the writing.

Cells are typed so each format shows them right: a ``Share`` is a fraction, shown "31.2%" in
text, 31.2 in CSV and a percentage-formatted number in the workbook; a float is shown to one
decimal place; ``None`` is a blank (nothing sent, or no cases to take a rate over).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kernel import wording

if TYPE_CHECKING:
    import pandas as pd


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


def cell_text(cell: Cell) -> str:
    """A cell as every text shows it (the text report, the dashboard): blank never 0."""
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
    cells = [list(table.headings), *([cell_text(c) for c in row] for row in table.rows)]
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


def _csv_value(cell: Cell) -> str | int | float | None:
    if isinstance(cell, Share):
        return round(cell.value * 100, 1)
    if isinstance(cell, float):
        return round(cell, 1)
    return cell


def _xlsx_value(cell: Cell) -> str | int | float | None:
    return cell.value if isinstance(cell, Share) else cell


def to_frame(table: Table, *, for_csv: bool = False) -> pd.DataFrame:
    """The table as a pandas DataFrame, one column per heading. A column of whole numbers is
    a nullable ``Int64`` and one of decimals ``Float64``, so a blank stays <NA> (written
    blank), never 0 or NaN; a column of mixed kinds (the national picture's periods hold
    counts and shares) keeps each cell as it is. ``for_csv``: shares as percentages."""
    import pandas as pd

    value = _csv_value if for_csv else _xlsx_value
    columns = list(zip(*table.rows, strict=True)) if table.rows else [()] * len(table.headings)
    data = {}
    for heading, cells in zip(table.headings, columns, strict=True):
        values = [value(c) for c in cells]
        data[heading] = pd.Series(values, dtype=_dtype(values))
    return pd.DataFrame(data, columns=list(table.headings))


def _dtype(values: list[str | int | float | None]) -> str:
    known = [v for v in values if v is not None]
    if known and all(isinstance(v, int) and not isinstance(v, bool) for v in known):
        return "Int64"
    if known and all(isinstance(v, int | float) and not isinstance(v, bool) for v in known):
        return "Float64"
    return "object"


def to_csv(table: Table) -> str:
    """Headings then rows, numbers as numbers (shares as percentages); no title or notes, so
    the file loads straight into a spreadsheet or pandas. Blank cells are written empty."""
    text: str = to_frame(table, for_csv=True).to_csv(index=False, lineterminator="\n", na_rep="")
    return text


def to_xlsx(table: Table) -> bytes:
    """One sheet: bold, frozen headings in row 1, the rows, then the title and notes below.

    pandas writes the cells (openpyxl engine); openpyxl then sets each cell's number format
    by its kind (a share as "31.2%"), the column widths, and the notes."""
    import pandas as pd
    from openpyxl.styles import Font

    out = io.BytesIO()
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        to_frame(table).to_excel(writer, sheet_name=table.sheet, index=False, na_rep="")
        sheet = writer.sheets[table.sheet]
        writer.book.properties.title = table.title
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for n, row in enumerate(table.rows, start=2):
            for cell, value in zip(sheet[n], row, strict=True):
                if isinstance(value, Share):
                    cell.number_format = "0.0%"
                elif isinstance(value, float):
                    cell.number_format = "#,##0.0"
        sheet.freeze_panes = "B2"
        for n, heading in enumerate(table.headings):
            longest = max([len(heading), *(len(cell_text(row[n])) for row in table.rows)])
            letter = sheet.cell(1, n + 1).column_letter
            sheet.column_dimensions[letter].width = min(longest + 2, 60)
        sheet.append([])
        for line in (table.title, *table.notes):
            sheet.append([line])
    return out.getvalue()
