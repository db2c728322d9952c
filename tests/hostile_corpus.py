"""A deterministic corpus of hostile spreadsheets: mutated Marac templates for robustness tests.

    generate(seed, count) -> Iterator[(file name, bytes)]

Every input starts from a real file (the LibreOffice-saved fixtures in tests/fixtures/, an
openpyxl-saved template, or a small workbook written here by hand so that each XML part is under
our control) and has one hostile thing done to it by a *case*: a small function of a
``random.Random``. Cases belong to families (shared-string counts, dimensions, duplicate floods,
XML bombs, damage, bad encodings, odd values, .xls byte mutations, and "found": the exact
inputs that once broke the validator) and are dealt round-robin, so any ``count`` past the
schedule's length holds every case; each input draws its parameters
from its own ``Random(f"{seed}/{index}")``, so ``one(seed, index)`` rebuilds any single input
without the others. File names say the index, the family, the case and what it drew, e.g.
``00001-shared-strings-sst-count-libreoffice.xlsx_both_count=4294967295_unique=-1.xlsx``.

Used by tests/test_hostile_corpus.py (a few hundred inputs, in the suite) and bench/fuzz.py (a
campaign of thousands, on demand). ``run_validate`` runs the real ``python -m bot validate``
under a memory cap and reports its exit, output, time and peak RSS, for both.
"""

from __future__ import annotations

import io
import os
import random
import re
import resource
import struct
import subprocess
import sys
import threading
import time
import warnings
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REPO = FIXTURES.parents[1]
FIXED_TIME = (2024, 10, 3, 12, 0, 0)  # every zip entry's time: same seed, same bytes

Package = list[tuple[str, bytes]]  # zip parts in order; a name may repeat (a hostile case)


@dataclass(frozen=True)
class Sample:
    """One generated input: what its case drew (for its file name), extension and bytes."""

    detail: str
    ext: str
    data: bytes


Build = Callable[[random.Random], Sample]


@dataclass(frozen=True)
class Case:
    family: str
    name: str
    build: Build
    weight: int  # how many times it appears in one round of the schedule


CASES: list[Case] = []


def case(family: str, weight: int = 2) -> Callable[[Build], Build]:
    """Register a case; the registration order is the schedule's order (deterministic)."""

    def register(build: Build) -> Build:
        CASES.append(Case(family, build.__name__.strip("_").replace("_", "-"), build, weight))
        return build

    return register


# --- The generator -----------------------------------------------------------------------------


def generate(seed: int, count: int, families: Sequence[str] | None = None
             ) -> Iterator[tuple[str, bytes]]:
    """``count`` inputs as (file name, bytes), the same for the same seed."""
    for index in range(count):
        yield one(seed, index, families)


def one(seed: int, index: int, families: Sequence[str] | None = None) -> tuple[str, bytes]:
    """The ``index``-th input of ``generate(seed, …)``, built alone (to reproduce a finding)."""
    rounds = schedule(families)
    chosen = rounds[index % len(rounds)]
    sample = chosen.build(random.Random(f"{seed}/{index}"))
    name = f"{index:05d}-{chosen.family}-{chosen.name}-{_slug(sample.detail)}"
    return f"{name[:150]}.{sample.ext}", sample.data


def case_of(file_name: str) -> Case:
    """The case that made a generated file, from its name."""
    rest = file_name.split("-", 1)[1]
    return max((c for c in CASES if rest.startswith(f"{c.family}-{c.name}-")),
               key=lambda c: len(c.name))


def schedule(families: Sequence[str] | None = None) -> list[Case]:
    """One round of the cases, each as often as its weight: ``count`` past its length
    holds every case."""
    return _schedule(tuple(families) if families else None)


@cache
def _schedule(families: tuple[str, ...] | None) -> list[Case]:
    wanted = [c for c in CASES if families is None or c.family in families]
    if not wanted:
        raise ValueError(f"no case in families {families}")
    return [c for c in wanted for _ in range(c.weight)]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.=_+-]+", "_", text)[:90].strip("_.")


# --- Base files --------------------------------------------------------------------------------

XLSX_FIXTURES = ("clean_libreoffice.xlsx", "clean_libreoffice.xlsm", "many_issues.xlsx",
                 "multi_marac.xlsx", "scotland_edition.xlsx", "formula_no_value_g4.xlsx")
CSV_FIXTURES = ("utf8_bom_comma.csv", "semicolon_cp1252.csv", "excel_serial_dates.csv")
XLS_FIXTURES = ("clean_libreoffice.xls", "blank_rows_between.xls")
ODS_FIXTURES = ("clean_libreoffice.ods", "blank_rows_between.ods")


@dataclass(frozen=True)
class Base:
    label: str
    ext: str
    data: bytes


@cache
def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _fixture_base(name: str) -> Base:
    return Base(name.replace("clean_", ""), name.rsplit(".", 1)[1], fixture(name))


@cache
def xlsx_bases() -> list[Base]:
    """Zip workbooks: LibreOffice's and openpyxl's, and two written here (shared / inline)."""
    return [*(_fixture_base(n) for n in XLSX_FIXTURES),
            Base("openpyxl.xlsx", "xlsx", openpyxl_template()),
            Base("handmade-sst.xlsx", "xlsx", handmade_xlsx(clean_grid(), shared=True)),
            Base("handmade-inline.xlsx", "xlsx", handmade_xlsx(clean_grid(), shared=False))]


@cache
def sst_bases() -> list[Base]:
    """The zip workbooks that keep their text in a shared-string table."""
    return [b for b in xlsx_bases() if any(n.endswith("sharedStrings.xml") for n, _ in
                                            unzip(b.data))]


def any_base(rng: random.Random) -> Base:
    """Any real base file, every format."""
    pool = [*xlsx_bases(), *(_fixture_base(n) for n in XLS_FIXTURES + ODS_FIXTURES),
            *(_fixture_base(n) for n in CSV_FIXTURES)]
    return rng.choice(pool)


@cache
def clean_grid() -> tuple[tuple[object, ...], ...]:
    """The clean quarter of tests/fixtures/make_fixtures.py: header and six meetings."""
    from tests.fixtures.make_fixtures import baseline_grid

    return tuple(tuple(row) for row in baseline_grid())


@cache
def openpyxl_template() -> bytes:
    """The clean quarter saved by openpyxl, with its timestamps fixed so bytes repeat."""
    from tests.fixtures.make_fixtures import DATA_SHEET, to_workbook

    out = io.BytesIO()
    to_workbook({DATA_SHEET: [list(r) for r in clean_grid()]}).save(out)
    stamp = b"2024-10-03T12:00:00Z"
    parts = [(name, re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp,
                           data)) for name, data in unzip(out.getvalue())]
    return rezip(parts)


def clean_csv_text() -> str:
    rows = [",".join(_csv_field(v) for v in row) for row in clean_grid()]
    return "\r\n".join(rows) + "\r\n"


def _csv_field(value: object) -> str:
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    text = "" if value is None else str(value)
    return f'"{text}"' if any(c in text for c in ',"\r\n') else text


# --- Zip packages ------------------------------------------------------------------------------


def unzip(data: bytes) -> Package:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def rezip(parts: Package, *, stored: bool = False) -> bytes:
    """A zip of the parts, byte-identical for identical parts (fixed times, fixed order)."""
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name": some cases want exactly that
        with zipfile.ZipFile(out, "w") as archive:
            for name, data in parts:
                info = zipfile.ZipInfo(name, FIXED_TIME)
                plain = stored or name == "mimetype" or name.endswith("/")
                info.compress_type = zipfile.ZIP_STORED if plain else zipfile.ZIP_DEFLATED
                info.create_system = 3
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)
    return out.getvalue()


def edit_part(parts: Package, name: str, edit: Callable[[bytes], bytes]) -> Package:
    return [(n, edit(d) if n == name else d) for n, d in parts]


def first_part(parts: Package, pattern: str) -> str:
    return next(n for n, _ in parts if re.fullmatch(pattern, n))


def part_bytes(parts: Package, name: str) -> bytes:
    return next(d for n, d in parts if n == name)


SHEET = r"xl/worksheets/[^/]+\.xml"
SST = r"xl/[^/]*sharedStrings\.xml"


# --- A workbook written by hand: every byte of its XML is ours -----------------------------------

MAIN_NS = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"
XML_DECL = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_CT_SHEET = b"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_CT_MAIN = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
_CT_SST = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_CT_STYLES = b"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
_REL_TYPE = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
# Style 1 shows a number as a date (built-in format 14), so serials read as dates.
STYLES = (XML_DECL + b'<styleSheet xmlns="' + MAIN_NS + b'"><fonts count="1"><font/></fonts>'
          b'<fills count="1"><fill/></fills><borders count="1"><border/></borders>'
          b'<cellStyleXfs count="1"><xf/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0"/>'
          b'<xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>')


@dataclass(frozen=True)
class Raw:
    """A cell's own XML: attributes after r= and the content, exactly as given."""

    attrs: bytes
    inner: bytes = b""


@cache
def column_letter(index: int) -> str:
    """Zero-based column index to letters: 0 -> A, 16383 -> XFD."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def xml_escape(text: str) -> bytes:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").encode("utf-8", "surrogatepass"))


def excel_serial(day: date) -> int:
    return (day - date(1899, 12, 30)).days


class Strings:
    """The shared-string table being built, or None for inline strings."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.uses = 0

    def ref(self, text: str) -> int:
        self.uses += 1
        return self.index.setdefault(text, len(self.index))

    def xml(self) -> bytes:
        items = b"".join(b'<si><t xml:space="preserve">' + xml_escape(t) + b"</t></si>"
                         for t in self.index)
        counts = b' count="%d" uniqueCount="%d"' % (self.uses, len(self.index))
        return XML_DECL + b'<sst xmlns="' + MAIN_NS + b'"' + counts + b">" + items + b"</sst>"


def cell_xml(ref: str, value: object, strings: Strings | None) -> bytes:
    r = ref.encode()
    if value is None:
        return b""
    if isinstance(value, Raw):
        return b'<c r="' + r + b'"' + value.attrs + b">" + value.inner + b"</c>"
    if isinstance(value, bool):
        return b'<c r="' + r + b'" t="b"><v>' + (b"1" if value else b"0") + b"</v></c>"
    if isinstance(value, date):
        return b'<c r="' + r + b'" s="1"><v>%d</v></c>' % excel_serial(value)
    if isinstance(value, int | float):
        return b'<c r="' + r + b'"><v>' + repr(value).encode() + b"</v></c>"
    text = str(value)
    if strings is not None:
        return b'<c r="' + r + b'" t="s"><v>%d</v></c>' % strings.ref(text)
    return (b'<c r="' + r + b'" t="inlineStr"><is><t xml:space="preserve">' + xml_escape(text)
            + b"</t></is></c>")


def rows_xml(grid: Sequence[Sequence[object]], strings: Strings | None = None,
             first_row: int = 1) -> bytes:
    out = []
    for number, row in enumerate(grid, start=first_row):
        cells = b"".join(cell_xml(f"{column_letter(c)}{number}", v, strings)
                         for c, v in enumerate(row))
        out.append(b'<row r="%d">' % number + cells + b"</row>")
    return b"".join(out)


def sheet_doc(rows: bytes, *, dimension: bytes | None = None) -> bytes:
    dim = b'<dimension ref="' + dimension + b'"/>' if dimension is not None else b""
    return (XML_DECL + b'<worksheet xmlns="' + MAIN_NS + b'" xmlns:r="' + REL_NS + b'">' + dim
            + b"<sheetData>" + rows + b"</sheetData></worksheet>")


def package(sheets: Sequence[tuple[bytes, bytes]], shared: bytes | None = None) -> Package:
    """An .xlsx package of (escaped sheet name, worksheet XML) pairs and an optional sst."""
    n = len(sheets)
    overrides = b"".join(b'<Override PartName="/xl/worksheets/sheet%d.xml" ContentType="' % i
                         + _CT_SHEET + b'"/>' for i in range(1, n + 1))
    if shared is not None:
        overrides += b'<Override PartName="/xl/sharedStrings.xml" ContentType="' + _CT_SST + b'"/>'
    types = (XML_DECL + b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-'
             b'types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
             b'package.relationships+xml"/><Default Extension="xml" ContentType="application/'
             b'xml"/><Override PartName="/xl/workbook.xml" ContentType="' + _CT_MAIN + b'"/>'
             b'<Override PartName="/xl/styles.xml" ContentType="' + _CT_STYLES + b'"/>'
             + overrides + b"</Types>")
    root_rels = _rels([(b"rId1", b"officeDocument", b"xl/workbook.xml")])
    sheet_rels = [(b"rId%d" % i, b"worksheet", b"worksheets/sheet%d.xml" % i)
                  for i in range(1, n + 1)]
    extra = [(b"rIdS", b"styles", b"styles.xml")]
    if shared is not None:
        extra.append((b"rIdT", b"sharedStrings", b"sharedStrings.xml"))
    entries = b"".join(b'<sheet name="' + name + b'" sheetId="%d" r:id="rId%d"/>' % (i, i)
                       for i, (name, _) in enumerate(sheets, start=1))
    workbook = (XML_DECL + b'<workbook xmlns="' + MAIN_NS + b'" xmlns:r="' + REL_NS
                + b'"><sheets>' + entries + b"</sheets></workbook>")
    parts: Package = [("[Content_Types].xml", types), ("_rels/.rels", root_rels),
                      ("xl/workbook.xml", workbook),
                      ("xl/_rels/workbook.xml.rels", _rels(sheet_rels + extra)),
                      ("xl/styles.xml", STYLES)]
    parts += [(f"xl/worksheets/sheet{i}.xml", xml) for i, (_, xml) in enumerate(sheets, 1)]
    if shared is not None:
        parts.append(("xl/sharedStrings.xml", shared))
    return parts


def _rels(relations: Sequence[tuple[bytes, bytes, bytes]]) -> bytes:
    items = b"".join(b'<Relationship Id="' + rid + b'" Type="' + _REL_TYPE + kind
                     + b'" Target="' + target + b'"/>' for rid, kind, target in relations)
    return (XML_DECL + b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            b'relationships">' + items + b"</Relationships>")


def handmade_xlsx(grid: Sequence[Sequence[object]], *, shared: bool = False,
                  dimension: bytes | None = None, sheet_name: bytes = b"Marac data") -> bytes:
    strings = Strings() if shared else None
    sheet = sheet_doc(rows_xml(grid, strings), dimension=dimension)
    return rezip(package([(sheet_name, sheet)], strings.xml() if strings else None))


def handmade_rows(rows: bytes) -> bytes:
    """A one-sheet package around rows given as XML (header and data both up to the caller)."""
    return rezip(package([(b"Marac data", sheet_doc(rows))]))


# --- Small helpers for mutating XML --------------------------------------------------------------


def with_doctype(xml: bytes, subset: bytes) -> bytes:
    """The XML with an internal DTD subset before its root element."""
    root = re.search(rb"<([A-Za-z_][\w:.-]*)", _after_declaration(xml))
    name = root.group(1) if root else b"x"
    head_end = _declaration_end(xml)
    return xml[:head_end] + b"<!DOCTYPE " + name + b" [" + subset + b"]>" + xml[head_end:]


def _declaration_end(xml: bytes) -> int:
    if xml.lstrip().startswith(b"<?xml"):
        return xml.index(b"?>") + 2
    return 0


def _after_declaration(xml: bytes) -> bytes:
    return xml[_declaration_end(xml):]


def replace_text(xml: bytes, old: bytes, new: bytes) -> bytes:
    """Replace the first text node equal to ``old`` (``>old<``); else the first text node."""
    needle = b">" + old + b"<"
    if needle in xml:
        return xml.replace(needle, b">" + new + b"<", 1)
    return re.sub(rb">([^<>\s][^<>]*)<", b">" + new.replace(b"\\", b"\\\\") + b"<", xml,
                  count=1)


def set_cell(sheet: bytes, ref: bytes, cell: bytes) -> bytes:
    """Replace cell ``ref`` of a worksheet by ``cell`` XML, or add it to the end of its row."""
    pattern = rb'<c r="' + ref + rb'"(?:[^>]*/>|[^>]*>.*?</c>)'
    if re.search(pattern, sheet, flags=re.S):
        return re.sub(pattern, cell.replace(b"\\", b"\\\\"), sheet, count=1, flags=re.S)
    row = re.sub(rb"\D", b"", ref)
    at = re.search(rb'<row r="' + row + rb'"[^>]*>.*?(</row>)', sheet, flags=re.S)
    if at is None:
        return sheet.replace(b"</sheetData>", b'<row r="' + row + b'">' + cell
                             + b"</row></sheetData>", 1)
    return sheet[: at.start(1)] + cell + sheet[at.start(1):]


def inline_cell(ref: bytes, text: bytes, attrs: bytes = b"") -> bytes:
    return b'<c r="' + ref + b'" t="inlineStr"' + attrs + b"><is><t>" + text + b"</t></is></c>"


def flip_bits(data: bytes, rng: random.Random, flips: int) -> bytes:
    out = bytearray(data)
    for _ in range(flips):
        at = rng.randrange(len(out))
        out[at] ^= 1 << rng.randrange(8)
    return bytes(out)


def overwrite(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """A run of random, 0x00 or 0xFF bytes written over the data at a random place."""
    length = rng.choice((1, 2, 4, 8, 16, 64))
    at = rng.randrange(max(1, len(data) - length))
    kind = rng.choice(("random", "zero", "ones"))
    run = {"random": rng.randbytes(length), "zero": b"\0" * length,
           "ones": b"\xff" * length}[kind]
    return data[:at] + run + data[at + length:], f"{kind}{length}@{at}"


# =================================================================================================
# Family: control — real files untouched, so a run that rejects everything is noticed.
# =================================================================================================

CONTROL_FILES = ("clean_libreoffice.xlsx", "clean_libreoffice.xlsm", "clean_libreoffice.xls",
                 "clean_libreoffice.ods", "utf8_bom_comma.csv")


@case("control", weight=1)
def untouched(rng: random.Random) -> Sample:
    name = rng.choice(CONTROL_FILES)
    stem, ext = name.rsplit(".", 1)
    return Sample(stem, ext, fixture(name))


# =================================================================================================
# Family: shared-strings — the counts calamine trusted (issue 10, finding 1) and their kin.
# =================================================================================================

# What a count attribute may claim: beyond u32 and u64, negative, not a number, empty.
CLAIMS = ("4294967295", "4294967296", "18446744073709551615", "99999999999999999999999999",
          "2147483648", "1000000000", "-1", "-4294967296", "abc", "", " 4294967295 ", "1e9",
          "0x7fffffff", "NaN", "0", "३३")


@case("shared-strings")
def sst_count(rng: random.Random) -> Sample:
    base = rng.choice(sst_bases())
    count, unique = rng.choice(CLAIMS), rng.choice(CLAIMS)
    shape = rng.choice(("both", "count", "unique", "repeated"))
    attrs = {"both": f' count="{count}" uniqueCount="{unique}"',
             "count": f' count="{count}"', "unique": f' uniqueCount="{unique}"',
             # An attribute given twice makes the XML ill-formed; parsers differ in noticing.
             "repeated": f' count="5" uniqueCount="5" uniqueCount="{unique}"'}[shape].encode()

    def edit(xml: bytes) -> bytes:
        return re.sub(rb"<sst\b([^>]*?)(\s(?:count|uniqueCount)=\"[^\"]*\")*\s*>",
                      lambda m: b"<sst" + _without_counts(m.group(0)[4:-1]) + attrs + b">",
                      xml, count=1)

    parts = unzip(base.data)
    data = rezip(edit_part(parts, first_part(parts, SST), edit))
    return Sample(f"{base.label}_{shape}_count={count}_unique={unique}", base.ext, data)


def _without_counts(attrs: bytes) -> bytes:
    return re.sub(rb'\s(?:count|uniqueCount)="[^"]*"', b"", attrs)


@case("shared-strings")
def sst_index(rng: random.Random) -> Sample:
    """A cell pointing past the end of the table, or at no number at all."""
    base = rng.choice(sst_bases())
    index = rng.choice((b"4294967295", b"4294967296", b"-1", b"33", b"1e10", b"abc", b"",
                        b"18446744073709551616", b"0.5"))
    ref = rng.choice((b"A2", b"B3", b"C2", b"A1"))
    parts = unzip(base.data)
    cell = b'<c r="' + ref + b'" t="s"><v>' + index + b"</v></c>"
    data = rezip(edit_part(parts, first_part(parts, SHEET), lambda x: set_cell(x, ref, cell)))
    return Sample(f"{base.label}_{ref.decode()}={index.decode()}", base.ext, data)


@case("shared-strings")
def sst_missing(rng: random.Random) -> Sample:
    """Cells refer to shared strings but the part (or only its relationship) is gone."""
    base = rng.choice(sst_bases())
    parts = unzip(base.data)
    what = rng.choice(("part", "relationship", "both", "empty-part"))
    sst = first_part(parts, SST)
    if what in {"part", "both"}:
        parts = [(n, d) for n, d in parts if n != sst]
    if what in {"relationship", "both"}:
        parts = edit_part(parts, "xl/_rels/workbook.xml.rels",
                          lambda x: re.sub(rb"<Relationship[^>]*sharedStrings[^>]*/>", b"", x))
    if what == "empty-part":
        parts = edit_part(parts, sst, lambda x: b"")
    return Sample(f"{base.label}_{what}", base.ext, rezip(parts))


@case("shared-strings")
def sst_padded_claim(rng: random.Random) -> Sample:
    """A large claim made plausible by padding the part, so a size-based sanity check passes."""
    claim = rng.choice((200_000, 1_000_000, 2_000_000, 4_000_000))
    pad = b"<!--" + b" " * (claim * 5) + b"-->"  # five bytes per claimed string, as <si/>
    strings = Strings()
    sheet = sheet_doc(rows_xml(clean_grid(), strings))
    sst = strings.xml().replace(b' count="', b' count="%d" x="' % claim)
    sst = sst.replace(b' uniqueCount="', b' uniqueCount="%d" y="' % claim).replace(b">", b">"
                                                                                 + pad, 2)
    parts = package([(b"Marac data", sheet)], sst)
    return Sample(str(claim), "xlsx", rezip(parts))


@case("shared-strings")
def sst_many_strings(rng: random.Random) -> Sample:
    """Many unused strings, or one string of many rich-text runs."""
    strings = Strings()
    sheet = sheet_doc(rows_xml(clean_grid(), strings))
    sst = strings.xml()
    n = rng.choice((10_000, 100_000, 300_000))
    if rng.random() < 0.5:
        extra = b"<si><t>x</t></si>" * n
        what = f"unused={n}"
    else:
        extra = b"<si>" + b"<r><t>ab</t></r>" * n + b"</si>"
        what = f"runs={n}"
    sst = sst.replace(b"</sst>", extra + b"</sst>")
    return Sample(what, "xlsx",
                  rezip(package([(b"Marac data", sheet)], sst)))


@case("shared-strings")
def sst_amplified(rng: random.Random) -> Sample:
    """One long string, stored once, in every count cell of many rows: a few KB of file that
    a report echoing values would repeat thousands of times."""
    length = rng.choice((1_000, 10_000, 32_767))
    rows = rng.choice((50, 200))
    meeting = list(clean_grid()[1])
    meeting[2:] = ["7" * length if rng.random() < 0.3 else "x" * length] * (len(meeting) - 2)
    grid = [list(clean_grid()[0]), *([meeting] * rows)]
    return Sample(f"{length}x{rows}", "xlsx", handmade_xlsx(grid, shared=True))


# =================================================================================================
# Family: dimensions — extents that make a dense reader allocate rows x columns.
# =================================================================================================

DIMENSIONS = (b"A1:XFD1048576", b"A1:AF1048576", b"A1:XFD1", b"XFD1048576", b"A1:XFD1048577",
              b"A1:ZZZZZ99999999", b"A0:B0", b"B2:A1", b"garbage", b"", b"A1:A4294967296")


@case("dimensions")
def dimension_claim(rng: random.Random) -> Sample:
    base = rng.choice(xlsx_bases())
    ref = rng.choice(DIMENSIONS)
    element = b'<dimension ref="' + ref + b'"/>'

    def edit(xml: bytes) -> bytes:
        if b"<dimension" in xml:
            return re.sub(rb"<dimension[^>]*/>", element, xml, count=1)
        return xml.replace(b"<sheetData", element + b"<sheetData", 1)

    parts = unzip(base.data)
    data = rezip(edit_part(parts, first_part(parts, SHEET), edit))
    return Sample(f"{base.label}_{ref.decode() or 'empty'}", base.ext, data)


FAR_CELLS = (b"AF1048576", b"XFD1", b"XFD1048576", b"A1048576", b"XFD2", b"ZZ500000",
             b"AG7", b"IV65536", b"A100001", b"A200001")


@case("dimensions")
def far_cell(rng: random.Random) -> Sample:
    """One value far away: calamine's grid spans from the first cell to it."""
    base = rng.choice(xlsx_bases())
    ref = rng.choice(FAR_CELLS) if rng.random() < 0.7 else (
        column_letter(rng.randrange(16384)) + str(rng.randrange(1, 1048577))).encode()
    value = rng.choice((b"<v>1</v>", b"", b'<v>0</v><f>1-1</f>'))
    cell = b'<c r="' + ref + b'"' + (b' s="0"' if not value else b"") + b">" + value + b"</c>"
    parts = unzip(base.data)
    data = rezip(edit_part(parts, first_part(parts, SHEET), lambda x: set_cell(x, ref, cell)))
    return Sample(f"{base.label}_{ref.decode()}", base.ext, data)


ROW_NUMBERS = (b"4294967296", b"18446744073709551616", b"99999999999999999999999999", b"-1",
               b"0", b"abc", b"1.5", b"", b"1048577", b"2147483648")
CELL_REFS = (b"A4294967296", b"ZZZZZZZZ1", b"A-1", b"1A", b"", b"A0", b"XFE1", b"AAAAAAAAAAAAAA2",
             b"A99999999999999999999")


@case("dimensions")
def huge_r(rng: random.Random) -> Sample:
    """Row and cell positions no sheet has: past u32, negative, not numbers."""
    base = rng.choice(xlsx_bases())
    parts = unzip(base.data)
    target = rng.choice(("row", "cell"))
    value = rng.choice(ROW_NUMBERS if target == "row" else CELL_REFS)
    original = rng.choice((b"2", b"3", b"7")) if target == "row" else rng.choice(
        (b"A2", b"B3", b"C4", b"AF7"))

    def edit(xml: bytes) -> bytes:
        tag = b"<row" if target == "row" else b"<c"
        return xml.replace(tag + b' r="' + original + b'"', tag + b' r="' + value + b'"', 1)

    data = rezip(edit_part(parts, first_part(parts, SHEET), edit))
    return Sample(f"{base.label}_{target}{original.decode()}={value.decode()}",
                  base.ext, data)


@case("dimensions")
def rows_disordered(rng: random.Random) -> Sample:
    """Rows backwards, rows repeating a number, rows and cells without positions."""
    grid = clean_grid()
    how = rng.choice(("backwards", "same-number", "no-r", "cells-backwards"))
    rows = [rows_xml([row], first_row=n + 1) for n, row in enumerate(grid)]
    if how == "backwards":
        body = b"".join(reversed(rows))
    elif how == "same-number":
        body = b"".join(re.sub(rb'<row r="\d+"', b'<row r="2"', r) if i else r
                        for i, r in enumerate(rows))
    elif how == "no-r":
        body = re.sub(rb'\sr="[^"]*"', b"", b"".join(rows))
    else:
        body = b"".join(re.sub(rb"(<row[^>]*>)(.*)(</row>)",
                               lambda m: m.group(1) + b"".join(reversed(
                                   re.findall(rb"<c .*?</c>", m.group(2)))) + m.group(3), r)
                        for r in rows)
    return Sample(how, "xlsx", handmade_rows(body))


REPEATS = (b"1048576", b"2147483647", b"4294967296", b"100000", b"-1", b"abc", b"16384",
           b"99999999999999999999")


@case("dimensions")
def ods_repeated(rng: random.Random) -> Sample:
    """OpenDocument's own compression: one row or cell said to repeat a million times."""
    name = rng.choice(ODS_FIXTURES)
    parts = unzip(fixture(name))
    where = rng.choice(("data-row", "data-cell", "both", "last-row", "column"))
    count = rng.choice(REPEATS)
    attr_rows = b' table:number-rows-repeated="' + count + b'"'
    attr_cols = b' table:number-columns-repeated="' + count + b'"'

    def edit(xml: bytes) -> bytes:
        rows = [m.start() for m in re.finditer(rb"<table:table-row\b", xml)]
        if where in {"data-row", "both"} and len(rows) > 1:
            xml = xml[: rows[1]] + b"<table:table-row" + attr_rows + xml[rows[1] + 16:]
        if where in {"data-cell", "both"}:
            xml = xml.replace(b'office:value="14"', b'office:value="14"' + attr_cols, 1)
        if where == "last-row":
            xml = xml.replace(b"</table:table>", b"<table:table-row" + attr_rows
                              + b"><table:table-cell office:value-type=\"float\" office:value="
                              b"\"1\"" + attr_cols + b"/></table:table-row></table:table>", 1)
        if where == "column":
            xml = re.sub(rb'table:number-columns-repeated="\d+"', attr_cols[1:], xml, count=1)
        return xml

    data = rezip(edit_part(parts, "content.xml", edit))
    return Sample(f"{name}_{where}={count.decode()}", "ods", data)


# =================================================================================================
# Family: floods — many rows; output and memory must stay linear (issue 10, finding 2).
# =================================================================================================


def flood_rows(rows: int, groups: int = 1, *, marac: str = "Croydon") -> list[list[object]]:
    """``rows`` meeting rows in ``groups`` distinct (Marac, date) pairs, header first."""
    meeting = list(clean_grid()[1])
    out: list[list[object]] = [list(clean_grid()[0])]
    for i in range(rows):
        out.append(_flood_row(meeting, i % groups, groups, marac))
    return out


def _flood_row(meeting: list[object], group: int, groups: int, marac: str) -> list[object]:
    row = list(meeting)
    row[0] = marac if groups == 1 else f"{marac} {group // 1000}"
    row[1] = date.fromordinal(date(2024, 10, 3).toordinal() - group % 1000)
    return row


_MARK = b"999999999"  # a row number no flood reaches, replaced by the real one


def flood_xlsx(rows: int, groups: int = 1) -> bytes:
    """``rows`` identical meetings (one Marac, one date) when groups is 1: issue 10's flood.

    Each group's row XML is written once with a marker for its number, then stamped: a
    20,000-row flood takes a tenth of a second, not seconds.
    """
    strings = Strings()
    meeting = list(clean_grid()[1])
    templates: dict[int, bytes] = {}
    body = [rows_xml([clean_grid()[0]], strings)]
    for i in range(rows):
        group = i % groups
        if group not in templates:
            row = _flood_row(meeting, group, groups, "Croydon")
            templates[group] = rows_xml([row], strings, first_row=int(_MARK))
        body.append(templates[group].replace(_MARK, b"%d" % (i + 2)))
    strings.uses = (rows + 1) * 2
    sheet = sheet_doc(b"".join(body))
    return rezip(package([(b"Marac data", sheet)], strings.xml()))


def flood_csv(rows: int, groups: int = 1) -> bytes:
    lines = [",".join(_csv_field(v) for v in row) for row in flood_rows(rows, groups)]
    return ("\r\n".join(lines) + "\r\n").encode()


@case("floods", weight=1)
def flood_identical(rng: random.Random) -> Sample:
    rows = rng.choice((1_000, 2_000, 5_000))
    ext = rng.choice(("xlsx", "csv"))
    data = flood_xlsx(rows) if ext == "xlsx" else flood_csv(rows)
    return Sample(str(rows), ext, data)


@case("floods", weight=1)
def flood_groups(rng: random.Random) -> Sample:
    """Many duplicate groups: pairs, or a few hundred meetings each repeated."""
    rows = rng.choice((2_000, 4_000))
    groups = rng.choice((rows // 2, rows // 10, 100, 7))
    ext = rng.choice(("xlsx", "csv"))
    data = flood_xlsx(rows, groups) if ext == "xlsx" else flood_csv(rows, groups)
    return Sample(f"{rows}_in_{groups}", ext, data)


@case("floods", weight=1)
def flood_blank_rows(rng: random.Random) -> Sample:
    """Formatted empty rows by the hundred thousand, then a value at the very bottom."""
    n = rng.choice((10_000, 100_000, 300_000))
    start = len(clean_grid()) + 1
    blanks = b"".join(b'<row r="%d" s="1" customFormat="1"><c r="A%d" s="1"/></row>' % (r, r)
                      for r in range(start, start + n))
    tail = rows_xml([["Croydon", date(2024, 10, 3), 1]], first_row=start + n)
    if rng.random() < 0.5:
        tail = b""
    return Sample(f"{n}_tail={bool(tail)}", "xlsx",
                  handmade_rows(rows_xml(clean_grid()) + blanks + tail))


@case("floods", weight=1)
def many_sheets(rng: random.Random) -> Sample:
    """Hundreds of sheets, each a copy of the template (each is read)."""
    n = rng.choice((50, 200, 600))
    sheet = sheet_doc(rows_xml(clean_grid()))
    names = [f"Marac data {i}".encode() if i else b"Marac data" for i in range(n)]
    return Sample(f"{n}", "xlsx", rezip(package([(nm, sheet) for nm in names])))


# =================================================================================================
# Family: xml-bombs — entity expansion, nesting, external entities.
# =================================================================================================

XML_PARTS = ("sheet", "shared-strings", "workbook", "content-types", "workbook-rels", "styles",
             "ods-content")


def _target_part(parts: Package, where: str) -> str:
    return {"sheet": lambda: first_part(parts, SHEET),
            "shared-strings": lambda: first_part(parts, SST),
            "workbook": lambda: "xl/workbook.xml",
            "content-types": lambda: "[Content_Types].xml",
            "workbook-rels": lambda: "xl/_rels/workbook.xml.rels",
            "styles": lambda: "xl/styles.xml",
            "ods-content": lambda: "content.xml"}[where]()


def _entity_target(rng: random.Random) -> tuple[Base, str]:
    where = rng.choice(XML_PARTS)
    if where == "ods-content":
        return _fixture_base(rng.choice(ODS_FIXTURES)), where
    pool = sst_bases() if where == "shared-strings" else xlsx_bases()
    return rng.choice(pool), where


def _use_entity(xml: bytes, where: str, reference: bytes) -> bytes:
    """Put an entity reference where a reader will look: a cell's text or a name attribute."""
    if where in {"sheet", "shared-strings", "ods-content"}:
        if where == "sheet" and b">Croydon<" not in xml:
            return set_cell(xml, b"A2", inline_cell(b"A2", reference))
        return replace_text(xml, b"Croydon", reference)
    if where == "workbook":
        return re.sub(rb'(<sheet\b[^>]*\bname=")[^"]*', rb"\g<1>" + reference, xml, count=1)
    if where == "styles":
        return xml.replace(b"<fonts", b'<numFmts count="1"><numFmt numFmtId="200" formatCode="'
                           + reference + b'"/></numFmts><fonts', 1)
    # [Content_Types].xml and relationships: an attribute every reader looks at.
    return re.sub(rb'((?:ContentType|Target)=")', rb"\g<1>" + reference, xml, count=1)


def _entity_sample(rng: random.Random, subset: bytes, reference: bytes) -> Sample:
    base, where = _entity_target(rng)
    parts = unzip(base.data)
    name = _target_part(parts, where)
    data = rezip(edit_part(parts, name,
                           lambda x: with_doctype(_use_entity(x, where, reference), subset)))
    return Sample(f"{base.label}_{where}", base.ext, data)


@case("xml-bombs")
def billion_laughs(rng: random.Random) -> Sample:
    levels = rng.choice((5, 8, 10, 12))
    subset = b'<!ENTITY l0 "lol">' + b"".join(
        b'<!ENTITY l%d "' % i + b"&l%d;" % (i - 1) * 10 + b'">' for i in range(1, levels + 1))
    sample = _entity_sample(rng, subset, b"&l%d;" % levels)
    return Sample(f"{sample.detail}_levels={levels}", sample.ext, sample.data)


@case("xml-bombs")
def quadratic_blowup(rng: random.Random) -> Sample:
    """One long entity used many times: no nesting for a depth limit to catch."""
    size, uses = rng.choice(((10_000, 10_000), (50_000, 2_000), (100_000, 5_000)))
    subset = b'<!ENTITY big "' + b"A" * size + b'">'
    sample = _entity_sample(rng, subset, b"&big;" * uses)
    return Sample(f"{sample.detail}_{size}x{uses}", sample.ext, sample.data)


# Files whose content must never reach the output; /dev/zero and /dev/urandom never end.
XXE_TARGETS = (b"file:///etc/passwd", b"file:///etc/hostname", b"file:///proc/self/environ",
               b"/etc/passwd", b"../../../../../../etc/passwd", b"file:///dev/zero",
               b"file:///dev/urandom", b"sharedStrings.xml")


@case("xml-bombs")
def xxe(rng: random.Random) -> Sample:
    target = rng.choice(XXE_TARGETS)
    if rng.random() < 0.7:
        subset, reference = b'<!ENTITY xxe SYSTEM "' + target + b'">', b"&xxe;"
        style = "general"
    else:  # a parameter entity pulls the file into the DTD itself
        subset = b'<!ENTITY % p SYSTEM "' + target + b'"> %p;'
        reference, style = b"Croydon", "parameter"
    sample = _entity_sample(rng, subset, reference)
    return Sample(f"{sample.detail}_{style}_{target.decode()}", sample.ext, sample.data)


@case("xml-bombs")
def deep_nesting(rng: random.Random) -> Sample:
    """Elements nested tens of thousands deep, where a recursive reader would overflow."""
    depth = rng.choice((10_000, 100_000, 500_000))
    tag = rng.choice((b"x", b"row", b"c", b"si", b"table:table-row"))
    nested = (b"<" + tag + b">") * depth + (b"</" + tag + b">") * depth
    base, where = _entity_target(rng)
    parts = unzip(base.data)
    name = _target_part(parts, where)

    def edit(xml: bytes) -> bytes:
        # Just inside the root element, or inside the sheet data / string table.
        for anchor in (b"<sheetData>", b"</sst>", b"<office:spreadsheet>", b"</Types>",
                       b"</Relationships>", b"<sheets>", b"</styleSheet>"):
            if anchor in xml:
                at = xml.index(anchor) + (0 if anchor.startswith(b"</") else len(anchor))
                return xml[:at] + nested + xml[at:]
        return xml + nested

    data = rezip(edit_part(parts, name, edit))
    return Sample(f"{base.label}_{where}_{tag.decode()}x{depth}", base.ext, data)


# =================================================================================================
# Family: damage — truncation, flipped and overwritten bytes, missing and duplicated parts.
# =================================================================================================


@case("damage")
def truncate(rng: random.Random) -> Sample:
    base = any_base(rng)
    at = rng.choice((rng.randrange(1, len(base.data)), len(base.data) - rng.randrange(1, 200),
                     rng.randrange(1, 64)))
    at = max(1, at)
    return Sample(f"{base.label}_at={at}", base.ext, base.data[:at])


@case("damage")
def bit_flips(rng: random.Random) -> Sample:
    base = any_base(rng)
    flips = rng.choice((1, 2, 8, 32))
    return Sample(f"{base.label}_{flips}", base.ext, flip_bits(base.data, rng, flips))


@case("damage")
def byte_overwrite(rng: random.Random) -> Sample:
    base = any_base(rng)
    data, what = overwrite(base.data, rng)
    return Sample(f"{base.label}_{what}", base.ext, data)


@case("damage")
def inflated_damage(rng: random.Random) -> Sample:
    """Damage inside a part's XML, re-zipped with a right CRC so every reader sees it."""
    base = rng.choice([*xlsx_bases(), *(_fixture_base(n) for n in ODS_FIXTURES)])
    parts = unzip(base.data)
    name = rng.choice([n for n, d in parts if n.endswith((".xml", ".rels")) and d])
    how = rng.choice(("flip", "overwrite", "truncate", "delete-span", "duplicate-span"))
    edit = {"flip": lambda x: flip_bits(x, rng, rng.choice((1, 4, 16))),
            "overwrite": lambda x: overwrite(x, rng)[0],
            "truncate": lambda x: x[: rng.randrange(len(x))],
            "delete-span": lambda x: _cut_span(x, rng),
            "duplicate-span": lambda x: _double_span(x, rng)}[how]
    return Sample(f"{base.label}_{name}_{how}", base.ext,
                  rezip(edit_part(parts, name, edit)))


def _cut_span(data: bytes, rng: random.Random) -> bytes:
    start = rng.randrange(len(data))
    return data[:start] + data[start + rng.randrange(1, 200):]


def _double_span(data: bytes, rng: random.Random) -> bytes:
    start = rng.randrange(len(data))
    span = data[start: start + rng.randrange(1, 500)]
    return data[:start] + span * rng.choice((2, 100, 1000)) + data[start:]


REMOVABLE = ("[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
             "_rels/.rels", "xl/styles.xml", SHEET, SST)
ODS_REMOVABLE = ("content.xml", "mimetype", "META-INF/manifest.xml", "styles.xml")


@case("damage")
def part_removed(rng: random.Random) -> Sample:
    if rng.random() < 0.25:
        base = _fixture_base(rng.choice(ODS_FIXTURES))
        pattern = rng.choice(ODS_REMOVABLE)
    else:
        base = rng.choice(xlsx_bases())
        pattern = rng.choice(REMOVABLE)
    parts = [(n, d) for n, d in unzip(base.data) if not re.fullmatch(pattern, n)]
    return Sample(f"{base.label}_{pattern}", base.ext, rezip(parts))


@case("damage")
def duplicate_entries(rng: random.Random) -> Sample:
    """Two entries of one name: the guard may look at one and the reader load the other."""
    base = rng.choice(sst_bases())
    parts = unzip(base.data)
    which = rng.choice(("sheet", "shared-strings", "workbook", "content-types"))
    name = _target_part(parts, which)
    original = part_bytes(parts, name)
    hostile = {"sheet": lambda: set_cell(original, b"XFD1048576",
                                         b'<c r="XFD1048576"><v>1</v></c>'),
               "shared-strings": lambda: re.sub(rb'uniqueCount="\d+"',
                                                b'uniqueCount="4294967295"', original),
               "workbook": lambda: original.replace(b'name="', b'name="Other ', 1),
               "content-types": lambda: b"<Types/>"}[which]()
    second_first = rng.random() < 0.5
    extra = (name, hostile)
    at = next(i for i, (n, _) in enumerate(parts) if n == name)
    parts.insert(at if second_first else len(parts), extra)
    order = "hostile-first" if second_first else "hostile-last"
    return Sample(f"{base.label}_{which}_{order}", base.ext, rezip(parts))


RELS_TARGETS = (b"../../../../../../etc/passwd", b"/etc/passwd", b"sharedStrings.xml",
                b"worksheets/../../[Content_Types].xml", b"worksheets/sheet1.xml#x",
                b"file:///etc/passwd", b"workbook.xml", b"", b"worksheets/",
                b"worksheets/sheet999.xml", b"%2e%2e/%2e%2e/etc/passwd", b"C:\\Windows\\win.ini")


@case("damage")
def rels_targets(rng: random.Random) -> Sample:
    """Relationships pointing outside the package, at the wrong part, or at nothing."""
    base = rng.choice(xlsx_bases())
    target = rng.choice(RELS_TARGETS)
    external = rng.random() < 0.3
    parts = unzip(base.data)

    def edit(xml: bytes) -> bytes:
        pattern = rb'(<Relationship\b[^>]*worksheet"[^>]*Target=")[^"]*(")'
        mode = b'" TargetMode="External' if external else b""
        xml = re.sub(pattern, lambda m: m.group(1) + target + mode + m.group(2), xml, count=1)
        return re.sub(rb'(<Relationship\b[^>]*Target=")[^"]*("[^>]*worksheet")',
                      lambda m: m.group(1) + target + m.group(2), xml, count=1)

    data = rezip(edit_part(parts, "xl/_rels/workbook.xml.rels", edit))
    return Sample(f"{base.label}_{target.decode()}_external={external}", base.ext,
                  data)


@case("damage")
def wrong_extension(rng: random.Random) -> Sample:
    """A real file under another format's name: the guard lets workbooks travel like this."""
    base = any_base(rng)
    ext = rng.choice([e for e in ("xlsx", "xlsm", "xls", "ods", "csv") if e != base.ext])
    return Sample(f"{base.label}_as_{ext}", ext, base.data)


@case("damage")
def zip_oddities(rng: random.Random) -> Sample:
    base = rng.choice(xlsx_bases())
    how = rng.choice(("stored", "prepended", "appended", "comment", "name-mismatch",
                      "no-end-record", "empty-zip", "directory-entries"))
    data = _zip_oddity(base.data, how, rng)
    return Sample(f"{base.label}_{how}", base.ext, data)


def _zip_oddity(data: bytes, how: str, rng: random.Random) -> bytes:
    parts = unzip(data)
    if how == "stored":
        return rezip(parts, stored=True)
    if how == "prepended":
        return b"MZ" + rng.randbytes(510) + data
    if how == "appended":
        return data + rng.randbytes(rng.choice((1, 100, 10_000)))
    if how == "comment":
        return _with_comment(data, rng)
    if how == "name-mismatch":  # the local header names another part than the directory
        at = data.index(b"PK\x03\x04")
        length = struct.unpack_from("<H", data, at + 26)[0]
        return data[: at + 30] + b"X" * length + data[at + 30 + length:]
    if how == "no-end-record":
        return data[: data.rindex(b"PK\x05\x06")]
    if how == "empty-zip":
        return rezip([])
    return rezip([(n + "/", b"") for n, _ in parts] + parts)


def _with_comment(data: bytes, rng: random.Random) -> bytes:
    end = data.rindex(b"PK\x05\x06")
    comment = rng.randbytes(rng.choice((10, 65535)))
    claimed = rng.choice((len(comment), 0, 65535))
    return data[: end + 20] + struct.pack("<H", claimed) + comment


# =================================================================================================
# Family: encodings — text that is not UTF-8, not text at all, or far too long.
# =================================================================================================


@case("encodings")
def csv_wide_encoding(rng: random.Random) -> Sample:
    codec = rng.choice(("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-7",
                        "cp037", "shift_jis"))
    text = clean_csv_text().replace("Croydon", rng.choice(("Croydon", "Münster", "Łódź")))
    try:
        data = text.encode(codec)
    except UnicodeEncodeError:
        data = text.encode(codec, "replace")
    return Sample(f"{codec}", "csv", data)


@case("encodings")
def random_bytes(rng: random.Random) -> Sample:
    size = rng.choice((1, 16, 512, 4096, 65536))
    prefix = rng.choice((b"", b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\xef\xbb\xbf",
                         b"<?xml ", b"PK\x05\x06"))
    ext = rng.choice(("xlsx", "xlsm", "xls", "ods", "csv"))
    if rng.random() < 0.3:
        body = bytes(rng.choice(b"abc,;\"\r\n0123456789 ") for _ in range(size))
    else:
        body = rng.randbytes(size)
    label = prefix.hex() or "none"
    return Sample(f"{size}_prefix={label}", ext, prefix + body)


@case("encodings")
def nul_bytes(rng: random.Random) -> Sample:
    text = clean_csv_text().encode()
    how = rng.choice(("scattered", "only-nuls", "trailing", "in-field"))
    if how == "scattered":
        out = bytearray(text)
        for _ in range(rng.choice((1, 10, 100))):
            out.insert(rng.randrange(len(out)), 0)
        data = bytes(out)
    elif how == "only-nuls":
        data = b"\0" * rng.choice((1, 1000, 100_000))
    elif how == "trailing":
        data = text + b"\0" * 1000
    else:
        data = text.replace(b"Croydon", b"Croy\0don", 1)
    return Sample(f"{how}", "csv", data)


@case("encodings")
def overlong_line(rng: random.Random) -> Sample:
    how = rng.choice(("no-newline", "many-commas", "many-semicolons", "wide-header"))
    size = rng.choice((100_000, 1_000_000))
    header = clean_csv_text().split("\r\n", 1)[0]
    if how == "no-newline":
        data = ("x" * size).encode()
    elif how == "many-commas":
        data = (header + "\r\n" + "Croydon,03/10/2024" + "," * size + "\r\n").encode()
    elif how == "many-semicolons":
        data = (";" * size + "\r\n" + clean_csv_text()).encode()
    else:
        data = (header + ",extra" * (size // 6) + "\r\n" + clean_csv_text().split("\r\n", 1)[1]
                ).encode()
    return Sample(f"{how}_{size}", "csv", data)


@case("encodings")
def huge_cell(rng: random.Random) -> Sample:
    """One cell of a megabyte (a sheet cell holds 32,767 characters in Excel)."""
    size = rng.choice((100_000, 1_000_000))
    column = rng.choice((0, 1, 2, 31))
    text = rng.choice(("A", "9", "é", "\u202e")) * size
    grid = [list(r) for r in clean_grid()]
    grid[1][column] = text
    fmt = rng.choice(("csv", "inline", "shared"))
    if fmt == "csv":
        data = "\r\n".join(",".join(_csv_field(v) for v in r) for r in grid).encode()
        return Sample(f"csv_col{column}_{size}", "csv", data)
    return Sample(f"{fmt}_col{column}_{size}", "xlsx",
                  handmade_xlsx(grid, shared=fmt == "shared"))


@case("encodings")
def csv_quotes(rng: random.Random) -> Sample:
    text = clean_csv_text()
    how = rng.choice(("unclosed", "quote-flood", "quote-in-bare", "cr-only", "lf-cr",
                      "line-separators", "tab-separated"))
    data = {"unclosed": lambda: text.replace("Croydon", '"Croydon', 1),
            "quote-flood": lambda: '"' * 100_001 + "\r\n" + text,
            "quote-in-bare": lambda: text.replace("Croydon", 'Cro"y"don'),
            "cr-only": lambda: text.replace("\r\n", "\r"),
            "lf-cr": lambda: text.replace("\r\n", "\n\r"),
            "line-separators": lambda: text.replace("\r\n", "\u2028"),
            "tab-separated": lambda: text.replace(",", "\t")}[how]()
    return Sample(f"{how}", "csv", data.encode())


def _text_in_part(rng: random.Random, payload: bytes) -> tuple[Base, str, bytes]:
    """Put raw bytes into a text node of some part of some workbook."""
    base, where = _entity_target(rng)
    parts = unzip(base.data)
    name = _target_part(parts, where)
    return base, where, rezip(edit_part(parts, name,
                                        lambda x: _use_entity(x, where, payload)))


SURROGATES = (b"&#xD800;", b"&#xDFFF;", b"&#55296;", b"\xed\xa0\x80", b"\xed\xbf\xbf",
              b"\xed\xa0\xbd\xed\xb8\x80", b"&#x0;", b"&#xFFFE;", b"&#x110000;")


@case("encodings")
def xml_surrogates(rng: random.Random) -> Sample:
    payload = rng.choice(SURROGATES)
    base, where, data = _text_in_part(rng, b"Croy" + payload + b"don")
    return Sample(f"{base.label}_{where}_{payload.hex()}", base.ext, data)


INVALID_UTF8 = (b"\xff\xfe", b"\xc0\xaf", b"\xe2\x82", b"\xf8\x88\x80\x80\x80", b"\x80",
                b"\xc3", b"\xf4\x90\x80\x80", b"\xfe\xff\x00C")


@case("encodings")
def xml_invalid_utf8(rng: random.Random) -> Sample:
    payload = rng.choice(INVALID_UTF8)
    base, where, data = _text_in_part(rng, b"Croy" + payload + b"don")
    return Sample(f"{base.label}_{where}_{payload.hex()}", base.ext, data)


ENCODINGS = (b"x-klingon", b"UTF-7", b"UTF-16", b"ISO-8859-1", b"", b"EBCDIC-US", b"UTF-32",
             b"\xff\xfe", b"utf-8\x00", b"ASCII")


@case("encodings")
def xml_declared_encoding(rng: random.Random) -> Sample:
    """A declaration naming an unknown or wrong encoding, or a part really in UTF-16."""
    base, where = _entity_target(rng)
    parts = unzip(base.data)
    name = _target_part(parts, where)
    if rng.random() < 0.25:
        def edit(xml: bytes) -> bytes:
            text = xml.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"', 1)
            return text.encode("utf-16")
        label = "real-utf16"
    else:
        encoding = rng.choice(ENCODINGS)
        label = encoding.hex()

        def edit(xml: bytes) -> bytes:
            body = re.sub(rb"^\s*<\?xml[^>]*\?>", b"", xml)
            return (b'<?xml version="1.0" encoding="' + encoding + b'"?>' + body)
    return Sample(f"{base.label}_{where}_{label}", base.ext,
                  rezip(edit_part(parts, name, edit)))


CONTROL_TEXT = ("\x01\x02\x1b[31mred\x1b[0m", "\u202eCroydon", "\ufeffCroydon", "Croy\x7fdon",
                "\x00", "\u2028\u2029", "\ufffe\uffff", "Croydon\r\n\r\nSubject: x",
                "=HYPERLINK(\"http://example.invalid\")", "<script>alert(1)</script>",
                "\U0001f600" * 100)


@case("encodings")
def control_chars(rng: random.Random) -> Sample:
    """Control characters, bidi overrides, terminal escapes and formula text in cells."""
    text = rng.choice(CONTROL_TEXT)
    column = rng.choice((0, 1, 2))
    fmt = rng.choice(("csv", "xlsx-escaped", "xlsx-char-ref"))
    grid = [list(r) for r in clean_grid()]
    grid[2][column] = text
    if fmt == "csv":
        data = "\r\n".join(",".join(_csv_field(v) for v in r) for r in grid).encode(
            "utf-8", "surrogatepass")
        return Sample(f"csv_{text.encode().hex()[:24]}", "csv", data)
    if fmt == "xlsx-escaped":
        data = handmade_xlsx(grid)
    else:  # character references are how XML would carry them, legal or not
        refs = b"".join(b"&#x%x;" % ord(ch) for ch in text)
        grid[2][column] = Raw(b' t="inlineStr"', b"<is><t>" + refs + b"</t></is>")
        data = handmade_xlsx(grid)
    return Sample(f"{fmt}_{text.encode().hex()[:24]}", "xlsx", data)


@case("encodings")
def csv_mixed_encodings(rng: random.Random) -> Sample:
    text = clean_csv_text()
    how = rng.choice(("utf8-and-cp1252", "cp437", "bom-in-middle", "double-bom", "latin1-c1",
                      "utf16-bom-utf8-body"))
    lines = text.split("\r\n")
    if how == "utf8-and-cp1252":
        data = (lines[0] + "\r\n" + lines[1].replace("Croydon", "Münster")).encode() + b"\r\n" + (
            "\r\n".join(lines[2:]).replace("Croydon", "Münster").encode("cp1252"))
    elif how == "cp437":
        data = text.replace("Croydon", "Münster").encode("cp437")
    elif how == "bom-in-middle":
        data = text.replace("Croydon", "\ufeffCroydon", 1).encode()
    elif how == "double-bom":
        data = b"\xef\xbb\xbf\xef\xbb\xbf" + text.encode()
    elif how == "latin1-c1":
        data = text.encode() + b"Croydon\x81\x8d\x8f\x90\x9d,03/10/2024,1\r\n"
    else:
        data = b"\xff\xfe" + text.encode()
    return Sample(f"{how}", "csv", data)


# =================================================================================================
# Family: odd-values — well-formed files whose values no reader expects.
# =================================================================================================


FORMULA_CELLS = (Raw(b"", b"<f>SUM(1,2)</f>"), Raw(b"", b"<f/>"), Raw(b"", b"<f>1/0</f><v></v>"),
                 Raw(b' t="e"', b"<f>1/0</f><v>#DIV/0!</v>"), Raw(b' t="e"', b"<v>#REF!</v>"),
                 Raw(b' t="str"', b"<f>A1</f>"), Raw(b"", b'<f t="shared" ref="C2:XFD1048576" '
                                                      b'si="0">1+1</f>'),
                 Raw(b"", b'<f t="array" ref="A1:XFD1048576">1</f>'),
                 Raw(b"", b"<f>" + b"(" * 10_000 + b"1" + b")" * 10_000 + b"</f>"),
                 Raw(b"", b'<f t="shared" si="4294967295"/>'))


@case("odd-values")
def formulas(rng: random.Random) -> Sample:
    """Formulas with no stored value, error values, shared formulas spanning the sheet."""
    grid = [list(r) for r in clean_grid()]
    chosen = rng.choice(FORMULA_CELLS)
    where = rng.choice(("one-count", "every-count", "date", "name", "header"))
    if where == "one-count":
        grid[2][2] = chosen
    elif where == "every-count":
        for row in grid[1:]:
            row[2:] = [chosen] * (len(row) - 2)
    else:
        grid[{"date": 1, "name": 1, "header": 0}[where]][1 if where == "date" else 0] = chosen
    label = re.sub(rb"\W+", b"", chosen.attrs + chosen.inner[:30]).decode()
    return Sample(f"{where}_{label}", "xlsx", handmade_xlsx(grid))


DATE_SERIALS = (b"1e308", b"-1", b"2958466", b"2958465", b"0", b"60", b"1e-300", b"-1e308",
                b"4294967296", b"1e15", b"NaN", b"inf", b"-0", b"45568.999999999", b"1e309")
DATE_TEXTS = ("31/02/2024", "2024-13-45", "00/00/0000", "99999-01-01", "03/10/-2024", "1/1/1",
              "NaN", "9" * 100, "03/10/2024 25:61", "Q3", "yesterday", "+275760-09-13",
              "0001-01-01", "9999-12-31", "29/02/2023", "٠٣/١٠/٢٠٢٤", "３/１０/２０２４")
ISO_DATES = (b"2024-10-03T00:00:00", b"+275760-09-13T00:00:00", b"garbage", b"-000001-01-01",
             b"2024-10-03T25:00:00", b"")


@case("odd-values")
def date_values(rng: random.Random) -> Sample:
    grid = [list(r) for r in clean_grid()]
    kind = rng.choice(("serial", "text", "iso", "bool", "csv"))
    if kind == "serial":
        value: object = Raw(b' s="1"', b"<v>" + rng.choice(DATE_SERIALS) + b"</v>")
    elif kind == "iso":
        value = Raw(b' t="d"', b"<v>" + rng.choice(ISO_DATES) + b"</v>")
    elif kind == "bool":
        value = Raw(b' t="b"', b"<v>" + rng.choice((b"1", b"2", b"-1", b"true")) + b"</v>")
    else:
        value = rng.choice(DATE_TEXTS)
    row = rng.randrange(1, len(grid))
    grid[row][1] = value
    shown = value.inner.decode() if isinstance(value, Raw) else str(value)
    if kind == "csv":
        data = "\r\n".join(",".join(_csv_field(v) for v in r) for r in grid).encode()
        return Sample(f"csv_{shown}", "csv", data)
    return Sample(f"{kind}_{shown}", "xlsx", handmade_xlsx(grid))


NUMBERS = (b"1e308", b"1e309", b"-1e309", b"NaN", b"nan", b"inf", b"-inf", b"Infinity",
           b"4294967296", b"18446744073709551616", b"9" * 400, b"-0", b"1e-320", b"0x10",
           b"1_000", b"", b" 12 ", b"12abc", b"1.7976931348623157e308", b"-9223372036854775809")


@case("odd-values")
def huge_numbers(rng: random.Random) -> Sample:
    """Numbers past every integer type, NaN and infinities, as numbers and as text."""
    grid = [list(r) for r in clean_grid()]
    number = rng.choice(NUMBERS)
    column = rng.choice((2, 3, 4, 6, 20, 31))
    as_text = rng.random() < 0.3
    fmt = rng.choice(("xlsx", "xlsx", "csv"))
    if fmt == "csv" or as_text:
        grid[2][column] = number.decode()
    else:
        grid[2][column] = Raw(b"", b"<v>" + number + b"</v>")
    if rng.random() < 0.3:  # every count cell of every row
        for row in grid[1:]:
            row[2:] = [grid[2][column]] * (len(row) - 2)
    label = f"{fmt}_col{column}_text={as_text}_{number.decode()[:40]}"
    if fmt == "csv":
        data = "\r\n".join(",".join(_csv_field(v) for v in r) for r in grid).encode()
        return Sample(f"{label}", "csv", data)
    return Sample(f"{label}", "xlsx", handmade_xlsx(grid))


@case("odd-values")
def long_strings(rng: random.Random) -> Sample:
    """32,767 characters (Excel's most) in every cell of a few rows, header too sometimes."""
    fmt = rng.choice(("inline", "shared", "csv"))
    rows = rng.choice((1, 2) if fmt == "csv" else (1, 3, 6))
    fill = rng.choice(("x", "é", "1", " "))
    text = fill * 32_767
    grid = [list(r) for r in clean_grid()]
    start = 0 if rng.random() < 0.3 else 1
    for row in grid[start: start + rows]:
        row[:] = [text] * len(row)
    if fmt == "csv":
        data = "\r\n".join(",".join(_csv_field(v) for v in r) for r in grid).encode()
        return Sample(f"csv_{rows}_from{start}", "csv", data)
    return Sample(f"{fmt}_{rows}_from{start}", "xlsx",
                  handmade_xlsx(grid, shared=fmt == "shared"))


@case("odd-values")
def header_games(rng: random.Random) -> Sample:
    header = list(clean_grid()[0])
    body = [list(r) for r in clean_grid()[1:]]
    how = rng.choice(("repeated-1000", "all-columns-twice", "blank-header", "header-far-down",
                      "only-header-64", "header-every-row", "long-extra-header",
                      "long-unknown-header"))
    if how == "repeated-1000":
        grid = [header] * 1000 + body
    elif how == "all-columns-twice":
        grid = [header + header] + [r + r for r in body]
    elif how == "blank-header":
        grid = [[" "] * len(header), *body]
    elif how == "header-far-down":
        grid = [[None]] * 5000 + [header] + body
    elif how == "only-header-64":
        grid = [header * 2]
    elif how == "long-extra-header":  # named back in an "ignored column" note
        grid = [[*header, "Notes " * 20_000], *body]
    elif how == "long-unknown-header":  # named back in an "unknown template" refusal
        grid = [["Marac " * 20_000, *header[2:]], *body]
    else:
        grid = [x for r in body for x in (header, r)]
    return Sample(f"{how}", "xlsx", handmade_xlsx(grid, shared=True))


SHEET_NAMES = (b"", b"x" * 1000, b"Marac data", b"&#x1;&#x2;", b"Marac\tdata", b"&lt;script&gt;",
               b"'", b"History", b"\xe2\x80\xae", b"Marac data" * 100)


@case("odd-values")
def sheet_names(rng: random.Random) -> Sample:
    """Empty, very long, control-character and duplicated sheet names."""
    sheet = sheet_doc(rows_xml(clean_grid()))
    names = [rng.choice(SHEET_NAMES) for _ in range(rng.choice((1, 2, 3)))]
    if rng.random() < 0.4:
        names = [names[0]] * 3  # the same name three times
    label = "+".join(n[:12].hex() for n in names)
    return Sample(f"{label}", "xlsx", rezip(package([(n, sheet) for n in names])))


ODS_VALUES = ((b"float", b'office:value="1e309"'), (b"float", b'office:value="NaN"'),
              (b"float", b'office:value="abc"'), (b"float", b'office:value=""'),
              (b"date", b'office:date-value="garbage"'),
              (b"date", b'office:date-value="+275760-09-13"'),
              (b"date", b'office:date-value="2024-10-03T99:99:99"'),
              (b"percentage", b'office:value="1e308"'), (b"boolean", b'office:boolean-value="2"'),
              (b"time", b'office:time-value="PT99999999H"'),
              (b"currency", b'office:value="-1" office:currency="\xff"'),
              (b"nonsense", b'office:value="1"'))


@case("odd-values")
def ods_values(rng: random.Random) -> Sample:
    name = rng.choice(ODS_FIXTURES)
    kind, attrs = rng.choice(ODS_VALUES)
    target = rng.choice((b'office:value-type="float" office:value="14"',
                         b'office:value-type="date" office:date-value="2024-10-03"'))
    new = b'office:value-type="' + kind + b'" ' + attrs
    parts = unzip(fixture(name))
    data = rezip(edit_part(parts, "content.xml", lambda x: x.replace(target, new, 1)))
    return Sample(f"{name}_{kind.decode()}_{attrs.decode('latin-1')[:30]}", "ods",
                  data)


# =================================================================================================
# Family: ole — byte mutations of BIFF .xls files, where the sizes inside are trusted too.
# =================================================================================================


def _xls_base(rng: random.Random) -> Base:
    return _fixture_base(rng.choice(XLS_FIXTURES))


@case("ole")
def xls_flips(rng: random.Random) -> Sample:
    base = _xls_base(rng)
    region = rng.choice(("header", "directory", "anywhere"))
    data = bytearray(base.data)
    low, high = {"header": (0, 512), "directory": _directory_span(base.data),
                 "anywhere": (0, len(data))}[region]
    for _ in range(rng.choice((1, 4, 16))):
        at = rng.randrange(low, max(low + 1, high))
        data[at] ^= 1 << rng.randrange(8)
    return Sample(f"{base.label}_{region}", "xls", bytes(data))


def _sector_size(data: bytes) -> int:
    shift = struct.unpack_from("<H", data, 0x1E)[0]
    return 1 << shift if 7 <= shift <= 16 else 512


def _directory_span(data: bytes) -> tuple[int, int]:
    size = _sector_size(data)
    first = struct.unpack_from("<I", data, 0x30)[0]
    start = (first + 1) * size
    return (start, start + size) if start + size <= len(data) else (0, len(data))


# Header fields of a compound file (MS-CFB 2.2) and values that break a trusting reader.
HEADER_FIELDS = {"sector-shift": (0x1E, "<H"), "mini-sector-shift": (0x20, "<H"),
                 "dir-sectors": (0x28, "<I"), "fat-sectors": (0x2C, "<I"),
                 "first-dir": (0x30, "<I"), "mini-cutoff": (0x38, "<I"),
                 "first-minifat": (0x3C, "<I"), "minifat-sectors": (0x40, "<I"),
                 "first-difat": (0x44, "<I"), "difat-sectors": (0x48, "<I"),
                 "difat0": (0x4C, "<I"), "byte-order": (0x1C, "<H")}
EXTREMES = (0, 1, 7, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFA, 0xFFFFFFFE, 0xFFFFFFFF, 30, 12, 4096)


@case("ole")
def xls_header_fields(rng: random.Random) -> Sample:
    base = _xls_base(rng)
    field = rng.choice(sorted(HEADER_FIELDS))
    offset, fmt = HEADER_FIELDS[field]
    value = rng.choice(EXTREMES) & (0xFFFF if fmt == "<H" else 0xFFFFFFFF)
    data = bytearray(base.data)
    struct.pack_into(fmt, data, offset, value)
    return Sample(f"{base.label}_{field}={value:#x}", "xls", bytes(data))


# Directory entry fields (MS-CFB 2.6): sizes, start sectors and tree links.
ENTRY_FIELDS = {"name-length": (0x40, "<H"), "type": (0x42, "<B"), "left": (0x44, "<I"),
                "right": (0x48, "<I"), "child": (0x4C, "<I"), "start": (0x74, "<I"),
                "size": (0x78, "<Q")}


@case("ole")
def xls_directory(rng: random.Random) -> Sample:
    """A directory entry with a huge size, a wild start sector, or a link to itself."""
    base = _xls_base(rng)
    start, end = _directory_span(base.data)
    entries = max(1, (end - start) // 128)
    entry = rng.randrange(min(entries, 4))
    field = rng.choice(sorted(ENTRY_FIELDS))
    offset, fmt = ENTRY_FIELDS[field]
    limit = {"<B": 0xFF, "<H": 0xFFFF, "<I": 0xFFFFFFFF, "<Q": 0xFFFFFFFFFFFFFFFF}[fmt]
    value = rng.choice((entry, 0, limit, limit - 1, 0x7FFFFFFF, 65, 1 << 40)) & limit
    data = bytearray(base.data)
    struct.pack_into(fmt, data, start + entry * 128 + offset, value)
    return Sample(f"{base.label}_entry{entry}_{field}={value:#x}", "xls",
                  bytes(data))


# BIFF8 records (MS-XLS 2.3) and the fields a reader sizes things by.
BIFF_FIELDS: dict[int, tuple[str, tuple[tuple[int, str], ...]]] = {
    0x00FC: ("SST", ((0, "<I"), (4, "<I"))),
    0x0200: ("DIMENSIONS", ((0, "<I"), (4, "<I"), (8, "<H"), (10, "<H"))),
    0x0208: ("ROW", ((0, "<H"), (2, "<H"), (4, "<H"))),
    0x00FD: ("LABELSST", ((0, "<H"), (2, "<H"), (6, "<I"))),
    0x0203: ("NUMBER", ((0, "<H"), (2, "<H"), (6, "<Q"))),
    0x0085: ("BOUNDSHEET", ((0, "<I"), (6, "<B"))),
    0x041E: ("FORMAT", ((2, "<H"),)),
    0x0031: ("FONT", ((14, "<B"),)),
    0x00E0: ("XF", ((0, "<H"), (2, "<H"))),
    0x027E: ("RK", ((0, "<H"), (2, "<H"), (6, "<I"))),
    0x00BD: ("MULRK", ((0, "<H"), (2, "<H"))),
    0x0006: ("FORMULA", ((0, "<H"), (2, "<H"), (6, "<Q"))),
}


def biff_records(data: bytes) -> list[tuple[int, int, int]]:
    """(offset, type, size) of the BIFF records from the first sector-aligned BOF on."""
    at = next((m.start() for m in re.finditer(rb"\x09\x08\x10\x00", data) if m.start() % 512 == 0),
              -1)
    records: list[tuple[int, int, int]] = []
    while at >= 0 and at + 4 <= len(data) and len(records) < 5000:
        kind, size = struct.unpack_from("<HH", data, at)
        records.append((at, kind, size))
        at += 4 + size
    return records


@case("ole")
def xls_biff_records(rng: random.Random) -> Sample:
    """A record's length or a count inside it set to an extreme: SST counts, DIMENSIONS, …"""
    base = _xls_base(rng)
    data = bytearray(base.data)
    records = biff_records(base.data)
    known = [r for r in records if r[1] in BIFF_FIELDS]
    if not known or rng.random() < 0.25:
        offset, kind, _ = rng.choice(records)
        size = rng.choice((0, 1, 0xFFFF, 8224, 8225))
        struct.pack_into("<H", data, offset + 2, size)
        return Sample(f"{base.label}_length{kind:#06x}={size}", "xls", bytes(data))
    offset, kind, size = rng.choice(known)
    name, fields = BIFF_FIELDS[kind]
    at, fmt = rng.choice(fields)
    limit = {"<B": 0xFF, "<H": 0xFFFF, "<I": 0xFFFFFFFF, "<Q": 0xFFFFFFFFFFFFFFFF}[fmt]
    value = rng.choice((limit, limit - 1, 0, limit >> 1, 0x7FF8000000000001 & limit))
    if at + struct.calcsize(fmt) <= size:
        struct.pack_into(fmt, data, offset + 4 + at, value)
    return Sample(f"{base.label}_{name}+{at}={value:#x}", "xls", bytes(data))


@case("ole")
def xls_truncate(rng: random.Random) -> Sample:
    base = _xls_base(rng)
    at = rng.choice((512, 1024, 1536, rng.randrange(1, len(base.data)), len(base.data) - 1))
    return Sample(f"{base.label}_at={at}", "xls", base.data[:at])


# =================================================================================================
# Family: found — the exact inputs that broke the validator once, so each stays in every run
# (the families above draw their values at random and may miss a particular one).
# =================================================================================================


def _grid_with(cell: tuple[int, int], value: object) -> list[list[object]]:
    grid = [list(r) for r in clean_grid()]
    grid[cell[0]][cell[1]] = value
    return grid


def _csv_of(grid: Sequence[Sequence[object]]) -> bytes:
    return ("\r\n".join(",".join(_csv_field(v) for v in r) for r in grid) + "\r\n").encode()


@case("found", weight=1)
def year_one_date(rng: random.Random) -> Sample:
    """A meeting on 1 January of year 1: its financial year, 0, is no year (ValueError)."""
    text = rng.choice(("0001-01-01", "01/01/0001", "0001-03-31"))
    grid = _grid_with((1, 1), text)
    if rng.random() < 0.5:
        return Sample(f"csv_{text}", "csv", _csv_of(grid))
    return Sample(f"xlsx_{text}", "xlsx", handmade_xlsx(grid))


@case("found", weight=1)
def digits_past_float(rng: random.Random) -> Sample:
    """A count written as more digits than a float holds: int(float(text)) overflowed."""
    digits = rng.choice(("9" * 400, "1" * 32_767, "7" * 1_000))
    grid = _grid_with((2, 2), digits)
    if rng.random() < 0.5:
        return Sample(f"csv_{len(digits)}", "csv", _csv_of(grid))
    return Sample(f"xlsx_{len(digits)}", "xlsx", handmade_xlsx(grid, shared=True))


@case("found", weight=1)
def non_finite_number(rng: random.Random) -> Sample:
    """1e309 and NaN as numbers: Infinity and NaN reached the JSON, which has neither."""
    number = rng.choice((b"1e309", b"-1e309", b"NaN"))
    if rng.random() < 0.5:
        def edit(xml: bytes) -> bytes:
            return xml.replace(b'office:value="14"', b'office:value="' + number + b'"', 1)

        data = rezip(edit_part(unzip(fixture("clean_libreoffice.ods")), "content.xml", edit))
        return Sample(f"ods_{number.decode()}", "ods", data)
    grid = _grid_with((2, rng.choice((1, 2, 20))), Raw(b"", b"<v>" + number + b"</v>"))
    return Sample(f"xlsx_{number.decode()}", "xlsx", handmade_xlsx(grid))


@case("found", weight=1)
def unclosed_tag_flood(rng: random.Random) -> Sample:
    """A sheet that ends in tags that never close ("<row ", "<c t="e" ", "<c "), after one
    formula: the worksheet scan searched on from each to the end of its chunk, so a few
    hundred KB (a few KB zipped) held the bot's own process for many minutes before any
    parser saw the file (quadratic in the chunk)."""
    tags = [b"<row ", b'<c t="e" ', b"<c "]
    rng.shuffle(tags)
    flood = b"".join(tag * (100_000 // len(tag)) for tag in tags)
    rows = rows_xml(clean_grid()) + b'<row r="8"><c r="E8"><f>SUM(C8:D8)</f></c>' + flood
    order = "+".join(tag.strip(b"< ").decode() for tag in tags)
    return Sample(f"{order}_{len(flood)}", "xlsx", handmade_rows(rows))


@case("found", weight=1)
def echoed_text(rng: random.Random) -> Sample:
    """Text of the file said back whole: a header of 50,000 quotes in a refusal, a 32,767-
    character string in a thousand issues (31 MB of JSON from 5 KB)."""
    how = rng.choice(("quote-flood-header", "amplified-32767x200"))
    if how == "quote-flood-header":
        return Sample(how, "csv", ('"' * 100_001 + "\r\n" + clean_csv_text()).encode())
    meeting = list(clean_grid()[1])
    meeting[2:] = ["x" * 32_767] * (len(meeting) - 2)
    grid = [list(clean_grid()[0]), *([meeting] * 200)]
    return Sample(how, "xlsx", handmade_xlsx(grid, shared=True))


@case("found", weight=1)
def long_marac_name(rng: random.Random) -> Sample:
    """A Marac name of a million characters (letters, or right-to-left overrides): a 6 KB file
    whose row was accepted and whose name came back whole in the report's "maracs"."""
    name = rng.choice(("A", "\u202e")) * 1_000_000
    shared = rng.random() < 0.5
    grid = _grid_with((1, 0), name)
    label = f"{'shared' if shared else 'inline'}_{name[0].encode('unicode_escape').decode()}"
    return Sample(label, "xlsx", handmade_xlsx(grid, shared=shared))


FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(c.family for c in CASES))


# --- Running the real command ------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One ``python -m bot validate --json`` run."""

    returncode: int  # negative: killed by that signal
    stdout: bytes  # at most ``keep`` bytes of it
    stdout_size: int  # every byte it wrote, kept or not
    stderr: bytes
    seconds: float
    timed_out: bool
    peak_rss: int  # bytes; the command and the reader children it waited for


def run_validate(paths: Sequence[Path], *, cwd: Path, timeout: float,
                 memory_cap: int = 3 << 30, keep: int = 256 << 20) -> Run:
    """Run the real command on ``paths`` with a capped address space and a wall-clock limit.

    Peak RSS comes from ``wait4`` (the child's own rusage, its readers included), which
    ``subprocess`` would throw away. Output past ``keep`` bytes is counted, not held: a
    runaway answer must not take the test process down instead.
    """
    env = {**os.environ, "MARAC_DATA_DIR": str(cwd / "marac-data"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    env.pop("MARAC_DATABASE_URL", None)  # no registry: the same answer on every machine
    command = [sys.executable, "-m", "bot", "validate", "--json", *map(str, paths)]
    started = time.monotonic()
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=_address_space_cap(memory_cap))
    out, err = _Drain(proc.stdout, keep), _Drain(proc.stderr, 1 << 20)  # type: ignore[arg-type]
    expired = threading.Event()
    killer = threading.Timer(timeout, lambda: (expired.set(), proc.kill()))
    killer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        killer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    seconds = time.monotonic() - started
    out.join()
    err.join()
    return Run(proc.returncode, out.data(), out.size, err.data(), seconds, expired.is_set(),
               usage.ru_maxrss * 1024)


def _address_space_cap(limit: int) -> Callable[[], None]:
    def cap() -> None:
        # Soft limit only: the readers fork from this process and set their own, lower cap;
        # a hard limit below what they ask for would make every read fail instead.
        resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))

    return cap


class _Drain(threading.Thread):
    """Reads a pipe to its end so the child never blocks on a full pipe."""

    def __init__(self, stream: io.BufferedReader, keep: int) -> None:
        super().__init__(daemon=True)
        self.stream, self.keep, self.size = stream, keep, 0
        self.chunks: list[bytes] = []
        self.start()

    def run(self) -> None:
        with self.stream:
            while chunk := self.stream.read(1 << 16):
                if self.size < self.keep:
                    self.chunks.append(chunk[: self.keep - self.size])
                self.size += len(chunk)

    def data(self) -> bytes:
        return b"".join(self.chunks)
