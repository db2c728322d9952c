"""Quarters as people write them in questions, beyond what kernel/quarters.py reads from a
subject line: month names without a year ("Oct-Dec", "October to December", "the December
quarter", "quarter ending March") mean the most recent such quarter that has started, as a
bare "Q3" does; and a year that makes no sense ("Q3 -1/0", "2087/88") is an error to say, not
something to ignore and answer a different quarter.
"""

from __future__ import annotations

import re
from datetime import date

from kernel.quarters import FinancialYear, Quarter

_MONTHS = {
    name: number
    for number, full in enumerate(
        ("january", "february", "march", "april", "may", "june", "july", "august",
         "september", "october", "november", "december"), 1)
    for name in (full, full[:3], *(("sept",) if number == 9 else ()))
}  # fmt: skip
_MONTH = "(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?(?![a-z])"
_NO_YEAR = r"(?!,? ?(?:\d{4}|\d{2}/))"  # not followed by a year: kernel/quarters reads those

_RANGE = re.compile(
    rf"(?<![a-z])(?P<m1>{_MONTH}) ?(?:-|to|through|until|till|thru) ?(?P<m2>{_MONTH})"
    r"(?:(?: quarter| qtr)?(?: of| in)?,? (?P<y>(?:19|20)\d\d)(?![/\d]))?"
)
_ENDING = re.compile(
    rf"(?<![a-z])(?:quarter|three months|3 months|qtr|period) (?:ending|ended|ends|end|to|up to) "
    rf"(?:the end of |end of |on |in )?(?:\d{{1,2}}(?:st|nd|rd|th)? )?(?P<m>{_MONTH}){_NO_YEAR}"
)
# "the most recent quarter", "the quarter just ended": the last one that ended.
_RECENT = re.compile(
    r"\b(?:most recent|latest|last (?:full|complete|completed)|previous full) quarter\b"
    r"|\bquarter (?:just|that has just|that just) (?:ended|finished|gone)\b"
)
_MONTH_QUARTER = re.compile(rf"(?<![a-z])(?P<m>{_MONTH}) (?:quarter|qtr)\b")
# Something written like a financial year ("2024/25", "-1/0", "24-25"), checked for sense.
_YEARISH = re.compile(r"(?<![\w/.])(?:fy ?)?-?\d{1,4} ?/ ?-?\d{1,4}(?![\w/])")
# Financial years outside these bounds make no sense for Marac returns.
_FIRST_YEAR = 1990
_YEARS_AHEAD = 1


def quarter_without_year(text: str, *, today: date) -> Quarter | str | None:
    """The quarter a yearless month phrase names (the most recent such that has started), the
    phrase itself when it names no whole quarter ("Oct-Nov", "the November quarter"), or None
    when there is no such phrase."""
    text = text.replace("–", "-").replace("—", "-")
    found: set[Quarter] = set()
    taken: list[tuple[int, int]] = []  # "April-June quarter" is one range, not "June quarter"
    for match in _RANGE.finditer(text):
        taken.append(match.span())
        first, last = _month(match["m1"]), _month(match["m2"])
        if first not in (1, 4, 7, 10) or last != first + 2:
            return match.group()
        if match["y"]:  # "the April-June quarter 2024": that calendar year's months
            found.add(Quarter.containing(date(int(match["y"]), first, 1)))
        else:
            found.add(_most_recent_started(first, today))
    for pattern in (_ENDING, _MONTH_QUARTER):
        for match in pattern.finditer(text):
            if any(start <= match.start() < end for start, end in taken):
                continue
            last = _month(match["m"])
            if last not in (3, 6, 9, 12):
                return match.group()
            found.add(_most_recent_started(last - 2, today))
    if _RECENT.search(text):
        found.add(Quarter.containing(today).previous())
    if len(found) > 1:
        return " and ".join(sorted(q.label for q in found))
    return found.pop() if found else None


def senseless_year(text: str, *, today: date) -> str | None:
    """A financial year written in ``text`` that cannot be one, or is far outside the years
    Maracs have sent data for ("-1/0", "2024/26", "2087/88"); None when every one is fine."""
    for match in _YEARISH.finditer(text):
        written = match.group().replace(" ", "")
        if "-" not in written and min(map(len, written.removeprefix("fy").split("/"))) < 2:
            continue  # "3/10" is a day, not a year
        year = FinancialYear.parse(written)
        if year is None or not _FIRST_YEAR <= year.start_year <= today.year + _YEARS_AHEAD:
            return match.group()
    return None


def _month(name: str) -> int:
    return _MONTHS[name.rstrip(".")]


def _most_recent_started(first_month: int, today: date) -> Quarter:
    """The quarter starting in ``first_month`` that began most recently on or before today."""
    start = date(today.year if first_month <= today.month else today.year - 1, first_month, 1)
    return Quarter.containing(start)
