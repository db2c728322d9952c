"""Questions by message: recognise them, and answer them as ``marac-bot ask`` would."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from handlers.confirmation import strip_reply_prefix
from handlers.questions import answer_question, looks_like_question
from handlers.result import HandlerResult, Outcome
from kernel.config import Policy
from kernel.messages import InboundMessage, Reply
from store.models import Contact


def question_text(message: InboundMessage) -> str | None:
    """The question a message asks, from its body's first line or its subject, if any."""
    first = next((line.strip() for line in message.text.splitlines() if line.strip()), "")
    subject = strip_reply_prefix(message.subject)
    for candidate in (first, subject.strip()):
        if candidate and looks_like_question(candidate):
            return candidate
    return None


def answer(session: Session, message: InboundMessage, question: str, *,
           asker: Contact | None, settings: Policy, today: date, is_operator: bool = False,
           images: bool = True) -> HandlerResult:
    """Answer as ``marac-bot ask --as <asker>`` would (``is_operator``: as the local operator,
    who may ask anything); the reply carries the answer's data so chat channels can render it
    their own way."""
    result = answer_question(session, question, asker=asker, settings=settings, today=today,
                             is_operator=is_operator, images=images)
    if result.answered:
        outcome = Outcome.question(result.intent)
    elif result.refused_reason:
        outcome = Outcome.QUESTION_REFUSED
    else:
        outcome = Outcome.QUESTION_NOT_UNDERSTOOD
    reply = Reply(message.thread, result.text, attachments=result.attachments,
                  data=result.to_json())
    return HandlerResult(outcome, reply)
