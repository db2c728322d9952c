"""Held changes: changed figures for a stored meeting that wait for their sender to confirm.

A sender's newer change to the same meeting replaces their older pending one. Confirming
applies the figures as a new version; keeping leaves the stored figures; unconfirmed changes
expire (default 14 days) and the submitter is told.

``sender`` is matched exactly as recorded: pass the same identity for submitting and
confirming (the contact's email address, whatever the channel).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session, selectinload

from store.models import HeldChange, HeldStatus, Meeting
from store.types import utcnow
from store.versions import Provenance, add_version, current_version, lock_meeting_by_id

logger = logging.getLogger(__name__)

PENDING = HeldStatus.PENDING.value


def hold_change(
    session: Session,
    meeting_id: int,
    counts: dict[str, int | None],
    source: Provenance,
    *,
    expires_at: datetime,
) -> HeldChange:
    """Record a pending change, superseding the same sender's older pending one."""
    session.execute(
        update(HeldChange)
        .where(
            HeldChange.meeting_id == meeting_id,
            HeldChange.sender == source.recorded_by,
            HeldChange.status == PENDING,
        )
        .values(status=HeldStatus.SUPERSEDED.value, resolved_at=source.recorded_at)
        .execution_options(synchronize_session="fetch")
    )
    held = HeldChange(
        meeting_id=meeting_id,
        submission_id=source.submission_id,
        sender=source.recorded_by,
        counts=counts,
        sheet=source.sheet,
        sheet_row=source.sheet_row,
        created_at=source.recorded_at,
        expires_at=expires_at,
        status=PENDING,
    )
    session.add(held)
    session.flush()
    return held


def mark_confirmed(session: Session, meeting_id: int, *, sender: str, now: datetime) -> None:
    """The sender resubmitted with confirmation: their pending changes are settled."""
    session.execute(
        update(HeldChange)
        .where(
            HeldChange.meeting_id == meeting_id,
            HeldChange.sender == sender,
            HeldChange.status == PENDING,
        )
        .values(status=HeldStatus.CONFIRMED.value, resolved_at=now)
        .execution_options(synchronize_session="fetch")
    )


def _pending(
    sender: str, meeting_ids: Sequence[int] | None, submission_id: int | None, now: datetime
) -> Select[HeldChange]:
    query = select(HeldChange).where(
        HeldChange.sender == sender, HeldChange.status == PENDING, HeldChange.expires_at > now
    )
    if meeting_ids is not None:
        query = query.where(HeldChange.meeting_id.in_(meeting_ids))
    if submission_id is not None:
        query = query.where(HeldChange.submission_id == submission_id)
    return query.order_by(HeldChange.meeting_id, HeldChange.id)


def confirm_held(
    session: Session,
    *,
    sender: str,
    meeting_ids: Sequence[int] | None = None,
    submission_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Apply the sender's pending, unexpired changes (all, or those of some meetings or of one
    submission) as new current versions; returns how many were confirmed."""
    now = now or utcnow()
    confirmed = 0
    pending = _pending(sender, meeting_ids, submission_id, now).with_only_columns(HeldChange.id)
    for held_id in session.scalars(pending).all():
        held = session.get_one(HeldChange, held_id)
        meeting = lock_meeting_by_id(session, held.meeting_id)
        session.refresh(held)  # another process may have settled it while we waited
        if held.status != PENDING:
            continue
        current = current_version(session, meeting.id)
        if current is None or current.counts != held.counts:
            source = Provenance(held.submission_id, held.sheet, held.sheet_row, sender, now)
            add_version(session, meeting, dict(held.counts), source)
        held.status, held.resolved_at = HeldStatus.CONFIRMED.value, now
        confirmed += 1
    session.flush()
    return confirmed


def keep_held(
    session: Session,
    *,
    sender: str,
    meeting_ids: Sequence[int] | None = None,
    submission_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """The sender keeps the stored figures: their pending changes are dropped; returns how many."""
    now = now or utcnow()
    held = session.scalars(_pending(sender, meeting_ids, submission_id, now)).all()
    for change in held:
        change.status, change.resolved_at = HeldStatus.KEPT.value, now
    session.flush()
    return len(held)


def expire_held(session: Session, now: datetime | None = None) -> list[HeldChange]:
    """Mark pending changes past their expiry as expired and return them (with meeting, Marac
    and submission loaded) so their senders can be told. Several processes may run this at
    once: each expired change is returned by exactly one of them."""
    now = now or utcnow()
    query = (
        select(HeldChange)
        .where(HeldChange.status == PENDING, HeldChange.expires_at <= now)
        .options(
            selectinload(HeldChange.meeting).selectinload(Meeting.marac),
            selectinload(HeldChange.submission),
        )
        .order_by(HeldChange.id)
        .with_for_update(skip_locked=True, of=HeldChange)
    )
    expired = list(session.scalars(query))
    for change in expired:
        change.status, change.resolved_at = HeldStatus.EXPIRED.value, now
    session.flush()
    if expired:
        logger.info("%d held changes expired", len(expired))
    return expired


def pending_held(
    session: Session, *, sender: str | None = None, marac_id: int | None = None
) -> list[HeldChange]:
    """Open held changes, optionally of one sender or one Marac, oldest first."""
    query = (
        select(HeldChange)
        .join(Meeting, HeldChange.meeting_id == Meeting.id)
        .where(HeldChange.status == PENDING)
        .options(selectinload(HeldChange.meeting).selectinload(Meeting.marac))
        .order_by(HeldChange.created_at, HeldChange.id)
    )
    if sender is not None:
        query = query.where(HeldChange.sender == sender)
    if marac_id is not None:
        query = query.where(Meeting.marac_id == marac_id)
    return list(session.scalars(query))
