"""The annotated copy of an .xlsx/.xlsm made by patching its package, not by openpyxl.

Loading and saving a workbook through openpyxl costs tens of milliseconds even for a six-row
return, most of the work of answering it. This module copies the zip member by member and
changes only what the annotation needs; the members it leaves alone go into the copy with
their compressed bytes as they are (``reports.zip_copy``), each checked against its CRC:

- xl/styles.xml: three fills (hard, soft, info), a copy of each marked cell's style with the
  fill, and the styles of the Issues sheet;
- each marked sheet: ``s="N"`` on marked cells, blank marked cells and rows added in order, a
  <legacyDrawing> for the comments (written as xl/commentsN.xml plus a VML drawing);
- every sheet: formulas replaced by their stored values, as openpyxl's ``data_only`` gives, so
  the copy shows what the validator read and no live formula comes back (calcChain dropped);
- a new Issues sheet of inline strings, listed in xl/workbook.xml, its rels and content types;
- macros (.xlsm) and the template flag (.xltx) dropped, so the result is a plain workbook.

Sheet XML is handled as bytes with regular expressions in one pass, touching only the rows that
hold a mark or a formula; the small parts are parsed with ``xml.etree`` (expat, no external
entities) after refusing any document type declaration. Anything unexpected (a strict-OOXML or
prefixed namespace, rows or cells without ``r``, duplicate or unordered references, comments
already on a marked sheet, Excel 4 macro sheets, missing parts) makes ``patched_copy`` return
None, and the caller falls back to openpyxl, which serves the user as before.
"""

from __future__ import annotations

import bisect
import logging
import math
import posixpath
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import pairwise
from typing import Any
from xml.etree import ElementTree as ET
from xml.parsers import expat
from xml.sax.saxutils import escape, quoteattr

from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import column_index_from_string
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, to_excel

from kernel import wording
from reports.issue_sheet import issue_fields, ordered, unique_title
from reports.xlsx_cells import (
    COMMENT_WIDTH_PT,
    SEVERITY_COLOURS,
    UK_DATE,
    UK_DATE_TIME,
    comment_height,
    comment_text,
    plain_value,
    worst,
)
from reports.zip_copy import ZipSource, ZipWriter
from validation.guards_zip import ZipBudget, zip_limits
from validation.issues import Issue, Severity
from validation.report import FileReport

logger = logging.getLogger(__name__)

Position = tuple[int, int]  # (row, column), both 1-based
Marks = dict[str, dict[Position, list[Issue]]]  # sheet title -> cell -> its issues

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_REL_TYPE = REL_NS + "/"
_WORKSHEET = _REL_TYPE + "worksheet"
_SHEET_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
WORKSHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_COMMENTS_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
_VML_CT = "application/vnd.openxmlformats-officedocument.vmlDrawing"
_VBA_REL = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
# Workbook main parts a plain .xlsx may carry instead: macro-enabled and template flavours.
_MAIN_TYPES = frozenset(
    {
        _SHEET_MAIN,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
        "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        "application/vnd.ms-excel.template.macroEnabled.main+xml",
    }
)
# Parts that run code or need the macro-enabled format: such files stay with openpyxl.
_ACTIVE_PARTS = re.compile(
    r"activex|macrosheet|dialogsheet|customui|vbaProject|attachedToolbars", re.IGNORECASE
)
_VBA_PARTS = re.compile(r"^xl/(?:_rels/)?vbaProject(?:Signature\w*)?\.bin(?:\.rels)?$", re.I)

# Elements a worksheet may hold after <legacyDrawing>, in schema order: it goes before these.
_AFTER_LEGACY = (
    b"<legacyDrawingHF",
    b"<drawingHF",
    b"<picture",
    b"<oleObjects",
    b"<controls",
    b"<webPublishItems",
    b"<tableParts",
    b"<extLst",
)
# Attribute lists are bounded so that malformed XML (a "<row" with no ">") cannot make a
# search quadratic; real ones are well under 200 bytes.
_ROW_TAG = re.compile(rb"<row\b([^>]{0,2000}?)(/?)>")
# A whole cell: attributes, then "/>" or its inner XML up to the first </c>.
_CELL = re.compile(rb"\s*<c\b([^>]{0,2000}?)(?:/>|>(.*?)</c>)", re.DOTALL)
_CELL_START = re.compile(rb"<c\b")
_FORMULA = re.compile(rb"<f[\s>/]")
_FORMULA_ELEMENT = re.compile(rb"<f\b[^>]*?(?:/>|>.*?</f>)", re.DOTALL)
_VALUE = re.compile(rb"<v\b[^>]*?(?:/>|>(.*?)</v>)", re.DOTALL)
_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]+)"')
_ROW_NUMBER = re.compile(rb'\br="([0-9]+)"')
# Single quotes or spaces around "=" are valid XML that no spreadsheet writes; the attribute
# edits here expect name="value" and would otherwise write an attribute twice.
_ODD_ATTRIBUTES = re.compile(rb"'|\s=|=\s")
_IDMAP = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?idmap\b[^>]*?\bdata="([0-9, ]+)"')
XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_ISSUE_WIDTHS = (13, 26, 16, 9, 7, 34, 20, 90)  # as reports.issue_sheet._WIDTHS
_MESSAGE_COLUMN = 8


class Unexpected(Exception):
    """Something this patcher does not handle; the openpyxl copy takes over."""


def patched_copy(
    data: bytes, report: FileReport, *, marks: Marks | None = None
) -> bytes | None:
    """The annotated workbook as .xlsx bytes, or None when the package is not one this module
    patches safely (the caller then uses openpyxl).

    Safe on any bytes, with or without the file guard first: no part is inflated past the
    size the central directory declares for it (``ZipSource``), and a package whose declared
    sizes the guard would refuse (too many parts, too much in all, encrypted, an odd
    compression) or whose sheets are too large to patch is declined before any inflating.

    ``marks``: for a package the bot wrote itself (``reports.values_package``), the cells to
    mark by sheet title there, as the caller found them (its titles are the sheets' names cut
    to Excel's rules). Its sheets may be of any size: they hold rows already read."""
    # Imported here: reports.annotate imports this module, and collect_marks lives there.
    from reports.annotate import collect_marks

    try:
        source = ZipSource(data)
        _check_declared(source.infos, len(data), sheets_capped=marks is None)
        package = _Package(source)
        if marks is None:
            marks = collect_marks(report.issues, package.worksheet_names(), report.sheet)
        return package.annotated(marks, report.issues)
    # Odd packages raise many things (KeyError for a missing part, ParseError, ValueError from
    # a bad number, BadZipFile...); the openpyxl path still serves the user.
    except Exception as exc:
        logger.info("patched copy of %s not made, using openpyxl: %r", report.file, exc)
        return None


def _check_declared(
    infos: Sequence[zipfile.ZipInfo], size: int, *, sheets_capped: bool = True
) -> None:
    """The guard's limits on what the central directory declares (raising ZipRefusal), with
    those of annotate_workbook's own look, and the cap on sheet XML that this path takes."""
    from reports.annotate import GUARD_MIN_BYTES, STYLED_COPY_MAX_SHEET_XML

    limits = zip_limits(max(size, GUARD_MIN_BYTES))
    ZipBudget(limits).check_declared(list(infos))
    # The guard's "expands too fast", which it judges as it inflates; here on the sizes
    # declared, which no part is inflated past.
    _require(
        not any(
            i.file_size > limits.ratio_floor and i.file_size > limits.max_ratio * i.compress_size
            for i in infos
        ),
        "no part expands too fast",
    )
    sheets = sum(i.file_size for i in infos if i.filename.startswith("xl/worksheets/"))
    _require(not sheets_capped or sheets <= STYLED_COPY_MAX_SHEET_XML,
             "sheets small enough to patch")


def _parse(xml: bytes) -> ET.Element:
    """A small part as a tree; a DTD (entity tricks) is refused rather than expanded."""
    if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
        raise Unexpected("document type declaration")
    return ET.fromstring(xml)


def _well_formed(xml: bytes) -> bytes:
    """``xml`` itself, once expat has read it whole: a last check that an edit here did not
    break it (a fragment with undeclared prefixes is fine: namespaces are not processed)."""
    try:
        expat.ParserCreate().Parse(xml, True)
    except expat.ExpatError as exc:
        raise Unexpected(f"an edit would break the XML: {exc}") from exc
    return xml


def _require(condition: bool, what: str) -> None:
    if not condition:
        raise Unexpected(what)


@dataclass
class _SheetPart:
    name: str
    path: str
    is_worksheet: bool


@dataclass
class _Edits:
    """What the package gets besides its own members: new parts, and members left out."""

    new_parts: dict[str, bytes] = field(default_factory=dict)
    dropped: set[str] = field(default_factory=set)
    overrides: list[tuple[str, str]] = field(default_factory=list)


class _Package:
    """The workbook's package, read once; ``annotated`` writes the patched copy."""

    def __init__(self, archive: ZipSource) -> None:
        self.archive = archive
        self.names = archive.names
        _require(len(set(n.lower() for n in self.names)) == len(self.names), "duplicate parts")
        _require(
            not any(_ACTIVE_PARTS.search(n) and not _VBA_PARTS.match(n) for n in self.names),
            "active content",
        )
        self.content_types = archive.read("[Content_Types].xml")
        self.workbook_path = self._office_document()
        _require(self.workbook_path == "xl/workbook.xml", "workbook elsewhere")
        self.workbook = archive.read(self.workbook_path)
        self.workbook_root = _parse(self.workbook)  # read here, by _add_sheet and _epoch
        self.rels_path = "xl/_rels/workbook.xml.rels"
        self.rels = archive.read(self.rels_path)
        self.relations = _relations(self.rels, "xl")
        self.sheets = self._sheets()
        styles = [t for t, (kind, _) in self.relations.items() if kind == _REL_TYPE + "styles"]
        _require(len(styles) == 1, "one styles part")
        self.styles_path = self.relations[styles[0]][1]
        self.styles = _Styles(archive.read(self.styles_path))

    def _office_document(self) -> str:
        targets = [
            target
            for kind, target in _relations(self.archive.read("_rels/.rels"), "").values()
            if kind == _REL_TYPE + "officeDocument"
        ]
        _require(len(targets) == 1, "one workbook")
        return targets[0]

    def _sheets(self) -> list[_SheetPart]:
        root = self.workbook_root
        _require(root.tag == f"{{{MAIN_NS}}}workbook", "transitional workbook")
        listed = root.find(f"{{{MAIN_NS}}}sheets")
        _require(listed is not None, "sheets listed")
        sheets = []
        for element in listed if listed is not None else []:
            kind, path = self.relations[element.attrib[f"{{{REL_NS}}}id"]]
            _require(kind.startswith(_REL_TYPE), "known sheet relationship")
            _require(kind != _REL_TYPE + "worksheet" or path in self.names, "sheet part")
            sheets.append(_SheetPart(element.attrib["name"], path, kind == _WORKSHEET))
        _require(bool(sheets), "a sheet")
        return sheets

    @property
    def worksheet_paths(self) -> set[str]:
        return {s.path for s in self.sheets if s.is_worksheet}

    def worksheet_names(self) -> list[str]:
        return [s.name for s in self.sheets if s.is_worksheet]

    def annotated(
        self, marks: dict[str, dict[Position, list[Issue]]], issues: Sequence[Issue]
    ) -> bytes:
        edits = _Edits()
        patched: dict[str, bytes] = {}
        # Each VML drawing claims blocks of 1,024 shape ids (o:idmap); ours come after any the
        # workbook has, so no two shapes share an id.
        first_block = self._last_vml_block() + 1
        worksheets = (s for s in self.sheets if s.is_worksheet)
        for number, sheet in enumerate(worksheets, start=first_block):
            xml = self.archive.read(sheet.path)
            sheet_marks = marks.get(sheet.name, {})
            if sheet_marks or _FORMULA.search(xml):
                patched[sheet.path] = self._patch_worksheet(sheet, xml, sheet_marks, number, edits)
        epoch = _epoch(self.workbook_root)
        title = unique_title(wording.ANNOTATED_SHEET_TITLE, [s.name for s in self.sheets])
        issues_path = self._free_name("xl/worksheets/sheet{}.xml", edits)
        edits.new_parts[issues_path] = _issues_sheet(ordered(issues), self.styles, epoch)
        edits.overrides.append((issues_path, WORKSHEET_CT))
        patched[self.styles_path] = self.styles.render()
        workbook, rels = self._add_sheet(title, issues_path, edits)
        patched[self.workbook_path] = workbook
        patched[self.rels_path] = rels
        patched["[Content_Types].xml"] = self._content_types(edits)
        kept = [n for n in self.names if n not in edits.dropped]
        _check_typed(patched["[Content_Types].xml"], [*kept, *edits.new_parts])
        for name, xml in [*patched.items(), *edits.new_parts.items()]:
            if name not in self.worksheet_paths:  # their rewritten rows were checked one by one
                _well_formed(xml)
        return self._write(patched, edits)

    def _last_vml_block(self) -> int:
        drawings = (self.archive.read(n) for n in self.names if n.lower().endswith(".vml"))
        listed = b" ".join(b" ".join(_IDMAP.findall(xml)) for xml in drawings)
        return max((int(n) for n in re.findall(rb"[0-9]+", listed)), default=0)

    def _patch_worksheet(
        self,
        sheet: _SheetPart,
        xml: bytes,
        marks: dict[Position, list[Issue]],
        number: int,
        edits: _Edits,
    ) -> bytes:
        rels_path = _rels_path(sheet.path)
        rels = self.archive.read(rels_path) if rels_path in self.names else None
        comments = _comment_texts(marks, _merged_ranges(xml))
        rel_id = None
        if comments:
            rel_id, rels_xml = self._comment_parts(sheet.path, rels, comments, number, edits)
            edits.new_parts[rels_path] = rels_xml
        return _patch_sheet_xml(xml, comments, self.styles, rel_id)

    def _comment_parts(
        self,
        sheet_path: str,
        rels: bytes | None,
        comments: dict[Position, tuple[str, Severity]],
        number: int,
        edits: _Edits,
    ) -> tuple[str, bytes]:
        existing = _relations(rels, posixpath.dirname(sheet_path)) if rels is not None else {}
        kinds = {kind for kind, _ in existing.values()}
        _require(_REL_TYPE + "comments" not in kinds, "comments already there")
        _require(_REL_TYPE + "vmlDrawing" not in kinds, "a legacy drawing already there")
        comments_path = self._free_name("xl/comments{}.xml", edits)
        vml_path = self._free_name("xl/drawings/vmlDrawing{}.vml", edits)
        edits.new_parts[comments_path] = _comments_xml(comments)
        edits.new_parts[vml_path] = _vml_xml(comments, number)
        edits.overrides.append((comments_path, _COMMENTS_CT))
        base = posixpath.dirname(sheet_path)
        vml_id, comments_id = _free_ids(existing, 2)
        added = [
            (vml_id, _REL_TYPE + "vmlDrawing", posixpath.relpath(vml_path, base)),
            (comments_id, _REL_TYPE + "comments", posixpath.relpath(comments_path, base)),
        ]
        return vml_id, _add_relations(rels, added)

    def _free_name(self, pattern: str, edits: _Edits | None = None) -> str:
        taken = {n.lower() for n in self.names}
        if edits is not None:
            taken |= {n.lower() for n in edits.new_parts}
        number = 1
        while pattern.format(number).lower() in taken:
            number += 1
        return pattern.format(number)

    def _add_sheet(self, title: str, path: str, edits: _Edits) -> tuple[bytes, bytes]:
        """workbook.xml listing the new sheet last, and its rels (macros and calcChain gone)."""
        (rel_id,) = _free_ids(self.relations, 1)
        target = posixpath.relpath(path, "xl")
        rels = _add_relations(self.rels, [(rel_id, _WORKSHEET, target)])
        for kind, part in self.relations.values():
            if kind in (_VBA_REL, _REL_TYPE + "calcChain"):  # no macros; no formulas left
                rels = _drop_relation(rels, kind)
                _require(kind.encode() not in rels, "relationship dropped")
                edits.dropped.add(part)
        edits.dropped |= {n for n in self.names if _VBA_PARTS.match(n)}
        sheets = self.workbook_root.find(f"{{{MAIN_NS}}}sheets")
        ids = [int(s.attrib.get("sheetId", "0")) for s in (sheets if sheets is not None else [])]
        namespace = "" if _declares_r(self.workbook) else f' xmlns:r="{REL_NS}"'
        element = (
            f'<sheet name={quoteattr(title)} sheetId="{max(ids, default=0) + 1}"{namespace}'
            f' r:id="{rel_id}"/>'
        )
        closing = self.workbook.find(b"</sheets>")
        _require(closing > 0 and self.workbook.count(b"</sheets>") == 1, "one <sheets>")
        workbook = self.workbook[:closing] + element.encode() + self.workbook[closing:]
        return workbook, rels

    def _content_types(self, edits: _Edits) -> bytes:
        root = _parse(self.content_types)
        _require(root.tag == f"{{{CT_NS}}}Types", "content types")
        text = self.content_types.decode("utf-8")
        for element in root.findall(f"{{{CT_NS}}}Override"):
            part, kind = element.attrib["PartName"], element.attrib["ContentType"]
            if part.lstrip("/") in edits.dropped:
                text = _drop_element(text, "Override", "PartName", part)
            elif part.lstrip("/") == self.workbook_path:
                _require(kind in _MAIN_TYPES, "known workbook type")
                text = text.replace(f'"{kind}"', f'"{_SHEET_MAIN}"')
        for element in root.findall(f"{{{CT_NS}}}Default"):
            if "vbaProject" in element.attrib["ContentType"]:
                text = _drop_element(text, "Default", "Extension", element.attrib["Extension"])
        extensions = {e.attrib["Extension"].lower() for e in root.findall(f"{{{CT_NS}}}Default")}
        added = [
            f'<Override PartName="/{part}" ContentType="{kind}"/>' for part, kind in edits.overrides
        ]
        if "vml" not in extensions and any(p.endswith(".vml") for p in edits.new_parts):
            added.append(f'<Default Extension="vml" ContentType="{_VML_CT}"/>')
        return _insert_before(text, "</Types>", "".join(added)).encode("utf-8")

    def _write(self, patched: dict[str, bytes], edits: _Edits) -> bytes:
        """The copy: changed and new parts deflated, every other part's compressed bytes
        copied as they are (each checked against its CRC first)."""
        out = ZipWriter()
        # [Content_Types].xml first, as Office writes it; then every part in its own order.
        order = ["[Content_Types].xml", *(n for n in self.names if n != "[Content_Types].xml")]
        for name in order:
            if name in edits.dropped or name in edits.new_parts:
                continue
            if name in patched:
                out.add(name, patched[name], self.archive.info(name).date_time)
            else:
                out.copy(self.archive, name)
        for name, data in edits.new_parts.items():
            out.add(name, data)
        return out.getvalue()


def _check_typed(content_types: bytes, parts: Iterable[str]) -> None:
    """Every part of the copy has a content type (Excel calls a package without one damaged),
    e.g. no .bin left typed only by the vbaProject default that was dropped."""
    root = _parse(content_types)
    defaults = {e.attrib["Extension"].lower() for e in root.findall(f"{{{CT_NS}}}Default")}
    overrides = {
        e.attrib["PartName"].lstrip("/").lower() for e in root.findall(f"{{{CT_NS}}}Override")
    }
    for part in parts:
        if part.endswith("/") or part == "[Content_Types].xml":
            continue  # folder entries some zip tools add, and the types part itself
        extension = posixpath.basename(part).rpartition(".")[2].lower()  # "rels" of ".rels"
        _require(part.lower() in overrides or extension in defaults, f"{part} typed")


def _relations(xml: bytes, base: str) -> dict[str, tuple[str, str]]:
    """Id -> (type, part path) of a rels part; external targets are left out."""
    root = _parse(xml)
    _require(root.tag == f"{{{PKG_REL_NS}}}Relationships", "relationships")
    found: dict[str, tuple[str, str]] = {}
    for element in root:
        rel_id = element.attrib["Id"]
        _require(rel_id not in found, "unique relationship ids")
        target = element.attrib["Target"]
        if element.attrib.get("TargetMode") == "External":
            found[rel_id] = (element.attrib["Type"], "")
            continue
        path = target.lstrip("/") if target.startswith("/") else posixpath.join(base, target)
        found[rel_id] = (element.attrib["Type"], posixpath.normpath(path))
    return found


def _rels_path(part: str) -> str:
    return posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")


def _free_ids(taken: Iterable[str], count: int) -> list[str]:
    used = set(taken)
    found: list[str] = []
    number = 1
    while len(found) < count:
        candidate = f"rIdMarac{number}"
        if candidate not in used:
            found.append(candidate)
        number += 1
    return found


def _add_relations(rels: bytes | None, added: list[tuple[str, str, str]]) -> bytes:
    elements = "".join(
        f'<Relationship Id="{rel_id}" Type="{kind}" Target={quoteattr(target)}/>'
        for rel_id, kind, target in added
    )
    if rels is None:
        return (
            f'{XML_DECL}<Relationships xmlns="{PKG_REL_NS}">{elements}</Relationships>'
        ).encode()
    text = rels.decode("utf-8")
    if "</Relationships>" not in text:  # <Relationships .../> with nothing in it
        text = re.sub(r"<Relationships\b([^>]*?)\s*/>", r"<Relationships\1></Relationships>", text)
    return _insert_before(text, "</Relationships>", elements).encode("utf-8")


def _drop_relation(rels: bytes, kind: str) -> bytes:
    kind_attribute = rb'\bType="' + re.escape(kind.encode()) + rb'"'
    pattern = re.compile(rb"<Relationship\b[^>]*?" + kind_attribute + rb"[^>]*?/>")
    return pattern.sub(b"", rels)


def _drop_element(text: str, tag: str, attribute: str, value: str) -> str:
    pattern = rf'<{tag}\b[^>]*?\b{attribute}="{re.escape(value)}"[^>]*?/>'
    return re.sub(pattern, "", text)


def _insert_before(text: str, closing: str, added: str) -> str:
    _require(text.count(closing) == 1, closing)
    at = text.index(closing)
    return text[:at] + added + text[at:]


def _declares_r(xml: bytes) -> bool:
    return f'xmlns:r="{REL_NS}"'.encode() in xml[: xml.find(b">", xml.find(b"<workbook")) + 1]


def _epoch(workbook: ET.Element) -> datetime:
    properties = workbook.find(f"{{{MAIN_NS}}}workbookPr")
    flag = properties.attrib.get("date1904", "0") if properties is not None else "0"
    return CALENDAR_MAC_1904 if flag.lower() in ("1", "true") else CALENDAR_WINDOWS_1900


# --- marks and comments ---------------------------------------------------------------------


def _merged_ranges(xml: bytes) -> list[tuple[int, int, int, int]]:
    """(min_row, min_col, max_row, max_col) of each merge; they follow </sheetData>."""
    end = xml.rfind(b"</sheetData>")
    found = []
    for ref in re.findall(rb'<mergeCell\b[^>]*?\bref="([^"]+)"', xml[max(end, 0) :]):
        first, _, last = ref.decode().partition(":")
        (r1, c1), (r2, c2) = _position(first), _position(last or first)
        found.append((r1, c1, r2, c2))
    return found


def _position(ref: str) -> Position:
    match = re.fullmatch(r"\$?([A-Z]{1,3})\$?([0-9]+)", ref)
    _require(match is not None, "a cell reference")
    assert match is not None
    return int(match.group(2)), column_index_from_string(match.group(1))


def _comment_texts(
    marks: dict[Position, list[Issue]], merges: list[tuple[int, int, int, int]]
) -> dict[Position, tuple[str, Severity]]:
    """Each cell to mark, its comment and fill, as openpyxl's mark_cell would leave them.

    A mark inside a merge lands on its top-left cell; a cell marked twice that way keeps the
    last fill and a comment that quotes the first, exactly as calling mark_cell twice does."""
    cells: dict[Position, tuple[str, Severity]] = {}
    for (row, column), issues in marks.items():
        target = _merge_anchor(row, column, merges)
        earlier = cells[target][0] if target in cells else None
        cells[target] = (comment_text(issues, earlier), worst(issues))
    return cells


def _merge_anchor(row: int, column: int, merges: list[tuple[int, int, int, int]]) -> Position:
    for r1, c1, r2, c2 in merges:
        if r1 <= row <= r2 and c1 <= column <= c2:
            return r1, c1
    return row, column


def _comments_xml(comments: dict[Position, tuple[str, Severity]]) -> bytes:
    entries = "".join(
        f'<comment ref="{get_column_letter(column)}{row}" authorId="0"><text>'
        f'<t xml:space="preserve">{escape(text)}</t></text></comment>'
        for (row, column), (text, _) in sorted(comments.items())
    )
    return (
        f'{XML_DECL}<comments xmlns="{MAIN_NS}"><authors>'
        f"<author>{escape(wording.ANNOTATION_AUTHOR)}</author></authors>"
        f"<commentList>{entries}</commentList></comments>"
    ).encode()


def _vml_xml(comments: dict[Position, tuple[str, Severity]], number: int) -> bytes:
    """The legacy drawing Excel needs to show comments, shaped as openpyxl writes it."""
    shapes = "".join(
        _vml_shape(1024 * number + index, row, column, text)
        for index, ((row, column), (text, _)) in enumerate(sorted(comments.items()), start=1)
    )
    return (
        '<xml xmlns:v="urn:schemas-microsoft-com:vml" '
        'xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel">'
        f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{number}"/></o:shapelayout>'
        '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" '
        'path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/>'
        '<v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
        f"{shapes}</xml>"
    ).encode()


def _vml_shape(shape_id: int, row: int, column: int, text: str) -> str:
    style = (
        "position:absolute;margin-left:59.25pt;margin-top:1.5pt;"
        f"width:{COMMENT_WIDTH_PT}px;height:{comment_height(text)}px;z-index:1;visibility:hidden"
    )
    return (
        f'<v:shape id="_x0000_s{shape_id:04d}" type="#_x0000_t202" style="{style}" '
        'fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/>'
        '<v:shadow color="black" obscured="t"/><v:path o:connecttype="none"/>'
        '<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"/></v:textbox>'
        '<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
        f"<x:AutoFill>False</x:AutoFill><x:Row>{row - 1}</x:Row>"
        f"<x:Column>{column - 1}</x:Column></x:ClientData></v:shape>"
    )


# --- the sheet XML ----------------------------------------------------------------------------


@dataclass
class _RowTag:
    start: int  # where "<row" begins
    body: int  # just past the start tag
    number: int
    empty: bool  # <row .../>


def _patch_sheet_xml(
    xml: bytes,
    marks: dict[Position, tuple[str, Severity]],
    styles: _Styles,
    legacy_id: str | None,
) -> bytes:
    """The sheet with marked cells styled (and added where missing), formulas replaced by their
    values and, when there are comments, a <legacyDrawing>. One pass; other bytes are kept."""
    _require(b"<!DOCTYPE" not in xml and b"<!ENTITY" not in xml, "no DTD")
    root = re.search(rb"<([A-Za-z_][\w.-]*:)?worksheet\b([^>]*)>", xml)
    _require(root is not None and root.group(1) is None, "unprefixed worksheet")
    assert root is not None
    _require(f'xmlns="{MAIN_NS}"'.encode() in root.group(2), "transitional namespace")
    opening = re.search(rb"<sheetData\s*(/?)>", xml)
    _require(opening is not None and xml.count(b"<sheetData") == 1, "one <sheetData>")
    assert opening is not None
    if opening.group(1):  # <sheetData/>: no rows at all
        body_start = body_end = opening.end()
        head, tail = xml[: opening.start()] + b"<sheetData>", b"</sheetData>" + xml[body_start:]
    else:
        body_start = opening.end()
        body_end = xml.find(b"</sheetData>", body_start)
        _require(body_end >= 0, "</sheetData>")
        head, tail = xml[:body_start], xml[body_end:]
    column_styles = _column_styles(head)
    body = _patch_rows(xml, body_start, body_end, marks, styles, column_styles)
    head = _widen_dimension(head, marks)
    if legacy_id is not None:
        tail = _add_legacy_drawing(tail, legacy_id, root.group(2))
    return head + body + tail


def _patch_rows(
    xml: bytes,
    start: int,
    end: int,
    marks: dict[Position, tuple[str, Severity]],
    styles: _Styles,
    column_styles: list[tuple[int, int, int]],
) -> bytes:
    rows = _row_tags(xml, start, end)
    numbers = [r.number for r in rows]
    touched = {row for row, _ in marks}
    starts = [r.start for r in rows]
    for found in _FORMULA.finditer(xml, start, end):  # rows holding a formula lose it
        index = bisect.bisect_right(starts, found.start()) - 1
        _require(index >= 0, "a formula outside any row")
        touched.add(numbers[index])
    by_row: dict[int, dict[int, tuple[str, Severity]]] = {}
    for (row, column), mark in marks.items():
        by_row.setdefault(row, {})[column] = mark
    pieces: list[bytes] = []
    copied = start
    for number in sorted(touched):
        index = bisect.bisect_left(numbers, number)
        row_marks = by_row.get(number, {})
        if index < len(rows) and numbers[index] == number:
            tag = rows[index]
            stop = _row_end(xml, tag, end)
            pieces.append(xml[copied : tag.start])
            pieces.append(_patch_row(xml, tag, stop, row_marks, styles, column_styles))
            copied = stop
        else:  # a blank row: inserted before the next row there is, keeping rows in order
            at = rows[index].start if index < len(rows) else end
            pieces.append(xml[copied:at])
            pieces.append(_new_row(number, row_marks, styles, column_styles))
            copied = at
    pieces.append(xml[copied:end])
    return b"".join(pieces)


def _row_tags(xml: bytes, start: int, end: int) -> list[_RowTag]:
    rows = []
    for tag in _ROW_TAG.finditer(xml, start, end):
        number = _ROW_NUMBER.search(tag.group(1))
        _require(number is not None, "rows numbered")
        assert number is not None
        rows.append(_RowTag(tag.start(), tag.end(), int(number.group(1)), bool(tag.group(2))))
    numbers = [r.number for r in rows]
    _require(all(a < b for a, b in pairwise(numbers)), "rows in order, once each")
    _require(xml.count(b"<row", start, end) == len(rows), "only <row> in <sheetData>")
    return rows


def _row_end(xml: bytes, tag: _RowTag, end: int) -> int:
    if tag.empty:
        return tag.body
    stop = xml.find(b"</row>", tag.body, end)
    _require(stop >= 0, "</row>")
    return stop + len(b"</row>")


def _patch_row(
    xml: bytes,
    tag: _RowTag,
    stop: int,
    marks: dict[int, tuple[str, Severity]],
    styles: _Styles,
    column_styles: list[tuple[int, int, int]],
) -> bytes:
    start_tag = xml[tag.start : tag.body]
    content = xml[tag.body : stop - len(b"</row>")] if not tag.empty else b""
    row_style = _row_style(start_tag)
    cells: list[tuple[int, bytes]] = []
    for column, cell, attributes, inner in _row_cells(content, tag.number):
        mark = marks.get(column)
        if mark is not None or (inner is not None and _FORMULA.search(inner)):
            cell = _patch_cell(attributes, inner, mark, styles)
        cells.append((column, cell))  # other cells as they are
    present = {column for column, _ in cells}
    for column, (_, severity) in marks.items():
        if column not in present:
            base = _default_style(column, row_style, column_styles)
            cells.append((column, _blank_cell(tag.number, column, styles.marked(base, severity))))
    cells.sort()
    if len(cells) > len(present):  # spans is only a hint, and would now be wrong
        start_tag = re.sub(rb'\sspans="[^"]*"', b"", start_tag)
    start_tag = start_tag[:-2] + b">" if tag.empty else start_tag
    return _well_formed(start_tag + b"".join(c for _, c in cells) + b"</row>")


def _row_cells(content: bytes, row: int) -> list[tuple[int, bytes, bytes, bytes | None]]:
    """Each <c> of a row as (column, its XML as it is, attributes, inner XML or None when
    empty), checked to be numbered in this row and in order. Each cell is matched where the
    last one ended, so this is linear in the row's length even when the XML is malformed."""
    cells: list[tuple[int, bytes, bytes, bytes | None]] = []
    at = last = 0
    while (cell := _CELL.match(content, at)) is not None:
        attributes = cell.group(1)
        ref = _REF.search(attributes)
        _require(ref is not None and int(ref.group(2)) == row, "cells numbered")
        assert ref is not None
        column = column_index_from_string(ref.group(1).decode())
        _require(last < column, "cells in order, once each")
        cells.append((column, cell.group(0), attributes, cell.group(2)))
        at, last = cell.end(), column
    _require(not content[at:].strip(), "only cells in a row")
    # A <c> inside another cell's XML would be taken for part of that cell.
    _require(len(_CELL_START.findall(content)) == len(cells), "cells not nested")
    return cells


def _patch_cell(
    attributes: bytes, inner: bytes | None, mark: tuple[str, Severity] | None, styles: _Styles
) -> bytes:
    _require(not _ODD_ATTRIBUTES.search(attributes), "attributes written the usual way")
    if inner is not None and _FORMULA.search(inner):
        attributes, inner = _stored_value(attributes, inner)
    if mark is not None:
        style = re.search(rb'\bs="([0-9]+)"', attributes)
        new = styles.marked(int(style.group(1)) if style else 0, mark[1])
        attributes = _set_attribute(attributes, b"s", str(new).encode())
    return b"<c" + attributes + (b"/>" if inner is None else b">" + inner + b"</c>")


def _stored_value(attributes: bytes, inner: bytes) -> tuple[bytes, bytes | None]:
    """A formula cell as its stored value, as openpyxl's data_only reads it: text results
    become inline strings, a formula with no stored value a blank cell."""
    inner = _FORMULA_ELEMENT.sub(b"", inner)
    attributes = re.sub(rb'\s(?:cm)="[^"]*"', b"", attributes)
    value = _VALUE.search(inner)
    kind = re.search(rb'\bt="([^"]*)"', attributes)
    if value is None:
        attributes = re.sub(rb'\st="[^"]*"', b"", attributes)
        return attributes, inner if inner.strip() else None
    if kind is not None and kind.group(1) == b"str":
        text = value.group(1) or b""
        attributes = _set_attribute(attributes, b"t", b"inlineStr")
        inner = inner.replace(value.group(0), b'<is><t xml:space="preserve">' + text + b"</t></is>")
    return attributes, inner


def _set_attribute(attributes: bytes, name: bytes, value: bytes) -> bytes:
    _require(not _ODD_ATTRIBUTES.search(attributes), "attributes written the usual way")
    pattern = rb"(\s" + name + rb')="[^"]*"'
    if re.search(pattern, attributes):
        return re.sub(pattern, rb'\1="' + value + b'"', attributes, count=1)
    return attributes.rstrip() + b" " + name + b'="' + value + b'"'


def _blank_cell(row: int, column: int, style: int) -> bytes:
    return f'<c r="{get_column_letter(column)}{row}" s="{style}"/>'.encode()


def _new_row(
    number: int,
    marks: dict[int, tuple[str, Severity]],
    styles: _Styles,
    column_styles: list[tuple[int, int, int]],
) -> bytes:
    cells = b"".join(
        _blank_cell(number, column, styles.marked(_default_style(column, 0, column_styles), sev))
        for column, (_, sev) in sorted(marks.items())
    )
    return f'<row r="{number}">'.encode() + cells + b"</row>"


def _row_style(start_tag: bytes) -> int:
    """A row's own style, which its blank cells show (Excel: customFormat="1")."""
    if not re.search(rb'\bcustomFormat="(?:1|true)"', start_tag):
        return 0
    style = re.search(rb'\bs="([0-9]+)"', start_tag)
    return int(style.group(1)) if style else 0


def _column_styles(head: bytes) -> list[tuple[int, int, int]]:
    found = []
    for attributes in re.findall(rb"<col\b([^>]*?)/?>", head):
        first = re.search(rb'\bmin="([0-9]+)"', attributes)
        last = re.search(rb'\bmax="([0-9]+)"', attributes)
        style = re.search(rb'\bstyle="([0-9]+)"', attributes)
        if first and last and style:
            found.append((int(first.group(1)), int(last.group(1)), int(style.group(1))))
    return found


def _default_style(column: int, row_style: int, columns: list[tuple[int, int, int]]) -> int:
    """The style a blank cell shows: its row's when the row has one, else its column's."""
    if row_style:
        return row_style
    for first, last, style in columns:
        if first <= column <= last:
            return style
    return 0


def _widen_dimension(head: bytes, marks: dict[Position, tuple[str, Severity]]) -> bytes:
    found = re.search(rb'<dimension\b[^>]*?\bref="([^"]+)"', head)
    if found is None or not marks:
        return head
    first, _, last = found.group(1).decode().partition(":")
    try:
        (r1, c1), (r2, c2) = _position(first), _position(last or first)
    except Unexpected:
        return head  # an odd dimension is only a hint; leave it
    rows = [r1, r2, *(r for r, _ in marks)]
    columns = [c1, c2, *(c for _, c in marks)]
    first = f"{get_column_letter(min(columns))}{min(rows)}"
    ref = f"{first}:{get_column_letter(max(columns))}{max(rows)}"
    return head[: found.start(1)] + ref.encode() + head[found.end(1) :]


def _add_legacy_drawing(tail: bytes, rel_id: str, root_attributes: bytes) -> bytes:
    _require(b"<legacyDrawing " not in tail and b"<legacyDrawing>" not in tail, "no legacy drawing")
    # Parts wrapped for newer Excel (embedded objects, controls) would hide where it must go.
    _require(b"AlternateContent" not in tail, "no alternate content after the cells")
    declared = f'xmlns:r="{REL_NS}"'.encode() in root_attributes
    namespace = b"" if declared else f' xmlns:r="{REL_NS}"'.encode()
    element = b"<legacyDrawing" + namespace + f' r:id="{rel_id}"/>'.encode()
    positions = [tail.find(tag) for tag in _AFTER_LEGACY]
    found = [p for p in positions if p >= 0]
    at = min(found) if found else tail.rfind(b"</worksheet>")
    _require(at > 0, "</worksheet>")
    return tail[:at] + element + tail[at:]


# --- styles -----------------------------------------------------------------------------------


_SEVERITIES = (Severity.HARD, Severity.SOFT, Severity.INFO)


class _Styles:
    """xl/styles.xml with the fills, cell formats and fonts the annotation adds."""

    def __init__(self, xml: bytes) -> None:
        root = _parse(xml)
        _require(root.tag == f"{{{MAIN_NS}}}styleSheet", "transitional styles")
        self.text = xml.decode("utf-8")
        _require(not re.search(r"<\w+:(?:fills|cellXfs|fonts)\b", self.text), "unprefixed styles")
        self.xfs = _children(self.text, "cellXfs", "xf")
        self.fonts = _children(self.text, "fonts", "font")
        fills = _children(self.text, "fills", "fill")
        for tag, items in (("cellXfs", self.xfs), ("fonts", self.fonts), ("fills", fills)):
            listed = root.find(f"{{{MAIN_NS}}}{tag}")
            _require(listed is not None and len(listed) == len(items), f"{tag} read")
        # Ids from 164 are the workbook's own formats (dxfs may define some too).
        ids = [int(n) for n in re.findall(r'numFmtId="([0-9]+)"', self.text)]
        self.next_format = max([163, *ids]) + 1
        self.fill_count = len(fills) + len(_SEVERITIES)
        self.fill_ids = {s: len(fills) + i for i, s in enumerate(_SEVERITIES)}
        self.has_cell_style = root.find(f"{{{MAIN_NS}}}cellStyleXfs") is not None
        self.added_xfs: list[str] = []
        self.added_fonts: list[str] = []
        self.added_formats: list[str] = []
        self.cache: dict[Any, int] = {}

    def marked(self, style: int, severity: Severity) -> int:
        """The cell format ``style`` with the severity's fill."""
        _require(0 <= style < len(self.xfs), "a cell format that exists")
        key = ("mark", style, severity)
        if key not in self.cache:
            xf = self.xfs[style]
            at = xf.index(">") + 1  # the start tag, "<xf .../>" or "<xf ...>"
            start, rest = xf[:at], xf[at:]
            start = _set_text_attribute(start, "fillId", str(self.fill_ids[severity]))
            start = _set_text_attribute(start, "applyFill", "1")
            self.cache[key] = self._add_xf(start + rest)
        return self.cache[key]

    def issue_cell(self, severity: Severity | None, bold: bool, wrap: bool, fmt: str | None) -> int:
        """A cell format of the Issues sheet: the workbook's first font (bold for the header),
        a severity fill, wrapped text, or a UK date format."""
        key = ("issues", severity, bold, wrap, fmt)
        if key not in self.cache:
            font = self._bold_font() if bold else 0
            fill = self.fill_ids[severity] if severity is not None else 0
            fmt_id = self._format(fmt) if fmt else 0
            attributes = (
                f'numFmtId="{fmt_id}" fontId="{font}" fillId="{fill}" borderId="0"'
                + (' xfId="0"' if self.has_cell_style else "")
                + (' applyNumberFormat="1"' if fmt_id else "")
                + (' applyFont="1"' if bold else "")
                + (' applyFill="1"' if fill else "")
            )
            if wrap:
                alignment = '<alignment wrapText="1" vertical="top"/>'
                xf = f'<xf {attributes} applyAlignment="1">{alignment}</xf>'
            else:
                xf = f"<xf {attributes}/>"
            self.cache[key] = self._add_xf(xf)
        return self.cache[key]

    def _add_xf(self, xf: str) -> int:
        self.added_xfs.append(xf)
        return len(self.xfs) + len(self.added_xfs) - 1

    def _bold_font(self) -> int:
        if not self.added_fonts:
            font = re.sub(r"<b\b[^>]*/>", "", self.fonts[0])
            if font.endswith("/>") and font.count(">") == 1:
                font = font[:-2].rstrip() + "></font>"
            at = font.index(">") + 1
            self.added_fonts.append(font[:at] + '<b val="1"/>' + font[at:])
        return len(self.fonts)

    def _format(self, code: str) -> int:
        key = ("format", code)
        if key not in self.cache:
            self.cache[key] = self.next_format + len(self.added_formats)
            self.added_formats.append(
                f'<numFmt numFmtId="{self.cache[key]}" formatCode={quoteattr(code)}/>'
            )
        return self.cache[key]

    def render(self) -> bytes:
        text = self.text
        fills = "".join(_fill(SEVERITY_COLOURS[s]) for s in _SEVERITIES)
        text = _append(text, "fills", fills, self.fill_count)
        if self.added_fonts:
            text = _append(text, "fonts", "".join(self.added_fonts), len(self.fonts) + 1)
        count = len(self.xfs) + len(self.added_xfs)
        text = _append(text, "cellXfs", "".join(self.added_xfs), count)
        if self.added_formats:
            text = self._add_formats(text)
        return text.encode("utf-8")

    def _add_formats(self, text: str) -> str:
        added = "".join(self.added_formats)
        if re.search(r"<numFmts\b", text):
            existing = len(_children(text, "numFmts", "numFmt"))
            return _append(text, "numFmts", added, existing + len(self.added_formats))
        root = re.search(r"<styleSheet\b[^>]*>", text)
        _require(root is not None, "styleSheet")
        assert root is not None  # numFmts comes first in a styleSheet
        formats = f'<numFmts count="{len(self.added_formats)}">{added}</numFmts>'
        return text[: root.end()] + formats + text[root.end() :]


def _children(text: str, parent: str, child: str) -> list[str]:
    """The raw text of each <child> of the one <parent> element."""
    found = re.search(rf"<{parent}\b[^>]*?(?:/>|>(.*?)</{parent}>)", text, re.DOTALL)
    _require(found is not None and text.count(f"<{parent}") == 1, f"one <{parent}>")
    assert found is not None
    inner = found.group(1) or ""
    return re.findall(rf"<{child}\b[^>]*?(?:/>|>.*?</{child}>)", inner, re.DOTALL)


def _append(text: str, parent: str, added: str, count: int) -> str:
    opening = re.search(rf"<{parent}\b[^>]*?(/?)>", text)
    _require(opening is not None, f"<{parent}>")
    assert opening is not None
    start_tag = opening.group(0)
    if opening.group(1):  # <parent/>
        start_tag = start_tag[:-2].rstrip() + ">"
        added += f"</{parent}>"
    start_tag = _set_text_attribute(start_tag, "count", str(count))
    text = text[: opening.start()] + start_tag + text[opening.end() :]
    if opening.group(1):
        at = opening.start() + len(start_tag)
    else:
        at = text.index(f"</{parent}>", opening.start())
    return text[:at] + added + text[at:]


def _set_text_attribute(start_tag: str, name: str, value: str) -> str:
    _require(not _ODD_ATTRIBUTES.search(start_tag.encode()), "attributes written the usual way")
    pattern = rf'(\s{name})="[^"]*"'
    if re.search(pattern, start_tag):
        return re.sub(pattern, rf'\1="{value}"', start_tag, count=1)
    closing = "/>" if start_tag.endswith("/>") else ">"
    return f'{start_tag[: -len(closing)].rstrip()} {name}="{value}"{closing}'


def _fill(colour: str) -> str:
    return (
        f'<fill><patternFill patternType="solid"><fgColor rgb="{colour}"/>'
        f'<bgColor rgb="{colour}"/></patternFill></fill>'
    )


# --- the Issues sheet -------------------------------------------------------------------------


def _issues_sheet(issues: Sequence[Issue], styles: _Styles, epoch: datetime) -> bytes:
    """The Issues sheet as reports.issue_sheet.add_issues_sheet writes it: frozen header,
    autofilter, the same widths, hard issues first, messages wrapped."""
    header = styles.issue_cell(None, bold=True, wrap=False, fmt=None)
    rows = [_issue_row(1, [(text, header) for text in wording.ANNOTATED_COLUMNS], epoch, styles)]
    for number, issue in enumerate(issues, start=2):
        fields = list(issue_fields(issue))
        styled = [
            (value, _field_style(index, issue.severity, styles))
            for index, value in enumerate(fields, start=1)
        ]
        rows.append(_issue_row(number, styled, epoch, styles))
    last = f"{get_column_letter(len(wording.ANNOTATED_COLUMNS))}{len(issues) + 1}"
    return (
        f'{XML_DECL}<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
        f'<dimension ref="A1:{last}"/><sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/>{cols_xml(enumerate(_ISSUE_WIDTHS, start=1))}'
        f'<sheetData>{"".join(rows)}</sheetData><autoFilter ref="A1:{last}"/>'
        '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/>'
        "</worksheet>"
    ).encode()


def cols_xml(widths: Iterable[tuple[int, float]]) -> str:
    """A worksheet's <cols>: each (column, width in characters), 1-based; "" for none."""
    columns = "".join(
        f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in widths
    )
    return f"<cols>{columns}</cols>" if columns else ""


def _field_style(index: int, severity: Severity, styles: _Styles) -> int | None:
    if index == 1:
        return styles.issue_cell(severity, bold=False, wrap=False, fmt=None)
    if index == _MESSAGE_COLUMN:
        return styles.issue_cell(None, bold=False, wrap=True, fmt=None)
    return None


def _issue_row(
    number: int, cells: list[tuple[Any, int | None]], epoch: datetime, styles: _Styles
) -> str:
    written = "".join(
        _issue_cell(f"{get_column_letter(index)}{number}", value, style, epoch, styles)
        for index, (value, style) in enumerate(cells, start=1)
    )
    return f'<row r="{number}">{written}</row>'


def _issue_cell(ref: str, raw: Any, style: int | None, epoch: datetime, styles: _Styles) -> str:
    """One cell as make_cell would hold it: text as text (never a formula), whole floats as
    ints, dates as UK dates."""
    value = plain_value(raw)
    if isinstance(value, date):
        has_time = isinstance(value, datetime) and value.time() != datetime.min.time()
        fmt = UK_DATE_TIME if has_time else UK_DATE
        date_style = styles.issue_cell(None, bold=False, wrap=False, fmt=fmt)
        serial = to_excel(value, epoch)
        return f'<c r="{ref}" s="{date_style}"><v>{serial}</v></c>'
    if value is None:
        return f'<c r="{ref}" s="{style}"/>' if style is not None else ""
    # Not the workbook's own default format: openpyxl's new cells have none of its alignment.
    plain = styles.issue_cell(None, bold=False, wrap=False, fmt=None)
    styled = f' s="{style if style is not None else plain}"'
    if isinstance(value, str):
        text = escape(value)
        return f'<c r="{ref}"{styled} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{styled} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return f'<c r="{ref}"{styled} t="n"><v>{value!r}</v></c>'
    raise Unexpected(f"an issue value of type {type(value).__name__}")
