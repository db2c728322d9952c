"""Replies to submissions, as text, HTML and the attachments that go with them (interface.md).

The reply opens with what happened in words ("All 6 meetings recorded."), then one outcome
line per file, then each file's findings: identical ones across rows said once with their
cells, capped, without the internal codes (those stay in the JSON, the Issues sheet and the
CSV). The HTML part says the same as a table coloured like the annotated workbook.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from kernel import wording
from kernel.messages import XLSX_TYPE, Attachment
from reports.issue_groups import IssueGroup, group_issues
from reports.text import outcome_line
from validation.issues import Issue, Severity
from validation.report import FileReport

# Past this many hard (or soft) lines in one file the reply says "and N more" and attaches
# the full list: a coordinator reads the first screenful, the rest is for the spreadsheet.
ISSUE_CAP = 15


@dataclass(frozen=True)
class Recorded:
    """The submission a file was recorded as: a new one, or the earlier one of a file that
    came again under the same message."""

    number: int
    filename: str
    sender: str


@dataclass(frozen=True)
class ReceivedFile:
    """A file as it came in, with its report after validation and recording."""

    filename: str
    data: bytes
    report: FileReport
    recorded: Recorded | None = None  # None until recorded (a check only, a form's entry)
    # The name whose ending says the format, when the file's own does not ("Lambeth Q3
    # return" sent as an .xlsx): the annotated copy is read by it. Empty: ``filename``.
    read_as: str = ""

    @property
    def read_name(self) -> str:
        return self.read_as or self.filename


@dataclass(frozen=True)
class IssueSection:
    """One file's findings of one severity, as the reply lists them."""

    file: str
    severity: Severity
    groups: tuple[IssueGroup, ...]  # at most ISSUE_CAP
    more: int  # found but not listed here
    all_listed: bool  # the attached list has every one of them

    @property
    def heading(self) -> str:
        return f"{self.file}: {wording.SEVERITY_HEADINGS[self.severity.value]}"


# A meeting sent again with different figures: held until confirmed (spec §4).
HELD_CHANGE = "changed-from-previous"
# A row for a Marac the sender may not send for.
NOT_AUTHORISED = "not-authorised"


def refused_maracs(report: FileReport) -> list[str]:
    """The Maracs of a file refused whole because its sender may not send for them (a manager
    forwarding a coordinator's return): every row refused for that alone. Empty for a file
    with rows taken or any other problem, whose reply says what to fix as usual."""
    if not report.rows_total or report.rows_rejected != report.rows_total:
        return []
    found = [i for i in report.issues if i.severity is not Severity.INFO]
    if any(i.code != NOT_AUTHORISED for i in found):
        return []
    return list(dict.fromkeys(str(i.value) for i in found))


def headline(files: Sequence[ReceivedFile]) -> str:
    """The reply's first line: what happened to the meetings, in words."""
    reports = [f.report for f in files]
    refused = [r for r in reports if refused_maracs(r)]
    return wording.submission_headline(
        total=sum(r.rows_total for r in reports),
        recorded=sum(r.rows_accepted for r in reports),
        held=sum(r.rows_held for r in reports),
        unchanged=sum(r.rows_unchanged for r in reports),
        to_fix=sum(r.rows_rejected for r in reports
                   if not r.rejected_file and r not in refused),
        unread=[r.file for r in reports if r.rejected_file],
        refused=sum(r.rows_total for r in refused),
        not_registered=list(dict.fromkeys(m for r in refused for m in refused_maracs(r))),
    )


def refusal_notes(files: Sequence[ReceivedFile]) -> list[str]:
    """For each file refused whole (``refused_maracs``): nothing recorded, and who to ask."""
    notes = []
    for received in files:
        maracs = refused_maracs(received.report)
        if maracs:
            team = str(received.report.issues[0].params.get("team", ""))
            notes.append(wording.not_registered_text(received.report.file, maracs, team))
    return notes


def submission_text(files: Sequence[ReceivedFile], *, held_until: date | None,
                    notes: Sequence[str] = ()) -> str:
    """Headline, outcome lines, ``notes`` (e.g. the files not processed), each file's hard and
    soft findings (capped), then what to do about held changes and the annotated copies."""
    lines = [headline(files), "", wording.SUBMISSION_THANKS, ""]
    lines += [outcome_line(f.report, checked_only=False) for f in files]
    lines += [line for note in refusal_notes(files) for line in ("", note)]
    lines += [line for note in notes for line in ("", note)]
    lines += [line for note in quarter_notes(files) for line in ("", note)]
    for section in issue_sections(files):
        lines += ["", section.heading]
        # A held change's advice is the closing paragraph's, said once rather than per meeting.
        lines += [f"  - {group.line(advice=group.code != HELD_CHANGE)}"
                  for group in section.groups]
        if section.more:
            lines.append(wording.and_more(section.more, all_listed=section.all_listed))
    lines += [line for para in closing(files, held_until) for line in ("", para)]
    return "\n".join(lines).rstrip() + "\n"


def quarter_notes(files: Sequence[ReceivedFile]) -> list[str]:
    """How a quarter named without its year was read (issue 12), said once per file."""
    return [f"{f.report.file}: {i.message}" for f in files for i in f.report.issues
            if i.code == "quarter-from-meetings"]


def issue_sections(files: Sequence[ReceivedFile]) -> list[IssueSection]:
    sections = []
    for received in files:
        report = received.report
        if refused_maracs(report):  # its refusal note says it all: nothing to fix
            continue
        for severity in (Severity.HARD, Severity.SOFT):
            issues = report.by_severity(severity)
            if severity is Severity.HARD:
                issues = [i for i in issues if not i.is_file_level]  # in the outcome line
            if not issues:
                continue
            groups = group_issues(issues)
            omitted = report.omitted_count(severity)
            sections.append(IssueSection(report.file, severity, tuple(groups[:ISSUE_CAP]),
                                         more=len(groups[ISSUE_CAP:]) + omitted,
                                         all_listed=not omitted))
    return sections


def closing(files: Sequence[ReceivedFile], held_until: date | None) -> list[str]:
    """The paragraphs after the findings: how to confirm, and what the attachments are."""
    paragraphs = []
    if any(f.report.rows_held for f in files):
        paragraphs.append(wording.confirm_instructions(held_until))
    copies = annotated_names(files)
    if copies:
        paragraphs.append(wording.annotated_note(copies))
    return paragraphs


def annotated_names(files: Sequence[ReceivedFile]) -> list[str]:
    return [_checked_name(f.filename) for f in files if _needs_annotation(f.report)]


@dataclass(frozen=True)
class MadeAhead:
    """A file's reply attachments made before recording, with the findings they show: the
    annotated copy is a large part of a reply's work, and made before the writing transaction
    it does not hold SQLite's one write lock (issue 14)."""

    filename: str
    sha256: str
    sheet: str | None
    issues: tuple[Issue, ...]
    omitted: tuple[tuple[str, int], ...]
    attachments: tuple[Attachment, ...]

    def fits(self, received: ReceivedFile) -> bool:
        """True if ``received`` is this file with the same findings: recording found nothing
        to correct since (another file landed meanwhile), so the attachments still tell it."""
        report = received.report
        return (received.filename == self.filename and report.sha256 == self.sha256
                and report.sheet == self.sheet and tuple(report.omitted.items()) == self.omitted
                and tuple(report.issues) == self.issues)


def make_ahead(received: ReceivedFile) -> MadeAhead:
    report = received.report
    return MadeAhead(received.filename, report.sha256, report.sheet, tuple(report.issues),
                     tuple(report.omitted.items()), file_attachments(received))


def submission_attachments(files: Sequence[ReceivedFile],
                           ahead: Sequence[MadeAhead] = ()) -> tuple[Attachment, ...]:
    """The annotated copy of each file with issues, and the full list when a list was capped;
    those ``ahead`` that still fit their file are used as they are."""
    out: list[Attachment] = []
    for received in files:
        made = next((m for m in ahead if m.fits(received)), None)
        out.extend(made.attachments if made is not None else file_attachments(received))
    return tuple(out)


def file_attachments(received: ReceivedFile) -> tuple[Attachment, ...]:
    """One file's attachments: none without issues, its annotated copy, and the full list of
    issues when the reply's list was capped."""
    from reports.annotate import annotate_workbook, issues_csv  # openpyxl: only when needed

    report = received.report
    if not _needs_annotation(report):
        return ()
    annotated = annotate_workbook(received.data, received.read_name, report)
    out = [Attachment(_checked_name(received.filename), annotated, XLSX_TYPE)]
    if _capped(report):
        out.append(Attachment(f"{_stem(received.filename)}-issues.csv", issues_csv(report),
                              "text/csv"))
    return tuple(out)


def _stem(filename: str) -> str:
    return filename.rsplit(".", 1)[0] or filename


def _checked_name(filename: str) -> str:
    return f"{_stem(filename)}-checked.xlsx"


def _needs_annotation(report: FileReport) -> bool:
    """A copy marks what to fix; a file refused whole has nothing to fix."""
    return (any(i.severity is not Severity.INFO for i in report.issues)
            and not refused_maracs(report))


def _capped(report: FileReport) -> bool:
    return bool(report.omitted) or any(
        len(group_issues(report.by_severity(s))) > ISSUE_CAP
        for s in (Severity.HARD, Severity.SOFT))
