"""The store's side of reminders: who has uploaded a quarter, and which reminders are logged.

``log_reminder`` is the exactly-once step. It runs at a SAVEPOINT inside the caller's
transaction, together with the outbox rows it guards: if another process logged the same
(Marac, quarter, stage, contact) first, the savepoint is rolled back (on PostgreSQL a failed
INSERT would otherwise abort the whole transaction) and the caller learns it lost the race.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.models import Meeting, MeetingVersion, ReminderLog

logger = logging.getLogger(__name__)

# (marac id or None for a digest, quarter label, stage, contact id)
LogKey = tuple[int | None, str, str, int]


def meetings_by_marac(session: Session, quarter: str) -> dict[int, int]:
    """Marac id -> how many meetings with current figures it has in ``quarter`` (a label).

    A Marac missing from the result "has not uploaded" the quarter (spec §5).
    """
    query = (
        select(Meeting.marac_id, func.count(Meeting.id))
        .join(MeetingVersion, MeetingVersion.meeting_id == Meeting.id)
        .where(Meeting.quarter == quarter, MeetingVersion.is_current.is_(True))
        .group_by(Meeting.marac_id)
    )
    return {marac_id: int(n) for marac_id, n in session.execute(query)}


def logged_keys(session: Session, quarters: Collection[str]) -> set[LogKey]:
    """Every reminder already logged for these quarters (labels)."""
    if not quarters:
        return set()
    query = select(
        ReminderLog.marac_id, ReminderLog.quarter, ReminderLog.stage, ReminderLog.contact_id
    ).where(ReminderLog.quarter.in_(list(quarters)))
    return {(m, q, s, c) for m, q, s, c in session.execute(query)}


def log_reminder(
    session: Session,
    key: LogKey,
    *,
    channels: Collection[str],
    now: datetime,
    also: Callable[[], object] | None = None,
) -> bool:
    """Log one reminder and run ``also`` (queue its messages) at one SAVEPOINT.

    True when logged now; False when the key was already there (someone else sent it), in
    which case nothing ``also`` wrote stays either.
    """
    marac_id, quarter, stage, contact_id = key
    row = ReminderLog(
        marac_id=marac_id,
        quarter=quarter,
        stage=stage,
        contact_id=contact_id,
        channels=";".join(channels),
        decided_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
            if also is not None:
                also()
    except IntegrityError:
        logger.info("reminder %s already logged by another run: not sent again", key)
        return False
    return True
