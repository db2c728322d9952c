"""The check units, in the order they run. Each declares the codes it may emit."""

from validation.checks.bands import check_quarter_bands
from validation.checks.base import (
    FileCheck,
    RowCheck,
    RowView,
    TableCheck,
    file_check,
    row_check,
    row_views,
    table_check,
)
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

# Row rules that ask the registry, one row at a time. They go by the registry's names for the
# Maracs, which validate resolves before any check (validation.names), as do the rules after
# them (duplicates, the stored meetings, the quarter bands).
ROW_CHECKS: tuple[RowCheck, ...] = (check_marac_known,)
# Row rules that need nothing but the row, each run over the whole table at once.
TABLE_CHECKS: tuple[TableCheck, ...] = (
    check_meeting_date,
    check_cases_present,
    check_bounded_by_cases,
    check_ethnic_groups,
    check_zero_cases,
    check_referrals_sum,
    check_children,
    check_minoritised,
    check_duplicate_meetings,
)
# Rules that compare with what is stored: only for rows with no hard issue.
STORED_ROW_CHECKS: tuple[RowCheck, ...] = (check_against_stored,)
QUARTER_CHECKS: tuple[FileCheck, ...] = (check_quarter_bands,)

__all__ = [
    "QUARTER_CHECKS",
    "ROW_CHECKS",
    "STORED_ROW_CHECKS",
    "TABLE_CHECKS",
    "FileCheck",
    "RowCheck",
    "RowView",
    "TableCheck",
    "file_check",
    "row_check",
    "row_views",
    "table_check",
]
