"""The question engine's entry point: who is asking, what the question names, which kind of
question it is, then the handler's typed value rendered as text (reports/answers.py)."""

from __future__ import annotations

import logging
from datetime import date
from enum import IntEnum

from sqlalchemy.orm import Session

from handlers.questions.context import Ask, doubtful_name, refusal, unknown_places
from handlers.questions.entities import extract
from handlers.questions.matchers import Route, help_finding, route
from handlers.questions.model import Answer, Entities, Finding, TakenAs, problem_of
from handlers.questions.registry import RegistrySnapshot
from handlers.questions.scope import scope_for
from handlers.questions.typos import take_misspellings
from kernel import wording
from kernel.answers import Refusal
from kernel.config import Policy
from reports import answers
from store.models import Contact

logger = logging.getLogger(__name__)


def answer_question(
    session: Session,
    text: str,
    *,
    asker: Contact | None,
    settings: Policy,
    today: date,
    is_operator: bool = False,
    images: bool = True,
) -> Answer:
    """Answer one dashboard question as ``asker`` (spec §6 roles; ``is_operator`` is the local
    command line, which may ask anything). A question that cannot be parsed gets help, never
    a guess; one the asker may not ask is refused with the reason. Read-only.

    ``images=False`` leaves out the grid's PNG (text-only channels such as the command line):
    drawing it takes far longer than answering (see reports/grid.py).
    """
    scope = scope_for(session, asker, is_operator=is_operator)
    taken: tuple[TakenAs, ...] = ()
    unknown: tuple[str, ...] = ()
    if scope is None:
        finding = refusal("refused", Refusal("not-registered"))
    else:
        registry = RegistrySnapshot.load(session)
        entities, found = _read(text, registry, today)
        taken, unknown = entities.taken, unknown_places(entities)
        ask = Ask(session, settings, today, scope, registry, entities, images)
        finding = found.handler(ask) if found is not None else help_finding(understood=False)
    logger.info(
        "question %r from %s: %s (%s)",
        text[:200],
        "operator" if is_operator else (asker.email if asker else "unknown"),
        finding.intent,
        "answered" if finding.answered else problem_of(finding.result),
    )
    if not finding.answered:
        return _render(finding, (), ())
    return _render(finding, taken, unknown)


class Understanding(IntEnum):
    """How well the engine reads a text, best last: to choose between the sentences of an
    email body and its subject (handlers/ask.py) by what would be answered, not by phrasing."""

    NONE = 0  # no kind of question fits: "Could you let me know?" gets only help
    DOUBTFUL = 1  # a kind of question, but a name or period it cannot settle ("… in error")
    VAGUE = 2  # a question about returns that names nothing: "have you received it?"
    CLEAR = 3  # names what it asks about, or needs nothing named ("how do I send it?")


# Kinds of question whose answer needs no Marac, area, period or figure: a word of theirs
# that is no name ("taken over") is just a word.
_NEEDS_NO_NAME = frozenset({"help", "how-to", "template", "meaning"})


def understanding(session: Session, text: str, *, today: date) -> Understanding:
    """How well ``answer_question`` would read ``text``, parsed as it parses it but not
    answered (nothing is looked up beyond the registry, and who asks does not matter)."""
    registry = RegistrySnapshot.load(session)
    entities, found = _read(text, registry, today)
    if found is None:
        return Understanding.NONE
    if found.intent in _NEEDS_NO_NAME:  # their answers read no name or period
        return Understanding.CLEAR
    if entities.period_unclear or doubtful_name(registry, entities) is not None:
        return Understanding.DOUBTFUL
    named = (entities.maracs or entities.area or entities.quarter or entities.year
             or entities.national or entities.mine or entities.metric)
    return Understanding.CLEAR if named else Understanding.VAGUE


def _read(text: str, registry: RegistrySnapshot, today: date) -> tuple[Entities, Route | None]:
    """What ``text`` names (misspelt names read as the names they are) and where it goes."""
    entities = take_misspellings(extract(text, registry, today=today), registry)
    return entities, route(entities)


def _render(finding: Finding, taken: tuple[TakenAs, ...], unknown: tuple[str, ...]) -> Answer:
    text = answers.render_text(finding.result)
    if taken:  # said on the headline, where the name is
        head, _, rest = text.partition("\n")
        notes = " ".join(wording.taken_as_note(t.said, t.name) for t in taken)
        text = f"{head} {notes}" + (f"\n{rest}" if rest else "")
    if unknown:  # beneath what was answered: "Croydon and Narnia" is not Croydon alone
        text = "\n".join([text, *map(wording.unknown_place_note, unknown)])
    return Answer(
        intent=finding.intent,
        answered=finding.answered,
        text=text,
        result=finding.result,
        attachments=finding.attachments,
        refused_reason=finding.refused_reason,
        taken=taken,
        unknown_places=unknown,
    )
