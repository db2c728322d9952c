"""A Marac's history, for the command line and for questions (issue 13): which meetings a
request means (a day, a quarter, or all), and the figures "as they stood at the end of a day"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy.orm import Session

from kernel.quarters import Quarter
from store.history import MeetingHistory, histories

_MONTHS = {m: n for n, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_SLASHED = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})\b")  # UK order: day first
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:\s+(\d{{4}}))?\b")
_MONTH_DAY = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?\b")


def day_in(text: str, *, today: date) -> date | None:
    """A meeting day written in ``text`` ("3 Oct 2024", "3rd October", "Oct 3", "2024-10-03",
    "03/10/2024"); without a year, the latest such day on or before ``today``."""
    lowered = text.lower()
    if m := _ISO.search(lowered):
        return _day(int(m[1]), int(m[2]), int(m[3]))
    if m := _SLASHED.search(lowered):
        year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
        return _day(year, int(m[2]), int(m[1]))
    if m := _DAY_MONTH.search(lowered):
        return _with_year(int(m[1]), _MONTHS[m[2]], m[3], today)
    if m := _MONTH_DAY.search(lowered):
        return _with_year(int(m[2]), _MONTHS[m[1]], m[3], today)
    return None


def _day(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _with_year(day: int, month: int, year: str | None, today: date) -> date | None:
    if year is not None:
        return _day(int(year), month, day)
    found = _day(today.year, month, day)
    if found is not None and found > today:
        found = _day(today.year - 1, month, day)
    return found


def end_of_day(day: date, tz: tzinfo) -> datetime:
    """The last moment of ``day`` where the bot runs: "as it stood at the end of that day"."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz) - timedelta(
        microseconds=1
    )


@dataclass(frozen=True)
class Period:
    """Which of a Marac's meetings a history request means."""

    day: date | None = None
    quarter: Quarter | None = None

    @property
    def label(self) -> str | None:
        from kernel import wording

        if self.day is not None:
            return wording.day_text(self.day)
        return self.quarter.label if self.quarter is not None else None


def period_of(text: str | None, *, today: date) -> Period | None:
    """A day or a quarter from ``text`` (None or blank: every meeting); None if it is neither."""
    if text is None or not text.strip():
        return Period()
    if (day := day_in(text, today=today)) is not None:
        return Period(day=day)
    if (quarter := Quarter.parse(text, today=today)) is not None:
        return Period(quarter=quarter)
    return None


def stories(session: Session, marac_id: int, period: Period) -> list[MeetingHistory]:
    quarters = [period.quarter.label] if period.quarter is not None else None
    return histories(session, marac_id, meeting_date=period.day, quarters=quarters)
