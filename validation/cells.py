"""Turning one cell's value into a date, a count or a name (spec §3).

Each converter returns a ``Converted``: the value, and whether it was blank, read as-is,
normalised from text, or invalid. Blank stays distinct from 0 throughout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum
from typing import Any, Generic, TypeVar

from validation.safe_text import safe_display_text

T = TypeVar("T")

_EXCEL_EPOCH = date(1899, 12, 30)
# A workbook in the 1904 date system (Excel for Mac) counts from 1 Jan 1904: its serial 0 is
# the 1900 system's serial 1462.
_DAYS_1900_TO_1904 = 1462
# Serial numbers for 1 Jan 2000 .. 31 Dec 2099: anything else is not a meeting date.
_SERIAL_RANGE = (36526, 73415)
_TEXT_DATE_FORMATS = ("%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%Y/%m/%d",
                      "%d %b %Y", "%d %B %Y", "%d-%b-%Y", "%d-%b-%y", "%d %b %y",
                      # Excel's long date, as a .csv saves what the cell shows: "Thursday,
                      # 3 October 2024" (UK), with or without the comma; the US order is
                      # named in words, so it cannot be misread.
                      "%A, %d %B %Y", "%A %d %B %Y", "%a, %d %b %Y", "%a %d %b %Y",
                      "%A, %B %d, %Y")
_INT_TEXT = re.compile(r"[0-9]+(?:\.0+)?")


class Status(Enum):
    BLANK = "blank"
    OK = "ok"
    NORMALISED = "normalised"
    INVALID = "invalid"


@dataclass(frozen=True)
class Converted(Generic[T]):
    status: Status
    value: T | None = None

    @property
    def usable(self) -> bool:
        return self.status in (Status.OK, Status.NORMALISED)


# "2147483647.0" and a few spaces: longer text cannot be a count (and float() of 400 nines is
# infinity).
_MAX_COUNT_TEXT = 20


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# The largest count a database integer column holds. No meeting comes near it; a figure past
# it ("9" typed 400 times, 1e300) is a slip of the keyboard, and storing it would fail.
MAX_COUNT = 2_147_483_647


def to_count(value: Any, *, text_native: bool = False) -> Converted[int]:
    """A whole number >= 0; text "12" and "12.0" are read as 12 and noted."""
    if is_blank(value):
        return Converted(Status.BLANK)
    if isinstance(value, (bool, date, time, timedelta)):
        return Converted(Status.INVALID)
    if isinstance(value, int):
        return Converted(Status.OK, value) if 0 <= value <= MAX_COUNT else Converted(Status.INVALID)
    if isinstance(value, float):
        if value.is_integer() and 0 <= value <= MAX_COUNT:
            return Converted(Status.OK, int(value))
        return Converted(Status.INVALID)
    text = str(value).strip()
    if not _INT_TEXT.fullmatch(text) or len(text) > _MAX_COUNT_TEXT:
        return Converted(Status.INVALID)
    number = int(float(text))
    if number > MAX_COUNT:
        return Converted(Status.INVALID)
    plain = text.isdigit() and (text == "0" or not text.startswith("0"))
    status = Status.OK if (text_native and plain) else Status.NORMALISED
    return Converted(status, number)


# A meeting date outside these years is a slip (an .ods "0001-01-01", "31/12/9999"), not a
# meeting: read as invalid, since no quarter or financial year can be built around it.
EARLIEST_YEAR, LATEST_YEAR = 1900, 9990


def to_date(value: Any, *, text_native: bool = False, date1904: bool = False
            ) -> Converted[date]:
    """A real date, an Excel serial number (counted from 1904 in a ``date1904`` workbook),
    or text in UK order or ISO form."""
    shift = _DAYS_1900_TO_1904 if date1904 else 0
    converted = _to_date(value, text_native=text_native, shift=shift)
    if converted.value is not None and not EARLIEST_YEAR <= converted.value.year <= LATEST_YEAR:
        return Converted(Status.INVALID)
    return converted


def _to_date(value: Any, *, text_native: bool, shift: int) -> Converted[date]:
    if is_blank(value):
        return Converted(Status.BLANK)
    if isinstance(value, datetime):
        return Converted(Status.OK, value.date())
    if isinstance(value, date):
        return Converted(Status.OK, value)
    if isinstance(value, bool):
        return Converted(Status.INVALID)
    if isinstance(value, (int, float)):
        return _from_serial(value + shift, Status.OK)
    text = str(value).strip()
    if re.fullmatch(r"\d{5}(?:\.\d+)?", text):
        return _from_serial(float(text) + shift, Status.OK if text_native else Status.NORMALISED)
    parsed = _parse_text_date(text)
    if parsed is None:
        return Converted(Status.INVALID)
    is_plain_csv = text_native and re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{2}-\d{2}", text)
    return Converted(Status.OK if is_plain_csv else Status.NORMALISED, parsed)


def _from_serial(serial: float, status: Status) -> Converted[date]:
    if not _SERIAL_RANGE[0] <= serial <= _SERIAL_RANGE[1]:
        return Converted(Status.INVALID)
    return Converted(status, _EXCEL_EPOCH + timedelta(days=int(serial)))


def _parse_text_date(text: str) -> date | None:
    candidate = re.sub(r"\s+", " ", text)
    candidate = re.sub(r"[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$", "", candidate)
    for fmt in _TEXT_DATE_FORMATS:
        try:
            return datetime.strptime(candidate, fmt).date()
        except ValueError:
            continue
    return None


def to_name(value: Any) -> Converted[str]:
    """A Marac name, trimmed of surrounding and repeated spaces (noted when that changed it),
    without control or bidirectional characters and at most 200 characters long: a cell of a
    million letters or a right-to-left override is not a name to echo back or store."""
    if is_blank(value):
        return Converted(Status.BLANK)
    raw = value if isinstance(value, str) else _number_text(value)
    cleaned = safe_display_text(re.sub(r"\s+", " ", raw))  # linear; cut to 200 at the end
    if not cleaned:
        return Converted(Status.BLANK)
    return Converted(Status.OK if cleaned == raw else Status.NORMALISED, cleaned)


def _number_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
