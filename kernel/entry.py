"""One meeting's figures entered by hand (a Slack form, a Teams card, a sentence): the typed
value every way in hands to the same validation as a file row (issue 16).

It sits in the kernel because the channels build it, the dispatcher routes on it and
validation reads it. Counts keep what the person entered: ``None`` for a box left blank (not
collected, never 0), text as typed in a form ("12", "-3": validation judges it, exactly as it
judges a cell), an ``int`` from a sentence.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class EntryKind(StrEnum):
    """How the figures came in; stored as the submission's kind beside "file"."""

    FORM = "form"  # a Slack modal or a Teams card
    SENTENCE = "sentence"  # "change Croydon 3 Oct 2024 repeat cases to 9"


Value = str | int | None


@dataclass(frozen=True)
class MeetingEntry:
    """A meeting as entered: the Marac (as chosen or written), the date, and counts by field
    key (``validation.columns.COUNT_KEYS``). A key left out is blank."""

    marac: str
    meeting_date: date | str | None
    counts: Mapping[str, Value] = field(default_factory=dict)
    kind: EntryKind = EntryKind.FORM

    def __post_init__(self) -> None:
        object.__setattr__(self, "counts", MappingProxyType(dict(self.counts)))

    def to_json(self) -> bytes:
        """The values entered, as kept with the submission (its provenance, like a file)."""
        day = self.meeting_date
        return json.dumps(
            {
                "kind": self.kind.value,
                "marac": self.marac,
                "meeting_date": day.isoformat() if isinstance(day, date) else day,
                "counts": dict(self.counts),
            },
            sort_keys=True,
            ensure_ascii=False,
        ).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes | str) -> MeetingEntry:
        """The entry ``to_json`` wrote; ``ValueError`` for anything else."""
        data: Any = json.loads(raw)
        if not isinstance(data, dict) or not isinstance(data.get("counts"), dict):
            raise ValueError("not a meeting entry")
        day = data.get("meeting_date")
        return cls(
            str(data.get("marac") or ""),
            day if isinstance(day, str) else None,
            {str(k): _value(v) for k, v in data["counts"].items()},
            EntryKind(data.get("kind") or "form"),
        )

    @property
    def day(self) -> date | None:
        """The meeting date as a date, when it is one (a picker's ISO text included); else
        None, and validation says what is wrong with it."""
        if isinstance(self.meeting_date, date) or self.meeting_date is None:
            return self.meeting_date
        try:
            return date.fromisoformat(self.meeting_date)
        except ValueError:
            return None


def _value(value: Any) -> Value:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return str(value)


@dataclass(frozen=True)
class FormOffer:
    """A form to show, as data each chat channel renders (a Teams card, a Slack button that
    opens the modal): the Maracs to choose from, as (name, edition) with the edition's plain
    value ("uk", "scotland"), and for an amendment the meeting chosen and its figures."""

    choices: tuple[tuple[str, str], ...]
    marac: str | None = None
    day: date | None = None
    values: Mapping[str, int | None] = field(default_factory=dict)
    note: str | None = None

    def chosen(self) -> tuple[str, str] | None:
        """The Marac shown as chosen: the one named, or the only one there is."""
        named = next((c for c in self.choices if c[0] == self.marac), None)
        return named or (self.choices[0] if len(self.choices) == 1 else None)


@dataclass(frozen=True)
class FormRequest:
    """Someone asked for the form ("record a meeting", a card's "show figures already
    recorded"): with a Marac and date chosen, a recorded meeting's figures are filled in."""

    marac: str | None = None
    day: date | None = None
