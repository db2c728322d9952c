"""Questions by message: recognise them, and answer them as ``marac-bot ask`` would."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy.orm import Session

from handlers.confirmation import strip_reply_prefix
from handlers.questions import answer_question, looks_like_question
from handlers.result import HandlerResult, Outcome
from kernel.config import Policy
from kernel.messages import InboundMessage, Reply
from reports.answers_html import answer_html
from store.models import Contact

# Sentences read for a question: the first few of the body (past "Hi," and the like).
_SENTENCES_READ = 6
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+|\n\s*\n")
_STOP = re.compile(r"^(?:>|--\s*$|On .+wrote:\s*$|From: |-----)")
_GREETING_LINE = re.compile(
    r"^(?:hi|hello|hiya|hey|dear|morning|afternoon|good (?:morning|afternoon))\b[^.?!]{0,40}$",
    re.IGNORECASE,
)


def question_text(message: InboundMessage) -> str | None:
    """The question a message asks: the first sentence of its body that reads as one (a
    greeting before it is passed over; quoted text and signatures are not read), else its
    subject, if either."""
    subject = strip_reply_prefix(message.subject).strip()
    for candidate in (*_sentences(message.text), subject):
        if candidate and looks_like_question(candidate):
            return candidate
    return None


def _sentences(text: str) -> list[str]:
    """The body's first sentences, lines of a paragraph joined (mail clients wrap them)."""
    kept: list[str] = []
    for line in text.splitlines():
        if _STOP.match(line.strip()):
            break
        if not any(kept) and _GREETING_LINE.match(line.strip()):
            continue  # "Hi Sarah," is not part of the question: "Sarah" is no Marac
        kept.append(line.strip())
    found = _SENTENCE_END.split("\n".join(kept))
    return [" ".join(s.split()) for s in found if s.strip()][:_SENTENCES_READ]


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
    html, attachments = answer_html(result.result, tuple(result.attachments), result.notes)
    reply = Reply(message.thread, result.text, html=html, attachments=attachments,
                  data=result.to_json())
    return HandlerResult(outcome, reply)
