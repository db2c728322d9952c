"""A message carrying template files: validate each, record it, reply once for all of them.

This is the one path every channel's files take (email, Slack, Teams and ``marac-bot submit``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from handlers.data_team import name_data_team
from handlers.result import Outcome
from kernel.config import Policy
from kernel.messages import Attachment
from kernel.quarters import Quarter
from reports.reply import ReceivedFile, Recorded
from store.meetings import record_submission
from store.refusals import record_refused
from store.views import ContactSenderView, validation_context
from validation.isolated import Capped
from validation.prepare import Prepared
from validation.report import FileReport
from validation.validate import begin_read, validate_bytes

logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class Submitted:
    """Who sent which files, how, and under what key a redelivery is recognised."""

    sender: str  # the registered contact's email (also for chat: held changes key on it)
    channel: str
    received_at: datetime
    files: Sequence[Attachment]
    dedupe_prefix: str | None  # e.g. "email:<Message-ID>"; None: never de-duplicated
    declared_quarter: Quarter | None = None
    # False for "Q1 return": the meetings' dates may say which year's Q1 (validation.context).
    declared_year_given: bool = True
    confirm: bool = False


def is_spreadsheet(attachment: Attachment) -> bool:
    """By its name's ending, or, for a name with none, its declared type (kernel.messages)."""
    return attachment.spreadsheet_name is not None


def read_name(attachment: Attachment) -> str:
    """The name the guard and the reader go by: it says the format ("Lambeth Q3 return" sent as
    an .xlsx is read as "Lambeth Q3 return.xlsx"); reports keep the sender's own name."""
    return attachment.spreadsheet_name or attachment.filename


def received_file(attachment: Attachment, report: FileReport,
                  recorded: Recorded | None = None) -> ReceivedFile:
    return ReceivedFile(attachment.filename, attachment.data, report, recorded,
                        read_as=read_name(attachment))


def within_limit(files: Sequence[Attachment], limit: int
                 ) -> tuple[list[Attachment], list[Attachment]]:
    """The first ``limit`` files, to be handled, and the rest, to be named in the reply and
    left alone (MARAC_MAX_ATTACHMENTS): a message of 200 files held the database for a minute
    in one transaction and got a 7.7 MB reply."""
    if len(files) > limit:
        logger.warning("%d files in one message: handling the first %d, naming the rest",
                       len(files), limit)
    return list(files[:limit]), list(files[limit:])


# A file checked ahead, by name and content: the report validation gave it.
Checked = dict[tuple[str, str], FileReport]


class ReadsBegun:
    """The reads of a message's files, begun in their capped children before the sender is
    looked up (``validate.begin_read``): the child wakes and parses while this process reads
    the store, where it used to wait for it (issue 14). Each file's check takes its read; the
    reads not taken are cancelled (``cancel_rest``), as for a sender found unknown."""

    def __init__(self, files: Sequence[Attachment], *, max_file_bytes: int) -> None:
        # By the attachment itself: the same object reaches the check (``Submitted.files``),
        # and is held here with its read, so that its id stays its own.
        self._reads = {id(a): (a, read) for a in files
                       if (read := begin_read(a.data, read_name(a), max_file_bytes)) is not None}

    def take(self, attachment: Attachment) -> Capped[Prepared] | None:
        begun = self._reads.pop(id(attachment), None)
        return begun[1] if begun is not None else None

    def cancel_rest(self) -> None:
        for _, read in self._reads.values():
            read.cancel()
        self._reads.clear()


def check_files(
    session: Session, submitted: Submitted, *, settings: Policy, today: date,
    sender: ContactSenderView | None = None, reads: ReadsBegun | None = None,
) -> Checked:
    """Validate every file against the store as it stands, in a session that only reads.

    Reading the workbook and checking it is most of a submission's work; done before the
    writing transaction, it does not hold SQLite's write lock (every other worker and process
    waits on it) or PostgreSQL's meeting locks (issue 14). Nothing is lost by checking a few
    milliseconds early: ``record_submission`` compares every row with the store again under
    its lock and corrects the report if another file landed in between. ``sender``: the
    submitter's view, if the caller has looked it up in this session already; ``reads``: the
    files' reads, if the caller began them.
    """
    checked: Checked = {}
    for attachment in submitted.files:
        report = _check(session, submitted, attachment, settings=settings, today=today,
                        sender=sender, reads=reads)
        checked[(attachment.filename, report.sha256)] = report  # validation hashed the file
    return checked


def submit_files(
    session: Session, submitted: Submitted, *, settings: Policy, today: date,
    checked: Checked | None = None,
) -> list[ReceivedFile]:
    """Validate (unless ``checked`` ahead) and record every file, in the caller's transaction;
    reports tell the truth about what was recorded (the store corrects them if another file
    landed meanwhile)."""
    received = []
    for attachment in submitted.files:
        report = (checked or {}).get(file_key(attachment)) or _check(
            session, submitted, attachment, settings=settings, today=today)
        submission = record_submission(
            session,
            report=report,
            raw=attachment.data,
            channel=submitted.channel,
            sender=submitted.sender,
            received_at=submitted.received_at,
            declared_quarter=_quarter_read(report) or submitted.declared_quarter,
            dedupe_key=_dedupe_key(submitted, report.sha256),
            confirm=submitted.confirm,
            held_expiry=timedelta(days=settings.held_expiry_days),
        )
        tally = report.tally()
        logger.info("%s from %s: %s, %d of %d rows accepted", attachment.filename,
                    submitted.sender, report.status_of(tally), tally.accepted, tally.total)
        recorded = Recorded(submission.id, submission.filename, submission.sender)
        received.append(received_file(attachment, report, recorded))
    return received


def _check(session: Session, submitted: Submitted, attachment: Attachment, *,
           settings: Policy, today: date, sender: ContactSenderView | None = None,
           reads: ReadsBegun | None = None) -> FileReport:
    context = validation_context(
        session,
        today=today,
        sender=sender or submitted.sender,
        declared_quarter=submitted.declared_quarter,
        bands=settings.bands,
        max_file_bytes=settings.max_file_bytes,
    )
    context = replace(context, declared_year_given=submitted.declared_year_given)
    # The read is taken only now: should reading the store fail first, it is still among
    # ``reads``, and cancelled with the rest rather than left with no one to finish it.
    early = reads.take(attachment) if reads is not None else None
    report = validate_bytes(attachment.data, read_name(attachment), context, early=early)
    if report.file != attachment.filename:  # read by its type, told by the sender's name
        report = replace(report, file=attachment.filename)
    return name_data_team(report, settings.data_team_contact)


def file_key(attachment: Attachment) -> tuple[str, str]:
    return attachment.filename, hashlib.sha256(attachment.data).hexdigest()


def _quarter_read(report: FileReport) -> Quarter | None:
    """The quarter a yearless "Q1" was read as from the file's meetings, if it was."""
    found = next((i for i in report.issues if i.code == "quarter-from-meetings"), None)
    return Quarter(found.params["year"], found.params["number"]) if found is not None else None


def refuse_files(session: Session, submitted: Submitted) -> None:
    """An unknown sender: keep each file as a refused submission, record none of its data."""
    for attachment in submitted.files:
        sha = hashlib.sha256(attachment.data).hexdigest()
        record_refused(session, filename=attachment.filename, raw=attachment.data,
                       channel=submitted.channel, sender=submitted.sender,
                       received_at=submitted.received_at,
                       dedupe_key=_dedupe_key(submitted, sha))


def _dedupe_key(submitted: Submitted, sha256: str) -> str | None:
    return f"{submitted.dedupe_prefix}:{sha256}" if submitted.dedupe_prefix else None


def outcome_of(files: Sequence[ReceivedFile]) -> Outcome:
    """One word for the log and the inbox record: the worst of the files' statuses."""
    statuses = {f.report.status for f in files}
    for status in ("rejected", "partially-accepted", "held"):
        if status in statuses:
            return Outcome(f"submission-{status}")
    return Outcome.SUBMISSION_ACCEPTED
