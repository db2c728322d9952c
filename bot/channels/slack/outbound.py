"""A ``Reply`` -> the JSON the Slack deliverer sends: Block Kit blocks, threaded, with files.

Rendered in the worker (in the transaction that records the reply) and stored in the outbox,
so delivery is a plain replay of Web API calls. Files travel base64-encoded in the payload.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from bot.channels.chat.render import HeldOffer, chat_text, headline_of, paragraphs
from bot.channels.slack.explain_view import explain_button
from bot.channels.slack.form_view import open_button
from kernel import wording
from kernel.entry import FormOffer
from kernel.messages import Reply

# Slack's limits: 3000 characters in a section's text, 50 blocks in a message, 2000 characters
# in a button value; the notification text is best kept short.
SECTION_LIMIT = 3000
MAX_BLOCKS = 50
VALUE_LIMIT = 2000
FALLBACK_LIMIT = 300
CONFIRM_ACTION = "marac_confirm_held"
KEEP_ACTION = "marac_keep_held"


def to_slack_payload(reply: Reply, *, offer: HeldOffer | None) -> bytes:
    """The outbox payload for one threaded reply (see bot/channels/slack/send.py)."""
    extra = reply.thread.extra
    text = chat_text(reply.text, offer)
    parts = paragraphs(escape(text), limit=SECTION_LIMIT)
    headline = headline_of(reply)
    if headline and parts and parts[0] == escape(headline):
        parts[0] = f"*{parts[0]}*"  # what happened, in bold, first
    blocks = [_section(p) for p in parts]
    blocks = blocks[: MAX_BLOCKS - 1]
    if offer is not None:
        blocks.append(held_buttons(offer))
    if isinstance(reply.data.get("form"), FormOffer):  # "record a meeting": open the modal
        blocks.append(open_button())
    if reply.data.get("explain_cells"):  # a file with checks: "Explain a check" (issue 13)
        blocks.append(explain_button([str(c) for c in reply.data["explain_cells"]]))
    payload: dict[str, Any] = {
        "kind": "reply",
        "channel": reply.thread.address,
        "thread_ts": extra.get("thread_ts") or reply.thread.message_id,
        "text": _fallback(text),
        "blocks": blocks,
        "files": [
            {"filename": a.filename, "title": wording.chat_attachment_title(a.filename),
             "content_type": a.content_type, "data": base64.b64encode(a.data).decode("ascii")}
            for a in reply.attachments
        ],
    }
    if reply.private_to:
        payload["ephemeral_user"] = reply.private_to
    return json.dumps(payload).encode("utf-8")


def held_buttons(offer: HeldOffer) -> dict[str, Any]:
    """Confirm / Keep, each carrying who may press it and which submissions it settles."""
    value = json.dumps({"submitter": offer.submitter, "ids": list(offer.submission_ids)})
    if len(value) > VALUE_LIMIT:  # hundreds of files in one message: settle the first ones
        value = json.dumps({"submitter": offer.submitter, "ids": list(offer.submission_ids[:50])})
    return {
        "type": "actions",
        "block_id": "marac_held",
        "elements": [
            _button(wording.CHAT_CONFIRM_BUTTON, CONFIRM_ACTION, value, style="primary"),
            _button(wording.CHAT_KEEP_BUTTON, KEEP_ACTION, value),
        ],
    }


def escape(text: str) -> str:
    """Slack's mrkdwn treats &, < and > as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _button(label: str, action_id: str, value: str, *, style: str | None = None
            ) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "action_id": action_id, "value": value,
                              "text": {"type": "plain_text", "text": label}}
    if style:
        button["style"] = style
    return button


def _fallback(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    return first if len(first) <= FALLBACK_LIMIT else first[: FALLBACK_LIMIT - 1] + "…"
