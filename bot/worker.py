"""Taking messages from the stored inbox and answering them, one at a time.

Each message: claim it (short transaction), parse and dispatch it, then in ONE transaction
record the handler's data, queue the reply in the outbox and mark the message done. A crash
anywhere before that commit leaves the message to be claimed again; the commit makes the
second pass impossible, so a message is never twice recorded and never twice answered.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.chat import ChatChannels
from bot.chat_actions import handle_action, is_chat_action
from bot.chat_files import ChatFetchError
from bot.dispatch import Dispatcher
from bot.email_in import to_inbound
from bot.email_out import make_message_id, render, to_mime
from bot.inbound import InboundMessage, Reply
from bot.settings import Settings
from handlers import help
from handlers.result import HandlerResult
from store.db import Store
from store.queue import (
    InboundItem,
    claim_inbound,
    enqueue_outbound,
    fail_inbound,
    finish_inbound,
)
from store.types import utcnow

logger = logging.getLogger(__name__)

# A claim older than this belongs to a worker that died: take the message over.
STALE_CLAIM = timedelta(minutes=10)


@dataclass
class Worker:
    store: Store
    settings: Settings
    name: str = "worker"
    on_outbox: Callable[[], None] = lambda: None
    on_finished: Callable[[], None] = lambda: None
    # Slack and Teams: converters and renderers (no network until an item needs one).
    chat: ChatChannels | None = None

    def __post_init__(self) -> None:
        if self.chat is None:
            self.chat = ChatChannels(self.store, self.settings)

    def process_one(self) -> bool:
        """Handle the oldest waiting message; False when there was none."""
        with self.store.transaction() as session:
            item = claim_inbound(session, worker=self.name, stale_after=STALE_CLAIM)
            if item is None:
                return False
            item_id, raw, envelope_from = item.id, item.raw, item.envelope_from
            received_at, channel = item.received_at, item.channel
        started = time.monotonic()
        try:
            message = self._to_inbound(channel, raw, received_at=received_at,
                                       envelope_from=envelope_from)
        except ChatFetchError as exc:  # a file we could not fetch: our problem, apologise
            logger.error("message %d: %s", item_id, exc)
            self._incident(item_id, exc.message)
            self.on_finished()
            return True
        except Exception:  # not even understood: keep it for an operator, answer no one
            logger.exception("message %d (%s) could not be read", item_id, channel)
            with self.store.transaction() as session:
                fail_inbound(session, item_id, error="could not be read (see the log)")
            return True
        try:
            outcome = self._handle(item_id, message)
        except Exception:
            outcome = self._incident(item_id, message)
        except BaseException as exc:
            if not _is_panic(exc):
                raise
            outcome = self._incident(item_id, message)
        logger.info("message %d from %s: %s in %.0f ms", item_id, message.sender or "?",
                    outcome, (time.monotonic() - started) * 1000)
        self.on_finished()
        return True

    def _to_inbound(self, channel: str, raw: bytes, *, received_at: datetime,
                    envelope_from: str | None) -> InboundMessage:
        """The converter of the item's channel: email from raw RFC 822, chat from JSON."""
        if channel == "email":
            return to_inbound(raw, mailbox_address=self.settings.mailbox_address,
                              trusted_authserv_id=self.settings.trusted_authserv_id,
                              received_at=received_at, envelope_from=envelope_from)
        assert self.chat is not None
        return self.chat.to_inbound(channel, raw, received_at=received_at)

    def drain(self, should_stop: Callable[[], bool] = lambda: False) -> int:
        """Process messages until none is waiting (or stop is asked between two)."""
        done = 0
        while not should_stop() and self.process_one():
            done += 1
        return done

    def _handle(self, item_id: int, message: InboundMessage) -> str:
        dispatcher = Dispatcher(self.settings)
        with self.store.transaction() as session:
            if _already_answered(session, item_id, message):
                result = HandlerResult("duplicate-message")
            elif is_chat_action(message):  # a Confirm / Keep button in chat
                result = handle_action(session, message, now=utcnow())
            else:
                result = dispatcher.dispatch(session, message, now=utcnow())
            if result.reply is not None:
                self._queue_reply(session, item_id, result.reply)
            finish_inbound(session, item_id, outcome=result.outcome)
        if result.reply is not None:
            self.on_outbox()
        return result.outcome

    def _incident(self, item_id: int, message: InboundMessage) -> str:
        """A bug or an outage, not the sender's doing: log it with a reference, apologise."""
        ref = secrets.token_hex(3).upper()
        logger.exception("incident %s handling message %d from %s", ref, item_id,
                         message.sender)
        with self.store.transaction() as session:
            fail_inbound(session, item_id, error=f"incident {ref}")
            if message.sender and not message.automatic_reason:
                self._queue_reply(session, item_id, help.incident(message, ref))
        self.on_outbox()
        return f"failed (incident {ref})"

    def _queue_reply(self, session: Session, item_id: int, reply: Reply) -> None:
        key = f"reply:{item_id}"
        if reply.thread.channel != "email":
            assert self.chat is not None
            for out in self.chat.outgoing(session, reply, key=key):
                enqueue_outbound(session, key=out.key, channel=out.channel,
                                 recipient=out.recipient, payload=out.payload, inbound_id=item_id)
            return
        domain = self.settings.mailbox_address.rsplit("@", 1)[-1]
        mime = to_mime(reply, mailbox_address=self.settings.mailbox_address,
                       message_id_domain=domain, message_id=make_message_id(key, domain=domain))
        recipients = [reply.thread.address, *reply.cc]
        enqueue_outbound(session, key=key, channel="email", recipient="\n".join(recipients),
                         payload=render(mime), inbound_id=item_id)


def _is_panic(exc: BaseException) -> bool:
    """A Rust extension that panics (python-calamine on some damaged .xls files) raises pyo3's
    PanicException, a BaseException that ``except Exception`` lets through: still our failure,
    to be answered as an incident, not a reason for the worker to stop answering mail."""
    return type(exc).__name__ == "PanicException"


def _already_answered(session: Session, item_id: int, message: InboundMessage) -> bool:
    """The same Message-ID arrived by another route (SMTP and IMAP, or a resend): answered."""
    if message.channel != "email" or not message.dedupe_key:
        return False
    query = select(InboundItem.id).where(
        InboundItem.message_id == message.dedupe_key,
        InboundItem.id != item_id,
        InboundItem.status == "done",
    ).limit(1)
    return session.scalar(query) is not None
