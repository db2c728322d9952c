"""A stored Teams activity (JSON as the Bot Connector posted it) -> ``InboundMessage``.

A pure function of the activity, testable from a fixture file: no store, no network. Identity
is the sender's AAD object id, mapped through the registry (``teams_id``) by the worker's prepare
step, which also fetches the files (in a 1:1 chat, ``file.download.info`` attachments whose
``downloadUrl`` needs no token) and, in the worker's transaction, stores the contact's 1:1
conversation reference (prepare.py).

The endpoint refuses what this cannot read (endpoint.py calls ``reference_of`` and
``held_action`` first); a field of the wrong type is still a ``ValueError`` that says which.
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from microsoft_agents.activity import Activity

from bot.channels.chat.files import FileRef
from bot.channels.teams import cards_form
from handlers.submission import is_spreadsheet
from kernel.messages import Attachment, ButtonPress, InboundMessage, ThreadRef
from kernel.quarters import Quarter
from validation.safe_text import safe_filename

logger = logging.getLogger(__name__)

FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"
_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


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
    return ButtonPress(action, submitter, tuple(ids), presser=user_id_of(activity))


def to_inbound(raw: bytes, *, received_at: datetime) -> InboundMessage:
    """Turn one stored activity into the normalised message: a pure function of the activity.
    The sender is the AAD object id and a spreadsheet a ``FileRef``; ``TeamsPreparer``
    (prepare.py) resolves, fetches and records the rest."""
    activity = Activity.model_validate_json(raw)
    user_id = user_id_of(activity)
    reference = reference_of(activity)  # first: it names a missing conversation
    text = _plain_text(activity.text or "")
    thread = ThreadRef(channel="teams", address=activity.conversation.id,
                       message_id=activity.id, extra={
                           "reference": reference, "sender": user_id,
                           "user": user_id, "dedupe_key": activity.id})
    press = held_action(activity)
    if press is not None:
        thread = replace(thread, extra={**thread.extra, "button": True})
    reason = _not_for_us(activity)
    entry, form_request = cards_form.form_input(activity.value)  # our meeting card's submit
    # What is not for us is never answered: its files are not even looked at.
    files = () if reason else tuple(
        _file(a.name or "teams-file", a.content) for a in activity.attachments or []
        if a.content_type == FILE_DOWNLOAD_INFO)
    return InboundMessage(
        channel="teams", sender=user_id, thread=thread, text=text, attachments=files,
        received_at=received_at, button=press, dedupe_key=activity.id,
        automatic_reason=reason, entry=entry, form_request=form_request,
        declared_quarter_text=text if Quarter.find_in(text, today=received_at.date())
        else None,
        replies_to=thread_root(activity.conversation.id, activity.id or ""),
    )


def user_id_of(activity: Activity) -> str:
    """Who sent it: the AAD object id that Teams itself vouches for. Another channel of the
    same bot (Web Chat, Direct Line) carries a valid token too, but there the client chooses
    ``from.id``, and AAD ids are no secret: such a sender, or one without an AAD id, is named
    so that the registry (``teams_id``) never takes them for anyone."""
    user = activity.from_property
    if user is None:
        return ""
    if activity.channel_id == "msteams" and user.aad_object_id:
        return user.aad_object_id
    return f"{UNVERIFIED}{activity.channel_id or ''}:{user.id or ''}"


# What an unverified sender's id starts with, which no AAD object id (a GUID) does: the
# registry (find_contact_by_teams compares whole ids) finds no contact for it.
UNVERIFIED = "unverified:"


def thread_root(conversation_id: str, activity_id: str) -> tuple[str, ...]:
    """A reply in a channel thread answers its first post: Teams names it in the conversation
    id ("19:…@thread.tacv2;messageid=1700000000001"), and that post's activity id is the key
    its files were recorded under. A post that starts a thread answers nothing."""
    _, found, root = conversation_id.partition(";messageid=")
    return (root,) if found and root and root != activity_id else ()


def _file(name: str, content: Any) -> Attachment:
    """A posted file: a ``FileRef`` to its download URL (which needs no token) if it is a
    spreadsheet, else its name alone."""
    name = safe_filename(name) or "teams-file"
    if not is_spreadsheet(Attachment(name, b"")):
        return Attachment(name, b"")
    info = content if isinstance(content, dict) else {}
    return FileRef(name, b"", url=str(info.get("downloadUrl") or ""))


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
