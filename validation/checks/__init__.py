"""The check units, in the order they run. Each declares the codes it may emit."""

from validation.checks.bands import check_quarter_bands
from validation.checks.base import FileCheck, RowCheck, RowView
from validation.checks.consistency import check_children, check_minoritised, check_referrals_sum
from validation.checks.counts import (
    check_bounded_by_cases,
    check_cases_present,
    check_ethnic_groups,
    check_zero_cases,
)
from validation.checks.dates import check_meeting_date
from validation.checks.duplicates import check_duplicate_meetings
from validation.checks.history import check_against_stored
from validation.checks.registry import check_marac_known

# Row rules that need nothing but the row.
ROW_CHECKS: tuple[RowCheck, ...] = (
    check_marac_known,
    check_meeting_date,
    check_cases_present,
    check_bounded_by_cases,
    check_ethnic_groups,
    check_zero_cases,
    check_referrals_sum,
    check_children,
    check_minoritised,
)
# Rules over the whole file, run after the row rules.
FILE_CHECKS: tuple[FileCheck, ...] = (check_duplicate_meetings,)
# Rules that compare with what is stored: only for rows with no hard issue.
STORED_ROW_CHECKS: tuple[RowCheck, ...] = (check_against_stored,)
QUARTER_CHECKS: tuple[FileCheck, ...] = (check_quarter_bands,)

__all__ = ["FILE_CHECKS", "QUARTER_CHECKS", "ROW_CHECKS", "STORED_ROW_CHECKS", "RowView"]
