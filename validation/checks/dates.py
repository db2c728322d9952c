"""Meeting dates: not in the future, and inside the declared quarter when there is one."""

from __future__ import annotations

from collections.abc import Iterator

from validation.checks.base import RowView, row_check
from validation.context import ValidationContext
from validation.issues import Issue


@row_check("future-date", "date-outside-quarter")
def check_meeting_date(row: RowView, context: ValidationContext) -> Iterator[Issue]:
    day = row.parsed.meeting_date
    if day is None:
        return
    shown = day.strftime("%d/%m/%Y")
    if day > context.today:
        yield row.issue("future-date", "meeting_date", value=shown)
    quarter = context.declared_quarter
    if quarter is not None and not quarter.contains(day):
        yield row.issue("date-outside-quarter", "meeting_date", value=shown,
                        quarter=quarter.describe())
