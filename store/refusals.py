"""The audit trail of files we would not take: an unknown sender's file is kept as a refused
submission, with none of its rows recorded (spec §4, issue 3)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy.orm import Session

from store.meetings import find_submission
from store.models import Submission
from store.types import utcnow

REFUSED_UNKNOWN_SENDER = "refused-unknown-sender"


def record_refused(
    session: Session,
    *,
    filename: str,
    raw: bytes,
    channel: str,
    sender: str,
    received_at: datetime,
    dedupe_key: str | None,
    status: str = REFUSED_UNKNOWN_SENDER,
) -> Submission:
    """Keep the refused file and who sent it; nothing of its content is recorded as data."""
    if dedupe_key is not None and (earlier := find_submission(session, dedupe_key)):
        return earlier
    submission = Submission(
        channel=channel,
        sender=sender,
        received_at=received_at,
        recorded_at=utcnow(),
        filename=filename,
        sha256=hashlib.sha256(raw).hexdigest(),
        raw=raw,
        status=status,
        dedupe_key=dedupe_key,
    )
    session.add(submission)
    session.flush()
    return submission
