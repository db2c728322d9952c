"""Delivering the outbox: each queued email goes to the relay (or the outbox folder) and is
marked sent only after it was accepted; failures wait with backoff and are never dropped.

On PostgreSQL the item's row stays locked (FOR UPDATE SKIP LOCKED) while it is sent, so two
bot processes never send the same item. Slack and Teams items go out through their own
deliverers (bot/chat_delivery.py), each only when its channel is configured; until then they
wait in the outbox.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.channels.chat.delivery import ChatDeliverer
from bot.channels.email.send import MailSender, SendError
from bot.channels.registry import chat_deliverers
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
    chat: list[ChatDeliverer] = field(default_factory=list)

    @classmethod
    def from_settings(cls, store: Store, settings: Settings) -> Delivery:
        return cls(store, settings, MailSender.from_settings(settings),
                   chat_deliverers(store, settings))

    def deliver_due(self, limit: int = 50) -> int:
        """Send what is due now; returns how many were sent."""
        sent = 0
        for _ in range(limit):
            outcome = self._deliver_next()
            if outcome is None:
                break
            sent += outcome
        for deliverer in self.chat:
            sent += deliverer.deliver_due(limit)
        return sent

    def _deliver_next(self) -> int | None:
        """One item in one transaction: None when nothing is due, else 1 sent / 0 not.

        The transaction (and on PostgreSQL the item's row lock) spans the send. "Sent" is
        committed the moment the relay answers DATA with 250, before QUIT: a crash between
        that 250 and this commit re-sends the reply after a restart (the same bytes, the same
        Message-ID, so mail clients show it once). No protocol closes that window; this
        keeps it to one commit.
        """
        with self.store.sessions() as session:  # closing it rolls back anything uncommitted
            now = utcnow()
            due = due_outbound(session, now=now, limit=1, channels=("email",))
            if not due:
                return None
            item = due[0]
            item_id, key = item.id, item.key
            recipients = [r for r in item.recipient.split("\n") if r]

            def accepted() -> None:
                mark_sent(session, item_id, now=utcnow())
                session.commit()

            try:
                self.sender.send(item.payload, recipients=recipients,
                                 sender=self.settings.mailbox_address, key=key,
                                 on_accepted=accepted)
            except SendError as exc:
                if exc.permanent:
                    logger.error("outbox %s refused for good by the relay: %s", key, exc)
                    mark_failed(session, item_id, error=str(exc), now=now)
                else:
                    logger.warning("outbox %s not sent, will retry: %s", key, exc)
                    mark_retry(session, item_id, error=str(exc), now=now)
                session.commit()
                return 0
            logger.info("sent %s to %s", key, ", ".join(recipients))
            return 1
