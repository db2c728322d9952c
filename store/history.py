"""Answers about the past: every version of a meeting with where it came from, and a
meeting's figures as they stood at any moment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from store.models import Marac, Meeting, MeetingVersion


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

    @classmethod
    def from_version(cls, v: MeetingVersion) -> VersionRecord:
        s = v.submission
        return cls(
            v.version,
            v.is_current,
            v.counts,
            v.recorded_at,
            v.superseded_at,
            v.recorded_by,
            s.id,
            s.filename,
            s.sha256,
            s.channel,
            s.sender,
            s.received_at,
            v.sheet,
            v.sheet_row,
        )


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
            MeetingVersion.recorded_at <= when,
            or_(MeetingVersion.superseded_at.is_(None), MeetingVersion.superseded_at > when),
        )
        .order_by(MeetingVersion.version.desc())
        .limit(1)
    )
    version = session.scalar(query)
    return None if version is None else version.counts
