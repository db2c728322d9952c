"""What a converted Slack message still needs before it is dispatched: who sent it, and the
bytes of the spreadsheets it names.

The worker runs this after the pure converter (bot/channels/slack/inbound.py) and before its
transaction: both parts call Slack (``users.info``, ``files.info``, the download), and a
transaction must not stay open across the network. Nothing here writes to the store.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.channels.chat.files import ChatFetchError, FileRef, download, with_files
from bot.channels.slack.directory import SlackDirectory
from bot.channels.slack.inbound import described_file
from kernel.messages import Attachment, InboundMessage

logger = logging.getLogger(__name__)

_PAGE_HINT = ": the bot token is missing, wrong or lacks the files:read scope"


@dataclass
class SlackPreparer:
    client: WebClient
    directory: SlackDirectory
    token: str
    max_file_bytes: int

    def prepare(self, message: InboundMessage) -> InboundMessage:
        """The message with its sender resolved and its spreadsheets fetched; raises
        ``ChatFetchError`` (carrying the message without files) when a file cannot be had."""
        return with_files(self.identify(message), self._fetched)

    def identify(self, message: InboundMessage) -> InboundMessage:
        """The registry contact's email (or ``slack:<id>``) for a person's message or press;
        what is not for us keeps its bare user id, and costs no look-up."""
        user = str(message.thread.extra.get("user") or "")
        if not user or message.automatic_reason:
            return message
        sender = self.directory.sender_for(user)
        thread = replace(message.thread, extra={**message.thread.extra, "sender": sender})
        return replace(message, sender=sender, thread=thread)

    def _fetched(self, file: FileRef, message: InboundMessage) -> Attachment:
        if not file.url:
            described = described_file(self._file_info(file.file_id, message))
            if not isinstance(described, FileRef):
                return described  # not a spreadsheet after all: its name is enough
            file = described
        return download(file, platform="Slack", max_bytes=self.max_file_bytes,
                        headers={"Authorization": f"Bearer {self.token}"}, message=message,
                        hint=_PAGE_HINT)

    def _file_info(self, file_id: str, message: InboundMessage) -> dict[str, Any]:
        try:
            return dict(self.client.files_info(file=file_id).get("file") or {})
        except SlackApiError as exc:
            raise ChatFetchError(f"files.info {file_id}: {exc.response.get('error')}",
                                 message) from exc
