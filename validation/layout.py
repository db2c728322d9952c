"""Finding the data sheet and its columns (spec §3): edition, header tolerance, extra columns.

The data may sit on a sheet other than the first when the first is an instructions sheet; the
header row is the first non-blank row of a sheet (row 1 in the template).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from operator import itemgetter

from kernel import wording
from validation.cells import is_blank
from validation.columns import (
    COUNT_KEYS,
    FIELDS,
    HEADER_LOOKUP,
    Edition,
    column_letter,
    normalise_header,
)
from validation.issues import Issue, declared
from validation.reader import SheetData

# The header row must be within the first few non-blank rows: a title line above it is common.
HEADER_SEARCH_ROWS = 5
# The codes of finding the data sheet: the file's shape, and what was left aside.
LAYOUT_CODES = declared("unknown-template", "duplicate-column", "ignored-column", "ignored-sheet")

# A sheet named like this, or whose rows are all an example Marac, is a guide to the template
# (spec §3: the data may follow "an instructions sheet"), however well its headers match.
_GUIDE_NAME = re.compile(
    r"\b(?:instructions?|guidance|guide|how to|examples?|samples?|read ?me|help)\b|^notes$")
_EXAMPLE_NAME = re.compile(r"\b(?:examples?|samples?)\b")

_UK_ONLY = set(HEADER_LOOKUP[Edition.UK]) - set(HEADER_LOOKUP[Edition.SCOTLAND])
_SCOTLAND_ONLY = set(HEADER_LOOKUP[Edition.SCOTLAND]) - set(HEADER_LOOKUP[Edition.UK])


@dataclass
class Layout:
    """Where each field lives in the data sheet."""

    sheet: SheetData
    edition: Edition
    header_row: int
    column_of: dict[str, int]  # field key -> zero-based column index
    header_of: dict[str, str]  # field key -> header text as written in the file
    ignored: list[str] = field(default_factory=list)  # extra headers, as written
    duplicates: dict[str, list[str]] = field(default_factory=dict)  # key -> cell refs

    @property
    def count_columns(self) -> list[tuple[str, int]]:
        """(field key, column index) of every count column present, in template order."""
        return [(k, self.column_of[k]) for k in COUNT_KEYS if k in self.column_of]

    @cached_property
    def data_rows(self) -> list[tuple[int, list[object]]]:
        """The rows below the header row (blank rows already left out by the reader)."""
        rows = self.sheet.rows  # in sheet order: the data is everything past the header row
        start = next((i for i, (n, _) in enumerate(rows) if n > self.header_row), len(rows))
        return rows[start:]


@dataclass
class _Candidate:
    layout: Layout
    missing: list[str]
    unexpected: list[str]

    @property
    def score(self) -> int:
        return len(self.layout.column_of)


def find_layout(sheets: list[SheetData]) -> tuple[Layout | None, list[Issue]]:
    """The first sheet whose headers match an edition, that holds rows below them and that is
    not a guide to the template, or a file-level issue saying why none does.

    When no sheet is all three: a guide by its name that holds rows (read as the data it then
    is), else a sheet with the headers alone (a blank copy of the template: "no data rows"),
    else a guide holding only an example Marac."""
    candidates: list[_Candidate] = []
    guides: list[Layout] = []
    empty: list[Layout] = []
    for sheet in sheets:
        candidate = _best_header_row(sheet)
        if candidate is None:
            continue
        layout = candidate.layout
        if candidate.missing:
            candidates.append(candidate)
        elif _is_guide(layout):  # a worked example: the real data may follow
            guides.append(layout)
        elif not layout.data_rows:  # a blank copy of the template kept first: the same
            empty.append(layout)
        else:
            return layout, _notes_for(layout, sheets)
    named = [g for g in guides if g.data_rows and not _examples_only(g)]
    chosen = next(iter(named + empty + guides), None)
    if chosen is not None:
        return chosen, _notes_for(chosen, sheets)
    return None, [_unknown_template(candidates)]


def _is_guide(layout: Layout) -> bool:
    """Whether the sheet is clearly instructions: by its name, or by every row below its
    headers naming an example Marac ("Example Marac", "Sample")."""
    name = re.sub(r"[^a-z]+", " ", layout.sheet.name.lower()).strip()
    return bool(_GUIDE_NAME.search(name)) or _examples_only(layout)


def _examples_only(layout: Layout) -> bool:
    """Whether the sheet has rows below its headers, each naming an example Marac."""
    column = layout.column_of["marac"]
    names = [cells[column] if column < len(cells) else None for _, cells in layout.data_rows]
    return bool(names) and all(
        isinstance(text, str) and _EXAMPLE_NAME.search(text.lower()) for text in names)


def _best_header_row(sheet: SheetData) -> _Candidate | None:
    """The row of the first few that matches most template headers; the first on a tie."""
    best: _Candidate | None = None
    for number, cells in sheet.rows[:HEADER_SEARCH_ROWS]:
        candidate = _match_headers(sheet, number, cells)
        if best is None or candidate.score > best.score:
            best = candidate
        if not candidate.missing:
            break
    return best  # even with no header known: unknown-template then names what it found


def _match_headers(sheet: SheetData, number: int, cells: list[object]) -> _Candidate:
    column_of: dict[str, int] = {}
    header_of: dict[str, str] = {}
    duplicates: dict[str, list[str]] = {}
    unexpected: list[str] = []
    seen_norms: list[str] = []
    for index, value in enumerate(cells):
        if is_blank(value):
            continue
        norm = normalise_header(value)
        key = HEADER_LOOKUP[Edition.UK].get(norm) or HEADER_LOOKUP[Edition.SCOTLAND].get(norm)
        if key is None:
            unexpected.append(str(value).strip())
            continue
        seen_norms.append(norm)
        ref = f"{column_letter(index + 1)}{number}"
        if key in column_of:
            first = f"{column_letter(column_of[key] + 1)}{number}"
            duplicates.setdefault(key, [first]).append(ref)
            continue
        column_of[key] = index
        header_of[key] = str(value).strip()
    edition = _edition_of(seen_norms)
    missing = [f.header(edition) for f in FIELDS if f.key not in column_of]
    layout = Layout(sheet, edition, number, column_of, header_of, unexpected, duplicates)
    return _Candidate(layout, missing, unexpected)


def _edition_of(norms: list[str]) -> Edition:
    scottish = sum(1 for n in norms if n in _SCOTLAND_ONLY)
    uk = sum(1 for n in norms if n in _UK_ONLY)
    return Edition.SCOTLAND if scottish > uk else Edition.UK


def _notes_for(layout: Layout, sheets: list[SheetData]) -> list[Issue]:
    notes: list[Issue] = []
    sheet_name = layout.sheet.name
    for key, refs in layout.duplicates.items():
        notes.append(
            Issue.make(
                "duplicate-column",
                sheet=sheet_name,
                cell=refs[1],
                row=layout.header_row,
                column=layout.header_of[key],
                cells=", ".join(refs),
            )
        )
    ignored = layout.ignored + [wording.unheaded_column(column_letter(index + 1))
                                for index in _unheaded_columns(layout)]
    if ignored:
        notes.append(
            Issue.make("ignored-column", sheet=sheet_name, columns=wording.short_list(ignored))
        )
    # Our own instructions sheet and the Issues sheet of an annotated copy sent back are expected.
    ours = {wording.TEMPLATE_INSTRUCTIONS_TITLE, wording.ANNOTATED_SHEET_TITLE}
    for other in sheets:
        if other is not layout.sheet and other.rows and other.name not in ours:
            notes.append(Issue.make("ignored-sheet", sheet=other.name, value=other.name))
    return notes


def _unheaded_columns(layout: Layout) -> list[int]:
    """The columns with no header that hold something below it (notes typed beside the
    template): ignored, so said to be (spec §3). Each column's distinct values are gathered
    at C speed; a template file has none of these columns and costs nothing here."""
    header = next(cells for number, cells in layout.sheet.rows if number == layout.header_row)
    rows = [cells for _, cells in layout.data_rows]
    width = max(map(len, rows), default=0)
    return [index for index in range(width)
            if (index >= len(header) or is_blank(header[index])) and _holds_any(rows, index)]


def _holds_any(rows: list[list[object]], index: int) -> bool:
    try:
        values: Iterable[object] = set(map(itemgetter(index), rows))
    except IndexError:  # a short row (a .csv, a streamed sheet) holds nothing there
        values = [cells[index] for cells in rows if len(cells) > index]
    except TypeError:  # a value that cannot be hashed: looked at one by one
        values = list(map(itemgetter(index), rows))
    return not all(map(is_blank, values))


def _unknown_template(candidates: list[_Candidate]) -> Issue:
    if not candidates:
        return Issue.make("unknown-template", reason=wording.UNKNOWN_TEMPLATE_ALL_BLANK)
    # The first sheet's first row when no row has a template header (max keeps the first).
    best = max(candidates, key=lambda c: c.score)
    return Issue.make(
        "unknown-template",
        sheet=best.layout.sheet.name,
        row=best.layout.header_row,
        reason=wording.unknown_template_reason(best.missing, _one_by_one(best.unexpected),
                                               none_known=best.score == 0),
    )


def _one_by_one(headers: list[str]) -> list[str]:
    """Headers to name back, a tab-separated line read as one cell (a .csv saved with tabs)
    split into the headers it holds."""
    return [part.strip() for text in headers for part in text.split("\t") if part.strip()]
