"""Putting a reminder in the outbox: the log row and one outbox item per channel, together.

Email goes out as RFC 822 rendered by the email channel's renderer (passed in: handlers know
no MIME) with a Message-ID derived from the outbox key and the store's token, and a blank
template for the Marac attached. Slack and Teams items carry JSON ``{"text": …, "user": …}``
for the chat senders.

A contact's channel that this installation cannot send on (they prefer Slack; Slack is not
configured) is left out, with a warning: if that leaves none, the reminder goes by email, so
nothing is queued for a channel that will never send it. The log row names the channels
actually used.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from handlers.reminder_people import Person
from handlers.reminder_plan import Notice
from kernel import wording
from kernel.config import Policy
from kernel.messages import XLSX_TYPE, Attachment, Reply, ThreadRef
from reports.template_file import write_template
from store.facts import message_ids
from store.queue import enqueue_outbound
from store.reminders import log_reminder
from validation.columns import Edition

logger = logging.getLogger(__name__)


class EmailRenderer(Protocol):
    """The email channel's Reply -> RFC 822 bytes (bot.channels.email.outbound)."""

    def __call__(self, reply: Reply, *, message_id: str, token: str, date: datetime
                 ) -> bytes: ...


class ReminderOutbox:
    """Queues notices in the caller's transaction; blank templates are made once per Marac."""

    def __init__(self, session: Session, settings: Policy, *, now: datetime,
                 render_email: EmailRenderer | None) -> None:
        self.session = session
        self.settings = settings
        self.now = now
        self.render_email = render_email
        self._templates: dict[tuple[Edition, str], bytes] = {}

    def send(self, notice: Notice, person: Person) -> bool:
        """Log and queue ``notice`` for ``person``; False if another run already had."""
        channels = self.reachable(person)
        return log_reminder(
            self.session,
            notice.log_key(person),
            channels=channels,
            now=self.now,
            also=lambda: self._enqueue(notice, person, channels),
        )

    def reachable(self, person: Person) -> tuple[str, ...]:
        """The person's channels this installation can send on; email if none of them."""
        sendable = self.settings.sendable_channels
        if sendable is None:
            return person.channels
        usable = tuple(channel for channel in person.channels if channel in sendable)
        missing = [channel for channel in person.channels if channel not in sendable]
        if not missing:
            return usable
        fallback = usable or ("email",)
        logger.warning("reminder for %s: %s not configured here; sending by %s",
                       person.email, " and ".join(missing), " and ".join(fallback))
        return fallback

    def _enqueue(self, notice: Notice, person: Person, channels: tuple[str, ...]) -> None:
        for channel in channels:
            key = notice.outbox_key(person, channel)
            if channel == "email":
                recipient, payload = person.email, self._email(notice, key)
            else:
                recipient = person.chat_id(channel) or ""
                # A coordinator can record the meeting from the reminder (issue 16).
                offer = person.role == "coordinator"
                payload = json.dumps({"text": notice.chat_text, "user": recipient,
                                      "offer_form": offer}).encode()
            enqueue_outbound(self.session, key=key, channel=channel, recipient=recipient,
                             payload=payload, now=self.now)

    def _email(self, notice: Notice, key: str) -> bytes:
        # Everyone told appears in To/Cc (each gets an own copy, so a reply-all reaches all).
        to = [r.person.email for r in notice.recipients if not r.copied]
        cc = tuple(r.person.email for r in notice.recipients if r.copied)
        attachments = (self._template(notice),) if notice.template else ()
        reply = Reply(
            thread=ThreadRef("email", ", ".join(to) or ", ".join(cc)),
            text=notice.text,
            html=notice.html,
            subject=notice.subject,
            attachments=attachments,
            cc=cc if to else (),
        )
        if self.render_email is None:
            raise ValueError("queuing an email reminder needs the email channel's renderer")
        return self.render_email(reply, message_id=key, token=message_ids(self.session).token,
                                 date=self.now)

    def _template(self, notice: Notice) -> Attachment:
        assert notice.template is not None
        edition, marac = notice.template
        if notice.template not in self._templates:
            self._templates[notice.template] = write_template(edition, marac=marac)
        return Attachment(wording.reminder_template_filename(marac),
                          self._templates[notice.template], XLSX_TYPE)
