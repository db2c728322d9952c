"""'how do I send you our data?', 'where is the template', "I'm the new coordinator": how to
send a return, the next return and its due date, and a template made out for each of the
asker's Maracs. Nothing is looked up but the registry: a first contact must always get this."""

from __future__ import annotations

import re

from handlers.questions.context import Ask
from handlers.questions.intents.template import template_for
from handlers.questions.model import Finding
from handlers.questions.period import default_quarter, quarter_info
from handlers.questions.registry import MaracEntry
from kernel.answers import HowTo
from kernel.quarters import Quarter

INTENT = "how-to"
# A coordinator of many Maracs gets a template for each, up to this many (one blank beyond).
MAX_TEMPLATES = 6
_WELCOME = re.compile(
    r"\bnew (?:marac )?(?:co-?ordinator|chair|administrator|admin|manager|contact)\b"
    r"|\b(?:just|recently) (?:started|joined|taken over)\b|\btaken over\b|\bfirst time\b"
)


def answer(ask: Ask) -> Finding:
    maracs = _maracs(ask)
    chosen: list[MaracEntry | None] = list(maracs[:MAX_TEMPLATES]) or [None]
    if len(maracs) > MAX_TEMPLATES:
        chosen.append(None)
    attachments = tuple(template_for(m)[0] for m in chosen)
    value = HowTo(
        mailbox=ask.settings.mailbox_address,
        maracs=tuple(m.name for m in maracs),
        next_return=quarter_info(_next_return(ask), today=ask.today, due_days=ask.due_days),
        templates=tuple(a.filename for a in attachments),
        welcome=bool(_WELCOME.search(ask.entities.residual)),
    )
    return Finding(INTENT, True, value, attachments=attachments)


def _maracs(ask: Ask) -> list[MaracEntry]:
    """The Maracs named that the asker may send for, else the asker's own."""
    named = [ask.registry.maracs[n] for n in ask.entities.maracs if n in ask.scope.own]
    own = [ask.registry.maracs[n] for n in sorted(ask.scope.own) if n in ask.registry.maracs]
    return named or own


def _next_return(ask: Ask) -> Quarter:
    """The return people are working on: the quarter just ended until its due date has
    passed, then the quarter now running."""
    ended = default_quarter(ask.today)
    if ask.today <= ended.due_date(ask.due_days):
        return ended
    return ended.next()
