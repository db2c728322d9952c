"""The worker's view of the chat channels: stored Slack/Teams input -> ``InboundMessage``, and
a ``Reply`` -> the outbox items that carry it.

Built once per worker from the settings, with no network at construction: the first Slack or
Teams call happens when a stored item of that channel is processed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from bot.channels.base import Outgoing
from bot.channels.chat.render import held_offer
from bot.channels.email.outbound import make_message_id, render, to_mime
from bot.channels.slack.directory import SlackDirectory
from bot.channels.slack.inbound import SlackInbound
from bot.channels.slack.outbound import to_slack_payload
from bot.channels.slack.send import web_client
from bot.channels.teams.inbound import TeamsInbound
from bot.channels.teams.outbound import to_teams_payload
from bot.settings import Settings
from kernel import wording
from kernel.messages import InboundMessage, Reply, ThreadRef
from store.db import Store

logger = logging.getLogger(__name__)

CHAT_CHANNELS = ("slack", "teams")


@dataclass
class ChatChannels:
    store: Store
    settings: Settings
    _slack: SlackInbound | None = field(default=None, init=False)
    _teams: TeamsInbound | None = field(default=None, init=False)

    def to_inbound(self, channel: str, raw: bytes, *, received_at: datetime,
                   envelope_from: str | None = None) -> InboundMessage:
        """Convert one stored item; raises ``ChatFetchError`` when a file the
        sender posted could not be fetched (our side's problem: the worker apologises)."""
        if channel == "slack":
            return self.slack().to_inbound(raw, received_at=received_at)
        if channel == "teams":
            return self.teams().to_inbound(raw, received_at=received_at)
        raise ValueError(f"no converter for inbound channel {channel!r}")

    def slack(self) -> SlackInbound:
        if self._slack is None:
            if not self.settings.slack_bot_token:
                raise RuntimeError("a Slack item is stored but SLACK_BOT_TOKEN is not set")
            client = web_client(self.settings)
            self._slack = SlackInbound(client, SlackDirectory(self.store, client),
                                       self.settings.slack_bot_token,
                                       self.settings.max_file_bytes)
        return self._slack

    def teams(self) -> TeamsInbound:
        if self._teams is None:
            self._teams = TeamsInbound(self.store, self.settings.max_file_bytes)
        return self._teams

    def outgoing(self, session: Session, reply: Reply, *, key: str) -> list[Outgoing]:
        """The outbox items for a chat reply, in the caller's transaction."""
        thread = reply.thread
        offer = held_offer(session, reply, tz=self.settings.tz)
        if thread.channel == "slack":
            return [Outgoing(key, "slack", thread.address, to_slack_payload(reply, offer=offer))]
        if thread.channel != "teams":
            raise ValueError(f"no renderer for reply channel {thread.channel!r}")
        files = [a for a in reply.attachments if not a.content_type.startswith("image/")]
        email = self._companion_email(reply, files, key=f"{key}:email")
        items = [Outgoing(key, "teams", thread.address,
                          to_teams_payload(reply, offer=offer, files_emailed=email is not None))]
        return items + ([email] if email is not None else [])

    def _companion_email(self, reply: Reply, files: list, *, key: str) -> Outgoing | None:
        """Teams cannot carry a bot's workbook: email it, with the reply, to the contact."""
        address = str(reply.thread.extra.get("sender") or "")
        if not files or "@" not in address:
            return None
        mailbox = self.settings.mailbox_address
        domain = mailbox.rsplit("@", 1)[-1]
        email = Reply(ThreadRef("email", address, subject=wording.TEAMS_EMAIL_SUBJECT),
                      reply.text, subject=wording.TEAMS_EMAIL_SUBJECT, attachments=tuple(files))
        mime = to_mime(email, mailbox_address=mailbox, message_id_domain=domain,
                       message_id=make_message_id(key, domain=domain))
        return Outgoing(key, "email", address, render(mime))
