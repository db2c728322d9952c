"""Plain-text rendering of validation outcomes for people (the CLI; email builds on it)."""

from __future__ import annotations

from collections.abc import Sequence

from kernel import wording
from validation.issues import Issue, Severity, shown
from validation.report import FileReport, RowTally

_COLOURS = {Severity.HARD: "\033[31m", Severity.SOFT: "\033[33m", Severity.INFO: "\033[36m"}
_RESET = "\033[0m"


def outcome_line(report: FileReport, *, checked_only: bool, tally: RowTally | None = None
                 ) -> str:
    """The one-line summary of a file (interface.md: email behaviour); ``tally``: the
    report's ``tally()``, if the caller has it already."""
    rejected = next((i for i in report.issues if i.is_hard and i.is_file_level), None)
    tally = tally or report.tally()
    return wording.file_outcome_line(
        file=report.file,
        rows_total=tally.total,
        rows_accepted=tally.accepted,
        rows_held=tally.held,
        rows_unchanged=tally.unchanged,
        maracs=report.maracs,
        quarters=[q.describe() for q in report.quarters],
        rejected_reason=rejected.message if rejected else None,
        checked_only=checked_only,
    )


def issue_line(issue: Issue) -> str:
    sheet = issue.sheet and f"[{shown(issue.sheet)}]"  # a hand-made file's may be thousands long
    where = " ".join(x for x in (sheet, issue.cell) if x)
    message = issue.message
    if issue.cell:  # a message that starts with its cell does not say it twice ("B6: B6:")
        message = message.removeprefix(f"{issue.cell}: ")
    return f"  {where + ': ' if where else ''}{message} ({issue.code})"


def render_report(report: FileReport, *, colour: bool, checked_only: bool) -> str:
    """Summary line, then hard, soft and info issues, then the counts."""
    tally = report.tally()
    lines = [outcome_line(report, checked_only=checked_only, tally=tally)]
    for severity in (Severity.HARD, Severity.SOFT, Severity.INFO):
        issues = [i for i in report.by_severity(severity) if not i.is_file_level]
        if not issues:
            continue
        title = wording.severity_heading(severity.value, checked_only=checked_only)
        heading = f"{title} ({len(issues)}):"
        lines.append(_paint(heading, severity, colour))
        lines.extend(issue_line(i) for i in issues)
    lines.append(wording.counts_line(
        total=tally.total, accepted=tally.accepted, rejected=tally.rejected, held=tally.held,
        unchanged=tally.unchanged, checked_only=checked_only,
    ))
    return "\n".join(lines)


def render_reports(reports: Sequence[FileReport], *, colour: bool, checked_only: bool) -> str:
    return "\n\n".join(render_report(r, colour=colour, checked_only=checked_only) for r in reports)


def _paint(text: str, severity: Severity, colour: bool) -> str:
    return f"{_COLOURS[severity]}{text}{_RESET}" if colour else text
