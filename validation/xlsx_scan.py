"""A look inside an .xlsx's worksheets as the guard inflates them, before calamine loads them.

calamine builds a dense grid from the first to the last cell that holds a value, so one stray
value in AF1048576 (or XFD1) costs it gigabytes before we can stop reading. The guard already
inflates every part of the package in bounded chunks; ``XlsxScanner.feed`` sees those chunks
and learns each worksheet's real extent, and the formula cells that carry no stored value
(calamine silently drops those, but spec §4 calls them ``invalid-count``).
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.etree import ElementTree

_OVERLAP = 4096
_SEAM = 16  # more than a wide cell reference takes
# Every run of a tag's attributes is bounded (a real tag's are well under this) and taken
# without backtracking ("{0,256}+"): unbounded, each of a hostile chunk's many "<c " or
# "row " with no ">" after it made the search run on to the chunk's end again, some half an
# hour of the bot's own CPU for one 1 MB chunk (quadratic in the chunk).
_ATTRS = 256
_ROW_RE = re.compile(rb"row\b[^>]{0,%d}?\sr=\"(\d+)\"" % _ATTRS)
# A window's last row tag is looked for among its last this many "row " (text may say "row").
_ROW_TRIES = 32
# A cell reference at column HA (209) or beyond: far past any template column. Kept to a
# literal prefix so the regex engine can skip ahead quickly over megabytes of XML, and two
# letters before any branch, so the usual one-letter reference fails at its second letter
# (a third quicker over a 50,000-row sheet than trying both branches at every cell).
_WIDE_CELL_RE = re.compile(rb'r="[A-Z]{2}(?:[A-Z]|(?<=[H-Z][A-Z])\d)')
# A formula tag's attributes, bounded and taken without backtracking like every run here, but
# never the "/" of "/>": Excel writes each filled-down cell's formula as ``<f t="shared"
# si="0"/>``, whose end a plain ``[^>]`` run would swallow, so that no such cell was seen.
_F_ATTRS = rb"(?:[^>/]|/(?!>)){0,%d}+" % _ATTRS
_FORMULA_NO_VALUE_RE = re.compile(
    rb"<(?:\w+:)?c\b([^>]{0,%d}+)>\s*<(?:\w+:)?f\b%s(?:/>|>[^<]*+</(?:\w+:)?f>)\s*"
    rb"(<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>" % (_ATTRS, _F_ATTRS)
)
# A formula whose result is text keeps an empty result as an empty value: Excel and
# LibreOffice write ``=IF(C2="","",C2)`` left empty as ``<c t="str"><f>…</f><v></v></c>``.
# That cell is blank, not a formula with no stored value.
_TEXT_RESULT_RE = re.compile(rb"\st=\"(?:str|inlineStr)\"")
# An error value (#N/A, #DIV/0!...): calamine reads it as blank, which would store a broken
# figure as "not collected". ``t="e"`` is the only way .xlsx writes one.
_ERROR_HINT = b't="e"'
# The cell, its formula if any (its text holds no "<": XML escapes it), then its value: each
# try ends at the next tag, so a hostile run of error tags costs a pass, never a rescan.
_ERROR_CELL_RE = re.compile(
    rb"<(?:\w+:)?c\b(?=[^>]{0,%d}?\st=\"e\")([^>]{0,%d}+)>\s*"
    rb"(?:<(?:\w+:)?f\b%s(?:/>|>[^<]*+</(?:\w+:)?f>)\s*)?"
    rb"<(?:\w+:)?v>([^<]{1,64})</(?:\w+:)?v>" % (_ATTRS, _ATTRS, _F_ATTRS))
# Where a formula may be: "f>", "f/>" (also with a namespace prefix) or "<f ". One search
# from the literal "f" (rare in sheet data, so the engine skips ahead quickly): the three
# needles searched one by one stopped at every ">" and " " of the XML (~1.5 ms a megabyte).
_FORMULA_HINT_RE = re.compile(rb"f(?:/?>|(?<=<f) )")
_REF_ATTR_RE = re.compile(rb"\sr=\"([A-Z]+\d+)\"")
# The counts an <sst> opening tag claims; calamine reserves room for ``uniqueCount`` strings.
_SST_COUNT_RE = re.compile(rb'\s(?:unique)?[Cc]ount="\s*(\d{1,30})\s*"')
# The smallest shared string, ``<si/>``, takes five bytes: a claim of more strings than that
# allows is a lie (a damaged or hostile file), never a real workbook.
_MIN_SHARED_STRING_BYTES = 5
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


@dataclass
class SheetScan:
    """What the stream of one worksheet showed."""

    last_row: int = 0
    wide: bool = False
    formulas_without_value: set[str] = field(default_factory=set)
    errors: dict[str, str] = field(default_factory=dict)  # cell -> its error value, "#N/A"
    tail: bytes = b""


@dataclass
class SharedStringsScan:
    """The shared-string part's size and the largest count its opening tag claims."""

    claimed: int = 0
    size: int = 0

    @property
    def claim_is_absurd(self) -> bool:
        return self.claimed > self.size // _MIN_SHARED_STRING_BYTES


class XlsxScanner:
    """Fed (part name, inflated chunk) pairs in order; keeps a ``SheetScan`` per worksheet."""

    def __init__(self) -> None:
        self.parts: dict[str, SheetScan] = {}
        self.shared_strings: dict[str, SharedStringsScan] = {}

    def feed(self, part: str, chunk: bytes) -> None:
        if is_shared_strings_part(part):
            self._feed_shared_strings(part, chunk)
            return
        if not (part.startswith("xl/worksheets/") and part.endswith(".xml")):
            return
        scan = self.parts.setdefault(part, SheetScan())
        # The chunk is searched on its own, not in a window with the last one's tail: that
        # window would copy every megabyte once more. The window's last row tag is the
        # chunk's own last one (only a chunk with none, inside a long text, needs the
        # window), and a wide reference is a few bytes long: the seam of the two ends finds
        # one that straddles them.
        if not _last_row(chunk, scan):
            _last_row(scan.tail + chunk, scan)
        if not scan.wide and (_WIDE_CELL_RE.search(chunk)
                              or _WIDE_CELL_RE.search(scan.tail[-_SEAM:] + chunk[:_SEAM])):
            scan.wide = True
        # Quick searches first: many sheets hold no "f" at all (memchr finds that at once),
        # and the hint finds any of the three ways a formula's tag can be written. A formula
        # can be long: it is looked for in the whole window, the last chunk's tail and this
        # one.
        if b"f" in chunk or b"f" in scan.tail:
            window = scan.tail + chunk
            if _FORMULA_HINT_RE.search(window):
                _collect_formulas(window, scan.formulas_without_value)
        if _ERROR_HINT in chunk or _ERROR_HINT in scan.tail:
            _collect_errors(scan.tail + chunk, scan.errors)
        scan.tail = (scan.tail + chunk)[-_OVERLAP:] if len(chunk) < _OVERLAP else chunk[-_OVERLAP:]

    def _feed_shared_strings(self, part: str, chunk: bytes) -> None:
        scan = self.shared_strings.setdefault(part, SharedStringsScan())
        if scan.size == 0:  # the opening tag is in the first chunk (chunks are 1 MB)
            head = chunk[: chunk.find(b">", chunk.find(b"<sst")) + 1 or 4096]
            claims = [int(m) for m in _SST_COUNT_RE.findall(head)]
            scan.claimed = max(claims, default=0)
        scan.size += len(chunk)

    def absurd_shared_strings(self) -> list[str]:
        """Shared-string parts whose claimed count no real file could have."""
        return [part for part, scan in self.shared_strings.items() if scan.claim_is_absurd]

    def by_sheet_name(self, archive: zipfile.ZipFile) -> dict[str, SheetScan]:
        """The scans keyed by sheet name as the workbook lists them."""
        return {
            name: self.parts[path] for name, path in sheet_paths(archive) if path in self.parts
        }


def is_shared_strings_part(part: str) -> bool:
    return part.lower().startswith("xl/") and part.lower().endswith("sharedstrings.xml")


def without_string_counts(data: bytes, parts: list[str]) -> bytes:
    """The package again with the count attributes dropped from those parts' <sst> tag.

    Both attributes are optional in the standard; without them calamine grows its table as it
    reads instead of reserving what the file claims. Only ever done for a claim found absurd,
    so ordinary files are never repacked.
    """
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename in parts:
                content = _drop_counts(content)
            target.writestr(info, content, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _drop_counts(xml: bytes) -> bytes:
    start = xml.find(b"<sst")
    end = xml.find(b">", start)
    if start < 0 or end < 0:
        return xml
    return xml[:start] + _SST_COUNT_RE.sub(b"", xml[start:end]) + xml[end:]


def _last_row(window: bytes, scan: SheetScan) -> bool:
    """The number of the window's last row tag taken into ``scan.last_row``: False if the
    window holds none."""
    at = window.rfind(b"row ")
    for _ in range(_ROW_TRIES):
        if at < 0:
            return False
        match = _ROW_RE.match(window, at)
        if match:
            scan.last_row = max(scan.last_row, int(match.group(1)))
            return True
        at = window.rfind(b"row ", 0, at)
    # Only text that says "row" again and again: no tag to learn from here. The capped child
    # is the defence against a sheet larger than its tags admit, whatever this missed.
    return True


def sheet_paths(archive: zipfile.ZipFile) -> Iterator[tuple[str, str]]:
    workbook = _parse(archive, "xl/workbook.xml")
    rels = _parse(archive, "xl/_rels/workbook.xml.rels")
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_NS_PKG_REL}Relationship")}
    for sheet in workbook.iter(f"{_NS_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_NS_REL}id"), "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        yield sheet.get("name", ""), posixpath.normpath(path)


def uses_1904_dates(archive: zipfile.ZipFile) -> bool:
    """Whether the workbook counts its date serials from 1 Jan 1904 (``<workbookPr
    date1904="1"/>``, as Excel for Mac long did) rather than from 1900. A workbook part that
    is missing or will not parse says nothing: the usual 1900 system, as calamine assumes."""
    try:
        if b"date1904" not in archive.read("xl/workbook.xml"):
            return False  # the usual workbook: nothing to parse
        workbook = _parse(archive, "xl/workbook.xml")
    except (KeyError, ElementTree.ParseError, zipfile.BadZipFile, OSError, EOFError):
        return False
    # By local name: a Strict package writes the same element in another namespace.
    properties = next((e for e in workbook if e.tag.rpartition("}")[2] == "workbookPr"), None)
    flag = "" if properties is None else properties.get("date1904", "")
    return flag.strip().lower() in {"1", "true"}


def _parse(archive: zipfile.ZipFile, part: str) -> ElementTree.Element:
    """A package part as XML; every way it can fail to parse is a ``ParseError``."""
    try:
        return ElementTree.fromstring(archive.read(part))
    except LookupError as exc:  # a damaged declaration names an encoding Python does not know
        raise ElementTree.ParseError(f"{part}: {exc}") from exc


def _collect_formulas(window: bytes, found: set[str]) -> None:
    for match in _FORMULA_NO_VALUE_RE.finditer(window):
        if match.group(2) and _TEXT_RESULT_RE.search(match.group(1)):
            continue  # an empty text result: a stored value, blank
        ref = _REF_ATTR_RE.search(b" " + match.group(1))
        if ref:
            found.add(ref.group(1).decode("ascii"))


def _collect_errors(window: bytes, found: dict[str, str]) -> None:
    for match in _ERROR_CELL_RE.finditer(window):
        ref = _REF_ATTR_RE.search(b" " + match.group(1))
        if ref:
            found[ref.group(1).decode("ascii")] = match.group(2).decode("utf-8", "replace")
