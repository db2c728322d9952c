"""One large worksheet read as parts, side by side, in the capped reader child.

calamine parses a worksheet on one thread and lets go of the GIL meanwhile, and that parse is
most of a validation's time (27 of 29 ms at 2,000 rows). Cut at row tags, the sheet's XML
makes self-contained packages; each part is parsed on its own thread, the parts spread over
the cores, and the rows are put back together where calamine would have placed them, from
column A and row 1.

Only a plain sheet is cut: unprefixed tags, no comment, CDATA or processing instruction in
its data (where a row tag could be text), every cut at a row that says its number, and the
parts' rows in order. Anything else, or any part calamine cannot read, gives None: the sheet
is read whole, as before, and whatever is wrong with it is reported as it always was.
"""

from __future__ import annotations

import io
import os
import re
import sys
import threading
import zipfile
from dataclasses import dataclass
from typing import Any

import python_calamine

from validation.xlsx_scan import sheet_paths

# Below this size (inflated) a sheet is read whole: the cut costs more than it saves.
SPLIT_FROM = 256 << 10
# Above it too: each part costs its own copy, and a sheet this large may need all the
# child's memory (validation.isolated) to be read whole.
SPLIT_UP_TO = 64 << 20
MAX_PARTS = 4
# Past this size (inflated) a sheet is cut in two parts at most (``parts_for``).
MANY_PARTS_UP_TO = 32 << 20
# Each part is a memory file that calamine opens by its /proc path (Linux).
_MEMORY_FILES = hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd")
_SWITCH_SECONDS = 0.0002
_DATA_OPEN, _DATA_CLOSE = b"<sheetData>", b"</sheetData>"
_ROW_OPEN = b"<row "
# A row tag that says its number (an unprefixed r="..."): calamine places it by that number.
_NUMBERED_ROW = re.compile(rb'<row\b[^>]{0,256}?\sr="[1-9][0-9]{0,6}"')
_WORKSHEETS = "xl/worksheets/"
# The folders whose parts go into each part's package (``_needed_around``).
_AROUND_FOLDERS = frozenset({"", "_rels", "xl", "xl/_rels"})


@dataclass(frozen=True)
class _Part:
    """One part's cells as calamine placed them: its first cell's (row, column) and rows."""

    start: tuple[int, int]
    rows: list[list[Any]]


def parts_wanted() -> int:
    """How many parts a sheet is cut into: one more than the cores this process may run on
    (up to ``MAX_PARTS``), none on one core. While the parts are parsed the bot's guard still
    scans the same file on one core; with a part more than cores, the parts left when the
    guard is done share both cores evenly, where two parts waited on the one that shared a
    core with the guard (2,000 rows in ``run``'s reader: 1.06-1.12x the bare read in nine
    runs of ten and 1.19x in one, against 1.15-1.28x with two parts)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return min(cores + 1, MAX_PARTS) if cores > 1 else 1


@dataclass(frozen=True)
class Limits:
    """The reader's bounds, which a sheet read in parts keeps as the whole read does."""

    columns: int  # each row is cut to this many cells from column A
    cells: int  # a sheet larger than this (rows x columns) is streamed by the whole read


def large_sheets(package: zipfile.ZipFile) -> dict[str, str]:
    """Each worksheet of the package worth cutting, by name: its part's path."""
    try:
        if not any(_worth_cutting(info) for info in package.infolist()):
            return {}
        return {name: path for name, path in sheet_paths(package)
                if _worth_cutting(package.getinfo(path))}
    except Exception:  # any package calamine may still read: read it whole
        return {}


def parts_for(size: int, parts: int) -> int:
    """How many parts a sheet of ``size`` bytes of XML is cut into: ``parts``, but two at most
    past ``MANY_PARTS_UP_TO``. Each part's thread has a malloc arena of its own, and each arena
    reserves 64 MB of address space, which the child's cap counts: a 67 MB sheet read in
    two parts within the cap (267 MB resident), and in three died at it."""
    return min(parts, 2) if size > MANY_PARTS_UP_TO else parts


def _worth_cutting(info: zipfile.ZipInfo) -> bool:
    return info.filename.startswith(_WORKSHEETS) and SPLIT_FROM <= info.file_size <= SPLIT_UP_TO


def read_in_parts(data: bytes, sheet_name: str, sheet_path: str, parts: int,
                  limits: Limits) -> list[list[Any]] | None:
    """The sheet's rows from A1, rectangular and ``limits.columns`` wide at most, as
    ``to_python(skip_empty_area=False)`` gives them; None to read it whole instead."""
    if parts < 2 or not _MEMORY_FILES:
        return None
    try:
        cut = _cut(data, sheet_path, parts)
    except Exception:  # damaged (zlib, CRC, sizes): the whole read says what is wrong
        return None
    if cut is None:
        return None
    read = _parse_side_by_side(cut, sheet_name, limits.cells)
    return None if read is None else _joined(read, limits)


@dataclass(frozen=True)
class _Cut:
    """The sheet's XML and where its parts begin and end; what surrounds it in the package."""

    path: str
    xml: bytes
    cuts: list[int]
    around: list[tuple[str, bytes]]

    def part(self, index: int) -> tuple[bytes | memoryview, ...]:
        """Part ``index``'s XML, in pieces: the sheet's head, its rows, the sheet's tail."""
        view = memoryview(self.xml)
        return (view[:self.cuts[0]], view[self.cuts[index]:self.cuts[index + 1]],
                view[self.cuts[-1]:])

    @property
    def count(self) -> int:
        return len(self.cuts) - 1


def _cut(data: bytes, sheet_path: str, parts: int) -> _Cut | None:
    """The sheet inflated and cut, or None if it is not one to cut."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        info = source.getinfo(sheet_path)
        if not _worth_cutting(info):
            return None
        xml = source.read(info)  # inflated up to the size it states, its CRC checked
        cuts = _cuts(xml, parts_for(len(xml), parts))
        if cuts is None:
            return None
        around = [(name, source.read(name)) for name in source.namelist()
                  if name != sheet_path and _needed_around(name)]
    return _Cut(sheet_path, xml, cuts, around)


def _needed_around(name: str) -> bool:
    """Whether a part of the package goes into every part's package: what calamine reads to
    find and read a sheet's values (content types, relationships, the workbook, its styles and
    shared strings), never other sheets, pictures, themes or properties, which would be
    inflated and copied once per part for nothing."""
    folder, _, _ = name.rpartition("/")
    return folder in _AROUND_FOLDERS


def _cuts(xml: bytes, parts: int) -> list[int] | None:
    """Where each part's rows begin, and where the last one's end: the offsets of row tags
    at about equal distances through the sheet's data."""
    opened = xml.find(_DATA_OPEN)
    closed = xml.rfind(_DATA_CLOSE)
    if opened < 0 or closed < opened or xml.find(_DATA_OPEN, opened + 1) >= 0:
        return None
    first, last = opened + len(_DATA_OPEN), closed
    if _holds_markup_text(xml, first, last):
        return None
    cuts = [first]
    for k in range(1, parts):
        at = xml.find(_ROW_OPEN, first + (last - first) * k // parts, last)
        if at <= cuts[-1] or not _NUMBERED_ROW.match(xml, at):
            return None
        cuts.append(at)
    cuts.append(last)
    return cuts


def _holds_markup_text(xml: bytes, first: int, last: int) -> bool:
    """Whether the data may hold a comment, CDATA or processing instruction, where "<row "
    could be text. "!" and "?" are looked for first: one byte is found at memory speed, and
    a data sheet seldom holds either, where "<" begins every tag."""
    return any(xml.find(mark, first, last) >= 0 and xml.find(b"<" + mark, first, last) >= 0
               for mark in (b"!", b"?"))


def _package_file(cut: _Cut, index: int) -> int:
    """Part ``index`` as a stored (uncompressed) package in a memory file: calamine reads it
    from there as a stream, so no part of it is held twice in this process's (capped)
    address space."""
    fd = os.memfd_create("marac-part", os.MFD_CLOEXEC)
    try:
        with os.fdopen(os.dup(fd), "w+b") as file, \
                zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as package:
            for name, body in cut.around:
                package.writestr(name, body)
            with package.open(cut.path, "w") as part:
                for piece in cut.part(index):
                    part.write(piece)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _parse_side_by_side(cut: _Cut, sheet_name: str, max_cells: int) -> list[_Part] | None:
    """Each part packaged and parsed on its own thread (zlib's checksum and calamine's parse
    let go of the GIL); None if any part could not be read, or is too large to hold as
    lists."""
    found: list[_Part | None] = [None] * cut.count

    def parse(index: int) -> None:
        try:
            fd = _package_file(cut, index)
            try:
                found[index] = _parsed(f"/proc/self/fd/{fd}", sheet_name, max_cells)
            finally:
                os.close(fd)
        except BaseException:  # a calamine panic too: the whole read reports it
            found[index] = None

    helpers = [threading.Thread(target=parse, args=(i,), daemon=True)
               for i in range(1, cut.count)]
    # Each thread's Python steps are short and calamine's long ones let go of the GIL: a
    # short switch interval starts every part at once, where the usual 5 ms kept a helper
    # waiting behind the packaging of the first part for up to that long.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(_SWITCH_SECONDS)
    try:
        for helper in helpers:
            helper.start()
        parse(0)
        for helper in helpers:
            helper.join()
    finally:
        sys.setswitchinterval(interval)
    if any(part is None for part in found):
        return None
    return [part for part in found if part is not None]


def _parsed(path: str, sheet_name: str, max_cells: int) -> _Part | None:
    sheet = python_calamine.load_workbook(path).get_sheet_by_name(sheet_name)
    if sheet.end is None or sheet.start is None:
        return _Part((0, 0), [])
    (first_row, first_column), (last_row, last_column) = sheet.start, sheet.end
    if (last_row - first_row + 1) * (last_column - first_column + 1) > max_cells:
        return None  # a stray far cell: the whole read streams such a sheet
    return _Part((first_row, first_column), sheet.to_python(skip_empty_area=True))


def _joined(read: list[_Part], limits: Limits) -> list[list[Any]] | None:
    """The parts' rows as one sheet from A1, rectangular as calamine's whole read is, or None
    if the parts overlap (rows out of order: only the whole read places them) or are too
    large together to hold as lists."""
    filled = [part for part in read if part.rows]
    if not filled:
        return []
    width = min(max(part.start[1] + len(part.rows[0]) for part in filled), limits.columns)
    height = filled[-1].start[0] + len(filled[-1].rows)
    if height * width > limits.cells:
        return None
    rows: list[list[Any]] = []
    for part in filled:
        first_row, first_column = part.start
        if first_row < len(rows):
            return None
        rows.extend([""] * width for _ in range(first_row - len(rows)))
        rows.extend(_widened(part.rows, first_column, width))
    return rows


def _widened(rows: list[list[Any]], first_column: int, width: int) -> list[list[Any]]:
    """Rows that begin at ``first_column``, as rows from column A exactly ``width`` wide."""
    if first_column == 0 and rows and len(rows[0]) == width:
        return rows  # the usual part: as calamine made it, no copy
    left, right = [""] * first_column, [""] * width
    return [(left + row + right)[:width] for row in rows]
