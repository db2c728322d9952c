"""A streaming look inside an .xlsx before python-calamine loads it.

calamine builds a dense grid from the first to the last cell that holds a value, so one stray
value in AF1048576 (or XFD1) costs it gigabytes before we can stop reading. We stream each
worksheet's XML once, in bounded memory, to learn its real extent, and also to find formula
cells that carry no stored value (calamine silently drops those, but spec §4 calls them
``invalid-count``).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.etree import ElementTree

_CHUNK = 1 << 20
_OVERLAP = 4096
_ROW_RE = re.compile(rb"<(?:\w+:)?row\b[^>]*?\sr=\"(\d+)\"")
# A cell reference at column HA (209) or beyond: far past any template column.
_WIDE_CELL_RE = re.compile(rb"<(?:\w+:)?c\b[^>]*?\sr=\"(?:[A-Z]{3}|[H-Z][A-Z])\d+\"")
_FORMULA_NO_VALUE_RE = re.compile(
    rb"<(?:\w+:)?c\b([^>]*)>\s*<(?:\w+:)?f\b[^>]*(?:/>|>[^<]*</(?:\w+:)?f>)\s*"
    rb"(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>"
)
_REF_ATTR_RE = re.compile(rb"\sr=\"([A-Z]+\d+)\"")
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


@dataclass
class SheetScan:
    """What the stream of one worksheet showed."""

    last_row: int = 0
    wide: bool = False
    formulas_without_value: set[str] = field(default_factory=set)


def scan_xlsx(archive: zipfile.ZipFile) -> dict[str, SheetScan]:
    """Scan every worksheet; keys are sheet names as the workbook lists them."""
    return {name: _scan_sheet(archive, path) for name, path in _sheet_paths(archive)}


def _sheet_paths(archive: zipfile.ZipFile) -> Iterator[tuple[str, str]]:
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_NS_PKG_REL}Relationship")}
    names = set(archive.namelist())
    for sheet in workbook.iter(f"{_NS_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_NS_REL}id"), "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        path = posixpath.normpath(path)
        if path in names:
            yield sheet.get("name", ""), path


def _scan_sheet(archive: zipfile.ZipFile, path: str) -> SheetScan:
    scan = SheetScan()
    tail = b""
    with archive.open(path) as stream:
        while chunk := stream.read(_CHUNK):
            window = tail + chunk
            rows = _ROW_RE.findall(window)
            if rows:
                scan.last_row = max(scan.last_row, int(rows[-1]))
            if not scan.wide and _WIDE_CELL_RE.search(window):
                scan.wide = True
            if b"f>" in window or b"f/>" in window or b"<f " in window:
                _collect_formulas(window, scan.formulas_without_value)
            tail = window[-_OVERLAP:]
    return scan


def _collect_formulas(window: bytes, found: set[str]) -> None:
    for match in _FORMULA_NO_VALUE_RE.finditer(window):
        ref = _REF_ATTR_RE.search(b" " + match.group(1))
        if ref:
            found.add(ref.group(1).decode("ascii"))
