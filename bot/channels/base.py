"""What every channel offers the worker, and what a reply becomes on its way out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from kernel.messages import InboundMessage, Reply
from store.queue import OutboundItem


@dataclass(frozen=True)
class Outgoing:
    """One outbox item to queue for a reply."""

    key: str
    channel: str
    recipient: str
    payload: bytes


class Channel(Protocol):
    """A channel's converters (stored input -> ``InboundMessage``, ``Reply`` -> outbox) and
    the two steps that keep the inbound one pure.

    ``to_inbound`` is a pure function of the stored input: no network, no store. ``prepare``
    completes its message before the worker's transaction (the sender looked up, files
    fetched: network and reads, never writes). ``record`` writes what the channel keeps from a
    message (a conversation reference) inside the worker's one transaction, with its outcome.
    """

    def to_inbound(self, raw: bytes, *, received_at: datetime,
                   envelope_from: str | None) -> InboundMessage: ...

    def prepare(self, message: InboundMessage) -> InboundMessage: ...

    def record(self, session: Session, message: InboundMessage) -> None: ...

    def outgoing(self, session: Session, reply: Reply, *, key: str) -> list[Outgoing]: ...


class DeliveryError(Exception):
    """The relay or platform did not take a message; ``permanent`` when trying again cannot
    help (an SMTP 5xx for every recipient, a Slack channel that does not exist)."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class Sender(Protocol):
    """Sends one outbox item; calls ``accepted`` the moment the other side has taken it (or
    returns, which means the same), raises ``DeliveryError`` when it has not.

    ``session`` is for a sender that must read the store (the Teams sender, a contact's
    conversation), and only to read: on SQLite it is a transaction that only reads, so that
    no write lock is held while the other side takes its time (``store.outbox_turn``); a write
    in it is not kept.
    """

    def __call__(self, session: Session, item: OutboundItem,
                 accepted: Callable[[], None]) -> None: ...
