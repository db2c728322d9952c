"""Quarters of the UK financial year (spec §2) as a value type.

A financial year runs 1 April to 31 March and is named by its start year: 2024/25 starts
1 April 2024. ``Quarter(2024, 3)`` is "Q3 2024/25", 1 Oct – 31 Dec 2024.

People name quarters loosely ("q3 24/25", "Oct-Dec 2024", "quarter ended 31 March 2025",
"last quarter"); ``Quarter.parse`` reads one such phrase and ``Quarter.find_in`` finds one in
free text. Both answer ``None`` rather than guess when the phrase is impossible or ambiguous.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date, timedelta
from functools import cache, lru_cache

DEFAULT_DUE_DAYS = 28

# English names on purpose: calendar.month_name and strftime("%b") follow the process locale.
_MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_MONTHS = {name: i for i, name in enumerate(_MONTH_NAMES, 1)}
_MONTHS.update({name[:3]: i for i, name in enumerate(_MONTH_NAMES, 1)})
_MONTHS["sept"] = 9


@dataclass(frozen=True, order=True)
class FinancialYear:
    """A UK financial year, named by the calendar year it starts in."""

    start_year: int

    def __post_init__(self) -> None:
        # Q4 ends in start_year + 1, which must still be a valid date year.
        if not MINYEAR <= self.start_year < MAXYEAR:
            raise ValueError(f"financial year out of range: {self.start_year}")

    @property
    def label(self) -> str:
        """The canonical label, "2024/25"."""
        return f"{self.start_year:04d}/{(self.start_year + 1) % 100:02d}"

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

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    @classmethod
    def containing(cls, day: date) -> FinancialYear:
        """The financial year a day falls in."""
        return cls(day.year if day.month >= 4 else day.year - 1)

    @classmethod
    def parse(cls, text: str, *, today: date | None = None) -> FinancialYear | None:
        """Parse "2024/25", "2024-25", "24/25", "2024/2025", "FY 2024/25", "this year", "last year".

        "this year" and "last year" are financial years and need ``today``; without it they
        answer ``None``. Two-digit years are 20xx.
        """
        cleaned = _clean(text)
        if today is not None and (relative := _RELATIVE_YEAR.fullmatch(cleaned)):
            current = cls.containing(today)
            return current if relative[1] in ("this", "current") else cls(current.start_year - 1)
        pair = _YEAR_PAIR.fullmatch(cleaned)
        start = _start_year(pair[1], pair[2]) if pair else None
        return cls(start) if start is not None else None

    @classmethod
    def find_in(cls, text: str, *, today: date) -> FinancialYear | None:
        """The one financial year named in free text ("cases in Leeds in 2023/24?").

        ``None`` when none is named, one is impossible ("2024/26"), or two different ones are.
        """
        found = {cls.parse(m[0], today=today) for m in _fy_mention().finditer(_clean(text))}
        return found.pop() if len(found) == 1 else None

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True, order=True)
class Quarter:
    """One quarter of a financial year: ``Quarter(2024, 3)`` is Q3 2024/25.

    ``year`` is the financial year's start year; ordering follows time.
    """

    year: int
    number: int

    def __post_init__(self) -> None:
        if self.number not in (1, 2, 3, 4):
            raise ValueError(f"quarter number must be 1-4, not {self.number}")
        FinancialYear(self.year)  # checks the year range

    @property
    def financial_year(self) -> FinancialYear:
        return FinancialYear(self.year)

    @property
    def label(self) -> str:
        """The canonical label, "Q3 2024/25"."""
        return f"Q{self.number} {self.financial_year.label}"

    @property
    def start(self) -> date:
        month = 4 + 3 * (self.number - 1)
        return date(self.year, month, 1) if month <= 12 else date(self.year + 1, month - 12, 1)

    @property
    def end(self) -> date:
        last_month = self.start.month + 2
        return self.start.replace(month=last_month, day=_last_day(self.start.year, last_month))

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def due_date(self, due_days: int = DEFAULT_DUE_DAYS) -> date:
        """The day this quarter's data is due: ``due_days`` after the quarter ends."""
        if due_days < 0:
            raise ValueError(f"due_days must not be negative, not {due_days}")
        return self.end + timedelta(days=due_days)

    def range_text(self) -> str:
        """The date range as people write it: "1 Oct – 31 Dec 2024" (never spans two years)."""
        start, end = self.start, self.end
        return f"1 {_abbr(start.month)} – {end.day} {_abbr(end.month)} {end.year}"

    def describe(self) -> str:
        """Label with its range, as every answer that names a quarter states it once."""
        return f"{self.label} ({self.range_text()})"

    def next(self) -> Quarter:
        """The quarter after this one."""
        if self.number == 4:
            return Quarter(self.year + 1, 1)
        return Quarter(self.year, self.number + 1)

    def previous(self) -> Quarter:
        """The quarter before this one."""
        if self.number == 1:
            return Quarter(self.year - 1, 4)
        return Quarter(self.year, self.number - 1)

    @classmethod
    def containing(cls, day: date) -> Quarter:
        """The quarter a day (a meeting date) falls in."""
        number = ((day.month - 4) % 12) // 3 + 1
        return cls(FinancialYear.containing(day).start_year, number)

    @classmethod
    def from_label(cls, label: str) -> Quarter:
        """Strict parse of the canonical label "Q3 2024/25"; raises ValueError otherwise."""
        match = re.fullmatch(r"Q([1-4]) (\d{4})/(\d{2})", label.strip())
        if not match or (int(match[2]) + 1) % 100 != int(match[3]):
            raise ValueError(f"not a quarter label: {label!r}")
        return cls(int(match[2]), int(match[1]))

    @classmethod
    def parse(cls, text: str, *, today: date) -> Quarter | None:
        """Read one loose phrasing of spec §2; ``None`` when it names no quarter or a bad one.

        "Q3", "q3 24/25", "Q3 2024-25", "Q3 FY24/25", "quarter 3 2024/25", "2024/25 Q3",
        "Oct-Dec 2024", "1 Oct – 31 Dec 2024", "quarter ending December 2024",
        "quarter ended 31 March 2025", "last quarter", "this quarter". A bare "Q3" is the most
        recent Q3 that has started on ``today``. "Q3 2024" is ambiguous (calendar or financial
        year?) and so is ``None``.
        """
        cleaned = _clean(text).strip(" .,;:!?()'\"")
        for pattern, convert in _phrases():
            if match := pattern.fullmatch(cleaned):
                return _convert(convert, match, today)
        return None

    @classmethod
    def find_in(cls, text: str, *, today: date) -> Quarter | None:
        """The one quarter named anywhere in free text (an email subject, a question).

        A mention with a year (or "last quarter") beats a bare "Q3". ``None`` when nothing is
        named, when any mention is impossible or ambiguous ("Q3 2024/23", "Oct-Nov 2024"), or
        when equally specific mentions name different quarters.
        """
        if len(text) <= _KEPT_TEXT:
            return _found_in_kept(text, today)
        return _found_in(text, today)

    def __str__(self) -> str:
        return self.label


# A message's subject is read for its quarter where it arrives, where its files are checked
# ahead and again where they are recorded (issue 14): short texts' answers are kept.
_KEPT_TEXT = 200


def _found_in(text: str, today: date) -> Quarter | None:
    mentions = list(_mentions(_clean(text), today))
    if any(quarter is None for _, quarter in mentions):
        return None
    specific = {quarter for bare, quarter in mentions if not bare}
    found = specific or {quarter for _, quarter in mentions}
    return found.pop() if len(found) == 1 else None


_found_in_kept = lru_cache(maxsize=256)(_found_in)


def _clean(text: str) -> str:
    """Lower case, one space between words, en and em dashes as hyphens."""
    return re.sub(r"\s+", " ", text.lower().replace("–", "-").replace("—", "-")).strip()


def _abbr(month: int) -> str:
    return _MONTH_NAMES[month - 1][:3].title()


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _start_year(first: str, second: str) -> int | None:
    """Start year of "2024"/"25", "24"/"25", "2024"/"2025" when they are consecutive years."""
    start = int(first) if len(first) == 4 else 2000 + int(first)
    follows = int(second) == (start + 1 if len(second) == 4 else (start + 1) % 100)
    return start if follows and MINYEAR <= start < MAXYEAR else None


# --- phrase patterns -------------------------------------------------------------------------
# Boundaries: not inside a word, and not part of a longer date such as 2024-10-03 or 03/10/2024.
_B = r"(?<!\w)(?<!\d[/-])"
_E = r"(?!\w|[/-]\d)"
_MONTH = "(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + ")(?![a-z])"
_PAIR = r"(?:fy ?|financial year )?(?:\d{4}|\d{2}) ?[/-] ?(?:\d{4}|\d{2})"
_YEAR_WORDS = r"(?:this|current|last|previous|prior) (?:financial )?year"
_YEAR_PAIR = re.compile(r"(?:fy ?|financial year )?(\d{4}|\d{2}) ?[/-] ?(\d{4}|\d{2})")
_RELATIVE_YEAR = re.compile(r"(this|current|last|previous|prior) (?:financial )?year")
_FY_MENTION = rf"{_B}(?:{_PAIR}|{_YEAR_WORDS}){_E}"
_ORDINAL_WORDS = ("first", "second", "third", "fourth", "1st", "2nd", "3rd", "4th")
_ORDINALS = {word: i % 4 + 1 for i, word in enumerate(_ORDINAL_WORDS)}
_NUMBER = rf"(?:(?:q|qtr|quarter) ?(?P<n>[1-4])|(?P<ord>{'|'.join(_ORDINALS)}) quarter)"


def _day(name: str) -> str:
    """An optional day of the month before a month name: "31 ", "31st "."""
    return rf"(?:(?P<{name}>\d{{1,2}})(?:st|nd|rd|th)? )?"


_RELATIVE_RE = rf"{_B}(?:the )?(?P<which>this|current|last|previous|prior) quarter{_E}"
# "Q3", "Q3 2024/25", "quarter 3 of FY24/25", "third quarter last year"; "Q3 2024" is captured
# too, so that it is recognised as ambiguous rather than read as a bare "Q3".
_NUMBER_YEAR_RE = (
    rf"{_B}{_NUMBER}(?:[ ,:(-]+(?:(?:of|for|in) )?"
    rf"(?P<fy>{_PAIR}|{_YEAR_WORDS}|(?:fy ?)?\d{{4}})\)?)?{_E}"
)
_YEAR_NUMBER_RE = rf"{_B}(?P<fy>{_PAIR})[ ,:-]+{_NUMBER}{_E}"
# "Oct-Dec 2024", "October to December 2024", "1 Oct – 31 Dec 2024", "Oct 2024 - Dec 2024".
_MONTH_RANGE_RE = (
    rf"{_B}{_day('d1')}(?P<m1>{_MONTH})\.?(?: (?P<y1>\d{{4}}))?(?: ?- ?| to | through | until )"
    rf"{_day('d2')}(?P<m2>{_MONTH})\.?,? (?P<y2>\d{{4}}){_E}"
)
# "quarter ending Dec 2024", "quarter ended 31 March 2025", "three months to 31/12/2024".
_ENDING_RE = (
    rf"{_B}(?:quarter|three months|3 months) (?:ending|ended|ends|end|to) (?:on |in )?"
    rf"(?:{_day('d')}(?P<m>{_MONTH})\.?,? (?P<y>\d{{4}})"
    r"|(?P<nd>\d{1,2})/(?P<nm>\d{1,2})/(?P<ny>\d{4})"
    rf"|(?P<iy>\d{{4}})-(?P<im>\d{{2}})-(?P<id>\d{{2}})){_E}"
)

Converter = Callable[[re.Match[str], date], Quarter | None]


def _relative(match: re.Match[str], today: date) -> Quarter:
    current = Quarter.containing(today)
    return current if match["which"] in ("this", "current") else current.previous()


def _numbered(match: re.Match[str], today: date) -> Quarter | None:
    number = int(match["n"]) if match["n"] else _ORDINALS[match["ord"]]
    if match["fy"] is None:
        return _most_recent_started(number, today)
    fy = FinancialYear.parse(match["fy"], today=today)
    return Quarter(fy.start_year, number) if fy else None


def _most_recent_started(number: int, today: date) -> Quarter:
    candidate = Quarter(FinancialYear.containing(today).start_year, number)
    return candidate if candidate.start <= today else Quarter(candidate.year - 1, number)


def _month_range(match: re.Match[str], today: date) -> Quarter | None:
    first, last, year = _MONTHS[match["m1"]], _MONTHS[match["m2"]], int(match["y2"])
    whole = (
        first in (1, 4, 7, 10)
        and last == first + 2
        and (match["y1"] is None or int(match["y1"]) == year)
        and (match["d1"] is None or int(match["d1"]) == 1)
        and (match["d2"] is None or int(match["d2"]) == _last_day(year, last))
    )
    return Quarter.containing(date(year, first, 1)) if whole else None


def _quarter_ending(match: re.Match[str], today: date) -> Quarter | None:
    if match["m"]:
        year, month, day = int(match["y"]), _MONTHS[match["m"]], match["d"]
    elif match["ny"]:
        year, month, day = int(match["ny"]), int(match["nm"]), match["nd"]
    else:
        year, month, day = int(match["iy"]), int(match["im"]), match["id"]
    if month not in (3, 6, 9, 12) or (day is not None and int(day) != _last_day(year, month)):
        return None
    return Quarter.containing(date(year, month, 1))


# The longer patterns are compiled when first used (~4 ms together): most commands read no
# quarter phrase (``validate`` without --quarter, ``--help``), and should not wait for them.
@cache
def _phrases() -> tuple[tuple[re.Pattern[str], Converter], ...]:
    return (
        (re.compile(_RELATIVE_RE), _relative),
        (re.compile(_NUMBER_YEAR_RE), _numbered),
        (re.compile(_YEAR_NUMBER_RE), _numbered),
        (re.compile(_MONTH_RANGE_RE), _month_range),
        (re.compile(_ENDING_RE), _quarter_ending),
    )


@cache
def _fy_mention() -> re.Pattern[str]:
    return re.compile(_FY_MENTION)


def _convert(convert: Converter, match: re.Match[str], today: date) -> Quarter | None:
    try:
        return convert(match, today)
    except ValueError:  # a date that cannot exist: "quarter ending 31/13/2024", year 0000
        return None


def _mentions(text: str, today: date) -> Iterator[tuple[bool, Quarter | None]]:
    """Every quarter phrase in text, as (is it a bare "Q3" without a year, its quarter)."""
    for pattern, convert in _phrases():
        for match in pattern.finditer(text):
            bare = match.groupdict().get("fy", "") is None
            yield bare, _convert(convert, match, today)


def is_tracked(quarter: Quarter, track_from: Quarter | None) -> bool:
    """Whether uploads of ``quarter`` are chased (and its absence counts as missing): every
    quarter from ``track_from`` on (MARAC_TRACK_FROM), or every quarter when it is unset."""
    return track_from is None or quarter >= track_from
