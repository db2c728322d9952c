"""The "Explain a check" button and modal in Slack (issue 13): under a reply to a file with soft
issues, a button opens a modal to pick the cell and say why its figure is right; the submitted
modal is stored like any event and becomes the message "EXPLAIN <cell>: <why>", answered in the
file's thread by the same step as an email (handlers/explain.py).

Pure functions for the blocks and the message, and the listeners on the Bolt app.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.settings import Settings
from kernel import wording
from kernel.messages import InboundMessage, ThreadRef
from store.db import Store
from store.queue import enqueue_inbound
from store.types import utcnow

logger = logging.getLogger(__name__)

OPEN_ACTION = "marac_explain_open"
CALLBACK_ID = "marac_explain"
CELL_BLOCK, CELL_ACTION = "explain_cell", "explain_cell_choice"
REASON_BLOCK, REASON_ACTION = "explain_reason", "explain_reason_text"
CELLS_LIMIT = 100  # options in a static select
REASON_LIMIT = 2000  # characters: handlers/explain.py keeps at most this
Ack = Callable[..., Awaitable[Any]]


def explain_button(cells: Sequence[str]) -> dict[str, Any]:
    """The button under a reply whose file has checks that can be explained."""
    value = json.dumps({"cells": list(cells[:CELLS_LIMIT])})
    return {
        "type": "actions",
        "block_id": "marac_explain",
        "elements": [{
            "type": "button", "action_id": OPEN_ACTION, "value": value,
            "text": {"type": "plain_text", "text": wording.EXPLAIN_BUTTON},
        }],
    }


def explain_modal(cells: Sequence[str], *, channel: str, thread_ts: str) -> dict[str, Any]:
    """The modal: which cell, and why its figure is right. Where to answer rides along."""
    options = [{"text": {"type": "plain_text", "text": c}, "value": c}
               for c in cells[:CELLS_LIMIT]]
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "private_metadata": json.dumps({"channel": channel, "thread_ts": thread_ts}),
        "title": {"type": "plain_text", "text": wording.EXPLAIN_TITLE},
        "submit": {"type": "plain_text", "text": wording.EXPLAIN_SUBMIT},
        "blocks": [
            {"type": "input", "block_id": CELL_BLOCK,
             "label": {"type": "plain_text", "text": wording.EXPLAIN_CELL_LABEL},
             "element": {"type": "static_select", "action_id": CELL_ACTION, "options": options,
                         **({"initial_option": options[0]} if len(options) == 1 else {})}},
            {"type": "input", "block_id": REASON_BLOCK,
             "label": {"type": "plain_text", "text": wording.EXPLAIN_REASON_LABEL},
             "element": {"type": "plain_text_input", "action_id": REASON_ACTION,
                         "multiline": True, "max_length": REASON_LIMIT}},
        ],
    }


def is_explain(body: Mapping[str, Any]) -> bool:
    view = body.get("view")
    return isinstance(view, dict) and view.get("callback_id") == CALLBACK_ID


def to_inbound(body: Mapping[str, Any], *, received_at: datetime) -> InboundMessage:
    """A stored explain ``view_submission`` → the message "EXPLAIN <cell>: <why>", from the
    Slack user, answered in the thread of the file it explains."""
    user = body.get("user")
    user_id = str(user.get("id") if isinstance(user, dict) else user or "")
    view = body.get("view")
    if not user_id or not isinstance(view, dict):
        raise ValueError("Slack view submission without its user or view")
    values = (view.get("state") or {}).get("values") or {}
    cell = ((values.get(CELL_BLOCK) or {}).get(CELL_ACTION) or {}).get("selected_option") or {}
    reason = ((values.get(REASON_BLOCK) or {}).get(REASON_ACTION) or {}).get("value") or ""
    where = _metadata(view.get("private_metadata"))
    channel, thread_ts = where.get("channel") or user_id, where.get("thread_ts") or ""
    key = f"view:{view.get('id')}:{view.get('hash')}"
    thread = ThreadRef(channel="slack", address=channel, message_id=thread_ts or None, extra={
        "thread_ts": thread_ts, "user": user_id, "sender": user_id, "dedupe_key": key})
    return InboundMessage(
        channel="slack", sender=user_id, thread=thread, received_at=received_at,
        dedupe_key=key, text=f"EXPLAIN {cell.get('value') or ''}: {reason}".strip(),
    )


def _metadata(text: object) -> dict[str, str]:
    try:
        found = json.loads(text) if isinstance(text, str) and text else {}
    except ValueError:
        return {}
    return {k: v for k, v in found.items() if isinstance(v, str)} if isinstance(found, dict) else {}


class SlackExplain:
    """The listeners, registered on the Bolt app that serves events (HTTP and Socket Mode)."""

    def __init__(self, settings: Settings, store: Store, on_stored: Callable[[], None]) -> None:
        self.settings, self.store, self.on_stored = settings, store, on_stored

    def register(self, app: AsyncApp) -> None:
        app.action(OPEN_ACTION)(self._on_open)
        app.view(CALLBACK_ID)(self._on_submit)

    async def _on_open(self, ack: Ack, body: dict[str, Any], client: Any) -> None:
        await ack()
        action: dict[str, Any] = next(iter(body.get("actions") or []), {})
        try:
            cells = [str(c) for c in json.loads(action.get("value") or "{}").get("cells", [])]
        except (ValueError, AttributeError):
            cells = []
        message = body.get("message") or {}
        channel = (body.get("channel") or {}).get("id") or (
            body.get("container") or {}).get("channel_id") or ""
        thread_ts = str(message.get("thread_ts") or message.get("ts") or "")
        view = explain_modal(cells, channel=str(channel), thread_ts=thread_ts)
        try:
            await client.views_open(trigger_id=str(body.get("trigger_id") or ""), view=view)
        except SlackApiError as exc:
            logger.warning("Slack views.open refused: %s", exc.response.get("error"))

    async def _on_submit(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = str((body.get("user") or {}).get("id") or "")
        key = f"slack-view:{user}:{view.get('id')}:{view.get('hash')}"
        await asyncio.to_thread(self._enqueue, json.dumps(body).encode("utf-8"), key)
        self.on_stored()
        await ack()

    def _enqueue(self, raw: bytes, key: str) -> None:
        with self.store.transaction() as session:
            enqueue_inbound(session, channel="slack", raw=raw, source_key=key,
                            received_at=utcnow())
