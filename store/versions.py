"""The one way figures are written: find or create a meeting with its row locked, then add a
version. Every writer (recording a file, confirming a held change) goes through here, so
writers of one meeting take turns.

The race it is built for: two processes recording the same new meeting at once. Both find no
meeting; both insert; the unique (marac, date) constraint makes the second insert wait for the
first transaction and then fail. The failure is caught at a savepoint, the meeting is read
again (now committed), and the loser carries on as if the meeting had always existed: its row
becomes unchanged or held. The partial unique index on current versions is the last line: it
makes a second current version impossible even if this code were wrong.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.models import Meeting, MeetingVersion, quarter_label

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Provenance:
    """Where a version's figures came from."""

    submission_id: int
    sheet: str | None
    sheet_row: int | None
    recorded_by: str
    recorded_at: datetime
    # Set when the version puts back the figures from before a withdrawn submission: that one.
    withdrawal_of: int | None = None


def lock_meeting(session: Session, marac_id: int, meeting_date: date) -> Meeting | None:
    """The meeting, row-locked until the transaction ends (PostgreSQL; SQLite's writers are
    already serialised by BEGIN IMMEDIATE), or None."""
    query = (
        select(Meeting)
        .where(Meeting.marac_id == marac_id, Meeting.meeting_date == meeting_date)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalar(query)


def lock_meeting_by_id(session: Session, meeting_id: int) -> Meeting:
    query = (
        select(Meeting)
        .where(Meeting.id == meeting_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).one()


def lock_or_create_meeting(
    session: Session, marac_id: int, meeting_date: date, *, now: datetime
) -> tuple[Meeting, bool]:
    """The meeting, locked; created if new. Returns (meeting, created)."""
    meeting = lock_meeting(session, marac_id, meeting_date)
    if meeting is not None:
        return meeting, False
    meeting = Meeting(
        marac_id=marac_id,
        meeting_date=meeting_date,
        quarter=quarter_label(meeting_date),
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(meeting)
            session.flush()
    except IntegrityError:
        # Another transaction created it between our read and our insert; it has committed
        # (our insert waited for it), so a fresh read finds it.
        logger.info("meeting %s/%s was created concurrently; using it", marac_id, meeting_date)
        existing = lock_meeting(session, marac_id, meeting_date)
        if existing is None:
            raise
        return existing, False
    return meeting, True


def current_version(session: Session, meeting_id: int) -> MeetingVersion | None:
    query = (
        select(MeetingVersion)
        .where(MeetingVersion.meeting_id == meeting_id, MeetingVersion.is_current.is_(True))
        .execution_options(populate_existing=True)
    )
    return session.scalar(query)


def demote_current(session: Session, meeting_id: int, *, now: datetime) -> bool:
    """Leave the meeting with no current figures (its only figures were withdrawn); the
    version stays as history. The caller holds the meeting's lock. False if none was current."""
    current = current_version(session, meeting_id)
    if current is None:
        return False
    current.is_current, current.superseded_at = False, now
    session.flush()
    return True


def add_version(
    session: Session,
    meeting: Meeting,
    counts: dict[str, int | None],
    source: Provenance,
) -> MeetingVersion:
    """Make ``counts`` the meeting's current figures; the previous version stays as history.

    The caller holds the meeting's lock (``lock_or_create_meeting`` / ``lock_meeting_by_id``).
    """
    previous = current_version(session, meeting.id)
    if previous is not None:
        previous.is_current = False
        previous.superseded_at = source.recorded_at
        # Flush the demotion first: the partial unique index allows one current row at a time.
        session.flush()
    latest = session.scalar(
        select(func.max(MeetingVersion.version)).where(MeetingVersion.meeting_id == meeting.id)
    )
    version = MeetingVersion(
        meeting_id=meeting.id,
        version=(latest or 0) + 1,
        is_current=True,
        submission_id=source.submission_id,
        sheet=source.sheet,
        sheet_row=source.sheet_row,
        recorded_at=source.recorded_at,
        recorded_by=source.recorded_by,
        withdrawal_of=source.withdrawal_of,
    )
    version.set_counts(counts)
    session.add(version)
    session.flush()
    return version
