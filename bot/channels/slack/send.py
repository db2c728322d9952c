"""Sending Slack outbox items through the Web API (``SLACK_API_URL`` honoured).

Two kinds of payload: a threaded reply rendered by outbound.py (``"kind": "reply"``), and
a direct message ``{"text": …, "user": <Slack user id>}`` such as the reminders module queues,
which needs ``conversations.open`` first. Files go up with ``files_upload_v2`` (Slack retired
``files.upload``), into the same thread.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from sqlalchemy.orm import Session

from bot.channels.base import DeliveryError
from bot.channels.slack.form_view import with_open_button
from bot.settings import Settings
from store.queue import OutboundItem

logger = logging.getLogger(__name__)

# Errors that no retry can mend: the channel or person is gone, or the app may not post there.
PERMANENT_ERRORS = frozenset({
    "channel_not_found", "not_in_channel", "is_archived", "user_not_found", "user_not_visible",
    "cannot_dm_bot", "user_disabled", "account_inactive", "invalid_blocks", "msg_too_long",
    "restricted_action", "no_text", "invalid_arguments",
})


def web_client(settings: Settings) -> WebClient:
    """A blocking Web API client for worker threads."""
    return WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)


@dataclass
class SlackSender:
    client: WebClient

    def __call__(self, session: Session, item: OutboundItem,
                 accepted: Callable[[], None]) -> None:
        """Send one outbox item; raises ``DeliveryError`` when Slack refuses it."""
        key, recipient = item.key, item.recipient
        message = json.loads(item.payload)
        try:
            if message.get("kind") == "reply":
                self._reply(message)
            else:
                self._direct(message, fallback_user=recipient)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or exc)
            raise DeliveryError(f"Slack refused {key}: {error}",
                                permanent=error in PERMANENT_ERRORS) from exc
        except SlackRequestError as exc:
            raise DeliveryError(f"Slack upload for {key} failed: {exc}") from exc

    def _reply(self, message: dict[str, Any]) -> None:
        channel, thread_ts = message["channel"], message.get("thread_ts")
        if message.get("ephemeral_user"):
            self.client.chat_postEphemeral(channel=channel, user=message["ephemeral_user"],
                                           text=message["text"], blocks=message["blocks"],
                                           thread_ts=thread_ts)
            return
        self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=message["text"],
                                     blocks=message["blocks"])
        if message.get("files"):
            self._upload(channel, thread_ts, message["files"])

    def _upload(self, channel: str, thread_ts: str | None, files: list[dict[str, Any]]) -> None:
        uploads = [{"file": base64.b64decode(f["data"]), "filename": f["filename"],
                    "title": f.get("title") or f["filename"]} for f in files]
        self.client.files_upload_v2(channel=channel, thread_ts=thread_ts, file_uploads=uploads)

    def _direct(self, message: dict[str, Any], *, fallback_user: str) -> None:
        """A direct message to a person (reminders, digests): open the DM, then post."""
        user = str(message.get("user") or fallback_user)
        opened = self.client.conversations_open(users=user)
        channel = str((opened.get("channel") or {}).get("id"))
        blocks = message.get("blocks")
        if blocks is None and message.get("offer_form"):  # a reminder: "Record a meeting"
            blocks = with_open_button(str(message["text"]))
        self.client.chat_postMessage(channel=channel, text=message["text"], blocks=blocks)
        if message.get("files"):
            self._upload(channel, None, message["files"])
