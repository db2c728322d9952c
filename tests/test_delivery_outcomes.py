"""What the outbox keeps, logs and reports for each way a send can end, on both databases.

Sent (by the relay, or written to the outbox folder), refused for good (kept as failed for an
operator), refused for now (tried again after 30 s), and a sender that breaks (a bug: kept and
tried again): each is one committed outcome, one log line naming the item, and the channel's
health (bot/delivery.py, store/outbox_turn.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.channels.email.send import EmailOutbox, MailSender, RelayConfig
from bot.delivery import Delivery
from bot.health import Health, State
from bot.settings import HostPort, Settings
from store.db import Store, sqlite_file
from store.queue import OutboundItem, QueueStatus, enqueue_outbound
from store.types import utcnow
from tests.smtp_support import HOST, SmtpSink
from tests.store_support import write_lock_free

MAILBOX = "marac@example.org"
TO = "c@example.org"
RELAY = "email-relay"


def _queue(store: Store, key: str = "reply:1", channel: str = "email") -> int:
    with store.transaction() as session:
        return enqueue_outbound(session, key=key, channel=channel, recipient=TO,
                                payload=f"Subject: {key}\r\n\r\nrows accepted\r\n".encode())


def _item(store: Store, item_id: int) -> OutboundItem:
    with store.reading() as session:
        item = session.get(OutboundItem, item_id)
        assert item is not None
        session.expunge(item)
        return item


def _by_relay(store: Store, sink: SmtpSink, health: Health) -> Delivery:
    mail = MailSender(relay=RelayConfig(HostPort(HOST, sink.port)), outbox_dir=Path("unused"))
    return Delivery(store, Settings(mailbox_address=MAILBOX, smtp_relay=HostPort(HOST, 25)),
                    {"email": EmailOutbox(mail, MAILBOX)}, health)


def _lines(caplog: pytest.LogCaptureFixture, logger: str) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == logger]


def test_a_message_the_relay_accepts_is_sent_once(
    db_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    item_id = _queue(db_store)
    health = Health()
    before = utcnow()
    with SmtpSink() as sink, caplog.at_level(logging.INFO, logger="bot.delivery"):
        assert _by_relay(db_store, sink, health).deliver_due() == 1
        assert [m.rcpt_tos for m in sink.messages] == [(TO,)]
    item = _item(db_store, item_id)
    assert (item.status, item.attempts, item.last_error) == (QueueStatus.SENT, 1, None)
    assert item.sent_at is not None and before <= item.sent_at <= utcnow()
    assert _lines(caplog, "bot.delivery") == [(logging.INFO, "sent reply:1 by email")]
    assert health.snapshot()[RELAY].state == State.UP


def test_a_message_for_the_outbox_folder_is_written_and_said_so(
    db_store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    item_id = _queue(db_store)
    delivery = Delivery(db_store, Settings(mailbox_address=MAILBOX),
                        {"email": EmailOutbox(MailSender(relay=None, outbox_dir=tmp_path),
                                              MAILBOX)})
    with caplog.at_level(logging.INFO, logger="bot.delivery"):
        assert delivery.deliver_due() == 1
    assert len(list(tmp_path.glob("*.eml"))) == 1
    assert _item(db_store, item_id).status == QueueStatus.SENT
    assert _lines(caplog, "bot.delivery") == [
        (logging.INFO, "reply:1 written to the outbox folder (not sent)")]


def test_a_message_refused_for_good_is_kept_as_failed(
    db_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    item_id = _queue(db_store)
    health = Health()
    with SmtpSink(rcpt_replies={TO: "550 5.1.1 no such user"}) as sink, \
            caplog.at_level(logging.INFO, logger="bot.delivery"):
        assert _by_relay(db_store, sink, health).deliver_due() == 0
    item = _item(db_store, item_id)
    assert (item.status, item.attempts, item.sent_at) == (QueueStatus.FAILED, 1, None)
    assert item.last_error == f"relay {HOST}:{sink.port} refused {TO}: 550 5.1.1 no such user"
    [(level, line)] = _lines(caplog, "bot.delivery")
    assert level == logging.ERROR
    assert line == f"outbox reply:1 refused for good: {item.last_error}"
    # The relay itself answered: it is up; the recipient was wrong.
    assert health.snapshot()[RELAY].state == State.UP
    # Failed is for an operator: never tried again.
    with SmtpSink() as sink:
        assert _by_relay(db_store, sink, health).deliver_due() == 0
        assert sink.messages == []


def test_a_message_refused_for_now_is_tried_again_in_30_seconds(
    db_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    item_id = _queue(db_store)
    health = Health()
    before = utcnow()
    with SmtpSink(data_reply="451 4.3.0 try again later") as sink, \
            caplog.at_level(logging.INFO, logger="bot.delivery"):
        assert _by_relay(db_store, sink, health).deliver_due() == 0
    after = utcnow()
    item = _item(db_store, item_id)
    assert (item.status, item.attempts, item.sent_at) == (QueueStatus.QUEUED, 1, None)
    assert item.last_error == (
        f"relay {HOST}:{sink.port} refused the message: 451 4.3.0 try again later")
    assert before + timedelta(seconds=30) <= item.next_attempt_at <= after + timedelta(seconds=30)
    assert _lines(caplog, "bot.delivery") == [
        (logging.WARNING, f"outbox reply:1 not sent, will retry: {item.last_error}")]
    relay = health.snapshot()[RELAY]
    assert relay.state == State.FAILING and relay.last_error == item.last_error


def test_a_sender_that_breaks_keeps_the_item_for_later(
    db_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    item_id = _queue(db_store, channel="slack")
    health = Health()

    def broken(session: Session, item: OutboundItem, accepted: Callable[[], None]) -> None:
        raise KeyError("blocks")

    delivery = Delivery(db_store, Settings(mailbox_address=MAILBOX), {"slack": broken}, health)
    with caplog.at_level(logging.INFO, logger="bot.delivery"):
        assert delivery.deliver_due() == 0
    item = _item(db_store, item_id)
    assert (item.status, item.attempts, item.last_error) == (
        QueueStatus.QUEUED, 1, "KeyError: 'blocks'")
    [record] = [r for r in caplog.records if r.name == "bot.delivery"]
    assert (record.levelno, record.getMessage()) == (
        logging.ERROR, "slack outbox reply:1: unexpected failure")
    assert record.exc_info is not None and record.exc_info[0] is KeyError
    slack = health.snapshot()["slack-api"]
    assert slack.state == State.FAILING and slack.last_error == "KeyError: 'blocks'"


def test_a_chat_sender_reads_the_store_with_no_write_lock_held(db_store: Store) -> None:
    """Slack and Teams senders say nothing of files: theirs is a network send. The session
    they are given reads the store (Teams: a contact's conversation); on SQLite another
    connection can write meanwhile."""
    item_id = _queue(db_store, channel="teams")
    seen: list[tuple[int, bool]] = []
    database = sqlite_file(db_store.engine)

    def teams(session: Session, item: OutboundItem, accepted: Callable[[], None]) -> None:
        queued = session.scalar(select(func.count()).select_from(OutboundItem))
        seen.append((int(queued or 0), database is None or write_lock_free(database)))

    delivery = Delivery(db_store, Settings(mailbox_address=MAILBOX), {"teams": teams})
    assert delivery.deliver_due() == 1
    assert seen == [(1, True)]
    assert _item(db_store, item_id).status == QueueStatus.SENT


def test_accepted_twice_is_recorded_once(
    db_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """A sender may say "accepted" itself (email, at the relay's 250) and then return, which
    says it again."""
    item_id = _queue(db_store, channel="slack")

    def twice(session: Session, item: OutboundItem, accepted: Callable[[], None]) -> None:
        accepted()
        accepted()

    delivery = Delivery(db_store, Settings(mailbox_address=MAILBOX), {"slack": twice})
    with caplog.at_level(logging.INFO, logger="bot.delivery"):
        assert delivery.deliver_due() == 1
    assert _item(db_store, item_id).attempts == 1
    assert _lines(caplog, "bot.delivery") == [(logging.INFO, "sent reply:1 by slack")]
