"""A stored Teams activity (JSON as the Bot Connector posted it) -> ``InboundMessage``.

Identity is the sender's AAD object id, mapped through the registry (``teams_id``). Each
contact's conversation reference from a 1:1 chat is stored on the contact: Teams lets a bot
message someone first (a reminder) only into a conversation it has a reference for. Files in a
1:1 chat arrive as ``file.download.info`` attachments whose ``downloadUrl`` needs no token.

The endpoint refuses what this cannot read (bot/teams_endpoint.py calls ``reference_of`` and
``held_action`` first); a field of the wrong type is still a ``ValueError`` that says which.
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from microsoft_agents.activity import Activity

from bot.channels.chat.files import ChatFetchError, fetch, is_web_page
from handlers.submission import is_spreadsheet
from kernel.messages import Attachment, ButtonPress, InboundMessage, ThreadRef
from kernel.quarters import Quarter
from store.db import Store
from store.registry import find_contact_by_teams
from validation.safe_text import safe_filename

logger = logging.getLogger(__name__)

FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"
_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def unknown_sender(user_id: str) -> str:
    return f"teams:{user_id}"


def reference_of(activity: Activity) -> dict[str, Any]:
    """The activity's conversation reference as JSON (what proactive messages need).

    ``ValueError`` (pydantic's) when the activity lacks what a reference needs: a conversation,
    a service URL, a recipient.
    """
    if activity.conversation is None:
        raise ValueError("Teams activity without a conversation")
    return activity.get_conversation_reference().model_dump(by_alias=True, exclude_none=True,
                                                            mode="json")


def held_action(activity: Activity) -> ButtonPress | None:
    """A Confirm / Keep card press; None for any other activity."""
    value = activity.value if isinstance(activity.value, dict) else {}
    action = value.get("marac_action")
    if not isinstance(action, str) or action not in ("confirm", "keep"):
        return None
    ids, submitter = value.get("ids") or [], value.get("submitter") or ""
    if not isinstance(ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise ValueError("Teams card value: ids are not a list of whole numbers")
    if not isinstance(submitter, str):
        raise ValueError("Teams card value: submitter is not text")
    user = activity.from_property
    presser = (user.aad_object_id or user.id) if user is not None else ""
    return ButtonPress(action, submitter, tuple(ids), presser=presser or "")


@dataclass
class TeamsInbound:
    store: Store
    max_file_bytes: int

    def to_inbound(self, raw: bytes, *, received_at: datetime) -> InboundMessage:
        """Turn one stored activity into the normalised message."""
        activity = Activity.model_validate_json(raw)
        user = activity.from_property
        user_id = (user.aad_object_id or user.id) if user is not None else ""
        reference = reference_of(activity)
        sender = self._identify(user_id, activity, reference)
        text = _plain_text(activity.text or "")
        thread = ThreadRef(channel="teams", address=activity.conversation.id,
                           message_id=activity.id, extra={
                               "reference": reference, "sender": sender, "user": user_id,
                               "dedupe_key": activity.id})
        press = held_action(activity)
        if press is not None:
            thread = replace(thread, extra={**thread.extra, "button": True})
        message = InboundMessage(
            channel="teams", sender=sender, thread=thread, text=text, received_at=received_at,
            button=press,
            dedupe_key=activity.id, automatic_reason=_not_for_us(activity),
            declared_quarter_text=text if Quarter.find_in(text, today=received_at.date())
            else None,
        )
        if message.automatic_reason:
            return message
        files = [self._download(a.name or "teams-file", a.content, message)
                 for a in activity.attachments or [] if a.content_type == FILE_DOWNLOAD_INFO]
        return replace(message, attachments=tuple(files))

    def _identify(self, user_id: str, activity: Activity, reference: dict[str, Any]) -> str:
        """The contact's email (storing their 1:1 conversation reference), or ``teams:<id>``."""
        if not user_id:
            return ""
        with self.store.transaction() as session:
            contact = find_contact_by_teams(session, user_id)
            if contact is None:
                return unknown_sender(user_id)
            if activity.conversation.conversation_type in (None, "personal") and (
                    contact.teams_reference != reference):
                contact.teams_reference = reference
            return contact.email

    def _download(self, name: str, content: Any, message: InboundMessage) -> Attachment:
        name = safe_filename(name) or "teams-file"
        info = content if isinstance(content, dict) else {}
        if not is_spreadsheet(Attachment(name, b"")):
            return Attachment(name, b"")
        try:
            data, served = fetch(str(info.get("downloadUrl") or ""), headers={},
                                 max_bytes=self.max_file_bytes)
        except (OSError, ValueError) as exc:
            raise ChatFetchError(f"downloading {name} from Teams failed: {exc}", message) from exc
        if is_web_page(data, served):
            raise ChatFetchError(f"Teams served a web page instead of {name}", message)
        return Attachment(name, data)


def _not_for_us(activity: Activity) -> str | None:
    if activity.type == "conversationUpdate":
        return "teams-conversation-update"  # an install: the reference is stored, no answer
    if activity.type != "message":
        return f"teams-{activity.type}"
    sender, bot = activity.from_property, activity.recipient
    if sender is not None and bot is not None and sender.id == bot.id:
        return "bot-message"
    return None


def _plain_text(text: str) -> str:
    """Teams sends mentions as <at>…</at> and sometimes light HTML: keep the words."""
    return html.unescape(_TAG.sub("", _MENTION.sub("", text))).strip()
