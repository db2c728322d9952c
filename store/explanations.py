"""Explanations of soft issues (issue 13): a coordinator whose unusual figure is right says why
instead of changing it (as DfE COLLECT lets a provider explain a query). The explanation is
kept with the submission, the issue's code and cell, and the meeting the row recorded, so the
meeting's history and the analysts' overview show it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from store.models import (
    Explanation,
    HeldChange,
    Marac,
    Meeting,
    MeetingVersion,
    Submission,
    SubmissionIssue,
)

SOFT = "soft"


@dataclass(frozen=True)
class SoftIssue:
    """A soft issue of a submission that can be explained."""

    submission_id: int
    filename: str
    code: str
    cell: str | None
    column: str | None
    row: int | None
    message: str
    meeting_id: int | None  # the meeting its row recorded, if any


@dataclass(frozen=True)
class ExplainedIssue:
    """An explanation with the meeting it concerns, for the overview."""

    marac: str | None
    meeting_date: date | None
    code: str
    cell: str | None
    text: str
    explained_by: str
    explained_at: datetime
    column: str | None = None


def latest_submission(session: Session, sender: str) -> Submission | None:
    """The sender's latest submission that is not withdrawn."""
    query = (
        select(Submission)
        .where(Submission.sender == sender, Submission.withdrawn_at.is_(None))
        .order_by(Submission.id.desc())
        .limit(1)
    )
    return session.scalar(query)


def soft_issues(session: Session, submission: Submission) -> list[SoftIssue]:
    """The submission's soft issues, in the order they were reported."""
    query = (
        select(SubmissionIssue)
        .where(SubmissionIssue.submission_id == submission.id, SubmissionIssue.severity == SOFT)
        .order_by(SubmissionIssue.position)
    )
    return [
        SoftIssue(
            submission.id,
            submission.filename,
            i.code,
            i.cell,
            i.column,
            i.row,
            i.message,
            _meeting_of_row(session, submission.id, i.row),
        )
        for i in session.scalars(query)
    ]


def _meeting_of_row(session: Session, submission_id: int, row: int | None) -> int | None:
    """The meeting a sheet row of the submission was recorded (or held) for."""
    if row is None:
        return None
    for model in (MeetingVersion, HeldChange):
        found = session.scalar(
            select(model.meeting_id)
            .where(model.submission_id == submission_id, model.sheet_row == row)
            .limit(1)
        )
        if found is not None:
            return found
    return None


def explain(
    session: Session, issue: SoftIssue, text: str, *, by: str, now: datetime
) -> Explanation:
    explanation = Explanation(
        submission_id=issue.submission_id,
        meeting_id=issue.meeting_id,
        code=issue.code,
        cell=issue.cell,
        column=issue.column,
        text=text,
        explained_by=by,
        explained_at=now,
    )
    session.add(explanation)
    session.flush()
    return explanation


def explained(session: Session, submission_ids: Sequence[int]) -> set[tuple[int, str, str | None]]:
    """(submission, code, cell) of every explained issue of these submissions."""
    if not submission_ids:
        return set()
    query = select(Explanation.submission_id, Explanation.code, Explanation.cell).where(
        Explanation.submission_id.in_(submission_ids)
    )
    return {(s, c, cell) for s, c, cell in session.execute(query)}


def explained_meetings(
    session: Session, meetings: Sequence[tuple[str, date]]
) -> dict[tuple[str, date, str], ExplainedIssue]:
    """The latest explanation of each (Marac, day, issue code) among these meetings, from any
    submission: the same unusual figure sent again is already explained."""
    if not meetings:
        return {}
    names = sorted({m for m, _ in meetings})
    days = sorted({d for _, d in meetings})
    wanted = set(meetings)
    return {
        (name, day, code): ExplainedIssue(name, day, code, cell, text, by, at)
        for name, day, code, cell, text, by, at in session.execute(
            _EXPLAINED, {"names": names, "days": days})
        if (name, day) in wanted
    }


_EXPLANATIONS = cast(Table, Explanation.__table__)
_MEETINGS = cast(Table, Meeting.__table__)
_MARACS = cast(Table, Marac.__table__)
# Built once (the lists are expanded at each run): asked for every reply with a soft issue.
# On the tables and as columns: naming the mapped classes cost the ORM's loading of
# Explanation objects for every reply (issue 14).
_EXPLAINED = (
    select(_MARACS.c.name, _MEETINGS.c.meeting_date, _EXPLANATIONS.c.code,
           _EXPLANATIONS.c.cell, _EXPLANATIONS.c.text, _EXPLANATIONS.c.explained_by,
           _EXPLANATIONS.c.explained_at)
    .join(_MEETINGS, _EXPLANATIONS.c.meeting_id == _MEETINGS.c.id)
    .join(_MARACS, _MEETINGS.c.marac_id == _MARACS.c.id)
    .where(_MARACS.c.name.in_(bindparam("names", expanding=True)),
           _MEETINGS.c.meeting_date.in_(bindparam("days", expanding=True)))
    .order_by(_EXPLANATIONS.c.id)
)


def explanations_in(
    session: Session, marac_ids: Sequence[int] | None, quarters: Sequence[str]
) -> list[ExplainedIssue]:
    """Explanations for the meetings of these Maracs (None: all) and quarters, by Marac, date."""
    query = (
        select(Marac.name, Meeting.meeting_date, Explanation)
        .join(Meeting, Explanation.meeting_id == Meeting.id)
        .join(Marac, Meeting.marac_id == Marac.id)
        .where(Meeting.quarter.in_(list(quarters)))
        .order_by(Marac.name, Meeting.meeting_date, Explanation.id)
    )
    if marac_ids is not None:
        query = query.where(Meeting.marac_id.in_(list(marac_ids)))
    return [
        ExplainedIssue(name, day, e.code, e.cell, e.text, e.explained_by, e.explained_at, e.column)
        for name, day, e in session.execute(query)
    ]
