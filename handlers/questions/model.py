"""The question engine's values: what a question names (``Entities``) and what comes back
(``Finding`` as a typed value, then ``Answer`` once rendered)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kernel import wording
from kernel.answers import Area, Help, Json, Problem
from kernel.messages import Attachment
from kernel.quarters import FinancialYear, Quarter
from reports.answers import Result

__all__ = ["Answer", "Area", "Entities", "Finding", "TakenAs", "Unknown", "problem_of"]


@dataclass(frozen=True)
class Unknown:
    """Words left over once everything recognised is taken out: perhaps a misspelt name."""

    text: str
    after_place_word: bool  # "in Narnia", "for Croydn": it stands where a place would
    said: str = ""  # as written, with its capitals ("Glasgow"), to quote back
    beside_place: bool = False  # "Croydon and Narnia": joined to a name by "and", "or", ","

    @property
    def quoted(self) -> str:
        return self.said or self.text


@dataclass(frozen=True)
class TakenAs:
    """A misspelt name read as the one name it is obviously close to ("Lambth" as Lambeth)."""

    said: str
    name: str

    def to_dict(self) -> dict[str, str]:
        return {"said": self.said, "taken_as": self.name}


@dataclass(frozen=True)
class Entities:
    """Everything recognised in a question, and what was left over."""

    maracs: tuple[str, ...] = ()  # canonical names, in the order named
    area: Area | None = None
    extra_areas: tuple[Area, ...] = ()  # further areas named ("London and the South East")
    quarter: Quarter | None = None
    year: FinancialYear | None = None
    period_unclear: str | None = None  # a quarter phrase that names no single quarter
    national: bool = False  # "nationally", "all Maracs", "Great Britain"
    mine: bool = False  # "my Marac", "my Maracs"
    metric: str | None = None  # a key of handlers.questions.metrics.METRICS
    unknown: tuple[Unknown, ...] = ()
    taken: tuple[TakenAs, ...] = ()  # misspellings read as names, said in the answer
    residual: str = ""  # the question with names blanked out, which intents are matched on


@dataclass(frozen=True)
class Finding:
    """A handler's result: the engine renders it (reports/answers.py) into an Answer.

    ``result`` is one typed value per kind of question (kernel/answers) or the reason it was
    not answered (a ``Problem``); it holds everything the text says, so Slack blocks or Teams
    cards can be rendered from it too.
    """

    intent: str
    answered: bool
    result: Result
    attachments: tuple[Attachment, ...] = ()
    refused_reason: str | None = None


def problem_of(result: Result) -> str | None:
    """Why a question was not answered ("unknown-name", "refused", …), None if it was."""
    if isinstance(result, Help):
        return None if result.understood else "not-understood"
    return result.problem if isinstance(result, Problem) else None


@dataclass(frozen=True)
class Answer:
    """What ``answer_question`` returns: the rendered text and the value it came from."""

    intent: str
    answered: bool
    text: str
    result: Result
    attachments: tuple[Attachment, ...] = ()
    refused_reason: str | None = None
    taken: tuple[TakenAs, ...] = ()
    unknown_places: tuple[str, ...] = ()  # listed beside a known place, left out of the answer

    @property
    def notes(self) -> tuple[str, ...]:
        """What the text says about the question's names besides the answer: each misspelling
        taken as a name, each place listed with a known one that is unknown."""
        return (*(wording.taken_as_note(t.said, t.name) for t in self.taken),
                *map(wording.unknown_place_note, self.unknown_places))

    @property
    def data(self) -> Json:
        """The answer's value as JSON-ready data: the ``data`` of ``ask --json``."""
        return self.result.to_dict()

    def to_json(self) -> dict[str, Any]:
        """The ``marac-bot ask --json`` object (interface.md), plus what it attached."""
        found = {
            "intent": self.intent,
            "answered": self.answered,
            "answer": self.text,
            "data": self.data,
            "attachments": [a.filename for a in self.attachments],
            "refused_reason": self.refused_reason,
        }
        if self.taken:  # only when a misspelt name was read as another
            found["taken_as"] = [t.to_dict() for t in self.taken]
        if self.unknown_places:  # only when a place named with a known one is unknown
            found["unknown_places"] = list(self.unknown_places)
        return found
