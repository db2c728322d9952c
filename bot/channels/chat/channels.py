"""The worker's view of the chat channels, one small class each: stored Slack/Teams input ->
``InboundMessage`` (pure), the prepare step that completes it, and a ``Reply`` -> the outbox
items that carry it.

Built once per worker from the settings, with no network at construction: the first Slack or
Teams call happens when a stored item of that channel is prepared. They live here, not in
their channel's folder, because a Teams reply can bring an email with it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from bot.channels.base import Outgoing
from bot.channels.chat.render import held_offer
from bot.channels.email.outbound import render, to_mime
from bot.channels.slack import inbound as slack_inbound
from bot.channels.slack.directory import SlackDirectory
from bot.channels.slack.outbound import to_slack_payload
from bot.channels.slack.prepare import SlackPreparer
from bot.channels.slack.send import web_client
from bot.channels.teams import inbound as teams_inbound
from bot.channels.teams.outbound import to_teams_payload
from bot.channels.teams.prepare import TeamsPreparer, record_reference
from bot.settings import Settings
from kernel import wording
from kernel.messages import Attachment, InboundMessage, Reply, ThreadRef
from store.db import Store
from store.facts import message_ids

logger = logging.getLogger(__name__)


@dataclass
class SlackChannel:
    store: Store
    settings: Settings
    _preparer: SlackPreparer | None = field(default=None, init=False)

    def to_inbound(self, raw: bytes, *, received_at: datetime,
                   envelope_from: str | None = None) -> InboundMessage:
        return slack_inbound.to_inbound(raw, received_at=received_at)

    def prepare(self, message: InboundMessage) -> InboundMessage:
        """The sender from the registry or ``users.info``, the files downloaded; raises
        ``ChatFetchError`` when a file could not be fetched (our side's problem: the worker
        apologises)."""
        return self.preparer().prepare(message)

    def record(self, session: Session, message: InboundMessage) -> None:
        """Slack needs nothing kept: a reply goes to the channel id the message carries."""

    def preparer(self) -> SlackPreparer:
        if self._preparer is None:
            if not self.settings.slack_bot_token:
                raise RuntimeError("a Slack item is stored but SLACK_BOT_TOKEN is not set")
            client = web_client(self.settings)
            self._preparer = SlackPreparer(client, SlackDirectory(self.store, client),
                                           self.settings.slack_bot_token,
                                           self.settings.max_file_bytes)
        return self._preparer

    def outgoing(self, session: Session, reply: Reply, *, key: str) -> list[Outgoing]:
        """The outbox item for a Slack reply, in the caller's transaction."""
        offer = held_offer(session, reply, tz=self.settings.tz)
        return [Outgoing(key, "slack", reply.thread.address,
                         to_slack_payload(reply, offer=offer))]


@dataclass
class TeamsChannel:
    store: Store
    settings: Settings
    _preparer: TeamsPreparer | None = field(default=None, init=False)

    def to_inbound(self, raw: bytes, *, received_at: datetime,
                   envelope_from: str | None = None) -> InboundMessage:
        return teams_inbound.to_inbound(raw, received_at=received_at)

    def prepare(self, message: InboundMessage) -> InboundMessage:
        """The sender from the registry, the files downloaded; raises ``ChatFetchError``
        when a file could not be fetched."""
        if self._preparer is None:
            self._preparer = TeamsPreparer(self.store, self.settings.max_file_bytes)
        return self._preparer.prepare(message)

    def record(self, session: Session, message: InboundMessage) -> None:
        """The contact's conversation reference, in the worker's transaction."""
        record_reference(session, message)

    def outgoing(self, session: Session, reply: Reply, *, key: str) -> list[Outgoing]:
        """The outbox items for a Teams reply (and its files' email), in the caller's
        transaction."""
        offer = held_offer(session, reply, tz=self.settings.tz)
        files = [a for a in reply.attachments if not a.content_type.startswith("image/")]
        email = self._companion_email(session, reply, files, key=f"{key}:email")
        items = [Outgoing(key, "teams", reply.thread.address,
                          to_teams_payload(reply, offer=offer, files_emailed=email is not None))]
        return items + ([email] if email is not None else [])

    def _companion_email(self, session: Session, reply: Reply, files: list[Attachment], *,
                         key: str) -> Outgoing | None:
        """Teams cannot carry a bot's workbook: email it, with the reply, to the contact."""
        address = str(reply.thread.extra.get("sender") or "")
        if not files or "@" not in address:
            return None
        mailbox = self.settings.mailbox_address
        domain = mailbox.rsplit("@", 1)[-1]
        email = Reply(ThreadRef("email", address, subject=wording.TEAMS_EMAIL_SUBJECT),
                      reply.text, subject=wording.TEAMS_EMAIL_SUBJECT, attachments=tuple(files))
        mime = to_mime(email, mailbox_address=mailbox, message_id_domain=domain,
                       message_id=key, token=message_ids(session).token)
        return Outgoing(key, "email", address, render(mime))
