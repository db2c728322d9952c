"""Delivering the outbox, every channel through one loop: each item is sent by its channel's
sender and marked sent only once the relay or platform accepted it; a failure waits with
backoff and is never dropped; one refused for good is kept as failed for an operator.

An item is sent by one process alone (``store.outbox_turn``: on PostgreSQL its row stays
locked while it is sent; on SQLite a lock beside the database keeps it, and a channel whose
sends are slow sends with no write lock held, so that a slow relay does not hold up the
workers' recording). An item of a channel that is not configured here is marked failed with
the reason (an operator sees it), never left queued for ever.

Each send's result is reported to ``health`` (when given) under the channel's component
name: a relay failing for more than a few minutes makes ``/healthz`` answer 503.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from sqlalchemy.orm import Session

from bot.channels.base import DeliveryError, Sender
from bot.channels.registry import senders
from bot.health import RELAY_GRACE, Health
from bot.settings import Settings
from store.db import Store
from store.outbox_turn import LOCK_WAIT_S, next_to_send
from store.queue import (
    due_by_channel,
    fail_unsendable,
    mark_failed,
    mark_retry,
    mark_sent,
)
from store.types import utcnow

logger = logging.getLogger(__name__)

# A send that took longer than this would have held the workers up too long: the channel's
# next send holds no write lock (SQLite). A relay on the same network answers in milliseconds.
SLOW_SEND_S = 0.25


@dataclass
class Delivery:
    store: Store
    settings: Settings
    # Channel name -> its sender; a channel without one keeps its items queued.
    by_channel: dict[str, Sender] = field(default_factory=dict)
    health: Health | None = None
    # How long to wait for another process to finish sending its item (SQLite) before this
    # round ends and the next tries again.
    turn_wait_s: float = LOCK_WAIT_S
    # A channel whose last send took longer than this sends its next with no write lock held
    # (SQLite; ``_takes_its_time``); ``clock`` times the sends.
    slow_send_s: float = SLOW_SEND_S
    clock: Callable[[], float] = time.monotonic
    _last_send_s: dict[str, float] = field(default_factory=dict, init=False, repr=False)
    # Set by ``deliver_due``: a channel had more due than its round's limit, so the next
    # round should start at once, not at the next wake-up or poll.
    more_due: bool = field(default=False, init=False)

    @classmethod
    def from_settings(cls, store: Store, settings: Settings, health: Health | None = None
                      ) -> Delivery:
        delivery = cls(store, settings, senders(store, settings), health)
        if health is not None:
            for channel in delivery.by_channel:
                health.expect(delivery.component(channel))
        return delivery

    def component(self, channel: str) -> str:
        """The health component a channel's sends report to ("email-relay", "slack-api")."""
        if channel == "email":
            return "email-relay" if self.settings.smtp_relay else "email-outbox-folder"
        return f"{channel}-api"

    def _sent(self, channel: str) -> None:
        if self.health is not None:
            self.health.up(self.component(channel))

    def _not_sent(self, channel: str, error: str) -> None:
        if self.health is not None:
            self.health.down(self.component(channel), error, grace=RELAY_GRACE)

    def deliver_due(self, limit: int = 50) -> int:
        """Send what is due now, at most ``limit`` per channel; returns how many were sent.

        What is due is read first, in a transaction that only reads: woken after every
        message, the outbox used to take the write lock (on SQLite the one every worker
        waits for) two or three times per wake-up, mostly to find nothing (issue 14). Now it
        writes only for items it found due; one that falls due meanwhile is sent at the next
        wake-up or poll. ``more_due`` says whether items were left for the next round."""
        with self.store.peeking() as session:
            due = due_by_channel(session, now=utcnow())
        if any(channel not in self.by_channel for channel in due):
            self._fail_unsendable()
        sent = 0
        self.more_due = False
        for channel, send in self.by_channel.items():
            left = due.get(channel, 0)
            for _ in range(min(limit, left)):
                outcome = self._deliver_next(channel, send)
                if outcome is None:  # taken by another process meanwhile
                    left = 0
                    break
                sent += outcome
                left -= 1
            self.more_due = self.more_due or left > 0
            _call_if_any(send, "release_idle")  # a relay connection kept too long unused
        return sent

    def close(self) -> None:
        """End what the senders keep open (the email relay's connection): the last round
        has been delivered."""
        for send in self.by_channel.values():
            _call_if_any(send, "close")

    def _fail_unsendable(self) -> None:
        with self.store.transaction() as session:
            fail_unsendable(session, sendable=list(self.by_channel), now=utcnow())

    def _deliver_next(self, channel: str, send: Sender) -> int | None:
        """One item, taken for this process alone (``store.outbox_turn``): None when nothing
        is due, else 1 sent / 0 not.

        "Sent" is committed the moment the other side accepts (for email, the relay's 250 to
        DATA, before QUIT), while the item is still this process's: a crash between that and
        the commit sends it again after a restart (the same bytes, the same Message-ID, so
        mail clients show it once). No protocol closes that window; this keeps it to one
        commit.
        """
        now = utcnow()
        quick = not self._takes_its_time(channel, send)
        with next_to_send(self.store, channel, now=now, quick=quick,
                          wait_s=self.turn_wait_s) as turn:
            if turn is None:
                return None
            item_id, key = turn.item.id, turn.item.key
            marked = False

            def accepted() -> None:
                nonlocal marked
                if not marked:
                    turn.record(partial(mark_sent, item_id=item_id, now=utcnow()))
                    marked = True

            started = self.clock()
            try:
                send(turn.session, turn.item, accepted)
            except DeliveryError as exc:
                self._last_send_s[channel] = self.clock() - started
                turn.record(partial(_record_failure, item_id=item_id, key=key, exc=exc,
                                    now=now))
                # Refused for good is this recipient's doing; the relay itself answered.
                if exc.permanent:
                    self._sent(channel)
                else:
                    self._not_sent(channel, str(exc))
                return 0
            except Exception as exc:  # a bug or an outage: keep the item, try again later
                self._last_send_s[channel] = self.clock() - started
                logger.exception("%s outbox %s: unexpected failure", channel, key)
                error = f"{type(exc).__name__}: {exc}"
                turn.record(partial(mark_retry, item_id=item_id, error=error, now=now))
                self._not_sent(channel, error)
                return 0
            self._last_send_s[channel] = self.clock() - started
            accepted()
            self._sent(channel)
            if getattr(send, "writes_files_only", False):  # no relay: a file for a person
                logger.info("%s written to the outbox folder (not sent)", key)
            else:
                logger.info("sent %s by %s", key, channel)
            return 1

    def _takes_its_time(self, channel: str, send: Sender) -> bool:
        """Whether this send may take long enough to hold up the workers, were SQLite's
        write lock held across it (``store.outbox_turn``): a send over the network whose
        channel has not sent yet since start, or whose last send took longer than
        ``slow_send_s`` (a relay slow to answer, or not answering at all). Otherwise, and
        for the outbox folder, the item is sent in one writing transaction: released and
        taken again around every send, the write lock made the outbox wait behind the
        workers for each item, and a burst's replies through a relay answering in 10 ms
        took 81 s to reach it, not 30 s."""
        if getattr(send, "writes_files_only", False):
            return False
        return self._last_send_s.get(channel, math.inf) > self.slow_send_s


def _call_if_any(send: Sender, name: str) -> None:
    """A sender's optional step (only the email relay keeps a connection); its failure is
    logged, never a reason to stop delivering."""
    step = getattr(send, name, None)
    if step is None:
        return
    try:
        step()
    except Exception:
        logger.exception("%s of %s failed", name, type(send).__name__)


def _record_failure(session: Session, *, item_id: int, key: str, exc: DeliveryError,
                    now: datetime) -> None:
    if exc.permanent:
        logger.error("outbox %s refused for good: %s", key, exc)
        mark_failed(session, item_id, error=str(exc), now=now)
    else:
        logger.warning("outbox %s not sent, will retry: %s", key, exc)
        mark_retry(session, item_id, error=str(exc), now=now)
