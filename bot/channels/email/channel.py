"""The email channel's converters for the worker: raw RFC 822 in, rendered RFC 822 out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.channels.base import Outgoing
from bot.channels.email.inbound import to_inbound
from bot.channels.email.outbound import render, to_mime
from bot.settings import Settings
from kernel.messages import InboundMessage, Reply
from store.facts import message_ids


@dataclass(frozen=True)
class EmailChannel:
    settings: Settings

    def to_inbound(self, raw: bytes, *, received_at: datetime,
                   envelope_from: str | None) -> InboundMessage:
        return to_inbound(raw, mailbox_address=self.settings.mailbox_address,
                          trusted_authserv_id=self.settings.trusted_authserv_id,
                          received_at=received_at, envelope_from=envelope_from)

    def prepare(self, message: InboundMessage) -> InboundMessage:
        """Nothing to complete: the raw bytes hold the sender and every attachment."""
        return message

    def record(self, session: Session, message: InboundMessage) -> None:
        """Nothing to keep: a reply's thread is in the message's own headers."""

    def outgoing(self, session: Session, reply: Reply, *, key: str) -> list[Outgoing]:
        """One message to the thread's address and any copies, its Message-ID from ``key``
        (with the store's token and the Message-ID answered: outbound.make_message_id)."""
        domain = self.settings.mailbox_address.rsplit("@", 1)[-1]
        mime = to_mime(reply, mailbox_address=self.settings.mailbox_address,
                       message_id_domain=domain, message_id=key,
                       token=message_ids(session).token)
        recipients = [reply.thread.address, *reply.cc]
        return [Outgoing(key, "email", "\n".join(recipients), render(mime))]
