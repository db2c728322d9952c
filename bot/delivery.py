"""Delivering the outbox: each queued email goes to the relay (or the outbox folder) and is
marked sent only after it was accepted; failures wait with backoff and are never dropped.

On PostgreSQL the item's row stays locked (FOR UPDATE SKIP LOCKED) while it is sent, so two
bot processes never send the same item. Slack and Teams items are left queued here until
their senders exist.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.email_send import MailSender, SendError
from bot.settings import Settings
from store.db import Store
from store.queue import due_outbound, mark_failed, mark_retry, mark_sent
from store.types import utcnow

logger = logging.getLogger(__name__)


@dataclass
class Delivery:
    store: Store
    settings: Settings
    sender: MailSender

    @classmethod
    def from_settings(cls, store: Store, settings: Settings) -> Delivery:
        return cls(store, settings, MailSender.from_settings(settings))

    def deliver_due(self, limit: int = 50) -> int:
        """Send what is due now; returns how many were sent."""
        sent = 0
        for _ in range(limit):
            outcome = self._deliver_next()
            if outcome is None:
                break
            sent += outcome
        return sent

    def _deliver_next(self) -> int | None:
        """One item in one transaction: None when nothing is due, else 1 sent / 0 not."""
        with self.store.transaction() as session:
            now = utcnow()
            due = due_outbound(session, now=now, limit=1, channels=("email",))
            if not due:
                return None
            item = due[0]
            recipients = [r for r in item.recipient.split("\n") if r]
            try:
                self.sender.send(item.payload, recipients=recipients,
                                 sender=self.settings.mailbox_address, key=item.key)
            except SendError as exc:
                if exc.permanent:
                    logger.error("outbox %s refused for good by the relay: %s", item.key, exc)
                    mark_failed(session, item.id, error=str(exc), now=now)
                else:
                    logger.warning("outbox %s not sent, will retry: %s", item.key, exc)
                    mark_retry(session, item.id, error=str(exc), now=now)
                return 0
            mark_sent(session, item.id, now=now)
            logger.info("sent %s to %s", item.key, ", ".join(recipients))
            return 1
