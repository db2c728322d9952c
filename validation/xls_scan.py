"""Error values in a legacy .xls (BIFF8), which calamine reads as blank.

A cell showing #N/A or #DIV/0! is a broken figure, not one "not collected" (spec §3): the
reader puts its text back in the cell (``reader._put_errors``), as the worksheet scan lets it
do for .xlsx. An .xls keeps such a value in a BOOLERR record, or as a FORMULA record's cached
result; this walks the workbook stream's records once (each is a type and a length, so a
damaged stream costs a pass) and notes them by sheet. It runs in the reader's capped child.
"""

from __future__ import annotations

import io
import struct

from validation.columns import column_letter

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HEADER = struct.Struct("<HH")  # record type, body length
_CELL = struct.Struct("<HH")  # row, column (0-based), at a cell record's start
_BOUNDSHEET, _BOF, _EOF, _FILEPASS = 0x0085, 0x0809, 0x000A, 0x002F
_BOOLERR, _FORMULA = 0x0205, 0x0006
# BErr: the error codes of [MS-XLS] 2.5.10.
_ERRORS = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?",
           0x24: "#NUM!", 0x2A: "#N/A", 0x2B: "#GETTING_DATA"}


def xls_errors(data: bytes) -> dict[str, dict[str, str]]:
    """Sheet name -> {cell: its error value}; empty for anything but a readable BIFF8
    workbook (an older one, an encrypted or damaged one: calamine says what it says)."""
    if not data.startswith(_OLE_MAGIC):
        return {}
    import olefile  # only for .xls files

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            if not ole.exists("Workbook"):
                return {}
            stream = ole.openstream("Workbook").read()
    except Exception:  # olefile fails in many ways on damaged bytes; calamine reports them
        return {}
    return errors_by_sheet(stream)


def errors_by_sheet(stream: bytes) -> dict[str, dict[str, str]]:
    """The error cells of each sheet of a BIFF8 workbook stream."""
    names: dict[int, str] = {}  # a sheet's BOF offset -> its name
    found: dict[str, dict[str, str]] = {}
    sheet: str | None = None
    at = 0
    while at + _HEADER.size <= len(stream):
        kind, size = _HEADER.unpack_from(stream, at)
        body = stream[at + _HEADER.size: at + _HEADER.size + size]
        if kind == _FILEPASS:
            return {}  # what follows is encrypted
        if kind == _BOUNDSHEET:
            _name_sheet(body, names)
        elif kind == _BOF:
            sheet = names.get(at)
        elif kind == _EOF:
            sheet = None
        elif sheet is not None and (error := _error_of(kind, body)) is not None:
            row, column = _CELL.unpack_from(body)
            found.setdefault(sheet, {})[f"{column_letter(column + 1)}{row + 1}"] = error
        at += _HEADER.size + size
    return found


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
