"""Questions by message: recognise them, and answer them as ``marac-bot ask`` would."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from handlers.confirmation import strip_reply_prefix
from handlers.letter import BOILERPLATE, SENTENCE_END
from handlers.questions import answer_question, asks_plainly, looks_like_question, understanding
from handlers.result import HandlerResult, Outcome
from kernel.config import Policy
from kernel.messages import InboundMessage, Reply
from reports.answers_html import answer_html
from store.models import Contact

# Sentences read for a question: the first few of the body (past "Hi," and the like).
_SENTENCES_READ = 6
# Where the message proper ends: quoted mail, a signature ("-- "), a forwarded or replied-to
# message's header (Thunderbird's "On … wrote:", Outlook's "From: " under a rule of dashes
# or underscores), a phone's "Sent from my iPhone".
_STOP = re.compile(
    r"^(?:>|--\s*$|On .+wrote:\s*$|From: |-----|_____|Sent from my \w|Get Outlook for \w)",
    re.IGNORECASE,
)
_GREETING_LINE = re.compile(
    r"^(?:hi|hello|hiya|hey|dear|morning|afternoon|good (?:morning|afternoon))\b[^.?!]{0,40}$",
    re.IGNORECASE,
)
# A line that closes a letter ("Thanks", "Kind regards,"): once something has been said, what
# follows is the sender's name and signature, not a question.
_SIGN_OFF = re.compile(
    r"^(?:(?:many |kind(?:est)? |best |warm(?:est)? |with )?(?:thanks|regards|wishes)"
    r"|thank you|cheers|best|ta|sincerely|yours(?: sincerely| faithfully| truly)?)\W*$",
    re.IGNORECASE,
)


def question_text(session: Session, message: InboundMessage, *, today: date,
                  plainly: bool = False, leaving_out: str | None = None,
                  with_subject: bool = True) -> str | None:
    """The question a message asks, if any: of the first sentences of its body that read as
    one (a greeting before them passed over; quoted text, signatures and disclaimers not
    read) and its subject, the one the question engine understands best, the body's first
    on a tie. "Could you let me know?" under the subject "has Croydon uploaded Q3?" is not
    understood, so the subject is answered; a body question understood as well as the
    subject is answered over it. When none is understood, the first is (and gets help).
    ``plainly``: only text that is plainly a question counts (``asks_plainly``);
    ``leaving_out``: a sentence already dealt with (one passed on to the data team);
    ``with_subject`` False: the body alone (beside such a sentence the subject names it:
    "Q3 late")."""
    subject = strip_reply_prefix(message.subject).strip() if with_subject else ""
    candidates = [c for c in (*body_sentences(message.text), subject)
                  if c and c != leaving_out and looks_like_question(c)
                  and (not plainly or asks_plainly(c))]
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    readings = [understanding(session, c, today=today) for c in candidates]
    return candidates[readings.index(max(readings))]


def body_sentences(text: str) -> list[str]:
    """The body's first sentences, lines of a paragraph joined (mail clients wrap them);
    boilerplate left out."""
    kept: list[str] = []
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if _STOP.match(line) or (any(kept) and _SIGN_OFF.match(line)):
            break
        if not any(kept) and _GREETING_LINE.match(line):
            continue  # "Hi Sarah," is not part of the question: "Sarah" is no Marac
        kept.append(line)
    found = (" ".join(s.split()) for s in SENTENCE_END.split("\n".join(kept)))
    return [s for s in found if s and not BOILERPLATE.search(s)][:_SENTENCES_READ]


def answer(session: Session, message: InboundMessage, question: str, *,
           asker: Contact | None, settings: Policy, today: date, is_operator: bool = False,
           images: bool = True, notes: Sequence[str] = ()) -> HandlerResult:
    """Answer as ``marac-bot ask --as <asker>`` would (``is_operator``: as the local operator,
    who may ask anything); the reply carries the answer's data so chat channels can render it
    their own way. ``notes``: lines said after the answer (the documents beside the question
    that were not read), so that the one reply covers the whole message."""
    result = answer_question(session, question, asker=asker, settings=settings, today=today,
                             is_operator=is_operator, images=images)
    if result.answered:
        outcome = Outcome.question(result.intent)
    elif result.refused_reason:
        outcome = Outcome.QUESTION_REFUSED
    else:
        outcome = Outcome.QUESTION_NOT_UNDERSTOOD
    html, attachments = answer_html(result.result, tuple(result.attachments),
                                    (*result.notes, *notes))
    text = "\n\n".join([result.text, *notes]) if notes else result.text
    reply = Reply(message.thread, text, html=html, attachments=attachments,
                  data=result.to_json())
    return HandlerResult(outcome, reply)
