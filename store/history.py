"""Answers about the past: every version of a meeting with where it came from, and a
meeting's figures as they stood at any moment.

How a version came to be is read from the store's rules, not stored twice: version 1 is a new
meeting; a later version is a change, which the store applies only once its sender confirmed
it (``submit --confirm``, a CONFIRM reply or the button), so its ``recorded_by`` and
``recorded_at`` are who confirmed it and when; a version with ``withdrawal_of`` set restores
the figures from before a withdrawn submission.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session, selectinload

from store.models import Explanation, HeldChange, Marac, Meeting, MeetingVersion, Submission
from store.names import NameIndex

_Row = TypeVar("_Row", MeetingVersion, HeldChange, Explanation)


class VersionKind(StrEnum):
    NEW = "new"  # the meeting's first figures
    CONFIRMED = "confirmed"  # a change, applied when its sender confirmed it
    RESTORED = "restored"  # the figures before a withdrawn submission, put back


@dataclass(frozen=True)
class VersionRecord:
    """One version of a meeting's figures and its provenance (file, hash, row, sender, time)."""

    version: int
    is_current: bool
    counts: dict[str, int | None]
    recorded_at: datetime
    superseded_at: datetime | None
    recorded_by: str
    submission_id: int
    filename: str
    sha256: str
    channel: str
    sender: str
    received_at: datetime
    sheet: str | None
    sheet_row: int | None
    kind: VersionKind = VersionKind.NEW
    withdrawal_of: int | None = None  # the submission a restoring version undid
    withdrawn_at: datetime | None = None  # its own submission was withdrawn then

    @property
    def confirmed_by(self) -> str | None:
        """Who confirmed a changed figure (None for a new meeting or a restoration)."""
        return self.recorded_by if self.kind is VersionKind.CONFIRMED else None

    @classmethod
    def from_version(cls, v: MeetingVersion) -> VersionRecord:
        s = v.submission
        if v.withdrawal_of is not None:
            kind = VersionKind.RESTORED
        else:
            kind = VersionKind.NEW if v.version == 1 else VersionKind.CONFIRMED
        return cls(
            version=v.version,
            is_current=v.is_current,
            counts=v.counts,
            recorded_at=v.recorded_at,
            superseded_at=v.superseded_at,
            recorded_by=v.recorded_by,
            submission_id=s.id,
            filename=s.filename,
            sha256=s.sha256,
            channel=s.channel,
            sender=s.sender,
            received_at=s.received_at,
            sheet=v.sheet,
            sheet_row=v.sheet_row,
            kind=kind,
            withdrawal_of=v.withdrawal_of,
            withdrawn_at=s.withdrawn_at,
        )


@dataclass(frozen=True)
class HeldRecord:
    """A change that was held for confirmation, and what became of it."""

    submission_id: int
    filename: str
    sender: str
    counts: dict[str, int | None]
    sheet_row: int | None
    created_at: datetime
    status: str  # store.models.HeldStatus's value
    resolved_at: datetime | None


@dataclass(frozen=True)
class ExplanationRecord:
    """A reason given for a soft issue instead of a change."""

    id: int
    submission_id: int
    code: str
    cell: str | None
    column: str | None
    text: str
    explained_by: str
    explained_at: datetime


@dataclass(frozen=True)
class MeetingHistory:
    """One meeting's whole story, oldest first."""

    marac: str
    meeting_date: date
    quarter: str
    versions: tuple[VersionRecord, ...]
    held: tuple[HeldRecord, ...]
    explanations: tuple[ExplanationRecord, ...]

    def as_of(self, when: datetime) -> VersionRecord | None:
        """The version current at ``when``, if any."""
        return next((v for v in reversed(self.versions) if _stood(v, when)), None)

    @property
    def current(self) -> VersionRecord | None:
        return next((v for v in self.versions if v.is_current), None)


def _stood(v: VersionRecord, when: datetime) -> bool:
    return v.recorded_at <= when and (v.superseded_at is None or v.superseded_at > when)


def meeting_history(session: Session, marac: str, meeting_date: date) -> list[VersionRecord]:
    """Every version of the meeting (by canonical Marac name and date), oldest first."""
    query = (
        select(MeetingVersion)
        .join(Meeting, MeetingVersion.meeting_id == Meeting.id)
        .join(Marac, Meeting.marac_id == Marac.id)
        .where(Marac.name == marac, Meeting.meeting_date == meeting_date)
        .options(selectinload(MeetingVersion.submission))
        .order_by(MeetingVersion.version)
    )
    return [VersionRecord.from_version(v) for v in session.scalars(query)]


def histories(
    session: Session,
    marac_id: int,
    *,
    meeting_date: date | None = None,
    quarters: Sequence[str] | None = None,
) -> list[MeetingHistory]:
    """The stories of a Marac's meetings (one date, some quarters, or all), by date."""
    query = select(Meeting).where(Meeting.marac_id == marac_id).order_by(Meeting.meeting_date)
    if meeting_date is not None:
        query = query.where(Meeting.meeting_date == meeting_date)
    if quarters is not None:
        query = query.where(Meeting.quarter.in_(quarters))
    meetings = list(session.scalars(query.options(selectinload(Meeting.marac))))
    ids = [m.id for m in meetings]
    versions = _by_meeting(session.scalars(_versions(ids)))
    held = _by_meeting(session.scalars(_held(ids)))
    notes = _by_meeting(session.scalars(_explanations(ids)))
    return [
        MeetingHistory(
            marac=m.marac.name,
            meeting_date=m.meeting_date,
            quarter=m.quarter,
            versions=tuple(VersionRecord.from_version(v) for v in versions.get(m.id, [])),
            held=tuple(_held_record(h) for h in held.get(m.id, [])),
            explanations=tuple(explanation_record(e) for e in notes.get(m.id, [])),
        )
        for m in meetings
    ]


def _versions(ids: list[int]) -> Select[MeetingVersion]:
    return (
        select(MeetingVersion)
        .where(MeetingVersion.meeting_id.in_(ids))
        .options(selectinload(MeetingVersion.submission))
        .order_by(MeetingVersion.meeting_id, MeetingVersion.version)
    )


def _held(ids: list[int]) -> Select[HeldChange]:
    return (
        select(HeldChange)
        .where(HeldChange.meeting_id.in_(ids))
        .options(selectinload(HeldChange.submission))
        .order_by(HeldChange.meeting_id, HeldChange.created_at, HeldChange.id)
    )


def _explanations(ids: list[int]) -> Select[Explanation]:
    return (
        select(Explanation)
        .where(Explanation.meeting_id.in_(ids))
        .order_by(Explanation.meeting_id, Explanation.explained_at, Explanation.id)
    )


def _by_meeting(rows: Iterable[_Row]) -> dict[int, list[_Row]]:
    found: dict[int, list[_Row]] = {}
    for row in rows:
        assert row.meeting_id is not None
        found.setdefault(row.meeting_id, []).append(row)
    return found


def _held_record(h: HeldChange) -> HeldRecord:
    return HeldRecord(
        submission_id=h.submission_id,
        filename=h.submission.filename,
        sender=h.sender,
        counts=dict(h.counts),
        sheet_row=h.sheet_row,
        created_at=h.created_at,
        status=h.status,
        resolved_at=h.resolved_at,
    )


def explanation_record(e: Explanation) -> ExplanationRecord:
    return ExplanationRecord(
        e.id, e.submission_id, e.code, e.cell, e.column, e.text, e.explained_by, e.explained_at
    )


def as_of(
    session: Session, marac: str, meeting_date: date, when: datetime
) -> dict[str, int | None] | None:
    """The meeting's figures as they stood at ``when``; None if not yet recorded then."""
    query = (
        select(MeetingVersion)
        .join(Meeting, MeetingVersion.meeting_id == Meeting.id)
        .join(Marac, Meeting.marac_id == Marac.id)
        .where(
            Marac.name == marac,
            Meeting.meeting_date == meeting_date,
            standing_at(when),
        )
        .order_by(MeetingVersion.version.desc())
        .limit(1)
    )
    version = session.scalar(query)
    return None if version is None else version.counts


def standing_at(when: datetime | None) -> ColumnElement[bool]:
    """The condition for a version that was current at ``when`` (None: current now)."""
    if when is None:
        return MeetingVersion.is_current.is_(True)
    return (MeetingVersion.recorded_at <= when) & or_(
        MeetingVersion.superseded_at.is_(None), MeetingVersion.superseded_at > when
    )


@dataclass(frozen=True)
class StandingRow:
    """A meeting's figures as they stood, with where they came from (the export's row)."""

    marac_id: int
    marac: str
    meeting_date: date
    quarter: str
    version: int
    counts: dict[str, int | None]
    filename: str
    sheet_row: int | None
    sender: str
    received_at: datetime
    recorded_at: datetime
    confirmed_by: str | None
    submission_id: int


def standing_meetings(
    session: Session,
    marac_ids: Sequence[int] | None,
    quarters: Sequence[str] | None,
    *,
    when: datetime | None = None,
) -> list[StandingRow]:
    """Every meeting's figures as they stood at ``when`` (now, if None), by Marac and date."""
    query = (
        select(MeetingVersion, Meeting, Marac.name, Submission)
        .join(Meeting, MeetingVersion.meeting_id == Meeting.id)
        .join(Marac, Meeting.marac_id == Marac.id)
        .join(Submission, MeetingVersion.submission_id == Submission.id)
        .where(standing_at(when))
        .order_by(Marac.name, Meeting.meeting_date)
    )
    if marac_ids is not None:
        query = query.where(Meeting.marac_id.in_(marac_ids))
    if quarters is not None:
        query = query.where(Meeting.quarter.in_(quarters))
    rows = []
    for version, meeting, name, submission in session.execute(query):
        record = VersionRecord.from_version(version)
        rows.append(
            StandingRow(
                marac_id=meeting.marac_id,
                marac=name,
                meeting_date=meeting.meeting_date,
                quarter=meeting.quarter,
                version=version.version,
                counts=version.counts,
                filename=submission.filename,
                sheet_row=version.sheet_row,
                sender=submission.sender,
                received_at=submission.received_at,
                recorded_at=version.recorded_at,
                confirmed_by=record.confirmed_by,
                submission_id=submission.id,
            )
        )
    return rows


def find_marac(session: Session, text: str) -> tuple[Marac | None, list[str]]:
    """The Marac ``text`` names (name or alias, as names match everywhere), or None and the
    names it may have meant."""
    index: NameIndex[Marac] = NameIndex()
    for marac in session.scalars(select(Marac)):
        index.add(marac.name, marac, marac.aliases)
    found = index.get(text)
    return found, [] if found is not None else index.suggest(text)
