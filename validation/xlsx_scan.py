"""A look inside an .xlsx's worksheets as the guard inflates them, before calamine loads them.

calamine builds a dense grid from the first to the last cell that holds a value, so one stray
value in AF1048576 (or XFD1) costs it gigabytes before we can stop reading. The guard already
inflates every part of the package in bounded chunks; ``XlsxScanner.feed`` sees those chunks
and learns each worksheet's real extent, and the formula cells that carry no stored value
(calamine silently drops those, but spec §4 calls them ``invalid-count``).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.etree import ElementTree

_OVERLAP = 4096
_ROW_RE = re.compile(rb"row\b[^>]*?\sr=\"(\d+)\"")
# A cell reference at column HA (209) or beyond: far past any template column. Kept to a
# literal prefix so the regex engine can skip ahead quickly over megabytes of XML.
_WIDE_CELL_RE = re.compile(rb'r="(?:[A-Z]{3}|[H-Z][A-Z]\d)')
_FORMULA_NO_VALUE_RE = re.compile(
    rb"<(?:\w+:)?c\b([^>]*)>\s*<(?:\w+:)?f\b[^>]*(?:/>|>[^<]*</(?:\w+:)?f>)\s*"
    rb"(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>"
)
_FORMULA_HINT_RE = re.compile(rb"f(?:>|/>| )")
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
    tail: bytes = b""


class XlsxScanner:
    """Fed (part name, inflated chunk) pairs in order; keeps a ``SheetScan`` per worksheet."""

    def __init__(self) -> None:
        self.parts: dict[str, SheetScan] = {}

    def feed(self, part: str, chunk: bytes) -> None:
        if not (part.startswith("xl/worksheets/") and part.endswith(".xml")):
            return
        scan = self.parts.setdefault(part, SheetScan())
        window = scan.tail + chunk
        _last_row(window, scan)
        if not scan.wide and _WIDE_CELL_RE.search(window):
            scan.wide = True
        # Quick searches first (each search below for a short needle reads the whole window
        # slowly): many sheets hold no "f" at all, and the hint matches all three needles.
        if (b"f" in window and _FORMULA_HINT_RE.search(window)
                and (b"f>" in window or b"f/>" in window or b"<f " in window)):
            _collect_formulas(window, scan.formulas_without_value)
        scan.tail = window[-_OVERLAP:]

    def by_sheet_name(self, archive: zipfile.ZipFile) -> dict[str, SheetScan]:
        """The scans keyed by sheet name as the workbook lists them."""
        return {name: self.parts[path] for name, path in _sheet_paths(archive)
                if path in self.parts}


def _last_row(window: bytes, scan: SheetScan) -> None:
    at = window.rfind(b"row ")
    while at >= 0:
        match = _ROW_RE.match(window, at)
        if match:
            scan.last_row = max(scan.last_row, int(match.group(1)))
            return
        at = window.rfind(b"row ", 0, at)


def _sheet_paths(archive: zipfile.ZipFile) -> Iterator[tuple[str, str]]:
    workbook = _parse(archive, "xl/workbook.xml")
    rels = _parse(archive, "xl/_rels/workbook.xml.rels")
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_NS_PKG_REL}Relationship")}
    for sheet in workbook.iter(f"{_NS_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_NS_REL}id"), "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        yield sheet.get("name", ""), posixpath.normpath(path)


def _parse(archive: zipfile.ZipFile, part: str) -> ElementTree.Element:
    """A package part as XML; every way it can fail to parse is a ``ParseError``."""
    try:
        return ElementTree.fromstring(archive.read(part))
    except LookupError as exc:  # a damaged declaration names an encoding Python does not know
        raise ElementTree.ParseError(f"{part}: {exc}") from exc


def _collect_formulas(window: bytes, found: set[str]) -> None:
    for match in _FORMULA_NO_VALUE_RE.finditer(window):
        ref = _REF_ATTR_RE.search(b" " + match.group(1))
        if ref:
            found.add(ref.group(1).decode("ascii"))
