"""What every channel offers the worker, and what a reply becomes on its way out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from kernel.messages import InboundMessage, Reply


@dataclass(frozen=True)
class Outgoing:
    """One outbox item to queue for a reply."""

    key: str
    channel: str
    recipient: str
    payload: bytes


class Channel(Protocol):
    """A channel's two converters: stored input -> ``InboundMessage``, ``Reply`` -> outbox."""

    def to_inbound(self, channel: str, raw: bytes, *, received_at: datetime,
                   envelope_from: str | None) -> InboundMessage: ...

    def outgoing(self, session: Session, reply: Reply, *, key: str) -> list[Outgoing]: ...
