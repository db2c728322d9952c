"""The figures of spec §5 as an answer (and the national picture) gives them: totals, shares
of cases against their bands and the national reference, cases per 10,000 adult women, and
the Idva and administrator capacity they call for.

A share is taken over the meetings that filled in both figures, and says how many were blank.
"""

from __future__ import annotations

from dataclasses import dataclass

from kernel.answers.parts import Json


@dataclass(frozen=True)
class Count:
    """A summed field: its total over the meetings that filled it in."""

    total: int
    blank_meetings: int

    def to_dict(self) -> Json:
        return {"total": self.total, "blank_meetings": self.blank_meetings}


@dataclass(frozen=True)
class Rate:
    """A count as a share of cases (``value`` None when no meeting gave both)."""

    value: float | None
    count: int
    of_cases: int
    blank_meetings: int

    def to_dict(self) -> Json:
        return {"value": self.value, "count": self.count, "of_cases": self.of_cases,
                "blank_meetings": self.blank_meetings}


@dataclass(frozen=True)
class Share(Rate):
    """A share with the national reference beside it (None where there is none)."""

    national: float | None

    def to_dict(self) -> Json:
        return super().to_dict() | {"national": self.national}


@dataclass(frozen=True)
class RepeatRate(Rate):
    """Repeat cases: a usual range, the national rate, and where this one falls."""

    low: float
    high: float
    national: float
    position: str | None  # "below" | "within" | "above"; None without a value

    def to_dict(self) -> Json:
        return super().to_dict() | {"low": self.low, "high": self.high,
                                    "national": self.national, "position": self.position}


@dataclass(frozen=True)
class PoliceShare(Rate):
    """Referrals by the police: a usual maximum, and where this one falls."""

    high: float
    position: str | None

    def to_dict(self) -> Json:
        return super().to_dict() | {"high": self.high, "position": self.position}


@dataclass(frozen=True)
class PartnerShare:
    """Referrals by partner agencies: one less the police share."""

    value: float | None
    blank_meetings: int
    national: float

    def to_dict(self) -> Json:
        return {"value": self.value, "blank_meetings": self.blank_meetings,
                "national": self.national}


@dataclass(frozen=True)
class Per10k:
    """Cases per 10,000 adult women a year, over the Maracs whose population is known."""

    value: float | None
    annual_cases: float | None
    population: int | None
    maracs_without_population: int
    expected: float
    national: float

    def to_dict(self) -> Json:
        return {"value": self.value, "annual_cases": self.annual_cases,
                "population": self.population,
                "maracs_without_population": self.maracs_without_population,
                "expected": self.expected, "national": self.national}


@dataclass(frozen=True)
class Fte:
    """The capacity (full-time equivalents) the cases call for, and the expected ones."""

    actual: float | None
    expected: float | None
    annual_cases: float | None
    expected_cases: float | None
    cases_per_fte: float

    def to_dict(self) -> Json:
        return {"actual": self.actual, "expected": self.expected,
                "annual_cases": self.annual_cases, "expected_cases": self.expected_cases,
                "cases_per_fte": self.cases_per_fte}


# What a summed field gives: a total, or a share (the police share brings the partner one).
FieldFigure = Count | Rate | PartnerShare
FigureValue = Count | Rate | PartnerShare | Per10k | Fte


@dataclass(frozen=True)
class Figures:
    """The §5 figures of some Maracs over a period. ``fields`` holds the figures of the
    fields asked for, by metric key ("children", "repeat_rate", …), in the order asked."""

    maracs_asked: int
    maracs_submitted: int
    meetings: int
    cases: Count
    few_cases: bool  # fewer cases than rates are worth reading over
    min_cases_for_rates: int
    fields: tuple[tuple[str, FieldFigure], ...]
    per_10k: Per10k
    annual_cases: float | None
    expected_annual_cases: float | None
    idva_fte: Fte
    admin_fte: Fte

    def of(self, key: str) -> FigureValue | None:
        """The figure a metric key names ("cases", "per_10k", "repeat_rate", …), if given."""
        fixed: dict[str, FigureValue] = {"cases": self.cases, "per_10k": self.per_10k,
                                    "idva_fte": self.idva_fte, "admin_fte": self.admin_fte}
        return fixed.get(key) or next((f for k, f in self.fields if k == key), None)

    def rate(self, key: str) -> Rate | None:
        """A share of cases by its metric key ("repeat_rate", "police_share", …)."""
        found = self.of(key)
        return found if isinstance(found, Rate) else None

    def to_dict(self) -> Json:
        head: Json = {
            "maracs_asked": self.maracs_asked,
            "maracs_submitted": self.maracs_submitted,
            "meetings": self.meetings,
            "cases": self.cases.to_dict(),
            "few_cases": self.few_cases,
            "min_cases_for_rates": self.min_cases_for_rates,
        }
        return head | {key: figure.to_dict() for key, figure in self.fields} | {
            "per_10k": self.per_10k.to_dict(),
            "annual_cases": self.annual_cases,
            "expected_annual_cases": self.expected_annual_cases,
            "idva_fte": self.idva_fte.to_dict(),
            "admin_fte": self.admin_fte.to_dict(),
        }
