"""Replies to submissions, as text and the attachments that go with them (interface.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from kernel import wording
from kernel.messages import XLSX_TYPE, Attachment
from reports.annotate import annotate_workbook, issues_csv
from reports.text import issue_line, outcome_line
from validation.issues import Severity
from validation.report import FileReport

# Past this many hard (or soft) issues in one file the reply says "and N more" and attaches
# the full list: a coordinator reads the first screenful, the rest is for the spreadsheet.
ISSUE_CAP = 15



@dataclass(frozen=True)
class ReceivedFile:
    """A file as it came in, with its report after validation and recording."""

    filename: str
    data: bytes
    report: FileReport


def submission_text(files: Sequence[ReceivedFile], *, held_until: date | None,
                    notes: Sequence[str] = ()) -> str:
    """Outcome lines first, then ``notes`` (e.g. the files not processed), then each file's
    hard and soft issues, capped."""
    lines = [wording.SUBMISSION_OPENING, ""]
    lines += [outcome_line(f.report, checked_only=False) for f in files]
    for note in notes:
        lines += ["", note]
    for received in files:
        lines += _issue_section(received.report)
    if any(f.report.rows_held for f in files):
        lines += ["", wording.confirm_instructions(held_until)]
    if any(_needs_annotation(f.report) for f in files):
        lines += ["", wording.ANNOTATED_NOTE]
    return "\n".join(lines).rstrip() + "\n"


def _issue_section(report: FileReport) -> list[str]:
    lines: list[str] = []
    for severity in (Severity.HARD, Severity.SOFT):
        issues = report.by_severity(severity)
        if severity is Severity.HARD:
            issues = [i for i in issues if not i.is_file_level]  # already in the outcome line
        if not issues:
            continue
        lines += ["", f"{report.file}: {wording.SEVERITY_HEADINGS[severity.value]}"]
        lines += [issue_line(i) for i in issues[:ISSUE_CAP]]
        omitted = report.omitted_count(severity)
        more = len(issues) - len(issues[:ISSUE_CAP]) + omitted
        if more:
            lines.append(wording.and_more(more, all_listed=not omitted))
    return lines


def submission_attachments(files: Sequence[ReceivedFile]) -> tuple[Attachment, ...]:
    """The annotated copy of each file with issues, and the full list when a list was capped."""
    out: list[Attachment] = []
    for received in files:
        report = received.report
        if not _needs_annotation(report):
            continue
        stem = received.filename.rsplit(".", 1)[0]
        annotated = annotate_workbook(received.data, received.filename, report)
        out.append(Attachment(f"{stem}-checked.xlsx", annotated, XLSX_TYPE))
        if _capped(report):
            out.append(Attachment(f"{stem}-issues.csv", issues_csv(report), "text/csv"))
    return tuple(out)


def _needs_annotation(report: FileReport) -> bool:
    return any(i.severity is not Severity.INFO for i in report.issues)


def _capped(report: FileReport) -> bool:
    return bool(report.omitted) or any(
        len(report.by_severity(s)) > ISSUE_CAP for s in (Severity.HARD, Severity.SOFT))
