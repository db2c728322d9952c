"""Held changes that were never confirmed: expire them and tell each submitter (spec §4);
and the heartbeat rows of processes long gone (issue 17).

The expiry and the email telling the submitter are written in one transaction, keyed by the
expired changes, so a crash or a second process never tells anyone twice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta

from sqlalchemy.orm import Session

from bot.channels.email.outbound import render, to_mime
from bot.settings import Settings
from kernel import wording
from kernel.messages import Reply, ThreadRef
from store.db import Store
from store.facts import message_ids
from store.held import expire_held
from store.models import HeldChange
from store.queue import enqueue_outbound, forget_dead_processes
from store.types import utcnow

logger = logging.getLogger(__name__)

# A process silent this long is gone for good: its heartbeat row goes (unless a claim names it).
FORGET_PROCESSES_AFTER = timedelta(days=1)


def expire_and_notify(store: Store, settings: Settings) -> int:
    """Expire overdue held changes; returns how many submitters were told. Also forgets the
    heartbeat rows of processes gone for a day (each hourly round, one short transaction)."""
    with store.transaction() as session:
        forgotten = forget_dead_processes(session, older_than=FORGET_PROCESSES_AFTER)
    if forgotten:
        logger.info("forgot %d processes silent for a day", forgotten)
    with store.transaction() as session:
        expired = expire_held(session, utcnow())
        return notify_submitters(session, expired, settings=settings)


def notify_submitters(session: Session, expired: list[HeldChange], *, settings: Settings) -> int:
    """Queue one email per submitter listing their expired changes."""
    by_sender: dict[str, list[HeldChange]] = defaultdict(list)
    for change in expired:
        by_sender[change.sender].append(change)
    domain = settings.mailbox_address.rsplit("@", 1)[-1]
    token = message_ids(session).token if by_sender else ""
    for sender, changes in by_sender.items():
        key = "held-expired:" + ",".join(str(c.id) for c in changes)
        reply = Reply(ThreadRef(channel="email", address=sender),
                      wording.held_expired_text([_line(c) for c in changes]),
                      subject=wording.HELD_EXPIRED_SUBJECT)
        mime = to_mime(reply, mailbox_address=settings.mailbox_address,
                       message_id_domain=domain, message_id=key, token=token)
        enqueue_outbound(session, key=key, channel="email", recipient=sender,
                         payload=render(mime))
    if by_sender:
        logger.info("told %d submitters that %d held changes expired", len(by_sender),
                    len(expired))
    return len(by_sender)


def _line(change: HeldChange) -> str:
    meeting = change.meeting
    where = f", {change.submission.filename} row {change.sheet_row}" if change.sheet_row else ""
    return f"{meeting.marac.name} on {wording.day_text(meeting.meeting_date)}{where}"
