"""Recording a validated file: the submission, its issues, the raw file, and each row's figures.

The store has the last word on each row. Validation compared the file with what was stored
when it ran; by the time the row is written another file may have landed (another process, a
queued message). So each row is compared again under the meeting's lock, and the report's row
flags and ``unchanged`` / ``changed-from-previous`` issues are corrected to what was done:
after ``record_submission`` the report tells the truth, and the reply built from it does too.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import ColumnElement, Integer, String, Table, bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from kernel.quarters import Quarter
from store.bulk_insert import insert_many
from store.held import hold_change, mark_confirmed
from store.models import Marac, MeetingVersion, Submission, SubmissionIssue
from store.names import NameIndex
from store.reconcile import reconcile_row
from store.registry_version import kept_read
from store.row_batch import (
    Counts,
    MeetingKey,
    add_first_versions,
    create_meetings,
    current_counts,
    lock_meetings,
)
from store.types import utcnow
from store.upsert import skipping_duplicates
from store.versions import Provenance, add_version, current_version, lock_or_create_meeting
from validation.columns import COUNT_KEYS
from validation.issues import Issue, shown
from validation.report import FileReport, ParsedRow

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    ACCEPTED = "accepted"  # a new meeting, or (confirmed) new figures for a stored one
    UNCHANGED = "unchanged"
    HELD = "held"
    REJECTED = "rejected"  # no registered Marac to store it under


@dataclass(frozen=True)
class _Recording:
    submission: Submission
    report: FileReport
    sender: str
    confirm: bool
    held_expiry: timedelta
    now: datetime


def find_submission(session: Session, dedupe_key: str) -> Submission | None:
    """The submission already recorded under this key (Message-ID + attachment hash), if any."""
    return session.scalar(select(Submission).where(Submission.dedupe_key == dedupe_key))


def record_submission(
    session: Session,
    *,
    report: FileReport,
    raw: bytes,
    channel: str,
    sender: str,
    received_at: datetime,
    declared_quarter: Quarter | None,
    dedupe_key: str | None,
    confirm: bool,
    held_expiry: timedelta,
    now: datetime | None = None,
) -> Submission:
    """Store a validated file and apply its rows, in the caller's transaction.

    New meetings become version 1. A row equal to the stored figures is unchanged. A row that
    differs is held (a pending ``HeldChange``, replacing an older pending one from the same
    sender) unless ``confirm``, when it becomes the current version and that sender's pending
    changes for the meeting are marked confirmed. Rows are written in (Marac, date) order so
    that two files touching the same meetings cannot deadlock.

    With a ``dedupe_key`` seen before, nothing is written and the earlier submission is
    returned (a redelivered message); compare its id with what you expected to tell.
    """
    now = now or utcnow()
    # SQLite rewrites a row whole on UPDATE, file and all: there the file is written by
    # ``_finish``, with the counts, so that it is written once (a 20 MB file took 0.1 s more
    # under the write lock). PostgreSQL keeps it out of line and writes it once either way;
    # there it goes in with the row (in the UPDATE it cost 10% more at 20 MB).
    file_at_finish = session.get_bind().dialect.name == "sqlite"
    submission = _insert(session, _new_submission(
        report, b"" if file_at_finish else raw, channel, sender, received_at, declared_quarter,
        dedupe_key, confirm, now, sha256=hashlib.sha256(raw).hexdigest()))
    if submission is None:  # recorded before, or by another transaction meanwhile
        assert dedupe_key is not None
        earlier = find_submission(session, dedupe_key)
        assert earlier is not None
        return earlier
    job = _Recording(submission, report, sender, confirm, held_expiry, now)
    if not report.rejected_file:
        _record_rows(session, job)
    _finish(session, submission, report, raw if file_at_finish else None)
    return submission


def _new_submission(
    report: FileReport,
    raw: bytes,
    channel: str,
    sender: str,
    received_at: datetime,
    declared_quarter: Quarter | None,
    dedupe_key: str | None,
    confirm: bool,
    now: datetime,
    *,
    sha256: str,
) -> dict[str, object]:
    return {
        "channel": channel,
        "sender": sender,
        "received_at": received_at,
        "recorded_at": now,
        "filename": report.file,
        "sha256": sha256,
        "raw": raw,
        "edition": report.edition.value if report.edition else None,
        "declared_quarter": declared_quarter.label if declared_quarter else None,
        "confirm": confirm,
        "status": report.status,
        "dedupe_key": dedupe_key,
    }


def _insert(session: Session, values: dict[str, object]) -> Submission | None:
    """The new submission, or None, with nothing written, when its dedupe key is stored.

    One statement: ON CONFLICT skips a duplicate (``store.upsert``), where a lookup first and
    an INSERT at a savepoint took four (issue 14). Another transaction recording the same key
    at the same moment makes this one wait for it, then skip."""
    statement = skipping_duplicates(session, Submission, ("dedupe_key",), (Submission,))
    submission = session.scalars(statement, [values]).one_or_none()
    if submission is not None:
        # Known empty: ``_finish`` then sets the issues without reading them back first.
        set_committed_value(submission, "issues", [])
    return submission


def _record_rows(session: Session, job: _Recording) -> None:
    index = _marac_index(session)
    placed: list[tuple[MeetingKey, ParsedRow]] = []
    for row in job.report.rows:
        if row.hard or row.meeting_date is None:
            continue
        marac_id = index.get(row.marac or row.marac_text or "")
        if marac_id is None:
            reconcile_row(job.report, row, Outcome.REJECTED.value, None)
        else:
            placed.append(((marac_id, row.meeting_date), row))
    placed.sort(key=lambda item: item[0])
    if placed:
        _apply_rows(session, job, placed)


def _apply_rows(
    session: Session, job: _Recording, placed: list[tuple[MeetingKey, ParsedRow]]
) -> None:
    """New meetings and unchanged rows in a few statements (``store.row_batch``); the rest,
    and every row if a meeting was created concurrently, one at a time in (Marac, date) order."""
    keys = sorted({key for key, _ in placed})
    stored = lock_meetings(session, keys)
    missing = [key for key in keys if key not in stored]
    created = create_meetings(session, missing, now=job.now)
    if len(created) < len(missing):
        logger.info("a meeting of %s was created concurrently; its rows one by one",
                    job.report.file)
    figures = current_counts(session, stored.values())
    repeated = {key for key, count in Counter(key for key, _ in placed).items() if count > 1}
    firsts: list[tuple[int, Counts, Provenance]] = []
    one_by_one: list[tuple[int, ParsedRow]] = []
    for key, row in placed:
        counts = _counts(row)
        if key in repeated or not (key in created or key in stored):
            one_by_one.append((key[0], row))  # the same meeting twice in a file, or a race
        elif key in created:
            firsts.append((created[key], counts, _provenance(job, row)))
            reconcile_row(job.report, row, Outcome.ACCEPTED.value, None)
        elif figures.get(stored[key]) == counts:
            reconcile_row(job.report, row, Outcome.UNCHANGED.value, figures[stored[key]])
        else:
            one_by_one.append((key[0], row))
    add_first_versions(session, firsts)
    for marac_id, row in one_by_one:
        outcome, old = _record_row(session, job, marac_id, row)
        reconcile_row(job.report, row, outcome.value, old)


def _counts(row: ParsedRow) -> Counts:
    return {key: row.counts.get(key) for key in COUNT_KEYS}


def _provenance(job: _Recording, row: ParsedRow) -> Provenance:
    return Provenance(job.submission.id, _fit(job.report.sheet, _VERSION_SHEET_CHARS),
                      row.sheet_row, job.sender, job.now)


def _fit(text: str | None, limit: int) -> str | None:
    """A file's own text cut to its column's length, as a report cuts it. PostgreSQL refuses a
    longer value (SQLite takes it), and a hand-made file can name its sheet far past Excel's
    31 characters: cut, rather than the whole recording failing (issue 14 found it)."""
    return None if text is None else shown(text, limit)


def _marac_index(session: Session) -> NameIndex[int]:
    """Every Marac's id by name and alias, as read while the registry's version stays."""
    return kept_read(session, "recording", lambda: _read_marac_index(session))


def _read_marac_index(session: Session) -> NameIndex[int]:
    index: NameIndex[int] = NameIndex()
    for name, marac_id, aliases in session.execute(select(Marac.name, Marac.id, Marac.aliases)):
        index.add(name, marac_id, aliases or ())
    return index


def _record_row(
    session: Session, job: _Recording, marac_id: int, row: ParsedRow
) -> tuple[Outcome, dict[str, int | None] | None]:
    """Apply one row under its meeting's lock; returns the outcome and the figures before."""
    assert row.meeting_date is not None
    counts = _counts(row)
    meeting, _ = lock_or_create_meeting(session, marac_id, row.meeting_date, now=job.now)
    current = current_version(session, meeting.id)
    old = current.counts if current is not None else None
    if old == counts:
        return Outcome.UNCHANGED, old
    source = _provenance(job, row)
    if old is None or job.confirm:
        add_version(session, meeting, counts, source)
        if old is not None:
            mark_confirmed(session, meeting.id, sender=job.sender, now=job.now)
        return Outcome.ACCEPTED, old
    hold_change(session, meeting.id, counts, source, expires_at=job.now + job.held_expiry)
    return Outcome.HELD, old


def _finish(session: Session, submission: Submission, report: FileReport,
            raw: bytes | None) -> None:
    """Counts, status and issues as they stand after the rows were applied; and the file,
    unless it is None (written with the row).

    By Core statements built once (issue 14): the ORM's flush of the same UPDATE and INSERT
    cost three times as much. The object is told the values it now holds, and its issues
    are read from the table if anyone asks for them."""
    tally = report.tally()  # one look at the rows' flags for all six (a file may have 50,000)
    counts = {"status": report.status_of(tally), "rows_total": tally.total,
              "rows_accepted": tally.accepted, "rows_rejected": tally.rejected,
              "rows_held": tally.held, "rows_unchanged": tally.unchanged}
    file = {} if raw is None else {"raw": raw}
    session.execute(_FINISH, {"submission_id": submission.id, **file, **counts})
    for name, value in counts.items():
        set_committed_value(submission, name, value)
    insert_many(session, _ISSUES, [_issue_row(submission.id, i, n)
                                   for n, i in enumerate(report.issues)])
    session.expire(submission, ["issues"])
    session.flush()  # and what the rows added through the ORM (held changes), as before


_SUBMISSIONS = cast(Table, Submission.__table__)
# The SET clause comes from the parameters' names (everything but submission_id).
_FINISH = update(_SUBMISSIONS).where(
    _SUBMISSIONS.c.id == bindparam("submission_id", type_=Integer()))
_ISSUES = cast(Table, SubmissionIssue.__table__)


def _length(column: ColumnElement[Any]) -> int:
    length = cast(String, column.type).length
    assert length is not None, f"{column} has no length"
    return length


# The lengths of the columns a file's own text goes into (``_fit``). A version's sheet is
# also its held change's (a test keeps the two the same).
_SHEET_CHARS = _length(_ISSUES.c.sheet)
_CELL_CHARS = _length(_ISSUES.c.cell)
_COLUMN_CHARS = _length(_ISSUES.c.column)
_VERSION_SHEET_CHARS = _length(cast(Table, MeetingVersion.__table__).c.sheet)


def _issue_row(submission_id: int, issue: Issue, position: int) -> dict[str, object]:
    value = issue.to_dict()["value"]
    return {
        "submission_id": submission_id,
        "position": position,
        "code": issue.code,
        "severity": issue.severity.value,
        "sheet": _fit(issue.sheet, _SHEET_CHARS),
        "cell": _fit(issue.cell, _CELL_CHARS),
        "row": issue.row,
        "column": _fit(issue.column, _COLUMN_CHARS),
        "value": None if value is None else str(value),
        "message": issue.message,
    }
