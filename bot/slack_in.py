"""A stored Slack request (event or button click, JSON as Slack sent it) -> ``InboundMessage``.

Runs in the worker: the event was stored and acknowledged long before, so the slow parts (the
``users.info`` look-up, downloading the file with the bot token) happen here, off Slack's
3-second clock. Held-changes buttons become a message whose thread carries the action.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.chat_files import ChatFetchError, fetch, is_web_page
from bot.inbound import Attachment, InboundMessage, ThreadRef
from bot.slack_directory import SlackDirectory
from handlers.submission import is_spreadsheet
from validation.quarters import Quarter

logger = logging.getLogger(__name__)

# Message subtypes that are something a person posted; every other subtype (edits, deletions,
# joins, other bots' messages) is not addressed to us and gets no answer.
_PERSON_SUBTYPES = (None, "file_share", "thread_broadcast")
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
ACTION_IDS = {"marac_confirm_held": "confirm", "marac_keep_held": "keep"}


@dataclass
class SlackInbound:
    client: WebClient
    directory: SlackDirectory
    token: str
    max_file_bytes: int

    def to_inbound(self, raw: bytes, *, received_at: datetime) -> InboundMessage:
        """Turn one stored Slack request into the normalised message."""
        body = json.loads(raw)
        if body.get("type") == "block_actions":
            return self._action(body, received_at)
        return self._event(body, received_at)

    def _event(self, body: dict[str, Any], received_at: datetime) -> InboundMessage:
        event = body.get("event") or {}
        user = str(event.get("user") or "")
        channel = str(event.get("channel") or "")
        ts = str(event.get("ts") or "")
        reason = _not_for_us(body, event)
        sender = self.directory.sender_for(user) if user and not reason else user
        thread = ThreadRef(channel="slack", address=channel, message_id=ts, extra={
            "thread_ts": event.get("thread_ts") or ts, "user": user, "sender": sender,
            "dedupe_key": f"{channel}:{ts}",
        })
        text = _MENTION.sub("", str(event.get("text") or "")).strip()
        message = InboundMessage(
            channel="slack", sender=sender, thread=thread, text=text,
            received_at=received_at, dedupe_key=f"{channel}:{ts}", automatic_reason=reason,
            declared_quarter_text=text if Quarter.find_in(text, today=received_at.date())
            else None,
        )
        if reason:
            return message
        files = [self._attachment(f, message) for f in event.get("files") or []]
        return replace(message, attachments=tuple(files))

    def _attachment(self, file: dict[str, Any], message: InboundMessage) -> Attachment:
        if file.get("file_access") == "check_file_info" or not file.get("name"):
            file = self._file_info(str(file.get("id")), message)
        name = _safe_name(str(file.get("name") or f"slack-file-{file.get('id')}"))
        content_type = str(file.get("mimetype") or "application/octet-stream")
        if not is_spreadsheet(Attachment(name, b"")):
            # Only its name matters ("not a template"): no need to fetch a photo or a PDF.
            return Attachment(name, b"", content_type)
        url = str(file.get("url_private_download") or file.get("url_private") or "")
        try:
            data, served = fetch(url, headers={"Authorization": f"Bearer {self.token}"},
                                 max_bytes=self.max_file_bytes)
        except (OSError, ValueError) as exc:
            raise ChatFetchError(f"downloading {name} from Slack failed: {exc}", message) from exc
        if is_web_page(data, served):
            raise ChatFetchError(
                f"Slack served a web page instead of {name}: the bot token is missing, wrong "
                "or lacks the files:read scope", message)
        return Attachment(name, data, content_type)

    def _file_info(self, file_id: str, message: InboundMessage) -> dict[str, Any]:
        try:
            return dict(self.client.files_info(file=file_id).get("file") or {})
        except SlackApiError as exc:
            raise ChatFetchError(f"files.info {file_id}: {exc.response.get('error')}",
                                 message) from exc

    def _action(self, body: dict[str, Any], received_at: datetime) -> InboundMessage:
        """A Confirm / Keep button press: the worker applies it (bot/chat_actions.py)."""
        user = str((body.get("user") or {}).get("id") or "")
        action = (body.get("actions") or [{}])[0]
        value = json.loads(action.get("value") or "{}")
        posted = body.get("message") or {}
        channel = str((body.get("channel") or {}).get("id")
                      or (body.get("container") or {}).get("channel_id") or "")
        ts = str(posted.get("ts") or "")
        sender = self.directory.sender_for(user) if user else ""
        thread = ThreadRef(channel="slack", address=channel, message_id=ts, extra={
            "thread_ts": posted.get("thread_ts") or ts, "user": user, "sender": sender,
            "action": ACTION_IDS.get(str(action.get("action_id")), "unknown"),
            "submitter": str(value.get("submitter") or ""),
            "submission_ids": [int(i) for i in value.get("ids") or []],
        })
        return InboundMessage(channel="slack", sender=sender, thread=thread,
                              received_at=received_at,
                              dedupe_key=f"action:{action.get('action_ts') or ts}")


def _not_for_us(body: dict[str, Any], event: dict[str, Any]) -> str | None:
    """Why an event must get no answer (our own message, another bot, an edit), or None."""
    bot_users = {a.get("user_id") for a in body.get("authorizations") or [] if a.get("is_bot")}
    if event.get("bot_id") or event.get("user") in bot_users:
        return "bot-message"
    if not event.get("user"):
        return "no-user"
    if event.get("subtype") not in _PERSON_SUBTYPES:
        return f"slack-{event.get('subtype')}"
    return None


def _safe_name(name: str) -> str:
    """Only the last path component: a name must not steer where anyone saves the file."""
    return re.split(r"[\\/]", name.strip())[-1].strip() or "slack-file"
