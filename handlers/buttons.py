"""Confirm / Keep buttons on a held-changes reply in chat.

The button carries the submitter's email and the submission ids (Slack returns a button's value
as we set it, inside a signed request). Only the submitter may press them: anyone else in the
channel is told so, and nothing changes. Runs in the worker's transaction, like a handler.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from handlers.result import HandlerResult, Outcome
from kernel import wording
from kernel.messages import ButtonPress, InboundMessage, Reply
from store.held import confirm_held, keep_held

logger = logging.getLogger(__name__)


def handle_press(session: Session, message: InboundMessage, press: ButtonPress, *,
                 now: datetime) -> HandlerResult:
    """Apply a Confirm or Keep press by the submitter; refuse anyone else's."""
    submitter = press.submitter
    if not submitter or message.sender != submitter:
        logger.info("held-changes button pressed by %s, not the submitter %s",
                    message.sender, submitter)
        # Said to the presser alone (Slack: an ephemeral message), not to the channel.
        return HandlerResult(Outcome.HELD_ACTION_REFUSED,
                             Reply(message.thread, wording.chat_only_submitter_text(),
                                   private_to=press.presser or None))
    ids = list(press.submission_ids)
    if press.action == "confirm":
        count = sum(confirm_held(session, sender=submitter, submission_id=i, now=now)
                    for i in ids)
        outcome, text = Outcome.CONFIRMED, wording.confirmed_text(count)
    elif press.action == "keep":
        count = sum(keep_held(session, sender=submitter, submission_id=i, now=now) for i in ids)
        outcome, text = Outcome.KEPT, wording.kept_text(count)
    else:
        return HandlerResult(Outcome.HELD_ACTION_UNKNOWN)
    if not count:
        outcome = Outcome(f"{outcome}-nothing-pending")
    return HandlerResult(outcome, Reply(message.thread, text))
