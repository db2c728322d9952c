"""Quarterly reminders and escalation (issue 6): the one entry point the scheduler and
``marac-bot remind`` both call.

For a day, ``run_reminders`` decides which stage is open for each Marac still missing each
quarter (handlers/reminder_policy.py), who gets it (coordinators; overdue copies the chairs;
two missed quarters copy the managers whose scope covers the Marac), and the managers' digest.
Each contact's reminder is logged and queued in the caller's transaction: commit to send.
What is already logged is skipped, so a second run the same day, a restart or a catch-up run
sends nothing twice; two processes racing are settled by the log's unique key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from handlers.reminder_digest import DigestGrid, plan_digests
from handlers.reminder_people import ReminderRegistry
from handlers.reminder_plan import Notice, Recipient, plan_reminders
from handlers.reminder_policy import ReminderPolicy, quarters_in_play
from handlers.reminder_send import EmailRenderer, ReminderOutbox
from handlers.working_days import WorkingDays
from kernel.config import Policy
from store.facts import track_start
from store.reminders import logged_keys, meetings_by_marac
from store.types import utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReminderDecision:
    """One contact reached on one channel with one reminder (or digest: ``marac`` None)."""

    marac: str | None
    quarter: str
    stage: str
    contact: str  # the contact's email address
    channel: str
    sent: bool  # queued by this run; False in a dry run, or when another process won
    role: str = ""
    copied: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The ``remind --json`` object (interface.md), plus the contact's role."""
        return {
            "marac": self.marac,
            "quarter": self.quarter,
            "stage": self.stage,
            "contact": self.contact,
            "channel": self.channel,
            "sent": self.sent,
            "role": self.role,
        }


def run_reminders(
    session: Session,
    *,
    settings: Policy,
    today: date,
    dry_run: bool,
    policy: ReminderPolicy | None = None,
    now: datetime | None = None,
    render_email: EmailRenderer | None = None,
) -> list[ReminderDecision]:
    """Run the reminder policy for ``today``; the caller commits (a dry run writes nothing).

    Returns what this run decided: every contact and channel it queued (``sent``), or in a dry
    run would queue. Reminders logged earlier are left out. ``render_email`` (the email
    channel's renderer) is needed to queue email; a dry run needs none.
    """
    policy = _with_track_start(session, policy or ReminderPolicy.from_settings(settings))
    notices = plan_day(session, policy=policy, today=today, mailbox=settings.mailbox_address)
    done = logged_keys(session, {n.quarter.label for n in notices})
    outbox = ReminderOutbox(session, settings, now=now or utcnow(), render_email=render_email)
    decisions: list[ReminderDecision] = []
    for notice in notices:
        for recipient in notice.recipients:
            if notice.log_key(recipient.person) in done:
                continue
            sent = not dry_run and outbox.send(notice, recipient.person)
            decisions.extend(_decisions(notice, recipient, outbox.reachable(recipient.person),
                                        sent=sent))
    _log_outcome(decisions, today=today, dry_run=dry_run)
    return decisions


def _with_track_start(session: Session, policy: ReminderPolicy) -> ReminderPolicy:
    """With MARAC_TRACK_FROM unset, start at the first quarter ending after the store was
    created: quarters before it were collected before the bot and are never chased."""
    if policy.track_from is not None:
        return policy
    start = track_start(session, track_from=None, timezone=policy.timezone)
    return replace(policy, track_from=start.quarter)


def plan_day(
    session: Session, *, policy: ReminderPolicy, today: date, mailbox: str
) -> list[Notice]:
    """Every reminder and digest open on ``today``, logged or not."""
    calendar = WorkingDays()
    registry = ReminderRegistry.load(session)
    quarters = quarters_in_play(policy, today)
    labels = {q.label for q in quarters} | {q.previous().label for q in quarters}
    uploads = {label: meetings_by_marac(session, label) for label in labels}
    return [
        *plan_reminders(registry, uploads, policy=policy, calendar=calendar, today=today,
                        mailbox=mailbox),
        *plan_digests(registry, uploads, policy=policy, calendar=calendar, today=today,
                      grid=DigestGrid(session, today=today, due_days=policy.due_days)),
    ]


def _decisions(notice: Notice, recipient: Recipient, channels: tuple[str, ...], *,
               sent: bool) -> list[ReminderDecision]:
    """One decision per channel the notice goes by: the ones queued (``ReminderOutbox``), not
    the registry's, which may name a channel this installation cannot send on."""
    person = recipient.person
    return [
        ReminderDecision(notice.marac, notice.quarter.label, notice.stage, person.email, channel,
                         sent, person.role, recipient.copied)
        for channel in channels
    ]


def _log_outcome(decisions: list[ReminderDecision], *, today: date, dry_run: bool) -> None:
    if dry_run:
        logger.info("reminders for %s (dry run): %d would be sent", today, len(decisions))
        return
    sent = sum(d.sent for d in decisions)
    logger.info("reminders for %s: %d queued, %d already sent by another process",
                today, sent, len(decisions) - sent)
