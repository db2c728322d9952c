"""The dispatcher's steps for issue 13, kept apart from bot/dispatch.py: a message asking to
withdraw a submission ("withdraw submission 42"), and one explaining a soft issue instead of
changing the figure ("EXPLAIN D7: a new referral pathway started in October"). Each returns
None when the message is not of its kind, so the dispatcher carries on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.settings import Settings
from bot.trust.notice import tell_submitter
from handlers import explain as explaining
from handlers import withdraw as withdrawing
from handlers.confirmation import strip_reply_prefix
from handlers.result import HandlerResult, Outcome
from kernel.messages import InboundMessage, Reply
from store.models import Contact


def withdrawal(
    session: Session, message: InboundMessage, contact: Contact, *, settings: Settings,
    now: datetime,
) -> HandlerResult | None:
    number = withdrawing.requested(message.text) or withdrawing.requested(
        strip_reply_prefix(message.subject))
    if number is None:
        if not message.is_question and withdrawing.asks_to_undo(message.text):
            return HandlerResult(Outcome.WITHDRAW_HOW, Reply(
                message.thread, withdrawing.how_to_withdraw(session, contact, tz=settings.tz)))
        return None
    today = now.astimezone(settings.tz).date()
    done = withdrawing.withdraw(session, number, by=contact, today=today,
                                due_days=settings.due_days, now=now)
    if isinstance(done, withdrawing.Refusal):
        return HandlerResult(Outcome.WITHDRAW_REFUSED, Reply(message.thread, done.text()))
    tell_submitter(session, done, by=contact.email, now=now, settings=settings)
    text = withdrawing.withdrawn_text(done, tz=settings.tz)
    return HandlerResult(Outcome.WITHDRAWN, Reply(message.thread, text))


def explanation(
    session: Session, message: InboundMessage, contact: Contact, *, now: datetime
) -> HandlerResult | None:
    request = explaining.requested(message.text)
    if request is None:
        return None
    return explaining.handle(session, message, request, sender=contact.email, now=now)
