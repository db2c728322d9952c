"""The IMAP watcher's view of the stored inbox (``bot.channels.email.imap_sweep.MailboxQueue``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from bot.channels.email.smtp_listener import message_id_of
from store.db import Store
from store.queue import InboundItem, QueueStatus, enqueue_inbound, mark_moved
from store.types import utcnow

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
