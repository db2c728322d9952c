"""Why a question was not answered, as data: a name not known, more than one place, a period
that names no single quarter, no Marac given, or a refusal (spec §6: who may ask what).
reports/answers.py words each; ``to_dict`` is its ``ask --json`` ``data``, named by
``problem``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from kernel.answers.parts import Area, Json, ScopeInfo


@dataclass(frozen=True)
class UnknownName:
    """Words that name no Marac or area, with the close names they may mean."""

    problem: ClassVar[str] = "unknown-name"
    name: str
    suggestions: tuple[str, ...]

    def to_dict(self) -> Json:
        return {"problem": self.problem, "name": self.name,
                "suggestions": list(self.suggestions)}


@dataclass(frozen=True)
class SeveralMaracs:
    problem: ClassVar[str] = "several-maracs"
    names: tuple[str, ...]

    def to_dict(self) -> Json:
        return {"problem": self.problem, "names": list(self.names)}


@dataclass(frozen=True)
class SeveralAreas:
    problem: ClassVar[str] = "several-areas"
    names: tuple[str, ...]

    def to_dict(self) -> Json:
        return {"problem": self.problem, "names": list(self.names)}


@dataclass(frozen=True)
class UnclearPeriod:
    """A quarter phrase that names no single quarter ("Q3 2024")."""

    problem: ClassVar[str] = "unclear-period"
    phrase: str
    # A Marac to show in the answer's example: the one asked about, else the asker's own.
    example: str | None = None

    def to_dict(self) -> Json:
        return {"problem": self.problem, "phrase": self.phrase}


@dataclass(frozen=True)
class NoMaracsIn:
    """A real place (a nation, region or police force area) with no Marac registered in it:
    said as such, never answered for every Marac instead."""

    problem: ClassVar[str] = "no-maracs-in-area"
    area: Area

    def to_dict(self) -> Json:
        return {"problem": self.problem, "area": self.area.to_dict()}


@dataclass(frozen=True)
class NeedMarac:
    """A question about one Marac that names none (and the asker has no single own one)."""

    problem: ClassVar[str] = "need-marac"

    def to_dict(self) -> Json:
        return {"problem": self.problem}


@dataclass(frozen=True)
class Refusal:
    """A question the asker may not ask, and about what."""

    problem: ClassVar[str] = "refused"
    reason: str  # "not-registered" | "outside-scope" | "no-maracs"
    marac: str | None = None
    area: Area | None = None
    scope: ScopeInfo | None = None

    def to_dict(self) -> Json:
        found: Json = {"problem": self.problem, "reason": self.reason}
        if self.marac is not None:
            found["marac"] = self.marac
        if self.area is not None:
            found["area"] = self.area.to_dict()
        if self.scope is not None:
            found["scope"] = self.scope.to_dict()
        return found


Problem = (
    UnknownName | SeveralMaracs | SeveralAreas | UnclearPeriod | NoMaracsIn | NeedMarac | Refusal
)
