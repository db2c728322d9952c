"""What validation may know beyond the file: today, the declared quarter, and, once the store
exists, a read-only view of the registry, the sender and the meetings already accepted.

Validation never imports the store: the store implements these protocols.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    registry: RegistryView | None = None
    sender: SenderView | None = None
    stored: StoredMeetings | None = None
    bands: Bands = field(default_factory=Bands)
    max_file_bytes: int = 10 * 1024 * 1024
