"""Delivering one chat channel's outbox items, the way bot/delivery.py delivers email.

Each item: taken in a transaction (locked on PostgreSQL), sent, then marked sent only after the
platform's API accepted it; a failure waits with backoff, a permanent one is kept as failed for
an operator. The channel's sender is a plain callable, so Slack and Teams share this loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from store.db import Store
from store.queue import OutboundItem, due_outbound, mark_failed, mark_retry, mark_sent
from store.types import utcnow

logger = logging.getLogger(__name__)


class ChatSendError(Exception):
    """The platform refused a message; ``permanent`` when trying again cannot help."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


# (the delivery's session, the item) -> None; raises ChatSendError (or anything: retry). The
# session is the one holding the item's lock: a sender that needs to read the store uses it
# (a second transaction would wait for this one on SQLite, for ever).
Send = Callable[[Session, OutboundItem], None]


@dataclass
class ChatDeliverer:
    store: Store
    channel: str
    send: Send

    def deliver_due(self, limit: int = 50) -> int:
        """Send what is due on this channel now; returns how many were sent."""
        sent = 0
        for _ in range(limit):
            outcome = self._deliver_next()
            if outcome is None:
                break
            sent += outcome
        return sent

    def _deliver_next(self) -> int | None:
        with self.store.transaction() as session:
            now = utcnow()
            due = due_outbound(session, now=now, limit=1, channels=(self.channel,))
            if not due:
                return None
            item = due[0]
            try:
                self.send(session, item)
            except ChatSendError as exc:
                if exc.permanent:
                    mark_failed(session, item.id, error=str(exc), now=now)
                else:
                    mark_retry(session, item.id, error=str(exc), now=now)
                return 0
            except Exception as exc:  # a bug or an outage: keep the item, try again later
                logger.exception("%s outbox %s: unexpected failure", self.channel, item.key)
                mark_retry(session, item.id, error=f"{type(exc).__name__}: {exc}", now=now)
                return 0
            mark_sent(session, item.id, now=now)
            logger.info("sent %s by %s", item.key, self.channel)
            return 1
