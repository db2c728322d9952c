"""Withdrawing a submission by command or by message (issue 13): who may, and what they are told.

The data team (admins, and the local operator) may withdraw any submission. A coordinator may
withdraw their own submission while it is their latest for its quarter and the quarter is not
yet due: after the due date figures are in use, and a correction goes through the data team.
Chairs and managers submit nothing (store/views.py), so they withdraw nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel import wording
from kernel.quarters import Quarter
from store.models import Contact, Role, Submission
from store.withdraw import Withdrawal, find_submission, quarters_of, withdraw_submission

_WITHDRAW = re.compile(
    r"^\W*withdraw\s+(?:submission\s+|file\s+|upload\s+)?(?:no\.?\s*|number\s+|#\s*)?(\d{1,12})\b",
    re.IGNORECASE,
)


# "I sent the wrong file, please delete it": a file to undo, named without its number. Each
# part is bounded, and a file word is needed, so "please ignore my last email" is not one.
_ASKS_UNDO = re.compile(
    r"\b(?:withdraw|delete|remove|cancel|undo|disregard|ignore|retract|scrap)\b.{0,40}"
    r"\b(?:file|return|submission|upload|spreadsheet|attachment|template|data|figures)s?\b"
    r"|\bwrong (?:file|return|spreadsheet|attachment|template|version|quarter)\b"
    r"|\bsent (?:it |that |this |them )?(?:in error|by mistake)\b",
    re.IGNORECASE,
)
RECENT_SHOWN = 3  # the asker's latest files named in the answer

# Who withdrew it, when the local operator did (recorded, and shown in history and the notice).
OPERATOR = "the data team (marac-bot withdraw)"


class Refused(StrEnum):
    NOT_FOUND = "not-found"
    ALREADY = "already"
    NOT_ALLOWED = "not-allowed"
    NOT_YOURS = "not-yours"
    NOT_LATEST = "not-latest"
    PAST_DUE = "past-due"


@dataclass(frozen=True)
class Refusal:
    reason: Refused
    submission_id: int
    quarter: Quarter | None = None
    due: date | None = None

    def text(self) -> str:
        return wording.withdraw_refused_text(
            self.reason.value, self.submission_id,
            quarter=self.quarter.label if self.quarter else None, due=self.due)


def requested(text: str) -> int | None:
    """The submission a message asks to withdraw ("withdraw submission 42"), from its first
    line, or None."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    match = _WITHDRAW.match(first)
    return int(match.group(1)) if match else None


def asks_to_undo(text: str) -> bool:
    """Whether a message asks to withdraw a file without giving its number."""
    return bool(_ASKS_UNDO.search(text))


def how_to_withdraw(session: Session, contact: Contact, *, tz: tzinfo) -> str:
    """How to withdraw (or correct), with the asker's latest files still in force."""
    recent = session.execute(
        select(Submission.id, Submission.filename, Submission.received_at)
        .where(Submission.sender == contact.email, Submission.withdrawn_at.is_(None),
               (Submission.rows_accepted > 0) | (Submission.rows_held > 0))
        .order_by(Submission.id.desc()).limit(RECENT_SHOWN)
    ).all()
    return wording.withdraw_how_text(
        [(number, name, received.astimezone(tz).date()) for number, name, received in recent])


def withdraw(
    session: Session, submission_id: int, *, by: Contact | None, today: date, due_days: int,
    now: datetime,
) -> Withdrawal | Refusal:
    """Withdraw as ``by`` (None: the local operator), in the caller's transaction."""
    submission = find_submission(session, submission_id, lock=True)
    if submission is None:
        return Refusal(Refused.NOT_FOUND, submission_id)
    if submission.withdrawn_at is not None:
        return Refusal(Refused.ALREADY, submission_id)
    if by is not None and by.role != Role.ADMIN.value:
        refusal = _coordinator_may(session, submission, by, today=today, due_days=due_days)
        if refusal is not None:
            return refusal
    return withdraw_submission(session, submission, by=by.email if by else OPERATOR, now=now)


def _coordinator_may(
    session: Session, submission: Submission, contact: Contact, *, today: date, due_days: int
) -> Refusal | None:
    sid = submission.id
    if contact.role != Role.COORDINATOR.value:
        return Refusal(Refused.NOT_ALLOWED, sid)
    if submission.sender != contact.email:
        return Refusal(Refused.NOT_YOURS, sid)
    quarters = [Quarter.from_label(q) for q in quarters_of(session, sid)]
    for quarter in quarters:
        due = quarter.due_date(due_days)
        if today > due:
            return Refusal(Refused.PAST_DUE, sid, quarter, due)
    labels = {q.label for q in quarters}
    later = session.scalars(
        select(Submission.id).where(Submission.sender == contact.email, Submission.id > sid,
                                    Submission.withdrawn_at.is_(None))
    )
    if any(labels & set(quarters_of(session, other)) for other in later):
        return Refusal(Refused.NOT_LATEST, sid)
    return None


Fates = list[tuple[str, date, str, int | None]]


def fates(done: Withdrawal) -> Fates:
    return [(m.marac, m.meeting_date, m.fate.value, m.restored_from) for m in done.meetings]


def withdrawn_text(done: Withdrawal, *, tz: tzinfo) -> str:
    """The reply to whoever withdrew it."""
    return wording.withdrawn_text(
        submission_id=done.submission_id, filename=done.filename, sender=done.sender,
        received=done.received_at.astimezone(tz), meetings=fates(done),
        held_dropped=done.held_dropped,
    )


def notice_text(done: Withdrawal, *, by: str, now: datetime, tz: tzinfo,
                reason: str | None) -> str:
    """What the submitter is told when someone else withdrew their file."""
    return wording.withdrawn_notice_text(
        submission_id=done.submission_id, filename=done.filename,
        received=done.received_at.astimezone(tz), by=by, at=now.astimezone(tz),
        meetings=fates(done), held_dropped=done.held_dropped, reason=reason,
    )


def ids_note(session: Session, *, recorded: Sequence[tuple[int, str]], soft: bool,
             today: date, due_days: int) -> str | None:
    """The submission numbers a reply names, so a file sent in error can be withdrawn (and a
    check explained) by number; None when nothing was recorded. ``recorded``: (number, file
    name) of the submissions the message's files were recorded as, the sender's own only (a
    number twice, for the same file twice, is named once; in the order recorded). The withdraw
    advice follows the coordinator's right: until the quarter is due they may reply WITHDRAW,
    after it only the data team can, and a file that recorded nothing has nothing to
    withdraw."""
    found = sorted(dict(recorded).items())  # a submission's number always has its one name
    if not found:
        return None
    quarters = [Quarter.from_label(q) for q in quarters_of(session, found[0][0])]
    due = max((q.due_date(due_days) for q in quarters), default=None)
    return wording.submission_ids_note(found, soft=soft, due=due,
                                       past_due=due is not None and today > due)
