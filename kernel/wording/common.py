"""Wording every audience shares: dates as people read them, plurals, quoting back."""

from __future__ import annotations

import re
import string as _string
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

# ---------------------------------------------------------------------------------------------
# Dates as people read them (fixed English month names: strftime follows the process locale).
# ---------------------------------------------------------------------------------------------

_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_text(day: Any) -> str:
    """ "3 Oct 2024"."""
    return f"{day.day} {_MONTH_ABBR[day.month - 1]} {day.year}"


def counts_line(*, total: int, accepted: int, rejected: int, held: int, unchanged: int,
                checked_only: bool) -> str:
    verb = "would be accepted" if checked_only else "accepted"
    parts = [f"{accepted} {verb}",
             f"{rejected} {'would be rejected' if checked_only else 'rejected'}"]
    if held:
        parts.append(f"{held} held")
    if unchanged:
        parts.append(f"{unchanged} unchanged")
    return f"Rows: {total} in all; {', '.join(parts)}."


# What a person wrote is echoed back at most this long: a 50 KB "name" is not repeated whole.
ECHO_CHARS = 60


class _Defaulting(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def did_you_mean(suggestions: Sequence[str]) -> str:
    if not suggestions:
        return ""
    if len(suggestions) == 1:
        return f" Did you mean {suggestions[0]}?"
    return f" Did you mean {', '.join(suggestions[:-1])} or {suggestions[-1]}?"


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def and_list(items: Sequence[str]) -> str:
    """ "A", "A and B", "A, B and C"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


# A list of cells in a message names this many runs ("A2–A7" is one), then "and N more".
CELLS_LISTED = 10
_CELL = re.compile(r"([A-Z]+)(\d+)")


def cell_list(cells: Sequence[str]) -> str:
    """ "A2–A7", "C3, C5 and D9": runs of three or more cells down one column shortened,
    at most ``CELLS_LISTED`` entries, then "and N more" (cells)."""
    runs: list[list[str]] = []
    for cell in cells:
        if runs and _follows(runs[-1][-1], cell):
            runs[-1].append(cell)
        else:
            runs.append([cell])
    shown: list[str] = []
    for run in runs:
        shown += [f"{run[0]}–{run[-1]}"] if len(run) >= 3 else run
    rest = sum(len(r) for r in runs) - _cells_in(shown[:CELLS_LISTED])
    if rest > 0:
        return f"{', '.join(shown[:CELLS_LISTED])} and {rest:,} more"
    return and_list(shown)


def _follows(before: str, cell: str) -> bool:
    a, b = _CELL.fullmatch(before), _CELL.fullmatch(cell)
    return bool(a and b and a[1] == b[1] and int(b[2]) == int(a[2]) + 1)


def _cells_in(entries: Sequence[str]) -> int:
    total = 0
    for entry in entries:
        first, dash, last = entry.partition("–")
        a, b = _CELL.fullmatch(first), _CELL.fullmatch(last) if dash else None
        total += int(b[2]) - int(a[2]) + 1 if a and b else 1
    return total


# A list of things from a file (headers, columns) names this many, then "and N more".
ITEMS_LISTED = 10


def short_list(items: Sequence[str]) -> str:
    """Items from a file as a list to read: each cut to ``ECHO_CHARS``, at most
    ``ITEMS_LISTED`` of them, then "and N more"."""
    shown = [_cut_text(str(item)) for item in items[:ITEMS_LISTED]]
    rest = len(items) - len(shown)
    return ", ".join(shown) + (f" and {rest:,} more" if rest else "")


def _cut_text(text: str) -> str:
    return text if len(text) <= ECHO_CHARS else text[: ECHO_CHARS - 1].rstrip() + "…"


def echoed(text: str) -> str:
    """``text`` as quoted back to its writer: cut to ``ECHO_CHARS`` with "…", in quotes."""
    return quoted(_cut_text(text))


# What a cell can hold that a reader cannot see in a quote, shown plainly (the character as a
# space, or left out) and then named: repr's "Croydon\xa0" means nothing to a Marac
# coordinator, "'Croydon ' (with a non-breaking space)" does.
_UNSEEN = (
    (re.compile("[\u00a0\u2007\u202f]"), " ", "a non-breaking space"),
    (re.compile("[\t\u1680\u2000-\u2006\u2008-\u200a\u205f\u3000]"), " ", "an unusual space"),
    (re.compile("[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]"), " ", "a line break"),
    (re.compile("[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f\u200b-\u200f\u202a-\u202e"
                "\u2060-\u2069\ufeff\ud800-\udfff]"), "", "an invisible character"),
)


def quoted(text: str) -> str:
    """Text from a file or a message quoted back as a person reads it: in quotes, never with
    a Python escape, any space or character they could not see there said to be there."""
    found = []
    for pattern, shown_as, name in _UNSEEN:
        text, count = pattern.subn(shown_as, text)
        if count:
            found.append(name)
    quote = '"' if "'" in text and '"' not in text else "'"
    return f"{quote}{text}{quote}" + (f" (with {' and '.join(found)})" if found else "")


class _Quoting(_string.Formatter):
    """A template's ``{value!r}`` quotes the text with ``quoted`` (a date as "3 Oct 2024"):
    the templates quote what the file says with ``!r``, and a reply must never show repr."""

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion == "r" and isinstance(value, str):
            return quoted(value)
        if conversion == "r" and isinstance(value, date):
            return day_text(value)
        return super().convert_field(value, conversion)


_QUOTING = _Quoting()


def fill(template: str, params: Mapping[str, Any]) -> str:
    """``template`` with ``params``, a missing one blank; ``!r`` quotes as ``quoted`` does."""
    return _QUOTING.vformat(template, (), _Defaulting(params))
