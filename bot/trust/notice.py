"""Telling a submitter their file was withdrawn by someone else (issue 13): one email, queued in
the transaction that withdrew it, keyed by the submission so it is never sent twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.channels.email.outbound import render, to_mime
from bot.settings import Settings
from handlers.withdraw import notice_text
from kernel import wording
from kernel.messages import Reply, ThreadRef
from store.facts import message_ids
from store.queue import enqueue_outbound
from store.withdraw import Withdrawal


def tell_submitter(
    session: Session, done: Withdrawal, *, by: str, now: datetime, settings: Settings,
    reason: str | None = None,
) -> bool:
    """Queue the notice unless the submitter withdrew it themselves; True if queued."""
    if done.sender == by:
        return False
    domain = settings.mailbox_address.rsplit("@", 1)[-1]
    key = f"withdrawn:{done.submission_id}"
    text = notice_text(done, by=by, now=now, tz=settings.tz, reason=reason)
    reply = Reply(ThreadRef(channel="email", address=done.sender), text,
                  subject=wording.withdrawn_notice_subject())
    mime = to_mime(reply, mailbox_address=settings.mailbox_address, message_id_domain=domain,
                   message_id=key, token=message_ids(session).token)
    enqueue_outbound(session, key=key, channel="email", recipient=done.sender,
                     payload=render(mime), now=now)
    return True
