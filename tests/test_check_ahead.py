"""Files are validated before the writing transaction (issue 14), and nothing is lost by it.

The worker checks a submission's files in a session that only reads, then records them in a
short writing transaction. These tests pin which messages are checked ahead, that a check ahead
gives the reply a check inside would give, and that a file landing between the two is caught
by the store: the reply tells what was done, not what the early check expected.
"""

from __future__ import annotations

from pathlib import Path

from bot.channels.email.inbound import to_inbound
from bot.dispatch import Dispatcher
from bot.settings import Settings
from kernel.messages import InboundMessage
from store.db import Store
from store.models import MeetingVersion
from store.types import utcnow
from tests.dispatch_support import (
    MAILBOX,
    Mailroom,
    compose,
    fixture,
    load_registry,
)

CLEAN = "clean_libreoffice.xlsx"


def _settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", mailbox_address=MAILBOX, smtp_listen=None,
                    http_listen=None)


def _message(raw: bytes) -> InboundMessage:
    return to_inbound(raw, received_at=utcnow(), mailbox_address=MAILBOX,
                      trusted_authserv_id=None)


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
    assert ahead is not None and [name for name, _ in ahead] == [CLEAN]
    report = next(iter(ahead.values()))
    assert (report.rows_total, report.rows_accepted, report.status) == (6, 6, "accepted")


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
    assert checked is not None and next(iter(checked.values())).rows_accepted == 6
    mailroom = Mailroom(db_store, settings)
    first = mailroom.exchange(compose(files=[fixture(CLEAN)]))
    assert first.outcome == "submission-accepted"
    with db_store.transaction() as session:
        result = dispatcher.dispatch(session, late, now=now, checked=checked)
    assert result.reply is not None and len(result.reports) == 1
    report = result.reports[0]
    assert report is next(iter(checked.values()))  # the early check's report, corrected
    assert (report.rows_accepted, report.rows_unchanged) == (0, 6)
    assert "already recorded" in result.reply.text
    assert mailroom.count(MeetingVersion) == 6


def test_a_file_checked_ahead_gets_the_reply_a_check_inside_gives(
    db_store: Store, tmp_path: Path
) -> None:
    with db_store.transaction() as session:
        load_registry(session)
    dispatcher = Dispatcher(_settings(tmp_path))
    message = _message(compose(files=[fixture("many_issues.xlsx")]))
    now = utcnow()
    with db_store.reading() as session:
        checked = dispatcher.check_ahead(session, message, now=now)
    assert checked is not None
    outcomes = []
    for ahead in (None, checked):
        with db_store.sessions() as session, session.begin():
            result = dispatcher.dispatch(session, message, now=now, checked=ahead)
            assert result.reply is not None
            report = result.reports[0]
            outcomes.append((result.outcome, report.status, report.rows_accepted,
                             [(i.code, i.cell) for i in report.issues],
                             result.reply.data["headline"]))
            session.rollback()
    assert outcomes[0] == outcomes[1]
    assert any(code for code, _ in outcomes[0][3])  # the file has findings to compare
