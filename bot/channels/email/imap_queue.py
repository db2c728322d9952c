"""The IMAP watcher's view of the stored inbox (``bot.channels.email.imap_sweep.MailboxQueue``),
and the lease that makes one process of several the mailbox's mover (``MailboxLeader``)."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from bot.channels.email.smtp_listener import message_id_of
from store.db import Store
from store.queue import (
    InboundItem,
    QueueStatus,
    drop_lease,
    enqueue_inbound,
    hold_lease,
    mark_moved,
)
from store.types import utcnow

logger = logging.getLogger(__name__)

# The mover's lease: renewed every MOVER_RENEW, lapsing after MOVER_LEASE. Another process takes
# the mailbox over at most MOVER_LEASE + its standby poll after the mover dies (well within a
# minute); a clean stop gives it up at once.
MOVER_LEASE = timedelta(seconds=30)
MOVER_RENEW = timedelta(seconds=10)

# Outcomes filed under "Rejected" in the mailbox; everything else handled goes to "Processed".
REJECTED_PREFIXES = ("refused", "ignored", "failed")


@dataclass
class StoreMailboxQueue:
    store: Store
    on_enqueued: Callable[[], None] = lambda: None

    def enqueue(self, raw: bytes, *, source_key: str) -> None:
        with self.store.transaction() as session:
            enqueue_inbound(session, channel="email", raw=raw, source_key=source_key,
                            received_at=utcnow(), message_id=message_id_of(raw))
        self.on_enqueued()

    def finished(self, source_keys: Sequence[str]) -> dict[str, str]:
        if not source_keys:
            return {}
        with self.store.transaction() as session:
            rows = session.execute(
                select(InboundItem.source_key, InboundItem.status, InboundItem.outcome).where(
                    InboundItem.source_key.in_(list(source_keys)),
                    InboundItem.status.in_((QueueStatus.DONE, QueueStatus.FAILED)),
                )
            ).all()
        return {key: _folder(status, outcome) for key, status, outcome in rows if key}

    def mark_moved(self, source_key: str) -> None:
        with self.store.transaction() as session:
            item_id = session.scalar(
                select(InboundItem.id).where(InboundItem.source_key == source_key)
            )
            if item_id is not None:
                mark_moved(session, item_id)


def _folder(status: str, outcome: str | None) -> str:
    if status == QueueStatus.FAILED or (outcome or "").startswith(REJECTED_PREFIXES):
        return "rejected"
    return "processed"


@dataclass
class StoreMailboxLeader:
    """A lease row per mailbox: only its holder sweeps, moves and IDLEs.

    A thread renews it; ``held`` answers from memory, and only while the last renewal is
    younger than the lease less one renewal interval, so a process whose renewals stall
    (the database gone) stops moving before another can have taken over.
    """

    store: Store
    mailbox: str  # "user@host/folder": what the lease is for
    lease: timedelta = MOVER_LEASE
    renew_every: timedelta = MOVER_RENEW
    holder: str = field(default_factory=lambda: (
        f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"))
    _valid_until: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @property
    def name(self) -> str:
        return f"imap-mover:{self.mailbox}"[:255]

    def start(self) -> None:
        self._stop.clear()
        self._renew()
        self._thread = threading.Thread(target=self._run, name="imap-lease", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        held, self._valid_until = self.held(), 0.0
        if not held:
            return
        try:
            with self.store.transaction() as session:
                drop_lease(session, self.name, holder=self.holder)
        except Exception as exc:  # it lapses on its own
            logger.warning("could not give up the IMAP mover lease: %s", exc)

    def held(self) -> bool:
        return time.monotonic() < self._valid_until

    def _run(self) -> None:
        while not self._stop.wait(self.renew_every.total_seconds()):
            self._renew()

    def _renew(self) -> None:
        asked = time.monotonic()
        try:
            with self.store.transaction() as session:
                got = hold_lease(session, self.name, holder=self.holder, ttl=self.lease)
        except Exception as exc:
            if self.held():
                logger.warning("could not renew the IMAP mover lease: %s", exc)
            return
        was = self.held()
        margin = (self.lease - self.renew_every).total_seconds()
        self._valid_until = asked + margin if got else 0.0
        if got and not was:
            logger.info("IMAP: this process is now the mover of %s", self.mailbox)
