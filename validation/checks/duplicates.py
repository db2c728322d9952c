"""The same Marac and meeting date twice in one file: every occurrence is rejected, since we
cannot know which of them is right.

One issue per group, at its first row, naming the others (the first few, then "and N more"):
a row repeated 20,000 times is one finding, not 20,000 that each list 20,000 rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import repeat

import numpy as np

from kernel import wording
from validation.checks.base import table_check
from validation.context import ValidationContext
from validation.issues import Issue
from validation.table import Table

_DAYS = 4_000_000  # more than date.max.toordinal(): a (name, day) pair as one integer


@table_check("duplicate-meeting")
def check_duplicate_meetings(table: Table, context: ValidationContext) -> Iterator[Issue]:
    names = _names(table)
    codes = _name_codes(names)
    meeting = codes * _DAYS + table.day_number
    dated = np.flatnonzero((codes >= 0) & (table.day_number > 0))
    _, where, times = np.unique(meeting[dated], return_inverse=True, return_counts=True)
    groups: dict[int, list[int]] = {}  # in the order first met, rows in sheet order
    for i in dated[times[where] > 1].tolist():
        groups.setdefault(int(meeting[i]), []).append(i)
    for group in groups.values():
        first = group[0]
        rows = [int(table.numbers[i]) for i in group]
        yield table.issue("duplicate-meeting", first, "meeting_date",
                          value=wording.day_text(table.meeting_date[first]),
                          marac=names[first], rows=wording.row_list(rows), times=len(rows),
                          also_rows=tuple(rows[1:]))


def _names(table: Table) -> list[str | None]:
    """Each row's Marac: the registry's name once resolved, else the name as written."""
    if not any(table.marac):
        return table.marac_text
    return [m or t for m, t in zip(table.marac, table.marac_text, strict=True)]


def _name_codes(names: list[str | None]) -> np.ndarray:
    """One integer per name as compared (case and spacing ignored); -1 for no name."""
    code_of_key: dict[str, int] = {}
    code: dict[str | None, int] = {}
    for name in set(names):
        if name:
            code[name] = code_of_key.setdefault(_key(name), len(code_of_key))
    return np.fromiter(map(code.get, names, repeat(-1)), np.int64, len(names))


def _key(name: str) -> str:
    return " ".join(name.lower().split())
