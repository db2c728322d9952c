"""What Slack and Teams replies share: chat wording in place of the email's, and the held
changes a reply may offer buttons for.

The dispatcher writes one reply text for every channel (reports/reply.py), phrased for email
("reply CONFIRM to this email", "send the corrected file back to this address"); here those
lines become their chat equivalents, and nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kernel import wording
from kernel.messages import Reply, dedupe_prefix
from store.models import HeldChange, HeldStatus, Submission

# The email's held-changes paragraph starts with this sentence, whatever the date in it.
_CONFIRM_START = wording.confirm_instructions(None).split(".")[0]


@dataclass(frozen=True)
class HeldOffer:
    """Held changes of the submissions behind one reply, for Confirm / Keep buttons."""

    submitter: str  # the contact's email: only they may press the buttons
    submission_ids: tuple[int, ...]
    held_until: date | None


def held_offer(session: Session, reply: Reply, *, tz: ZoneInfo) -> HeldOffer | None:
    """The pending held changes recorded from the message this reply answers, if any."""
    extra = reply.thread.extra
    sender, key = extra.get("sender"), extra.get("dedupe_key")
    if not sender or not key or extra.get("button"):  # a press's answer offers no buttons
        return None
    prefix = f"{dedupe_prefix(reply.thread.channel, key)}:"
    query = (
        select(HeldChange.submission_id, func.min(HeldChange.expires_at))
        .join(Submission, Submission.id == HeldChange.submission_id)
        .where(Submission.dedupe_key.startswith(prefix, autoescape=True),
               HeldChange.sender == sender, HeldChange.status == HeldStatus.PENDING.value)
        .group_by(HeldChange.submission_id)
        .order_by(HeldChange.submission_id)
    )
    rows = session.execute(query).all()
    if not rows:
        return None
    until = min(expires for _, expires in rows)
    return HeldOffer(str(sender), tuple(int(i) for i, _ in rows),
                     until.astimezone(tz).date() if until else None)


def chat_text(text: str, offer: HeldOffer | None) -> str:
    """The reply text with its email-only lines replaced by their chat wording, and the
    courtesies of a letter left out: chat is read at a glance."""
    lines: list[str] = []
    for line in text.splitlines():
        if line == wording.SUBMISSION_THANKS:
            continue
        if not line.strip() and lines and not lines[-1].strip():
            continue  # the blank line around a dropped one
        if line.startswith("  - "):
            line = "• " + line[4:]
        if line.startswith(wording.HELP_SEND_START):
            line = wording.CHAT_HOW_TO_SEND
        if line.startswith(wording.ANNOTATED_NOTE_START):
            line = wording.CHAT_ANNOTATED_NOTE
        elif line.startswith(_CONFIRM_START):
            # With buttons, say to press them; without (Teams), replying CONFIRM still works.
            line = (wording.chat_held_note(offer.held_until) if offer is not None
                    else line.replace("to this email", "in this chat"))
        elif line.startswith(wording.FORM_CONFIRM_START):  # a form's or a sentence's
            line = (wording.chat_form_held_note(offer.held_until) if offer is not None
                    else line.replace("to this email", "in this chat"))
        lines.append(line)
    return "\n".join(lines).strip()


def paragraphs(text: str, *, limit: int) -> list[str]:
    """Blank-line separated paragraphs, each cut at line ends to at most ``limit`` chars."""
    out: list[str] = []
    for block in (p.strip("\n") for p in text.split("\n\n")):
        current = ""
        for line in block.splitlines():
            line = line[:limit]
            if current and len(current) + 1 + len(line) > limit:
                out.append(current)
                current = ""
            current = f"{current}\n{line}" if current else line
        if current.strip():
            out.append(current)
    return out


def headline_of(reply: Reply) -> str | None:
    """A submission reply's headline ("All 6 meetings recorded."), shown in bold in chat."""
    headline = reply.data.get("headline") if reply.data.get("kind") == "submission" else None
    return str(headline) if headline else None
