"""One value per kind of question answered (handlers/questions/intents): what the answer
says, as data. reports/answers.py words each; ``to_dict`` is its ``ask --json`` ``data``.

The upload grid's answer wraps reports/grid.py's ``Grid``, so it lives beside it
(reports/answers.py ``GridAnswer``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kernel.answers.figures import Figures
from kernel.answers.parts import (
    HeldChange,
    Json,
    MissingMarac,
    PlaceInfo,
    QuarterInfo,
    QuarterStatus,
    Received,
    ScopeInfo,
    State,
    YearInfo,
)
from kernel.config import Bands
from kernel.national_rule import RuleNote


@dataclass(frozen=True)
class HasUploaded:
    """'has Croydon uploaded Q3?': yes or no, when and by whom, meetings, cases, held
    changes."""

    marac: str
    period: QuarterInfo
    quarter_defaulted: bool  # no quarter was named: the last one that ended
    uploaded: bool
    state: State
    meetings: int
    cases: int | None  # None when nothing was sent
    cases_blank_meetings: int
    received: Received | None
    held_changes: tuple[HeldChange, ...]
    # "when is Q3 due?": the due date is said even once it is sent (a hint to the wording:
    # the date itself is in ``period``, so ``ask --json`` stays as it was).
    asked_due: bool = False

    def to_dict(self) -> Json:
        return {
            "marac": self.marac,
            "quarter": self.period.label,
            "period": self.period.to_dict(),
            "quarter_defaulted": self.quarter_defaulted,
            "uploaded": self.uploaded,
            "state": self.state.value,
            "meetings": self.meetings,
            "cases": self.cases,
            "cases_blank_meetings": self.cases_blank_meetings,
            "received": self.received.to_dict() if self.received else None,
            "held_changes": [h.to_dict() for h in self.held_changes],
        }


@dataclass(frozen=True)
class Missing:
    """'who hasn't uploaded Q2?' (``focus`` "missing") and 'who has uploaded Q2?' ("uploaded"):
    the Maracs asked about that have and have not sent a quarter; 'who has missed two
    quarters in a row?' ("in-a-row"): only those that missed the quarter before it too."""

    period: QuarterInfo
    quarter_defaulted: bool
    previous_quarter: str
    place: PlaceInfo
    scope: ScopeInfo
    focus: Literal["missing", "uploaded", "in-a-row"]
    uploaded: tuple[str, ...]  # the Maracs that have sent it, by name
    details: tuple[MissingMarac, ...]  # those that have not

    @property
    def maracs_asked(self) -> int:
        return self.place.maracs

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(d.marac for d in self.details)

    def to_dict(self) -> Json:
        return {
            "quarter": self.period.label,
            "period": self.period.to_dict(),
            "quarter_defaulted": self.quarter_defaulted,
            "previous_quarter": self.previous_quarter,
            "place": self.place.to_dict(),
            "scope": self.scope.to_dict(),
            "focus": self.focus,
            "maracs_asked": self.maracs_asked,
            "uploaded": list(self.uploaded),
            "missing": list(self.missing),
            "overdue": self.period.overdue,
            "details": [d.to_dict() for d in self.details],
        }


@dataclass(frozen=True)
class Status:
    """'status Croydon': each quarter of a Marac's financial year."""

    marac: str
    year: YearInfo
    year_defaulted: bool
    quarters: tuple[QuarterStatus, ...]

    @property
    def meetings(self) -> int:
        return sum(q.meetings for q in self.quarters)

    @property
    def cases(self) -> int:
        return sum(q.cases or 0 for q in self.quarters)

    def to_dict(self) -> Json:
        return {
            "marac": self.marac,
            "year": self.year.to_dict(),
            "year_defaulted": self.year_defaulted,
            "quarters": [q.to_dict() for q in self.quarters],
            "meetings": self.meetings,
            "cases": self.cases,
        }


@dataclass(frozen=True)
class FigurePeriod:
    """The quarter or the financial year figures were asked over."""

    span: QuarterInfo | YearInfo
    defaulted: bool  # no period was named: the last quarter that ended
    quarters: tuple[str, ...]  # the quarters summed, by label

    def to_dict(self) -> Json:
        kind = "quarter" if isinstance(self.span, QuarterInfo) else "year"
        head: Json = {"kind": kind, "defaulted": self.defaulted, "quarters": list(self.quarters)}
        return head | self.span.to_dict()


@dataclass(frozen=True)
class Figure:
    """'repeat rate for Leeds Q1': one figure of spec §5 (``metric`` "all": every one)."""

    metric: str  # a key of handlers/questions/metrics.py METRICS
    place: PlaceInfo
    scope: ScopeInfo
    period: FigurePeriod
    figures: Figures
    # Figures of more than one Marac follow the national rule (kernel/national_rule.py):
    # who was filled from a previous quarter, who was left out. None for one Marac's own.
    rule: RuleNote | None = None

    def to_dict(self) -> Json:
        found: Json = {
            "metric": self.metric,
            "place": self.place.to_dict(),
            "scope": self.scope.to_dict(),
            "period": self.period.to_dict(),
            "figures": self.figures.to_dict(),
        }
        return found if self.rule is None else found | {"national_rule": self.rule.to_dict()}


@dataclass(frozen=True)
class Summary(Figure):
    """'national picture 2024/25', 'summary Q3': every figure at once, headed as a picture."""


@dataclass(frozen=True)
class Template:
    """'template': a blank data template, made out for a Marac when there is one."""

    marac: str | None
    edition: str  # validation.columns.Edition value
    file: str

    def to_dict(self) -> Json:
        return {"marac": self.marac, "edition": self.edition, "file": self.file}


@dataclass(frozen=True)
class HowTo:
    """'how do I send you our data?', 'where is the template', "I'm the new coordinator": how
    to send a return, which return is due next and by when, and a blank template made out for
    each of the asker's Maracs (attached)."""

    mailbox: str
    maracs: tuple[str, ...]  # the asker's own Maracs
    next_return: QuarterInfo
    templates: tuple[str, ...]  # the attached templates' file names
    welcome: bool  # a first contact ("I'm the new coordinator")

    def to_dict(self) -> Json:
        return {"mailbox": self.mailbox, "maracs": list(self.maracs),
                "next_return": self.next_return.to_dict(), "templates": list(self.templates),
                "welcome": self.welcome}


@dataclass(frozen=True)
class Meaning:
    """'what does repeat rate mean?': what a figure counts and how it is worked out, with its
    band and national reference where it has them (spec §5)."""

    metric: str  # a key of the question engine's figures ("repeat_rate", "per_10k", …)
    bands: Bands

    def to_dict(self) -> Json:
        return {"metric": self.metric}


@dataclass(frozen=True)
class HelpTopic:
    intent: str
    examples: tuple[str, ...]

    def to_dict(self) -> Json:
        return {"intent": self.intent, "examples": list(self.examples)}


@dataclass(frozen=True)
class Help:
    """What can be asked; ``understood`` False when it answers a question not understood."""

    topics: tuple[HelpTopic, ...]
    understood: bool = True

    def to_dict(self) -> Json:
        found: Json = {"topics": [t.to_dict() for t in self.topics]}
        return found if self.understood else found | {"problem": "not-understood"}
