"""The pieces answers are made of: quarters and years as stated, where a question is about and
who asked, a Marac's quarter, who sent a file, a change waiting for confirmation.

Each ``to_dict`` gives the JSON ``marac-bot ask --json`` prints (interface.md): dates as ISO
strings, local times to the minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

Json = dict[str, Any]


class State(StrEnum):
    """Where a Marac's quarter stands."""

    ACCEPTED = "accepted"  # figures stored, nothing waiting
    HELD = "held"  # figures stored, and changed figures wait for confirmation
    MISSING = "missing"  # nothing yet; the quarter has ended but is not yet overdue
    OVERDUE = "overdue"  # nothing, and the due date has passed
    NOT_DUE = "not-due"  # nothing, and the quarter has not ended


def local_minutes(moment: datetime) -> str:
    """A time already in the configured time zone, as answers give it: to the minute."""
    return moment.isoformat(timespec="minutes")


@dataclass(frozen=True)
class Area:
    """A group of Maracs named in a question: a region, a police force area or a nation."""

    kind: str  # "region" | "police_force_area" | "nation" | "nations" ("England and Wales")
    name: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name}


@dataclass(frozen=True)
class ScopeInfo:
    """What an asker may ask about, as an answer or a refusal describes it."""

    role: str  # a registry role, or "operator" for the local command line
    everything: bool
    own: tuple[str, ...]  # the asker's own Maracs, by name
    scopes: tuple[str, ...]  # a manager's regions / police force areas, as registered

    def to_dict(self) -> Json:
        return {"role": self.role, "everything": self.everything, "own": list(self.own),
                "scopes": list(self.scopes)}


@dataclass(frozen=True)
class PlaceInfo:
    """What an answer is about: one Marac, an area, or (neither) the asker's whole scope."""

    marac: str | None
    area: Area | None
    maracs: int  # how many Maracs that covers, all visible to the asker
    restricted: bool  # some were left out: outside the asker's scope

    def to_dict(self) -> Json:
        return {"marac": self.marac, "area": self.area.to_dict() if self.area else None,
                "maracs": self.maracs, "restricted": self.restricted}


@dataclass(frozen=True)
class QuarterInfo:
    """A quarter as an answer states it: label, date range once, due date, how far on."""

    label: str  # "Q3 2024/25"
    range: str  # "1 Oct – 31 Dec 2024"
    start: date
    end: date
    due: date
    started: bool
    ended: bool
    overdue: bool

    def to_dict(self) -> Json:
        return {"label": self.label, "range": self.range, "start": self.start.isoformat(),
                "end": self.end.isoformat(), "due": self.due.isoformat(),
                "started": self.started, "ended": self.ended, "overdue": self.overdue}


@dataclass(frozen=True)
class YearInfo:
    """A financial year as an answer states it."""

    label: str  # "2024/25"
    range: str  # "1 Apr 2024 – 31 Mar 2025"
    start: date
    end: date

    def to_dict(self) -> Json:
        return {"label": self.label, "range": self.range, "start": self.start.isoformat(),
                "end": self.end.isoformat()}


@dataclass(frozen=True)
class Received:
    """The latest file that gave a Marac's current figures for a quarter."""

    at: datetime  # local time
    by: str  # the sender's address
    by_name: str | None  # their registered name
    file: str
    channel: str
    files: int  # how many files the current figures came from

    def to_dict(self) -> Json:
        return {"at": local_minutes(self.at), "by": self.by, "by_name": self.by_name,
                "file": self.file, "channel": self.channel, "files": self.files}


@dataclass(frozen=True)
class HeldChange:
    """Changed figures for a meeting, waiting for confirmation (times local)."""

    meeting_date: date
    sender: str
    created_at: datetime
    expires_at: datetime

    def to_dict(self) -> Json:
        return {"meeting_date": self.meeting_date.isoformat(), "sender": self.sender,
                "created_at": local_minutes(self.created_at),
                "expires_at": local_minutes(self.expires_at)}


@dataclass(frozen=True)
class Coordinator:
    name: str
    email: str

    def to_dict(self) -> Json:
        return {"name": self.name, "email": self.email}


@dataclass(frozen=True)
class MissingMarac:
    """A Marac that has not sent a quarter, whom to chase, and whether it missed the one
    before too (two in a row leave it out of the national figures, spec §5)."""

    marac: str
    region: str
    police_force_area: str
    coordinators: tuple[Coordinator, ...]
    overdue: bool
    missed_previous: bool

    def to_dict(self) -> Json:
        return {"marac": self.marac, "region": self.region,
                "police_force_area": self.police_force_area,
                "coordinators": [c.to_dict() for c in self.coordinators],
                "overdue": self.overdue, "missed_previous": self.missed_previous}


@dataclass(frozen=True)
class QuarterStatus:
    """One quarter of a Marac's year: where it stands, meetings, cases, held changes."""

    quarter: QuarterInfo
    state: State
    meetings: int
    cases: int | None  # None when nothing was sent
    held: int  # meetings with changed figures waiting for confirmation

    def to_dict(self) -> Json:
        return self.quarter.to_dict() | {"state": self.state.value, "meetings": self.meetings,
                                         "cases": self.cases, "held": self.held}
