"""The question engine's values: what a question names (``Entities``) and what comes back
(``Finding`` as data, then ``Answer`` once rendered)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kernel.messages import Attachment
from kernel.quarters import FinancialYear, Quarter


@dataclass(frozen=True)
class Area:
    """A group of Maracs named in a question: a region, a police force area or a nation."""

    kind: str  # "region" | "police_force_area" | "nation"
    name: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name}


@dataclass(frozen=True)
class Unknown:
    """Words left over once everything recognised is taken out: perhaps a misspelt name."""

    text: str
    after_place_word: bool  # "in Narnia", "for Croydn": it stands where a place would


@dataclass(frozen=True)
class Entities:
    """Everything recognised in a question, and what was left over."""

    maracs: tuple[str, ...] = ()  # canonical names, in the order named
    area: Area | None = None
    extra_areas: tuple[Area, ...] = ()  # further areas named ("London and the South East")
    quarter: Quarter | None = None
    year: FinancialYear | None = None
    period_unclear: str | None = None  # a quarter phrase that names no single quarter
    national: bool = False  # "nationally", "all Maracs", "England and Wales"
    mine: bool = False  # "my Marac", "my Maracs"
    metric: str | None = None  # a key of handlers.questions.metrics.METRICS
    unknown: tuple[Unknown, ...] = ()
    residual: str = ""  # the question with names blanked out, which intents are matched on


@dataclass(frozen=True)
class Finding:
    """A handler's result as data: the engine renders it (reports/answers.py) into an Answer.

    ``data`` is JSON-ready (strings, numbers, booleans, lists, dicts) and holds everything the
    text says, so Slack blocks or Teams cards can be rendered from the same data later.
    ``data["problem"]`` names why a question was not answered ("unknown-name", "refused", …).
    """

    intent: str
    answered: bool
    data: dict[str, Any]
    attachments: tuple[Attachment, ...] = ()
    refused_reason: str | None = None


@dataclass(frozen=True)
class Answer:
    """What ``answer_question`` returns: the rendered text and the data it came from."""

    intent: str
    answered: bool
    text: str
    data: dict[str, Any] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()
    refused_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``marac-bot ask --json`` object (interface.md), plus what it attached."""
        return {
            "intent": self.intent,
            "answered": self.answered,
            "answer": self.text,
            "data": self.data,
            "attachments": [a.filename for a in self.attachments],
            "refused_reason": self.refused_reason,
        }
