"""'EXPLAIN D7: a new police referral pathway started in October' (issue 13): a soft issue of
the sender's latest file answered with a reason instead of a change. The figure stays; the
explanation is kept with the meeting and the issue, and shown in its history and the overview.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.result import HandlerResult, Outcome
from kernel import wording
from kernel.messages import InboundMessage, Reply
from store.explanations import (
    SoftIssue,
    explain,
    explained_meetings,
    explanations_in,
    latest_submission,
    soft_issues,
)
from store.models import Marac, Meeting, Submission
from validation.issues import Severity
from validation.report import FileReport
from validation.safe_text import safe_display_text

_EXPLAIN = re.compile(r"^\W*explain\s+([a-z]{1,3}\d{1,7})\b\s*[:\-–—]?\s*(.*)$",
                      re.IGNORECASE | re.DOTALL)
MAX_CHARS = 2000  # an explanation is a sentence or two; a pasted essay is cut


@dataclass(frozen=True)
class Request:
    cell: str  # "D7"
    text: str  # the reason, "" when none was given


def requested(text: str) -> Request | None:
    """The explanation a message gives, from its first paragraph, or None."""
    body = text.strip()
    match = _EXPLAIN.match(body)
    if match is None:
        return None
    reason = match.group(2).split("\n\n", 1)[0]
    # Kept, shown to analysts and quoted back: printable text only. A NUL character (which
    # PostgreSQL's text cannot hold, and which once failed the whole message there) or a
    # bidirectional override is dropped, as from a file's name.
    return Request(match.group(1).upper(),
                   " ".join(safe_display_text(reason, limit=None).split())[:MAX_CHARS].rstrip())


def handle(session: Session, message: InboundMessage, request: Request, *, sender: str,
           now: datetime) -> HandlerResult:
    def reply(outcome: Outcome, text: str) -> HandlerResult:
        return HandlerResult(outcome, Reply(message.thread, text))

    if not request.text:
        return reply(Outcome.EXPLAIN_NOTHING, wording.explain_empty_text(request.cell))
    submission = latest_submission(session, sender)
    if submission is None:
        return reply(Outcome.EXPLAIN_NOTHING, wording.explain_no_submission_text())
    issues = soft_issues(session, submission)
    issue = next((i for i in issues if (i.cell or "").upper() == request.cell), None)
    if issue is None:
        cells = list(dict.fromkeys(i.cell for i in issues if i.cell))
        return reply(Outcome.EXPLAIN_NOTHING, wording.explain_no_issue_text(
            cell=request.cell, filename=submission.filename, submission_id=submission.id,
            cells=cells))
    if issue.meeting_id is None and issue.row is not None:
        # The row was unchanged (no version or held change of this file names it): read the
        # stored file again to learn which meeting the row is.
        issue = replace(issue, meeting_id=_meeting_from_file(session, submission, issue.row,
                                                             today=now.date()))
    explain(session, issue, request.text, by=sender, now=now)
    marac, day = _meeting(session, issue)
    return reply(Outcome.EXPLAINED, wording.explained_text(
        cell=request.cell, marac=marac, meeting_date=day, filename=submission.filename,
        submission_id=submission.id, text=request.text))


def _meeting_from_file(session: Session, submission: Submission, row: int, *, today: date
                       ) -> int | None:
    from store.views import validation_context
    from validation.validate import validate_bytes

    context = validation_context(session, today=today)
    report = validate_bytes(submission.raw, submission.filename, context)
    found = next((r for r in report.rows if r.sheet_row == row), None)
    if found is None or found.marac is None or found.meeting_date is None:
        return None
    query = select(Meeting.id).join(Marac, Meeting.marac_id == Marac.id).where(
        Marac.name == found.marac, Meeting.meeting_date == found.meeting_date)
    return session.scalar(query)


def _meeting(session: Session, issue: SoftIssue) -> tuple[str | None, date | None]:
    if issue.meeting_id is None:
        return None, None
    meeting = session.get_one(Meeting, issue.meeting_id)
    return session.get_one(Marac, meeting.marac_id).name, meeting.meeting_date


def answered_notes(session: Session, reports: Sequence[FileReport], *, tz: tzinfo) -> list[str]:
    """One line per soft issue of these files already explained for the same meeting: the
    reply says it is answered instead of asking again."""
    notes = []
    for report in reports:
        rows = {r.sheet_row: r for r in report.rows if r.marac and r.meeting_date}
        soft = [i for i in report.issues if i.severity is Severity.SOFT and i.row in rows]
        meetings = [(r.marac, r.meeting_date) for r in rows.values()
                    if r.marac and r.meeting_date]
        known = explained_meetings(session, meetings) if soft else {}
        for issue in soft:
            row = rows[issue.row] if issue.row is not None else None
            if row is None or row.marac is None or row.meeting_date is None:
                continue
            found = known.get((row.marac, row.meeting_date, issue.code))
            if found is not None:
                notes.append(wording.already_explained_text(
                    cell=issue.cell or "", marac=row.marac, meeting_date=row.meeting_date,
                    by=found.explained_by, at=found.explained_at.astimezone(tz),
                    text=found.text))
    return notes


def overview_notes(
    session: Session, marac_ids: Sequence[int] | None, quarters: Sequence[str], *,
    when: datetime | None = None,
) -> list[str]:
    """The explanations given for these Maracs' meetings (by ``when``), one note each."""
    return [
        wording.explanation_note(marac=e.marac, meeting_date=e.meeting_date, cell=e.cell,
                                 column=e.column, text=e.text, by=e.explained_by)
        for e in explanations_in(session, marac_ids, quarters)
        if when is None or e.explained_at <= when
    ]
