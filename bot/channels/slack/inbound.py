"""A stored Slack request (event or button click, JSON as Slack sent it) -> ``InboundMessage``.

A pure function of the request, testable from a fixture file: no Web API, no store. The slow
parts (the ``users.info`` look-up, downloading the file with the bot token) are the worker's
prepare step (prepare.py), off Slack's 3-second clock like this.
Held-changes buttons become a message whose ``button`` carries the action.

The endpoint refuses shapes Slack does not send (events.py), but Socket Mode has no
such check: a field of the wrong type here is a ``ValueError`` that says which, never a
``TypeError`` or ``AttributeError`` from deep inside.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from typing import Any

from bot.channels.chat.files import FileRef
from bot.channels.slack import explain_view, form_view
from handlers.submission import is_spreadsheet
from kernel.messages import Attachment, ButtonPress, InboundMessage, ThreadRef
from kernel.quarters import Quarter
from validation.safe_text import safe_filename

logger = logging.getLogger(__name__)

# Message subtypes a person sends (a plain message, with a file, a thread reply also sent to
# the channel); edits, joins and bots' messages are not for us.
PERSON_SUBTYPES = (None, "file_share", "thread_broadcast")
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
ACTION_IDS = {"marac_confirm_held": "confirm", "marac_keep_held": "keep"}


def to_inbound(raw: bytes, *, received_at: datetime) -> InboundMessage:
    """Turn one stored Slack request into the normalised message: a pure function of the
    request. The sender is the Slack user id and a spreadsheet a ``FileRef``;
    ``SlackPreparer`` (prepare.py) resolves and fetches them."""
    body = _json(raw, "request")
    if not isinstance(body, dict):
        raise ValueError(f"Slack request is {type(body).__name__}, not an object")
    if body.get("type") == "block_actions":
        return _action(body, received_at)
    if body.get("type") == "view_submission" and explain_view.is_explain(body):  # issue 13
        return explain_view.to_inbound(body, received_at=received_at)
    if body.get("type") == "view_submission":  # the "Record a meeting" form (forms.py)
        return form_view.to_inbound(body, received_at=received_at)
    return _event(body, received_at)


def _event(body: dict[str, Any], received_at: datetime) -> InboundMessage:
    event = _object(body.get("event"), "event")
    user = _text(event.get("user"), "event.user")
    channel = _text(event.get("channel"), "event.channel")
    ts = _text(event.get("ts"), "event.ts")
    reason = _not_for_us(body, event)
    thread = ThreadRef(channel="slack", address=channel, message_id=ts, extra={
        "thread_ts": _text(event.get("thread_ts"), "event.thread_ts") or ts, "user": user,
        "sender": user, "dedupe_key": f"{channel}:{ts}",
    })
    text = _MENTION.sub("", _text(event.get("text"), "event.text")).strip()
    # What is not for us is never answered: its files are not even looked at.
    files = () if reason else tuple(
        file_ref(f) for f in _objects(event.get("files"), "files"))
    # A reply in a thread answers the thread's first message (a file we replied to).
    thread_ts = thread.extra["thread_ts"]
    return InboundMessage(
        channel="slack", sender=user, thread=thread, text=text, attachments=files,
        received_at=received_at, dedupe_key=f"{channel}:{ts}", automatic_reason=reason,
        declared_quarter_text=text if Quarter.find_in(text, today=received_at.date())
        else None,
        replies_to=(f"{channel}:{thread_ts}",) if thread_ts != ts else (),
    )


def file_ref(file: dict[str, Any]) -> Attachment:
    """A posted file as the event describes it. Slack Connect and some shares leave out the
    name and URL (``check_file_info``): then a ``FileRef`` with only the id."""
    file_id = _text(file.get("id"), "file id")
    if file.get("file_access") == "check_file_info" or not file.get("name"):
        return FileRef(_safe_name(f"slack-file-{file_id}"), b"", file_id=file_id)
    return described_file(file)


def described_file(file: dict[str, Any]) -> Attachment:
    """A file whose name and URL are known: a ``FileRef`` to fetch if it is a spreadsheet."""
    file_id = _text(file.get("id"), "file id")
    name = _safe_name(_text(file.get("name"), "file name") or f"slack-file-{file_id}")
    content_type = _text(file.get("mimetype"), "file type") or "application/octet-stream"
    if not is_spreadsheet(Attachment(name, b"")):
        # Only its name matters ("not a template"): no need to fetch a photo or a PDF.
        return Attachment(name, b"", content_type)
    url = (_text(file.get("url_private_download"), "file url")
           or _text(file.get("url_private"), "file url"))
    return FileRef(name, b"", content_type, url=url, file_id=file_id)


def _action(body: dict[str, Any], received_at: datetime) -> InboundMessage:
    """A Confirm / Keep button press: the dispatcher applies it (handlers/buttons.py)."""
    user = _id(body.get("user"), "user")
    action = next(iter(_objects(body.get("actions"), "actions")), {})
    submitter, ids = held_button(action.get("value"))
    posted = _object(body.get("message"), "message")
    channel = (_id(body.get("channel"), "channel")
               or _text(_object(body.get("container"), "container").get("channel_id"),
                        "container.channel_id"))
    ts = _text(posted.get("ts"), "message.ts")
    thread = ThreadRef(channel="slack", address=channel, message_id=ts, extra={
        "thread_ts": _text(posted.get("thread_ts"), "message.thread_ts") or ts,
        "user": user, "sender": user, "button": True,
    })
    press = ButtonPress(ACTION_IDS.get(str(action.get("action_id")), "unknown"),
                        submitter, tuple(ids), presser=user)
    return InboundMessage(channel="slack", sender=user, thread=thread,
                          received_at=received_at, button=press,
                          dedupe_key=f"action:{action.get('action_ts') or ts}")


def _not_for_us(body: dict[str, Any], event: dict[str, Any]) -> str | None:
    """Why an event must get no answer (our own message, another bot, an edit), or None."""
    bot_users = {_text(a.get("user_id"), "authorizations.user_id")
                 for a in _objects(body.get("authorizations"), "authorizations")
                 if a.get("is_bot")}
    if event.get("bot_id") or event.get("user") in bot_users:
        return "bot-message"
    if not event.get("user"):
        return "no-user"
    if event.get("subtype") not in PERSON_SUBTYPES:
        return f"slack-{event.get('subtype')}"
    return None


def _safe_name(name: str) -> str:
    """The one cleaner every channel uses: no path, no control characters, a sane length."""
    return safe_filename(name) or "slack-file"


def held_button(value: Any) -> tuple[str, list[int]]:
    """The submitter and submission ids we put on a held-changes button (outbound.py),
    which Slack hands back as JSON text."""
    fields = _object(_json(_text(value, "button value") or "{}", "button value"), "button value")
    ids = fields.get("ids") or []
    if not isinstance(ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise ValueError("Slack button value: ids are not a list of whole numbers")
    return _text(fields.get("submitter"), "button submitter"), ids


def _json(text: str | bytes, what: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError(f"Slack {what} nested too deep") from None
    except ValueError as exc:
        raise ValueError(f"Slack {what} is not JSON ({exc})") from None


def _object(value: Any, what: str) -> dict[str, Any]:
    """A JSON object where Slack sends one; absent is empty."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"Slack {what} is {type(value).__name__}, not an object")
    return value


def _objects(value: Any, what: str) -> list[dict[str, Any]]:
    """A list of JSON objects where Slack sends one; absent is empty."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ValueError(f"Slack {what} is not a list of objects")
    return value


def _text(value: Any, what: str) -> str:
    """Text where Slack sends text; absent is empty."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"Slack {what} is {type(value).__name__}, not text")
    return value


def _id(value: Any, what: str) -> str:
    """A user or channel as Slack names it: its id, or an object carrying the id."""
    if isinstance(value, dict):
        return _text(value.get("id"), f"{what}.id")
    return _text(value, what)
