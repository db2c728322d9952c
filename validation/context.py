"""What validation may know beyond the file: today, the declared quarter, and, once the store
exists, a read-only view of the registry, the sender and the meetings already accepted.

Validation never imports the store: the store implements these protocols.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from kernel.config import Bands
from kernel.quarters import Quarter


@dataclass(frozen=True)
class MaracInfo:
    name: str
    adult_female_population: int | None = None


class RegistryView(Protocol):
    def is_empty(self) -> bool:
        """True when no Maracs are registered (names are then not checked)."""

    def resolve(self, text: str) -> MaracInfo | None:
        """The Marac a name in a file means (case, punctuation, "Marac", aliases ignored)."""

    def suggest(self, text: str, limit: int = 3) -> Sequence[str]:
        """Closest registered names for "did you mean"."""


class SenderView(Protocol):
    def may_submit(self, marac: str) -> bool:
        """Whether this sender may submit data for the Marac (canonical name)."""


class StoredMeetings(Protocol):
    def current(self, marac: str, meeting_date: date) -> Mapping[str, int | None] | None:
        """The accepted counts of a meeting, or None if never accepted."""

    def quarter_totals(self, marac: str, quarter: Quarter) -> Sequence[Mapping[str, int | None]]:
        """Current accepted counts of every meeting of that Marac in that quarter; each mapping
        also carries the meeting's date under "meeting_date"."""


@dataclass(frozen=True)
class ValidationContext:
    today: date
    declared_quarter: Quarter | None = None
    # False when the declared quarter was named without its year ("Q1 return"): resolved
    # against today, it is only a guess, and the meetings may say which year was meant.
    declared_year_given: bool = True
    registry: RegistryView | None = None
    sender: SenderView | None = None
    stored: StoredMeetings | None = None
    bands: Bands = field(default_factory=Bands)
    max_file_bytes: int = 10 * 1024 * 1024


# A year in a phrase naming a quarter: "2024", "2024/25", "24/25", "24-25"; or a relative one
# ("last quarter", "this quarter"), which is not a bare number either.
_YEAR_OR_RELATIVE = re.compile(
    r"(?<!\d)(?:19|20)\d{2}(?!\d)|(?<!\d)\d{2}\s*[/-]\s*\d{2}(?!\d)|"
    r"\b(?:last|this|previous|current|next|fy)\b", re.IGNORECASE)


def names_its_year(text: str) -> bool:
    """Whether a phrase naming a quarter also names its year (or a relative one): "Q3
    2024/25 return" does, "Q1 return" and "Apr-Jun return" do not."""
    return bool(_YEAR_OR_RELATIVE.search(text))


def quarter_of_meetings(declared: Quarter, days: Iterable[date]) -> Quarter | None:
    """A quarter named without its year, read from the meetings (issue 12): the one quarter
    of that number every meeting falls in; None when they fall in several quarters, in one of
    another number, or there are none. (A meeting's quarter is given by its date alone.)"""
    quarters = {Quarter.containing(day) for day in days}
    if len(quarters) != 1:
        return None
    (found,) = quarters
    return found if found.number == declared.number else None
