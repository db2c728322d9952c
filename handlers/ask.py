"""Questions by message: recognise them, and answer them as ``marac-bot ask`` would."""

from __future__ import annotations

import re

from bot.inbound import InboundMessage, Reply
from reports import wording

_QUESTION_START = re.compile(
    r"^\s*(has|have|who|whose|which|what|how|is|are|did|does|when|show|status|summary|grid|"
    r"national|repeat|missing|help|template|list|tell)\b",
    re.IGNORECASE,
)


def question_text(message: InboundMessage) -> str | None:
    """The question a message asks, from its body's first line or its subject, if any."""
    first = next((line.strip() for line in message.text.splitlines() if line.strip()), "")
    subject = re.sub(r"^\s*((re|aw|fw|fwd)\s*:\s*)+", "", message.subject, flags=re.IGNORECASE)
    for candidate in (first, subject.strip()):
        if candidate and (candidate.endswith("?") or _QUESTION_START.match(candidate)):
            return candidate
    return None


def not_yet(message: InboundMessage) -> Reply:
    return Reply(message.thread, wording.question_not_yet_text())
