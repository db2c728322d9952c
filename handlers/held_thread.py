"""A reply in a thread on held changes, read in that context (issue 12).

"Yes please confirm" under our held-changes message confirms them; "no, keep the old figures"
keeps them; "confirm 3 Oct only" settles that meeting alone; anything unclear is asked back
("Did you mean to confirm the 2 held changes? Reply CONFIRM or KEEP") instead of being taken
for a question nobody asked. Runs in the worker's transaction, like every handler.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from handlers.confirmation import submissions_under
from handlers.held_answer import HeldVerdict, MeetingDay, is_other_command, read_answer
from handlers.questions import looks_like_question
from handlers.result import HandlerResult, Outcome
from kernel import wording
from kernel.messages import Channel, InboundMessage, Reply, dedupe_prefix
from store.held import confirm_held, keep_held
from store.models import HeldChange, HeldStatus, Meeting
from store.queue import InboundItem, OutboundItem

logger = logging.getLogger(__name__)


# How far back a Teams 1:1 chat is read for the message the bot last answered: past its own
# "did you mean to confirm?" questions, which keep the context they asked about.
_CHAT_LOOKBACK = 5


def chat_context(session: Session, message: InboundMessage) -> list[str]:
    """In a Teams 1:1 chat, which has no threads: the dedupe prefix of the message the bot
    last answered in this conversation, so that "yes" right after a held-changes reply is
    read against it (held_in_thread then finds whether it held anything of the sender's).
    Our asking back in that context keeps it; anything else said since (an answer to
    another message, a reminder) ends it."""
    if message.channel != Channel.TEAMS or message.replies_to:
        return []
    query = (
        select(OutboundItem.inbound_id, InboundItem.source_key, InboundItem.outcome)
        .outerjoin(InboundItem, InboundItem.id == OutboundItem.inbound_id)
        .where(
            OutboundItem.channel == Channel.TEAMS.value,
            OutboundItem.recipient == message.thread.address,
        )
        .order_by(OutboundItem.id.desc())
        .limit(_CHAT_LOOKBACK)
    )
    for inbound_id, source_key, outcome in session.execute(query):
        if inbound_id is None or not source_key:  # a reminder or a notice: not an answer
            return []
        if outcome == Outcome.HELD_REPLY_UNCLEAR.value:
            continue  # we asked back about the held changes: still their context
        key = source_key.removeprefix(f"{Channel.TEAMS.value}:")
        return [dedupe_prefix(Channel.TEAMS.value, key)]
    return []


def held_in_thread(session: Session, *, sender: str, prefixes: Sequence[str]) -> list[HeldChange]:
    """Every change held from the messages a reply answers (settled ones too), oldest first."""
    ids = [i for p in prefixes for i in submissions_under(session, dedupe_prefix=p, sender=sender)]
    if not ids:
        return []
    query = (
        select(HeldChange)
        .where(HeldChange.submission_id.in_(ids), HeldChange.sender == sender)
        .options(selectinload(HeldChange.meeting).selectinload(Meeting.marac))
        .order_by(HeldChange.id)
    )
    return list(session.scalars(query))


def answer(
    session: Session,
    message: InboundMessage,
    *,
    sender: str,
    prefixes: Sequence[str],
    now: datetime,
) -> HandlerResult | None:
    """The answer to a reply in a thread on held changes; None when the thread is not on held
    changes (or the reply is another step's command), so the dispatcher carries on."""
    if not prefixes or is_other_command(message.text):
        return None
    held = held_in_thread(session, sender=sender, prefixes=prefixes)
    if not held:
        return None
    pending = [h for h in held if h.status == HeldStatus.PENDING.value and _open(h, now)]
    reading = read_answer(message.text)
    if reading.verdict is HeldVerdict.UNCLEAR:
        if not pending:  # nothing to ask about: a question in an old thread is a question
            return None
        if _inferred(message) and looks_like_question(message.text):
            return None  # a 1:1 chat goes on: a question after our message is a question
        return _ask_back(message, pending)
    targets = [h for h in pending if _named(h, reading.days)]
    if reading.days and pending and not targets:
        return _ask_back(message, pending, unmatched=reading.days)
    meeting_ids = [h.meeting_id for h in targets]
    if reading.verdict is HeldVerdict.CONFIRM:
        count = (
            confirm_held(session, sender=sender, meeting_ids=meeting_ids, now=now)
            if meeting_ids
            else 0
        )
        outcome = Outcome.CONFIRMED if count else Outcome.CONFIRM_NOTHING_PENDING
        text = wording.confirmed_text(count)
    else:
        count = (
            keep_held(session, sender=sender, meeting_ids=meeting_ids, now=now)
            if meeting_ids
            else 0
        )
        outcome = Outcome.KEPT if count else Outcome.KEPT_NOTHING_PENDING
        text = wording.kept_text(count)
    rest = [h for h in pending if h not in targets]
    if rest:
        text += "\n\n" + wording.held_still_waiting(_described(rest))
    logger.info("held-changes reply from %s read as %s: %d settled", sender, reading.verdict, count)
    return HandlerResult(outcome, Reply(message.thread, text))


def _inferred(message: InboundMessage) -> bool:
    """The context was taken from the chat's last answer (chat_context), not a thread."""
    return message.channel == Channel.TEAMS and not message.replies_to


def _ask_back(
    message: InboundMessage, pending: Sequence[HeldChange], *, unmatched: Sequence[MeetingDay] = ()
) -> HandlerResult:
    text = wording.held_unclear_text(
        _described(pending), unmatched=[_day_text(d) for d in unmatched]
    )
    return HandlerResult(Outcome.HELD_REPLY_UNCLEAR, Reply(message.thread, text))


def _open(held: HeldChange, now: datetime) -> bool:
    return held.expires_at > now


def _named(held: HeldChange, days: Sequence[MeetingDay]) -> bool:
    return not days or any(d.matches(held.meeting.meeting_date) for d in days)


def _described(changes: Sequence[HeldChange]) -> list[tuple[str, str]]:
    """(Marac, "3 Oct 2024") for each held change, in meeting order."""
    ordered = sorted(changes, key=lambda h: (h.meeting.marac.name, h.meeting.meeting_date))
    return [(h.meeting.marac.name, wording.day_text(h.meeting.meeting_date)) for h in ordered]


def _day_text(day: MeetingDay) -> str:
    month = wording.day_text(datetime(2000, day.month, 1)).split()[1]
    return f"{day.day} {month}" + (f" {day.year}" if day.year else "")
