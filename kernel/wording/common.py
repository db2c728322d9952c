"""Wording every audience shares: dates as people read them, plurals, quoting back."""

from __future__ import annotations

from collections.abc import Sequence
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
    parts = [f"{accepted} {verb}", f"{rejected} rejected"]
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
    return repr(_cut_text(text))
