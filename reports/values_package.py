"""A plain .xlsx of a workbook's values, written as XML text: the start of the annotated copy
of a file that cannot be patched as it came (.xls, .ods, .csv, large or odd workbooks).

openpyxl's write-only cells cost about 10 µs each: a 15 KB .ods whose repeated rows unfold to
16,389 rows of 40 columns took 11 s to copy (issue 14, found by the hostile corpus mailed in).
Here a row is one join of short strings. The marks, comments and Issues sheet are then added by
``reports.xlsx_patch``, as for a submitted .xlsx, so both copies look alike.

Values are written as openpyxl wrote them (``reports.xlsx_cells.plain_value``): text as shared
strings (never a formula, whatever it starts with), dates and times as serial numbers in UK
formats, whole floats as integers.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel

from reports.xlsx_cells import UK_DATE, UK_DATE_TIME, plain_value
from reports.xlsx_patch import (
    CT_NS,
    MAIN_NS,
    PKG_REL_NS,
    REL_NS,
    WORKSHEET_CT,
    XML_DECL,
    cols_xml,
)

# Excel keeps at most this many characters in a cell (openpyxl cut to it too).
MAX_CELL_CHARS = 32_767
# Deflated quickly: the sheets are written once here and, where marked, once more by the
# patcher; the others go into the copy as they are.
_LEVEL = 1
_BATCH_ROWS = 1000
# Characters XML 1.0 cannot hold at all; plain_value has dropped the control characters.
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")

# Cell formats (cellXfs, by index): the default, then one per kind of date or time.
_DATE, _DATE_TIME, _TIME, _DURATION = 1, 2, 3, 4
_FORMATS = ((164, UK_DATE), (165, UK_DATE_TIME))
_XF_FORMATS = (0, 164, 165, 21, 46)  # 21 h:mm:ss and 46 [h]:mm:ss are Excel's own


@dataclass(frozen=True)
class ValuesSheet:
    """A sheet to write: its title (already valid for Excel), its rows (number, values from
    column A) in ascending order, and its columns' widths in characters (1-based)."""

    title: str
    rows: Sequence[tuple[int, Sequence[Any]]]
    widths: dict[int, float]


def values_package(sheets: Sequence[ValuesSheet]) -> bytes:
    """An .xlsx holding ``sheets``, in order."""
    strings = SharedStrings()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=_LEVEL) as package:
        package.writestr("[Content_Types].xml", _content_types(len(sheets)))
        package.writestr("_rels/.rels", _ROOT_RELS)
        package.writestr("xl/workbook.xml", _workbook(sheets))
        package.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets)))
        package.writestr("xl/styles.xml", _styles())
        for number, sheet in enumerate(sheets, start=1):
            # Written as it is made, a batch of rows at a time: never the whole sheet's XML at
            # once on top of the rows it is made from.
            with package.open(f"xl/worksheets/sheet{number}.xml", "w") as part:
                for chunk in sheet_xml(sheet, strings):
                    part.write(chunk)
        package.writestr("xl/sharedStrings.xml", strings.xml())
    return out.getvalue()


class SharedStrings:
    """The workbook's table of texts: each text once, cells naming it by its place (what Excel
    and openpyxl write; a copy of 50,000 rows of text is a third smaller than inline text)."""

    def __init__(self) -> None:
        self.places: dict[str, int] = {}
        self.uses = 0

    def place(self, text: str) -> int:
        self.uses += 1
        return self.places.setdefault(text, len(self.places))

    def xml(self) -> bytes:
        items = "".join(f'<si><t xml:space="preserve">{escape(text)}</t></si>'
                        for text in self.places)
        return (f'{XML_DECL}<sst xmlns="{MAIN_NS}" count="{self.uses}" '
                f'uniqueCount="{len(self.places)}">{items}</sst>').encode()


def sheet_xml(sheet: ValuesSheet, strings: SharedStrings) -> Iterator[bytes]:
    """The sheet's XML in pieces of ``_BATCH_ROWS`` rows."""
    columns = cols_xml(sorted(sheet.widths.items()))
    yield f'{XML_DECL}<worksheet xmlns="{MAIN_NS}">{columns}<sheetData>'.encode()
    for start in range(0, len(sheet.rows), _BATCH_ROWS):
        batch = sheet.rows[start:start + _BATCH_ROWS]
        yield "".join(_row(number, values, strings) for number, values in batch if values
                      ).encode()
    yield b"</sheetData></worksheet>"


def _row(number: int, values: Sequence[Any], strings: SharedStrings) -> str:
    cells = []
    for index, raw in enumerate(values):
        cell = _cell(raw, strings)
        if cell:
            cells.append(f'<c r="{_letter(index)}{number}"{cell}</c>')
    return f'<row r="{number}">{"".join(cells)}</row>' if cells else ""


def _cell(raw: Any, strings: SharedStrings) -> str:
    """The cell's attributes after its reference and its content, up to "</c>"; "" for none."""
    value = plain_value(raw)
    if value is None:
        return ""
    if isinstance(value, bool):
        return f' t="b"><v>{int(value)}</v>'
    if isinstance(value, int):
        return f"><v>{value}</v>"
    if isinstance(value, float):
        return f"><v>{value!r}</v>" if math.isfinite(value) else _text(str(value), strings)
    if isinstance(value, datetime):
        style = _DATE if value.time() == time() else _DATE_TIME
        return f' s="{style}"><v>{to_excel(value.replace(tzinfo=None))}</v>'
    if isinstance(value, date):
        return f' s="{_DATE}"><v>{to_excel(value)}</v>'
    if isinstance(value, time):
        return f' s="{_TIME}"><v>{to_excel(value.replace(tzinfo=None))}</v>'
    if isinstance(value, timedelta):
        return f' s="{_DURATION}"><v>{to_excel(value)}</v>'
    return _text(str(value), strings)


def _text(value: str, strings: SharedStrings) -> str:
    text = _NOT_XML.sub("", value[:MAX_CELL_CHARS])
    return f' t="s"><v>{strings.place(text)}</v>' if text else ""


@cache
def _letter(index: int) -> str:
    return get_column_letter(index + 1)


def _content_types(count: int) -> str:
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{WORKSHEET_CT}"/>'
        for n in range(1, count + 1)
    )
    office = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    return (
        f'{XML_DECL}<Types xmlns="{CT_NS}">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{office}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{office}.styles+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{office}.sharedStrings+xml"/>'
        f"{sheets}</Types>"
    )


def _workbook(sheets: Sequence[ValuesSheet]) -> str:
    listed = "".join(
        f'<sheet name={quoteattr(sheet.title)} sheetId="{n}" r:id="rId{n}"/>'
        for n, sheet in enumerate(sheets, start=1)
    )
    return (
        f'{XML_DECL}<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
        f"<sheets>{listed}</sheets></workbook>"
    )


def _workbook_rels(count: int) -> str:
    sheets = "".join(
        f'<Relationship Id="rId{n}" Type="{REL_NS}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, count + 1)
    )
    styles = f'<Relationship Id="rId{count + 1}" Type="{REL_NS}/styles" Target="styles.xml"/>'
    strings = (f'<Relationship Id="rId{count + 2}" Type="{REL_NS}/sharedStrings" '
               'Target="sharedStrings.xml"/>')
    return (f'{XML_DECL}<Relationships xmlns="{PKG_REL_NS}">'
            f"{sheets}{styles}{strings}</Relationships>")


_ROOT_RELS = (
    f'{XML_DECL}<Relationships xmlns="{PKG_REL_NS}"><Relationship Id="rId1" '
    f'Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)


@cache  # once, at first use rather than at import: a mutation run can reach it then
def _styles() -> str:
    formats = "".join(f"<numFmt numFmtId={quoteattr(str(i))} formatCode={quoteattr(code)}/>"
                      for i, code in _FORMATS)
    xfs = "".join(
        f'<xf numFmtId="{fmt}" fontId="0" fillId="0" borderId="0" xfId="0"'
        + (' applyNumberFormat="1"/>' if fmt else "/>")
        for fmt in _XF_FORMATS
    )
    return (
        f'{XML_DECL}<styleSheet xmlns="{MAIN_NS}">'
        f'<numFmts count="{len(_FORMATS)}">{formats}</numFmts>'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
        '</fonts><fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
        '</borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
        f'borderId="0"/></cellStyleXfs><cellXfs count="{len(_XF_FORMATS)}">{xfs}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )
