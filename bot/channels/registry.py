"""Every channel of the running bot, looked up by name: the one place that knows them all.

The worker converts stored input (convert, prepare, then record in its transaction) and renders
replies through ``Channels``; ``marac-bot run``
starts, mounts and stops each channel's endpoints through ``endpoints``. Adding a channel is
adding a folder under bot/channels/ and a line here; nothing else branches on its name.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from aiohttp import web
from sqlalchemy.orm import Session

from bot.channels.base import Channel, Outgoing, Sender
from bot.channels.email.channel import EmailChannel
from bot.channels.email.endpoints import EmailEndpoints
from bot.channels.email.send import EmailOutbox, MailSender
from bot.channels.web.endpoints import WebEndpoints
from bot.channels.web.pages.operator import RunStatus
from bot.channels.web.signin_mail import QueueReply
from bot.settings import Settings
from kernel.messages import InboundMessage, Reply, ThreadRef
from store.db import Store
from store.queue import enqueue_outbound

if TYPE_CHECKING:
    from bot.channels.chat.endpoints import ChatEndpoints
    from bot.channels.email.early import EarlySmtp

# The Slack and Teams modules are imported only where a chat channel is configured or one of
# its items turns up: their SDKs take longer to import than the rest of ``run`` to start.


def _email_channel(store: Store, settings: Settings) -> Channel:
    return EmailChannel(settings)


def _slack_channel(store: Store, settings: Settings) -> Channel:
    from bot.channels.chat.channels import SlackChannel

    return SlackChannel(store, settings)


def _teams_channel(store: Store, settings: Settings) -> Channel:
    from bot.channels.chat.channels import TeamsChannel

    return TeamsChannel(store, settings)


_CONVERTERS: dict[str, Callable[[Store, Settings], Channel]] = {
    "email": _email_channel, "slack": _slack_channel, "teams": _teams_channel}


class Channels:
    """The converters of every channel (no network until an item of a channel needs it)."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self._store, self._settings = store, settings
        self._by_name: dict[str, Channel] = {}
        self._making = threading.Lock()  # workers may meet a channel's first item at once

    def _of(self, channel: str) -> Channel:
        found = self._by_name.get(channel)
        if found is not None:
            return found
        make = _CONVERTERS.get(channel)
        if make is None:
            raise ValueError(f"no channel called {channel!r}")
        with self._making:
            if channel not in self._by_name:
                self._by_name[channel] = make(self._store, self._settings)
            return self._by_name[channel]

    def to_inbound(self, channel: str, raw: bytes, *, received_at: datetime,
                   envelope_from: str | None = None) -> InboundMessage:
        """The stored input as a message, by the channel's pure converter."""
        return self._of(channel).to_inbound(raw, received_at=received_at,
                                            envelope_from=envelope_from)

    def prepare(self, message: InboundMessage) -> InboundMessage:
        """The message completed by its channel (sender, files), before the transaction."""
        return self._of(message.channel).prepare(message)

    def record(self, session: Session, message: InboundMessage) -> None:
        """What the message's channel keeps from it, in the caller's transaction."""
        self._of(message.channel).record(session, message)

    def outgoing(self, session: Session, reply: Reply, *, key: str) -> list[Outgoing]:
        return self._of(reply.thread.channel).outgoing(session, reply, key=key)


# Whether only the person who wrote reads the answer in a thread (the dashboard's sign-in link
# is sent only there): email replies go to the registered address (bot/dispatch.py); a Slack
# channel id starting with D is a direct message; Teams types a 1:1 chat "personal".
_PRIVATE: dict[str, Callable[[ThreadRef], bool]] = {
    "email": lambda thread: True,
    "slack": lambda thread: thread.address.startswith("D"),
    "teams": lambda thread: ((thread.extra.get("reference") or {}).get("conversation") or {}
                             ).get("conversationType") == "personal",
}


def is_private_thread(thread: ThreadRef) -> bool:
    return _PRIVATE.get(thread.channel, lambda _thread: False)(thread)


class Endpoints(Protocol):
    """What ``marac-bot run`` does with a channel's listeners, in this order."""

    def mount(self, app: web.Application) -> None: ...
    async def start(self, *, http_running: bool) -> None: ...
    async def stop_accepting(self) -> None: ...
    async def stop(self) -> None: ...
    def wake(self) -> None: ...
    def describe(self, port: int | None) -> list[str]: ...


def endpoints(settings: Settings, store: Store, on_stored: Callable[[], None], *,
              on_outbox: Callable[[], None] = lambda: None,
              run_status: Callable[[], RunStatus] = RunStatus,
              early_smtp: EarlySmtp | None = None) -> list[Endpoints]:
    """Every channel's listeners; each starts only what its settings configure. The dashboard
    queues its sign-in emails through the email channel's converter (``on_outbox`` wakes the
    sender) and shows ``run_status`` to admins. ``early_smtp``: the SMTP listener ``run``
    started before the rest, which the email channel takes over."""
    web_pages = WebEndpoints(settings, store, queue_reply=_reply_queue(store, settings),
                             wake_outbox=on_outbox, run_status=run_status)
    return [EmailEndpoints(settings, store, on_stored, early=early_smtp),
            *_chat_endpoints(settings, store, on_stored), web_pages]


def _chat_endpoints(settings: Settings, store: Store, on_stored: Callable[[], None]
                    ) -> list[ChatEndpoints]:
    """Slack's and Teams' listeners, only when one of them is configured."""
    if not (settings.slack_bot_token or settings.teams_app_id or settings.teams_anonymous):
        return []
    from bot.channels.chat.endpoints import ChatEndpoints

    return [ChatEndpoints(settings, store, on_stored)]


def _reply_queue(store: Store, settings: Settings) -> QueueReply:
    """Queue a reply in the caller's transaction, rendered by its thread's channel."""
    channels = Channels(store, settings)

    def queue(session: Session, reply: Reply, key: str) -> None:
        for out in channels.outgoing(session, reply, key=key):
            enqueue_outbound(session, key=out.key, channel=out.channel, recipient=out.recipient,
                             payload=out.payload)

    return queue


def senders(store: Store, settings: Settings) -> dict[str, Sender]:
    """The sender of each configured channel (no network until there is something to send):
    email always (the relay, or the outbox folder); Slack and Teams when configured."""
    found: dict[str, Sender] = {
        "email": EmailOutbox(MailSender.from_settings(settings), settings.mailbox_address)}
    if settings.slack_bot_token:
        from bot.channels.slack.send import SlackSender, web_client

        found["slack"] = SlackSender(web_client(settings))
    if settings.teams_app_id or settings.teams_anonymous:
        from bot.channels.teams.outbound import TeamsSender

        found["teams"] = TeamsSender.from_settings(settings)
    return found
