"""Planning a day's reminders: which Maracs are still missing which quarter, which stage is open
for each, and the notice (words and recipients) each gets. Pure: no session, no sending.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from handlers.reminder_people import MaracPeople, Person, ReminderRegistry
from handlers.reminder_policy import (
    Anchor,
    ReminderPolicy,
    Stage,
    StageRule,
    open_stage,
    quarters_in_play,
)
from handlers.working_days import WorkingDays, subdivision
from kernel import wording
from kernel.quarters import Quarter
from store.reminders import LogKey
from validation.columns import Edition

logger = logging.getLogger(__name__)

# Quarter label -> {Marac id: meetings}; a Marac not in it has not uploaded that quarter.
Uploads = Mapping[str, Mapping[int, int]]


@dataclass(frozen=True)
class Recipient:
    person: Person
    copied: bool  # on Cc: a chair or manager copied into an escalation


@dataclass(frozen=True)
class Notice:
    """One reminder or digest: the same words for every recipient, on every channel."""

    marac_id: int | None  # None for a managers' digest
    marac: str | None
    quarter: Quarter
    stage: str
    recipients: tuple[Recipient, ...]
    subject: str
    text: str
    chat_text: str
    html: str | None = None
    template: tuple[Edition, str] | None = None  # (edition, Marac) of the blank to attach

    def log_key(self, person: Person) -> LogKey:
        return (self.marac_id, self.quarter.label, self.stage, person.id)

    def outbox_key(self, person: Person, channel: str) -> str:
        """Unique per contact and channel; the email's Message-ID is derived from it."""
        subject = f"reminder:{self.marac_id}" if self.marac_id is not None else "digest"
        return f"{subject}:{self.quarter.label}:{self.stage}:{person.id}:{channel}"


def plan_reminders(
    registry: ReminderRegistry,
    uploads: Uploads,
    *,
    policy: ReminderPolicy,
    calendar: WorkingDays,
    today: date,
    mailbox: str,
) -> list[Notice]:
    """The reminders open today for Maracs that have not uploaded, oldest quarter first.

    Only quarters the policy tracks are chased; the quarter before the first tracked one never
    counts as missing, so its successor is plain ``overdue``, not ``second-quarter-missing``.
    """
    notices = []
    for quarter in reversed(quarters_in_play(policy, today)):
        for marac in registry.maracs:
            if marac.id in uploads.get(quarter.label, {}):
                continue  # uploaded: no reminder, and no later stage either
            previous = quarter.previous()
            # An untracked quarter was collected before the bot: its absence here proves nothing.
            previous_missing = (policy.tracks(previous)
                                and marac.id not in uploads.get(previous.label, {}))
            rule = open_stage(policy, calendar, quarter, nation=marac.nation, today=today,
                              previous_missing=previous_missing)
            if rule is not None:
                notice = _notice(marac, quarter, rule, policy=policy, mailbox=mailbox)
                if notice is not None:
                    notices.append(notice)
    return notices


def _recipients(marac: MaracPeople, rule: StageRule) -> tuple[Recipient, ...]:
    copied = [*(marac.chairs if rule.copy_chairs else ()),
              *(marac.managers if rule.copy_managers else ())]
    if not marac.coordinators:
        # Nobody to address it to: the copied people are the only ones who can act on it.
        return tuple(Recipient(p, copied=False) for p in copied)
    return (*(Recipient(p, copied=False) for p in marac.coordinators),
            *(Recipient(p, copied=True) for p in copied))


def _notice(
    marac: MaracPeople, quarter: Quarter, rule: StageRule, *, policy: ReminderPolicy,
    mailbox: str,
) -> Notice | None:
    recipients = _recipients(marac, rule)
    if not recipients:
        logger.warning("%s is due a %s reminder for %s but has no contact to send it to",
                       marac.name, rule.stage.value, quarter.label)
        return None
    stage = rule.stage.value
    due = policy.due_date(quarter)
    copied = [wording.copied_name(r.person.name, r.person.role) for r in recipients if r.copied]

    def body(chat: bool) -> str:
        return wording.reminder_text(
            stage, marac=marac.name, quarter=quarter.describe(),
            previous=quarter.previous().describe(), due=due,
            working_days=_due_soon_days(policy), mailbox=mailbox, copied=copied, chat=chat,
        )

    subject = wording.reminder_subject(stage, marac=marac.name, quarter=quarter.label,
                                       previous=quarter.previous().label, due=due)
    edition = Edition.SCOTLAND if subdivision(marac.nation) == "SCT" else Edition.UK
    return Notice(marac.id, marac.name, quarter, stage, recipients, subject, text=body(False),
                  chat_text=body(True), template=(edition, marac.name))


def _due_soon_days(policy: ReminderPolicy) -> int:
    """How many working days before the due date the due-soon stage goes (5 by default)."""
    for rule in policy.stages:
        if rule.stage is Stage.DUE_SOON and rule.anchor is Anchor.DUE_DATE:
            return abs(rule.working_days)
    return 0
