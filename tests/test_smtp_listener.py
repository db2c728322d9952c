"""bot/channels/email/smtp_listener.py, driven by real smtplib over loopback, into real SQLite.

The database is opened and migrated exactly as ``marac-bot`` does (store.db).
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import Engine, Table, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.email.smtp_listener import (
    InboxHandler,
    SmtpListener,
    size_limit,
    start_smtp_listener,
)
from bot.channels.email.smtp_spool import STORED_AS
from bot.channels.email.smtp_writer import ListenerStopping
from bot.settings import ConfigError, HostPort, Settings
from store.db import open_engine, upgrade
from store.queue import InboundItem, claim_inbound
from tests.smtp_support import (
    HOST,
    Certificate,
    EventLoopThread,
    client_context,
    make_certificate,
)

MAILBOX = "marac@localhost"
FIXTURE = Path(__file__).parent / "fixtures/email/plain_with_xlsx.eml"
# A body line that starts with a dot exercises SMTP dot-stuffing on the way in.
RAW = FIXTURE.read_bytes().replace(b"Hello,\r\n", b"Hello,\r\n.dotted line\r\n..two\r\n", 1)


@dataclass
class Running:
    listener: SmtpListener
    woken: threading.Event
    engine: Engine
    sessions: sessionmaker[Session]

    def connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(HOST, self.listener.port, timeout=10)
        smtp.ehlo("client.example.org")
        return smtp

    def stored(self) -> list[InboundItem]:
        with self.sessions() as s:
            return list(s.scalars(select(InboundItem).order_by(InboundItem.id)))


@pytest.fixture
def loop() -> Iterator[EventLoopThread]:
    with EventLoopThread() as running:
        yield running


def start(loop: EventLoopThread, db: Path | str, **settings: object) -> Running:
    """A listener on a SQLite file, or on the database at a URL."""
    engine = open_engine(f"sqlite:///{db}" if isinstance(db, Path) else db)
    upgrade(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    woken = threading.Event()
    values: dict[str, object] = {"smtp_listen": HostPort(HOST, 0), "mailbox_address": MAILBOX}
    values.update(settings)
    listener = loop.run(start_smtp_listener(Settings(**values),  # type: ignore[arg-type]
                                            sessions, woken.set))
    return Running(listener, woken, engine, sessions)


def stop(loop: EventLoopThread, running: Running) -> None:
    loop.run(running.listener.close())
    running.engine.dispose()


@pytest.fixture
def running(loop: EventLoopThread, tmp_path: Path) -> Iterator[Running]:
    started = start(loop, tmp_path / "marac.db")
    yield started
    stop(loop, started)


def test_250_comes_after_the_exact_bytes_are_committed(running: Running) -> None:
    with running.connect() as smtp:
        smtp.mail("jane.smith@croydon.gov.uk")
        assert smtp.rcpt(MAILBOX)[0] == 250
        code, message = smtp.data(RAW)
        # At the moment of the 250 the row is visible to any other connection: committed.
        (item,) = running.stored()
    assert code == 250
    assert message.decode() == f"2.0.0 OK stored as {item.id}"
    assert item.raw == RAW
    assert (item.channel, item.status, item.envelope_from, item.recipients) == (
        "email", "queued", "jane.smith@croydon.gov.uk", MAILBOX)
    assert item.message_id == (
        "<LO2P265MB52170A1B2C3D4E5F6A7B8C9DA1B2C@LO2P265MB5217.GBRP265.PROD.OUTLOOK.COM>")
    assert item.source_key is not None and item.source_key.startswith("smtp:")
    assert running.woken.wait(timeout=5)


def test_the_same_message_sent_twice_is_stored_once(running: Running) -> None:
    with running.connect() as smtp:
        for _ in range(2):
            smtp.sendmail("jane.smith@croydon.gov.uk", [MAILBOX], RAW)
    assert len(running.stored()) == 1


def test_a_bounce_has_an_empty_envelope_sender(running: Running) -> None:
    with running.connect() as smtp:
        assert smtp.mail("<>")[0] == 250
        smtp.rcpt(MAILBOX)
        assert smtp.data(RAW)[0] == 250
    assert [i.envelope_from for i in running.stored()] == [""]


@pytest.mark.parametrize("sender", ["a\x00b@example.org", "\x1bab@example.org\x7f"])
def test_a_control_character_in_mail_from_is_dropped_not_answered_451_for_ever(
    loop: EventLoopThread, db_url: str, sender: str
) -> None:
    """A NUL in the envelope sender: PostgreSQL's text cannot hold it, so every retry of the
    message was answered 451 until the sending server gave up. Now it is stored, the sender's
    address without its control characters."""
    running = start(loop, db_url)
    try:
        with running.connect() as smtp:
            smtp.mail(sender)
            smtp.rcpt(MAILBOX)
            assert smtp.data(RAW)[0] == 250
        assert [i.envelope_from for i in running.stored()] == ["ab@example.org"]
    finally:
        stop(loop, running)


@pytest.mark.parametrize("recipient", ["someone@localhost", "marac+q3@localhost",
                                       "marac@elsewhere.example"])
def test_any_other_recipient_is_refused_with_550(running: Running, recipient: str) -> None:
    with running.connect() as smtp:
        smtp.mail("jane.smith@croydon.gov.uk")
        assert smtp.rcpt(recipient) == (550, b"5.1.1 mailbox unknown")
        smtp.rset()
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.sendmail("jane.smith@croydon.gov.uk", [recipient], RAW)
    assert running.stored() == []


def test_the_mailbox_is_matched_without_regard_to_case(running: Running) -> None:
    with running.connect() as smtp:
        assert smtp.sendmail("a@x.org", ["MARAC@LocalHost"], RAW) == {}
    assert [i.recipients for i in running.stored()] == ["MARAC@LocalHost"]


def test_over_the_size_limit_is_552_whether_declared_or_not(loop: EventLoopThread,
                                                            tmp_path: Path) -> None:
    running = start(loop, tmp_path / "marac.db", max_file_mb=0.01)
    limit = size_limit(Settings(max_file_mb=0.01))
    big = b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * (limit // 1000 + 10)
    try:
        with running.connect() as smtp:
            assert int(smtp.esmtp_features["size"]) == limit
            with pytest.raises(smtplib.SMTPSenderRefused) as declared:
                smtp.sendmail("a@x.org", [MAILBOX], big)  # smtplib declares SIZE=
            assert declared.value.smtp_code == 552
            smtp.rset()
            smtp.mail("a@x.org")  # no SIZE: the server counts as the data arrives
            smtp.rcpt(MAILBOX)
            assert smtp.data(big)[0] == 552
            assert smtp.sendmail("a@x.org", [MAILBOX], RAW[: limit // 2]) == {}
        assert [len(i.raw) for i in running.stored()] == [len(RAW[: limit // 2])]
    finally:
        stop(loop, running)


def test_451_when_the_store_cannot_write_and_250_once_it_can(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    with running.engine.begin() as conn:  # really break the store: the table is gone
        conn.execute(text("DROP TABLE inbound_queue"))
    with (
        caplog.at_level(logging.WARNING, logger="bot.channels.email.smtp_listener"),
        running.connect() as smtp,
        pytest.raises(smtplib.SMTPDataError) as caught,
    ):
        smtp.sendmail("a@x.org", [MAILBOX], RAW)
    assert (caught.value.smtp_code, caught.value.smtp_error) == (451, b"4.3.0 try again later")
    # A database error is the store's situation: one line naming it, not a traceback each time.
    [record] = [r for r in caplog.records if "could not store" in r.getMessage()]
    assert "no such table" in record.getMessage() and not record.exc_info
    assert not running.woken.is_set()
    cast(Table, InboundItem.__table__).create(running.engine)
    with running.connect() as smtp:  # the sending server's retry
        assert smtp.sendmail("a@x.org", [MAILBOX], RAW) == {}
    assert [i.raw for i in running.stored()] == [RAW]


def test_a_message_arriving_as_the_listener_stops_gets_451_and_one_line(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    """A connection still open while the listener stops: its message is refused for the
    sending server to retry, and the log says so in a line, not a traceback."""
    with running.connect() as smtp:
        running.listener.handler.writer.close()  # as close() does once the server has stopped
        with (
            caplog.at_level(logging.INFO, logger="bot.channels.email.smtp_listener"),
            pytest.raises(smtplib.SMTPDataError) as caught,
        ):
            smtp.sendmail("a@x.org", [MAILBOX], RAW)
    assert (caught.value.smtp_code, caught.value.smtp_error) == (451, b"4.3.0 try again later")
    [record] = [r for r in caplog.records if "could not store" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert record.getMessage().endswith("answered 451: the listener is stopping")
    assert not record.exc_info
    assert running.stored() == [] and not running.woken.is_set()


def test_a_stored_message_survives_a_listener_restart(loop: EventLoopThread,
                                                      tmp_path: Path) -> None:
    db = tmp_path / "marac.db"
    first = start(loop, db)
    with first.connect() as smtp:
        assert smtp.sendmail("a@x.org", [MAILBOX], RAW) == {}
    stop(loop, first)
    with sqlite3.connect(db) as plain:  # not through SQLAlchemy: what is on disk
        assert plain.execute("SELECT raw, status FROM inbound_queue JOIN inbound_raw "
                             "ON item_id = id").fetchall() == [
            (RAW, "queued")]
    second = start(loop, db)
    try:
        with second.sessions.begin() as s:
            item = claim_inbound(s, worker="w", stale_after=timedelta(minutes=5))
            assert item is not None and item.raw == RAW
        with second.connect() as smtp:  # and the new listener takes mail as before
            assert smtp.sendmail("b@x.org", [MAILBOX], b"Subject: 2\r\n\r\nx\r\n") == {}
        assert len(second.stored()) == 2
    finally:
        stop(loop, second)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("tls"))


def test_with_tls_and_auth_configured_auth_comes_after_starttls(
    loop: EventLoopThread, tmp_path: Path, certificate: Certificate
) -> None:
    running = start(loop, tmp_path / "marac.db", smtp_tls_cert=certificate.cert,
                    smtp_tls_key=certificate.key, smtp_auth_user="relay",
                    smtp_auth_password="pa55")
    try:
        with running.connect() as smtp:
            assert smtp.has_extn("starttls") and not smtp.has_extn("auth")
            assert smtp.mail("a@x.org")[0] == 530  # authentication required
            smtp.starttls(context=client_context(certificate))
            smtp.ehlo("client.example.org")
            assert smtp.has_extn("auth")
            with pytest.raises(smtplib.SMTPAuthenticationError):
                smtp.login("relay", "wrong")
            smtp.login("relay", "pa55")
            assert smtp.sendmail("a@x.org", [MAILBOX], RAW) == {}
        assert [i.raw for i in running.stored()] == [RAW]
    finally:
        stop(loop, running)


def test_a_certificate_that_cannot_be_loaded_names_the_variable(
    loop: EventLoopThread, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.pem"
    with pytest.raises(ConfigError, match="MARAC_SMTP_TLS_CERT"):
        start(loop, tmp_path / "marac.db", smtp_tls_cert=missing, smtp_tls_key=missing)


def test_a_listener_turned_off_is_not_started(loop: EventLoopThread, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="MARAC_SMTP_LISTEN"):
        start(loop, tmp_path / "marac.db", smtp_listen=None)


@pytest.fixture
def handler(tmp_path: Path) -> Iterator[InboxHandler]:
    engine = open_engine(f"sqlite:///{tmp_path / 'marac.db'}")
    upgrade(engine)
    made = InboxHandler(mailbox_address=MAILBOX, max_bytes=1 << 20,
                        session_factory=sessionmaker(engine), on_enqueued=lambda: None)
    yield made
    made.writer.close()
    engine.dispose()


def _outcome(handler: InboxHandler, *, result: int | None = None,
             error: BaseException | None = None, cancel: bool = False) -> asyncio.Future[int]:
    """A store's outcome as the listener's task holds it, among those being stored."""
    loop = asyncio.new_event_loop()
    try:
        task: asyncio.Future[int] = loop.create_future()
        if cancel:
            task.cancel()
        elif error is not None:
            task.set_exception(error)
        else:
            assert result is not None
            task.set_result(result)
    finally:
        loop.close()
    handler.storing.add(task)
    return task


@pytest.mark.parametrize("sender, shown", [("jane@croydon.gov.uk", "jane@croydon.gov.uk"),
                                           ("", "<>")])
def test_each_outcome_of_a_store_is_logged_once_in_its_words(
    handler: InboxHandler, caplog: pytest.LogCaptureFixture, sender: str, shown: str
) -> None:
    """The one place a message's fate is logged (the SMTP client may be gone): stored,
    refused for a passing reason (one line, the error's first line cut at 200 characters),
    refused while stopping, or refused by a fault (with its traceback); a cancelled store
    says nothing. Every outcome leaves the set of stores in progress."""
    long_reason = "database is locked " + "x" * 300
    transient = OperationalError("INSERT …", {}, sqlite3.OperationalError(long_reason))
    fault = ValueError("a bug\nsecond line")
    outcomes = [_outcome(handler, result=7), _outcome(handler, cancel=True),
                _outcome(handler, error=transient), _outcome(handler, error=ListenerStopping()),
                _outcome(handler, error=fault)]
    with caplog.at_level(logging.DEBUG, logger="bot.channels.email.smtp_listener"):
        for size, task in enumerate(outcomes, start=100):
            handler._stored(task, sender=sender, size=size)
    first_line = str(transient).splitlines()[0]
    assert len(first_line) > 200
    assert [(r.levelno, r.getMessage(), r.exc_info is not None) for r in caplog.records] == [
        (logging.INFO, f"stored a message from {shown} (100 bytes) as inbound 7", False),
        (logging.WARNING, f"could not store a message from {shown} (102 bytes); answered 451: "
                          f"{first_line[:200]}", False),
        (logging.WARNING, f"could not store a message from {shown} (103 bytes); answered 451: "
                          "the listener is stopping", False),
        (logging.ERROR, f"could not store a message from {shown} (104 bytes); answered 451",
         True),
    ]
    assert caplog.records[-1].exc_info is not None
    assert caplog.records[-1].exc_info[1] is fault
    assert handler.storing == set()
    caplog.clear()
    handler.stored_as = STORED_AS  # as the SQLite spool's listener is made
    with caplog.at_level(logging.INFO, logger="bot.channels.email.smtp_listener"):
        handler._stored(_outcome(handler, result=8), sender=sender, size=99)
    assert [r.getMessage() for r in caplog.records] == [
        f"stored a message from {shown} (99 bytes) as spooled message 8"]
