"""Withdrawing a submission (issue 13): its meetings go back to the figures from before it, as
new versions; nothing is deleted.

Every meeting the submission's figures are current for gets a new version with the figures of
the latest earlier version that did not come from it (or from another withdrawn submission),
marked ``withdrawal_of``; a meeting it created is left with no current version (its history
stays). A meeting a later submission has changed since is left alone and said so. Its pending
held changes end as ``withdrawn``. Who may withdraw what is decided above (handlers/withdraw.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import cast

from sqlalchemy import Integer, Table, bindparam, select, union, update
from sqlalchemy.orm import Session

from store.models import HeldChange, HeldStatus, Marac, Meeting, MeetingVersion, Submission
from store.versions import (
    Provenance,
    add_version,
    current_version,
    demote_current,
    lock_meeting_by_id,
)


class MeetingFate(StrEnum):
    RESTORED = "restored"  # back to the figures before the submission
    CLEARED = "cleared"  # the submission gave its first figures: none now
    KEPT = "kept"  # a later submission has changed it since: left alone


@dataclass(frozen=True)
class MeetingUndone:
    marac: str
    meeting_date: date
    fate: MeetingFate
    restored_from: int | None = None  # the submission whose figures are current again


@dataclass(frozen=True)
class Withdrawal:
    submission_id: int
    filename: str
    sender: str
    received_at: datetime
    meetings: tuple[MeetingUndone, ...]
    held_dropped: int


def find_submission(
    session: Session, submission_id: int, *, lock: bool = False
) -> Submission | None:
    query = select(Submission).where(Submission.id == submission_id)
    if lock:
        query = query.with_for_update()
    return session.scalar(query.execution_options(populate_existing=True))


def quarters_of(session: Session, submission_id: int) -> list[str]:
    """The quarters of the meetings a submission gave figures for (or held changes to)."""
    return sorted(set(session.scalars(_QUARTERS_OF, {"submission_id": submission_id})))


# One statement, not two, built once, on the tables (not the mapped classes, whose ORM
# execution layer cost more than the statement): it is asked for every submission's reply
# (issue 14).
_SUBMISSION_ID = bindparam("submission_id", type_=Integer())
_MEETINGS = cast(Table, Meeting.__table__)
_VERSIONS = cast(Table, MeetingVersion.__table__)
_HELD = cast(Table, HeldChange.__table__)
_QUARTERS_OF = union(
    select(_MEETINGS.c.quarter)
    .join(_VERSIONS, _VERSIONS.c.meeting_id == _MEETINGS.c.id)
    .where(_VERSIONS.c.submission_id == _SUBMISSION_ID),
    select(_MEETINGS.c.quarter)
    .join(_HELD, _HELD.c.meeting_id == _MEETINGS.c.id)
    .where(_HELD.c.submission_id == _SUBMISSION_ID),
)


def withdraw_submission(
    session: Session, submission: Submission, *, by: str, now: datetime
) -> Withdrawal:
    """Withdraw ``submission`` (locked by ``find_submission(lock=True)``, not yet withdrawn),
    in the caller's transaction."""
    assert submission.withdrawn_at is None
    meeting_ids = sorted(
        set(
            session.scalars(
                select(MeetingVersion.meeting_id).where(
                    MeetingVersion.submission_id == submission.id
                )
            )
        )
    )
    undone = tuple(_undo(session, submission.id, m, by=by, now=now) for m in meeting_ids)
    held = session.execute(
        update(HeldChange)
        .where(
            HeldChange.submission_id == submission.id, HeldChange.status == HeldStatus.PENDING.value
        )
        .values(status=HeldStatus.WITHDRAWN.value, resolved_at=now)
        .execution_options(synchronize_session="fetch")
    )
    submission.withdrawn_at, submission.withdrawn_by = now, by
    session.flush()
    return Withdrawal(
        submission.id,
        submission.filename,
        submission.sender,
        submission.received_at,
        undone,
        int(getattr(held, "rowcount", 0) or 0),
    )


def _undo(
    session: Session, submission_id: int, meeting_id: int, *, by: str, now: datetime
) -> MeetingUndone:
    meeting = lock_meeting_by_id(session, meeting_id)
    marac = session.get_one(Marac, meeting.marac_id).name
    current = current_version(session, meeting.id)
    if current is None or current.submission_id != submission_id:
        return MeetingUndone(marac, meeting.meeting_date, MeetingFate.KEPT)
    before = _figures_before(session, meeting.id, submission_id, current.version)
    if before is None:
        demote_current(session, meeting.id, now=now)
        return MeetingUndone(marac, meeting.meeting_date, MeetingFate.CLEARED)
    source = Provenance(
        before.submission_id, before.sheet, before.sheet_row, by, now, withdrawal_of=submission_id
    )
    add_version(session, meeting, before.counts, source)
    return MeetingUndone(marac, meeting.meeting_date, MeetingFate.RESTORED, before.submission_id)


def _figures_before(
    session: Session, meeting_id: int, submission_id: int, version: int
) -> MeetingVersion | None:
    """The latest earlier version whose figures came from neither this submission nor another
    withdrawn one."""
    query = (
        select(MeetingVersion)
        .join(Submission, MeetingVersion.submission_id == Submission.id)
        .where(
            MeetingVersion.meeting_id == meeting_id,
            MeetingVersion.version < version,
            MeetingVersion.submission_id != submission_id,
            Submission.withdrawn_at.is_(None),
        )
        .order_by(MeetingVersion.version.desc())
        .limit(1)
    )
    return session.scalar(query)
