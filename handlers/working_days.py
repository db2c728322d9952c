"""Working days per UK nation: Monday to Friday, less that nation's bank holidays.

The nations' bank holidays differ (the ``holidays`` package knows them): Scotland has 2 January
and St Andrew's Day but no Easter Monday, Northern Ireland has St Patrick's Day and the Battle of
the Boyne, England and Wales share theirs. A reminder follows the calendar of its Marac's nation.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

import holidays

logger = logging.getLogger(__name__)

# holidays.UK subdivisions, by the registry's nation names (and the spellings people use).
_SUBDIVISIONS = {
    "england": "ENG",
    "wales": "WLS",
    "cymru": "WLS",
    "scotland": "SCT",
    "northern ireland": "NIR",
    "ni": "NIR",
}
DEFAULT_SUBDIVISION = "ENG"
# Far more than any policy asks for; stops a broken calendar from looping for ever.
_MAX_STEPS = 400


def subdivision(nation: str) -> str:
    """The holidays.UK subdivision of a nation name; England's for a name we do not know."""
    key = " ".join(nation.lower().replace("&", " and ").split())
    found = _SUBDIVISIONS.get(key)
    if found is None:
        logger.warning("unknown nation %r: using the England and Wales bank holidays", nation)
        return DEFAULT_SUBDIVISION
    return found


class WorkingDays:
    """Working-day arithmetic for each nation; bank holidays are looked up once per nation."""

    def __init__(self) -> None:
        self._calendars: dict[str, holidays.HolidayBase] = {}

    def _holidays(self, nation: str) -> holidays.HolidayBase:
        code = subdivision(nation)
        if code not in self._calendars:
            # expand=True (the default) fills in each year on first use.
            self._calendars[code] = holidays.country_holidays("GB", subdiv=code)
        return self._calendars[code]

    def is_working_day(self, day: date, nation: str) -> bool:
        """True on a weekday that is not a bank holiday in ``nation``."""
        return day.weekday() < 5 and day not in self._holidays(nation)

    def shift(self, day: date, count: int, nation: str) -> date:
        """The ``count``-th working day after ``day`` (before it when ``count`` is negative).

        ``day`` itself is never counted: ``shift(d, 1)`` is the first working day after d and
        ``shift(d, -5)`` the fifth working day before it. ``count`` 0 gives ``day`` itself if
        it is a working day, else the next working day.
        """
        if count == 0:
            return day if self.is_working_day(day, nation) else self.shift(day, 1, nation)
        step = timedelta(days=1 if count > 0 else -1)
        remaining = abs(count)
        for _ in range(_MAX_STEPS):
            day += step
            if self.is_working_day(day, nation):
                remaining -= 1
                if remaining == 0:
                    return day
        raise ValueError(f"no {abs(count)} working days within {_MAX_STEPS} days of {day}")
