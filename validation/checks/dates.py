"""Meeting dates: not in the future, and inside the declared quarter when there is one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import numpy as np

from kernel import wording
from validation.checks.base import table_check
from validation.context import ValidationContext, quarter_of_meetings
from validation.issues import Issue
from validation.table import Table


@table_check("future-date", "date-outside-quarter", "quarter-from-meetings")
def check_meeting_date(table: Table, context: ValidationContext) -> Iterator[Issue]:
    day = table.day_number  # date.toordinal(); 0 where there is no usable date
    dated = day > 0
    for i in np.flatnonzero(dated & (day > context.today.toordinal())).tolist():
        yield table.issue("future-date", i, "meeting_date", value=_shown(table, i))
    quarter = context.declared_quarter
    if quarter is None:
        return
    if not context.declared_year_given:  # "Q1 return": the meetings may say which Q1
        days = (date.fromordinal(d) for d in day[dated].tolist())
        found = quarter_of_meetings(quarter, days)
        if found is not None:
            quarter = found
            yield Issue.make("quarter-from-meetings", sheet=table.layout.sheet.name,
                             declared=f"Q{found.number}", quarter=found.describe(),
                             year=found.year, number=found.number)
    outside = (day < quarter.start.toordinal()) | (day > quarter.end.toordinal())
    for i in np.flatnonzero(dated & outside).tolist():
        yield table.issue("date-outside-quarter", i, "meeting_date", value=_shown(table, i),
                          quarter=quarter.describe())


def _shown(table: Table, i: int) -> str:
    day = table.meeting_date[i]
    assert day is not None
    return wording.day_text(day)
