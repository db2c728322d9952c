"""What calamine does not tell of a legacy .xls (BIFF8): its error values and its date system.

A cell showing #N/A or #DIV/0! is a broken figure, not one "not collected" (spec §3), yet
calamine reads it as blank: the reader puts its text back in the cell (``reader._put_errors``),
as the worksheet scan lets it do for .xlsx. An .xls keeps such a value in a BOOLERR record, or
as a FORMULA record's cached result. A workbook saved by Excel for Mac, or converted from one,
may count its dates from 1904 (a DATEMODE record saying so): calamine shifts the cells it
reads as dates, but a date kept as a plain number must be counted from 1904 too
(``cells.to_date``), as for an .xlsx. This walks the workbook stream's records once (each is
a type and a length, so a damaged stream costs a pass). It runs in the reader's capped child.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field

from validation.columns import column_letter

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HEADER = struct.Struct("<HH")  # record type, body length
_CELL = struct.Struct("<HH")  # row, column (0-based), at a cell record's start
_BOUNDSHEET, _BOF, _EOF, _FILEPASS = 0x0085, 0x0809, 0x000A, 0x002F
_BOOLERR, _FORMULA = 0x0205, 0x0006
_DATEMODE = 0x0022  # [MS-XLS] 2.4.77 Date1904: 1 when dates count from 1 January 1904
# BErr: the error codes of [MS-XLS] 2.5.10.
_ERRORS = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?",
           0x24: "#NUM!", 0x2A: "#N/A", 0x2B: "#GETTING_DATA"}


@dataclass(frozen=True)
class XlsFacts:
    """Sheet name -> {cell: its error value}, and whether dates count from 1904."""

    errors: dict[str, dict[str, str]] = field(default_factory=dict)
    date1904: bool = False


def xls_facts(data: bytes) -> XlsFacts:
    """Nothing for anything but a readable BIFF8 workbook (an older one, an encrypted or
    damaged one: calamine says what it says)."""
    if not data.startswith(_OLE_MAGIC):
        return XlsFacts()
    import olefile  # only for .xls files

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            if not ole.exists("Workbook"):
                return XlsFacts()
            stream = ole.openstream("Workbook").read()
    except Exception:  # olefile fails in many ways on damaged bytes; calamine reports them
        return XlsFacts()
    return workbook_facts(stream)


def workbook_facts(stream: bytes) -> XlsFacts:
    """The error cells of each sheet of a BIFF8 workbook stream, and its date system."""
    names: dict[int, str] = {}  # a sheet's BOF offset -> its name
    found: dict[str, dict[str, str]] = {}
    date1904 = False
    sheet: str | None = None
    at = 0
    while at + _HEADER.size <= len(stream):
        kind, size = _HEADER.unpack_from(stream, at)
        body = stream[at + _HEADER.size: at + _HEADER.size + size]
        if kind == _FILEPASS:
            return XlsFacts()  # what follows is encrypted
        if kind == _BOUNDSHEET:
            _name_sheet(body, names)
        elif kind == _DATEMODE and sheet is None:
            date1904 = body[:2] == b"\x01\x00"
        elif kind == _BOF:
            sheet = names.get(at)
        elif kind == _EOF:
            sheet = None
        elif sheet is not None and (error := _error_of(kind, body)) is not None:
            row, column = _CELL.unpack_from(body)
            found.setdefault(sheet, {})[f"{column_letter(column + 1)}{row + 1}"] = error
        at += _HEADER.size + size
    return XlsFacts(found, date1904)


def _name_sheet(body: bytes, names: dict[int, str]) -> None:
    """BoundSheet8: the sheet's BOF offset, state, type, then its name (ShortXLUnicodeString)."""
    if len(body) < 8:
        return
    offset, _, _, length, wide = struct.unpack_from("<IBBBB", body)
    raw = body[8: 8 + length * (2 if wide & 1 else 1)]
    names[offset] = raw.decode("utf-16-le" if wide & 1 else "latin-1", "replace")


def _error_of(kind: int, body: bytes) -> str | None:
    """A BOOLERR record holding an error, or a FORMULA record whose cached result is one."""
    if kind == _BOOLERR and len(body) >= 8 and body[7] == 1:
        return _ERRORS.get(body[6], "#ERROR")
    if kind == _FORMULA and len(body) >= 14 and body[12:14] == b"\xff\xff" and body[6] == 2:
        return _ERRORS.get(body[8], "#ERROR")
    return None
