"""Files are validated before the writing transaction (issue 14), and nothing is lost by it.

The worker checks a submission's files in a session that only reads, then records them in a
short writing transaction. These tests pin which messages are checked ahead, that a check ahead
gives the reply a check inside would give, and that a file landing between the two is caught
by the store: the reply tells what was done, not what the early check expected. The annotated
copy is made ahead too, and sent only while it still shows the file's findings.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import dispatch
from bot.channels.email.inbound import to_inbound
from bot.dispatch import Ahead, Dispatcher
from bot.settings import Settings
from handlers import submission
from kernel.messages import XLSX_TYPE, Attachment, InboundMessage
from reports.reply import MadeAhead, ReceivedFile
from store import views
from store.db import Store
from store.models import MeetingVersion, Submission
from store.types import utcnow
from store.views import ContactSenderView
from tests.dispatch_support import (
    COORDINATOR,
    MAILBOX,
    Mailroom,
    compose,
    fixture,
    load_registry,
)
from tests.store_support import executed
from validation import validate
from validation.isolated import Capped, ChildFailed
from validation.issues import Issue, Severity
from validation.report import FileReport

CLEAN = "clean_libreoffice.xlsx"


def _settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", mailbox_address=MAILBOX, smtp_listen=None,
                    http_listen=None)


def _message(raw: bytes) -> InboundMessage:
    return to_inbound(raw, received_at=utcnow(), mailbox_address=MAILBOX,
                      trusted_authserv_id=None)


def _many_issues_ahead(db_store: Store, tmp_path: Path
                       ) -> tuple[Dispatcher, InboundMessage, datetime, Ahead]:
    """A registered sender's file with findings, checked ahead."""
    with db_store.transaction() as session:
        load_registry(session)
    dispatcher = Dispatcher(_settings(tmp_path))
    message = _message(compose(files=[fixture("many_issues.xlsx")]))
    now = utcnow()
    with db_store.reading() as session:
        ahead = dispatcher.check_ahead(session, message, now=now)
    assert ahead is not None
    return dispatcher, message, now, ahead


def test_only_a_registered_senders_files_are_checked_ahead(
    db_store: Store, tmp_path: Path
) -> None:
    with db_store.transaction() as session:
        load_registry(session)
    dispatcher = Dispatcher(_settings(tmp_path))
    cases = {
        "a return": compose(files=[fixture(CLEAN)]),
        "a question": compose(subject="Quick question", body="has Croydon uploaded Q3?\n"),
        "a stranger's return": compose(sender="stranger@elsewhere.example",
                                       files=[fixture(CLEAN)]),
        "an out-of-office": compose(files=[fixture(CLEAN)],
                                    headers={"Auto-Submitted": "auto-replied"}),
    }
    with db_store.reading() as session:
        checked = {name: dispatcher.check_ahead(session, _message(raw), now=utcnow())
                   for name, raw in cases.items()}
    assert checked["a question"] is None
    assert checked["a stranger's return"] is None
    assert checked["an out-of-office"] is None
    ahead = checked["a return"]
    assert ahead is not None and [name for name, _ in ahead.reports] == [CLEAN]
    report = next(iter(ahead.reports.values()))
    assert (report.rows_total, report.rows_accepted, report.status) == (6, 6, "accepted")


def test_each_file_is_read_once_begun_before_the_sender_is_looked_up(
    db_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reads begin first, so that the reader's children parse while the store is read
    (issue 14); validation takes each one rather than beginning another (a file with no read
    begun, the .ods, is read as ever), and a stranger's are cancelled: none is left running."""
    with db_store.transaction() as session:
        load_registry(session)
    begun: list[Capped[Any]] = []
    order: list[str] = []
    in_validation: list[str] = []
    begin_read = validate.begin_read

    def begin(data: bytes, filename: str, max_file_bytes: int) -> Capped[Any] | None:
        order.append("read")
        read = begin_read(data, filename, max_file_bytes)
        begun.extend([read] if read is not None else [])
        return read

    def begin_in_validation(data: bytes, filename: str, max_file_bytes: int) -> None:
        in_validation.append(filename)
        assert begin_read(data, filename, max_file_bytes) is None  # only the .ods comes here

    def looked_up(session: Session, email: str) -> ContactSenderView | None:
        order.append("sender")
        return views.sender_view(session, email)

    monkeypatch.setattr(submission, "begin_read", begin)
    monkeypatch.setattr(dispatch, "sender_view", looked_up)
    monkeypatch.setattr(validate, "begin_read", begin_in_validation)
    dispatcher = Dispatcher(_settings(tmp_path))
    three = compose(files=[fixture(CLEAN), fixture("many_issues.xlsx"),
                           fixture("clean_libreoffice.ods")])
    stranger = compose(sender="stranger@elsewhere.example", files=[fixture(CLEAN)])
    with db_store.reading() as session:
        ahead = dispatcher.check_ahead(session, _message(three), now=utcnow())
        assert order == ["read", "read", "read", "sender"] and len(begun) == 2
        assert in_validation == ["clean_libreoffice.ods"]
        assert dispatcher.check_ahead(session, _message(stranger), now=utcnow()) is None
    assert ahead is not None and len(ahead.reports) == 3 and len(begun) == 3
    assert all(r.rows_total > 0 for r in ahead.reports.values())
    for read in begun:  # taken by validation, or cancelled: nothing left to read
        with pytest.raises(ChildFailed, match="cancelled"):
            read.result()


def test_a_read_begun_is_cancelled_when_reading_the_store_fails_before_it_is_taken(
    db_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store failing between the read's start and validation (a lost connection, say)
    leaves no read behind: one left unfinished would keep the reader's serving child busy,
    and every later file would fork a child of its own."""
    with db_store.transaction() as session:
        load_registry(session)
    begun: list[Capped[Any]] = []
    begin_read = validate.begin_read

    def begin(data: bytes, filename: str, max_file_bytes: int) -> Capped[Any] | None:
        read = begin_read(data, filename, max_file_bytes)
        begun.extend([read] if read is not None else [])
        return read

    def lost(*_args: object, **_kwargs: object) -> None:
        raise ConnectionError("the database went away")

    monkeypatch.setattr(submission, "begin_read", begin)
    monkeypatch.setattr(submission, "validation_context", lost)
    dispatcher = Dispatcher(_settings(tmp_path))
    with db_store.reading() as session, pytest.raises(ConnectionError):
        dispatcher.check_ahead(session, _message(compose(files=[fixture(CLEAN)])), now=utcnow())
    assert len(begun) == 1
    with pytest.raises(ChildFailed, match="cancelled"):
        begun[0].result()


def test_a_file_recorded_between_the_check_and_the_write_is_reported_as_it_was_done(
    db_store: Store, tmp_path: Path
) -> None:
    """The early check sees six new meetings; before the write, the same file arrives in
    another message and is recorded. The store must record nothing twice and the reply must
    say the meetings were already recorded, not that six were accepted."""
    with db_store.transaction() as session:
        load_registry(session)
    settings = _settings(tmp_path)
    dispatcher = Dispatcher(settings)
    late = _message(compose(files=[fixture(CLEAN)], subject="Q3 2024/25 return - Croydon"))
    now = utcnow()
    with db_store.reading() as session:
        checked = dispatcher.check_ahead(session, late, now=now)
    assert checked is not None and next(iter(checked.reports.values())).rows_accepted == 6
    mailroom = Mailroom(db_store, settings)
    first = mailroom.exchange(compose(files=[fixture(CLEAN)]))
    assert first.outcome == "submission-accepted"
    with db_store.transaction() as session:
        result = dispatcher.dispatch(session, late, now=now, ahead=checked)
    assert result.reply is not None and len(result.reports) == 1
    report = result.reports[0]
    assert report is next(iter(checked.reports.values()))  # the early check's, corrected
    assert (report.rows_accepted, report.rows_unchanged) == (0, 6)
    assert "already recorded" in result.reply.text
    assert mailroom.count(MeetingVersion) == 6


def test_a_file_checked_ahead_gets_the_reply_a_check_inside_gives(
    db_store: Store, tmp_path: Path
) -> None:
    dispatcher, message, now, checked = _many_issues_ahead(db_store, tmp_path)
    outcomes = []
    for ahead in (None, checked):
        with db_store.sessions() as session, session.begin():
            result = dispatcher.dispatch(session, message, now=now, ahead=ahead)
            assert result.reply is not None
            report = result.reports[0]
            outcomes.append((result.outcome, report.status, report.rows_accepted,
                             [(i.code, i.cell) for i in report.issues],
                             result.reply.data["headline"]))
            session.rollback()
    assert outcomes[0] == outcomes[1]
    assert any(code for code, _ in outcomes[0][3])  # the file has findings to compare


def test_the_annotated_copy_made_ahead_is_the_one_sent(db_store: Store, tmp_path: Path) -> None:
    dispatcher, message, now, ahead = _many_issues_ahead(db_store, tmp_path)
    assert len(ahead.attachments) == 1
    made = ahead.attachments[0].attachments
    assert [a.filename for a in made] == ["many_issues-checked.xlsx"]
    with db_store.transaction() as session:
        result = dispatcher.dispatch(session, message, now=now, ahead=ahead)
    assert result.reply is not None
    assert result.reply.attachments[0].data is made[0].data  # not made a second time


def test_an_annotated_copy_that_no_longer_fits_is_made_again(
    db_store: Store, tmp_path: Path
) -> None:
    """Recording can correct a report made ahead (another file landed meanwhile): then the
    copy made ahead shows the wrong findings, and the reply must carry a fresh one."""
    dispatcher, message, now, ahead = _many_issues_ahead(db_store, tmp_path)
    stale = Attachment("stale-checked.xlsx", b"stale", XLSX_TYPE)
    made = ahead.attachments[0]
    ahead = replace(ahead, attachments=(replace(made, issues=made.issues[:-1],
                                                attachments=(stale,)),))
    with db_store.transaction() as session:
        result = dispatcher.dispatch(session, message, now=now, ahead=ahead)
    assert result.reply is not None
    assert [a.filename for a in result.reply.attachments] == ["many_issues-checked.xlsx"]
    assert result.reply.attachments[0].data.startswith(b"PK")


def _received(**report: object) -> ReceivedFile:
    issue = Issue(code="above-band", severity=Severity.SOFT, cell="C7", row=7, column="C")
    fields: dict[str, object] = {"file": "q3.xlsx", "sheet": "Data", "issues": [issue],
                                 "sha256": "ab" * 32, "omitted": {}}
    fields.update(report)
    return ReceivedFile("q3.xlsx", b"not read here", FileReport(**fields))  # type: ignore[arg-type]


def _made(received: ReceivedFile) -> MadeAhead:
    report = received.report  # what ``make_ahead`` keeps, without making the copy
    return MadeAhead(received.filename, report.sha256, report.sheet, tuple(report.issues),
                     tuple(report.omitted.items()), attachments=())


@pytest.mark.parametrize("changed", [
    {"sheet": "Sheet1"},
    {"sha256": "cd" * 32},
    {"omitted": {"above-band": 3}},
    {"issues": []},
])
def test_made_ahead_fits_only_the_same_file_and_findings(changed: dict[str, object]) -> None:
    made = _made(_received())
    assert made.fits(_received())
    assert not made.fits(_received(**changed))


def test_made_ahead_does_not_fit_another_file_name() -> None:
    made = _made(_received())
    assert not made.fits(replace(_received(), filename="q4.xlsx"))


def test_files_checked_ahead_are_recorded_for_the_sender_found_ahead(
    db_store: Store, tmp_path: Path
) -> None:
    """dispatch takes the registered sender check_ahead found: no second lookup of the
    contact, and the submission and the reply use the registry's address, not the header's
    spelling of it."""
    with db_store.transaction() as session:
        load_registry(session)
    dispatcher = Dispatcher(_settings(tmp_path))
    message = _message(compose(sender=COORDINATOR.upper(), files=[fixture(CLEAN)]))
    now = utcnow()
    with db_store.reading() as session:
        ahead = dispatcher.check_ahead(session, message, now=now)
    assert ahead is not None and ahead.sender.email == COORDINATOR
    with executed(db_store.engine, lambda sql: "FROM contacts" in sql) as lookups, \
            db_store.transaction() as session:
        result = dispatcher.dispatch(session, message, now=now, ahead=ahead)
        senders = session.scalars(select(Submission.sender)).all()
    assert lookups == []
    assert senders == [COORDINATOR]
    assert result.reply is not None and result.reply.thread.address == COORDINATOR
    assert result.reports[0].rows_accepted == 6
