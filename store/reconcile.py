"""Bringing a report's row in line with what the store did with it.

Usually the store agrees with validation and nothing changes. When it does not (another file
landed in between), the row's flags are set to the outcome and its ``unchanged`` /
``changed-from-previous`` issue is replaced by the right one, worded as validation words it.
"""

from __future__ import annotations

import logging

from kernel import wording
from validation.columns import COUNT_KEYS, FIELD_BY_KEY, Edition
from validation.issues import Issue
from validation.report import FileReport, ParsedRow

logger = logging.getLogger(__name__)

_STORE_CODES = frozenset({"unchanged", "changed-from-previous"})


def expected_outcome(row: ParsedRow) -> str:
    """What validation expected the store to do with a row."""
    if row.hard:
        return "rejected"
    if row.held:
        return "held"
    return "unchanged" if row.unchanged else "accepted"


def reconcile_row(
    report: FileReport, row: ParsedRow, outcome: str, old: dict[str, int | None] | None
) -> None:
    """Set ``row``'s flags to ``outcome`` and fix its store-related issue if it differs."""
    expected = expected_outcome(row)
    row.held = outcome == "held"
    row.unchanged = outcome == "unchanged"
    if outcome == "rejected":
        row.hard = True
    if outcome == expected:
        return
    logger.info(
        "row %s of %s: expected %s, stored as %s", row.sheet_row, report.file, expected, outcome
    )
    report.issues[:] = [
        i for i in report.issues if not (i.row == row.sheet_row and i.code in _STORE_CODES)
    ]
    issue = _issue_for(report, row, outcome, old)
    if issue is not None:
        report.issues.append(issue)


def _issue_for(
    report: FileReport, row: ParsedRow, outcome: str, old: dict[str, int | None] | None
) -> Issue | None:
    edition = report.edition or Edition.UK
    marac = row.marac_name or ""
    shown_date = row.meeting_date.strftime("%d/%m/%Y") if row.meeting_date else ""
    if outcome == "unchanged":
        return Issue.make(
            "unchanged",
            cell=f"A{row.sheet_row}",
            column=FIELD_BY_KEY["marac"].header(edition),
            value=marac,
            marac=marac,
            meeting_date=shown_date,
            sheet=report.sheet,
            row=row.sheet_row,
        )
    if outcome == "held" and old is not None:
        changes = [
            (k, old.get(k), row.counts.get(k))
            for k in COUNT_KEYS
            if old.get(k) != row.counts.get(k)
        ]
        field = FIELD_BY_KEY[changes[0][0]]
        return Issue.make(
            "changed-from-previous",
            cell=f"{field.letter}{row.sheet_row}",
            column=field.header(edition),
            value=changes[0][2],
            marac=marac,
            meeting_date=shown_date,
            sheet=report.sheet,
            row=row.sheet_row,
            changes=wording.changes_text(
                [
                    (FIELD_BY_KEY[k].letter, FIELD_BY_KEY[k].header(edition), a, b)
                    for k, a, b in changes
                ]
            ),
        )
    if outcome == "rejected":
        return Issue.make(
            "unknown-marac",
            cell=f"A{row.sheet_row}",
            column=FIELD_BY_KEY["marac"].header(edition),
            value=row.marac_text,
            sheet=report.sheet,
            row=row.sheet_row,
        )
    return None
