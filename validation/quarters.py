"""Quarters of the UK financial year (spec §2) as a value type.

A financial year runs 1 April to 31 March and is named by its start year: 2024/25 starts
1 April 2024. ``Quarter(2024, 3)`` is "Q3 2024/25", 1 Oct – 31 Dec 2024.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

DEFAULT_DUE_DAYS = 28

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))


@dataclass(frozen=True, order=True)
class FinancialYear:
    """A UK financial year, named by the calendar year it starts in."""

    start_year: int

    @property
    def label(self) -> str:
        return f"{self.start_year}/{(self.start_year + 1) % 100:02d}"

    @property
    def start(self) -> date:
        return date(self.start_year, 4, 1)

    @property
    def end(self) -> date:
        return date(self.start_year + 1, 3, 31)

    @property
    def quarters(self) -> tuple[Quarter, Quarter, Quarter, Quarter]:
        y = self.start_year
        return (Quarter(y, 1), Quarter(y, 2), Quarter(y, 3), Quarter(y, 4))

    @classmethod
    def containing(cls, day: date) -> FinancialYear:
        return cls(day.year if day.month >= 4 else day.year - 1)

    @classmethod
    def parse(cls, text: str, *, today: date | None = None) -> FinancialYear | None:
        """Parse "2024/25", "2024-25", "24/25", "2024/2025", "this year", "last year"."""
        cleaned = text.strip().lower()
        if today is not None:
            current = cls.containing(today)
            if cleaned in {"this year", "this financial year", "current year"}:
                return current
            if cleaned in {"last year", "last financial year", "previous year"}:
                return cls(current.start_year - 1)
        start = _parse_year_pair(cleaned)
        return cls(start) if start is not None else None

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True, order=True)
class Quarter:
    """One quarter of a financial year: ``Quarter(2024, 3)`` is Q3 2024/25."""

    year: int
    number: int

    def __post_init__(self) -> None:
        if self.number not in (1, 2, 3, 4):
            raise ValueError(f"quarter number must be 1-4, not {self.number}")

    @property
    def financial_year(self) -> FinancialYear:
        return FinancialYear(self.year)

    @property
    def label(self) -> str:
        return f"Q{self.number} {self.financial_year.label}"

    @property
    def start(self) -> date:
        month = 4 + 3 * (self.number - 1)
        year = self.year
        if month > 12:
            month -= 12
            year += 1
        return date(year, month, 1)

    @property
    def end(self) -> date:
        return self.next().start - timedelta(days=1)

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def due_date(self, due_days: int = DEFAULT_DUE_DAYS) -> date:
        """The day this quarter's data is due: ``due_days`` after the quarter ends."""
        return self.end + timedelta(days=due_days)

    def range_text(self) -> str:
        """The date range as people write it: "1 Oct – 31 Dec 2024"."""
        start, end = self.start, self.end
        if start.year == end.year:
            return f"{start.day} {start:%b} – {end.day} {end:%b} {end.year}"
        return f"{start.day} {start:%b} {start.year} – {end.day} {end:%b} {end.year}"

    def describe(self) -> str:
        """Label with its range, as every answer that names a quarter states it once."""
        return f"{self.label} ({self.range_text()})"

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)

    @classmethod
    def containing(cls, day: date) -> Quarter:
        fy = FinancialYear.containing(day)
        number = ((day.month - 4) % 12) // 3 + 1
        return cls(fy.start_year, number)

    @classmethod
    def from_label(cls, label: str) -> Quarter:
        """Strict parse of the canonical label "Q3 2024/25"; raises ValueError otherwise."""
        match = re.fullmatch(r"Q([1-4]) (\d{4})/(\d{2})", label.strip())
        if not match or (int(match[2]) + 1) % 100 != int(match[3]):
            raise ValueError(f"not a quarter label: {label!r}")
        return cls(int(match[2]), int(match[1]))

    @classmethod
    def parse(cls, text: str, *, today: date) -> Quarter | None:
        """Parse the loose phrasings of spec §2; ``None`` when the text names no quarter.

        "Q3", "q3 24/25", "Q3 2024-25", "Oct-Dec 2024", "quarter ending December 2024",
        "last quarter", "this quarter". A bare "Q3" is the most recent Q3 that has started.
        """
        cleaned = re.sub(r"\s+", " ", text.strip().lower())
        return (
            _parse_relative(cleaned, today)
            or _parse_q_number(cleaned, today)
            or _parse_month_range(cleaned)
            or _parse_quarter_ending(cleaned)
        )

    @classmethod
    def find_in(cls, text: str, *, today: date) -> Quarter | None:
        """Find a quarter named anywhere in free text (an email subject, a question)."""
        cleaned = re.sub(r"\s+", " ", text.lower())
        for pattern in _FIND_PATTERNS:
            for match in pattern.finditer(cleaned):
                found = cls.parse(match.group(0), today=today)
                if found is not None:
                    return found
        return None

    def __str__(self) -> str:
        return self.label


def _parse_year_pair(text: str) -> int | None:
    """Start year from "2024/25", "2024-25", "24/25", "2024/2025", "fy24/25"."""
    match = re.fullmatch(r"(?:fy ?)?(\d{2}|\d{4}) ?[/-] ?(\d{2}|\d{4})", text)
    if not match:
        return None
    first, second = match[1], match[2]
    start = int(first) if len(first) == 4 else 2000 + int(first)
    end = int(second) if len(second) == 4 else (start // 100) * 100 + int(second)
    if end != start + 1 and not (len(second) == 2 and (start + 1) % 100 == int(second)):
        return None
    return start


def _parse_relative(text: str, today: date) -> Quarter | None:
    current = Quarter.containing(today)
    if text in {"this quarter", "current quarter"}:
        return current
    if text in {"last quarter", "previous quarter"}:
        return current.previous()
    return None


def _parse_q_number(text: str, today: date) -> Quarter | None:
    match = re.fullmatch(r"(?:q|quarter ?)([1-4])(?:[ ,]*(?:of )?(?:fy ?)?(.+))?", text)
    if not match:
        return None
    number = int(match[1])
    year_text = match[2]
    if year_text is None:
        return _most_recent_started(number, today)
    fy = FinancialYear.parse(year_text.strip())
    return Quarter(fy.start_year, number) if fy else None


def _most_recent_started(number: int, today: date) -> Quarter:
    fy = FinancialYear.containing(today)
    candidate = Quarter(fy.start_year, number)
    return candidate if candidate.start <= today else Quarter(fy.start_year - 1, number)


def _parse_month_range(text: str) -> Quarter | None:
    match = re.fullmatch(rf"({_MONTH_RE})\w*\.? ?(?:-|–|to) ?({_MONTH_RE})\w*\.? ?(\d{{4}})", text)
    if not match:
        return None
    first, last, year = _MONTHS[match[1]], _MONTHS[match[2]], int(match[3])
    if (last - first) % 12 != 2 or first not in (1, 4, 7, 10):
        return None
    return Quarter.containing(date(year, last, 1))


def _parse_quarter_ending(text: str) -> Quarter | None:
    match = re.fullmatch(rf"(?:the )?quarter end(?:ing|ed|s)? (?:in )?({_MONTH_RE})\w* (\d{{4}})", text)
    if not match:
        return None
    month, year = _MONTHS[match[1]], int(match[2])
    if month not in (3, 6, 9, 12):
        return None
    return Quarter.containing(date(year, month, 1))


_FIND_PATTERNS = [
    re.compile(r"\b(?:this|last|current|previous) quarter\b"),
    re.compile(r"\bq[1-4](?: (?:fy ?)?\d{2,4} ?[/-] ?\d{2,4})?\b"),
    re.compile(rf"\b(?:{_MONTH_RE})\w*\.? ?(?:-|–|to) ?(?:{_MONTH_RE})\w*\.? ?\d{{4}}\b"),
    re.compile(rf"\bquarter end(?:ing|ed|s)? (?:in )?(?:{_MONTH_RE})\w* \d{{4}}\b"),
]
