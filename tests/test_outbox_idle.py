"""The outbox takes no write lock to find nothing to send (issue 14).

Woken after every message, it used to begin two or three writing transactions per wake-up,
on SQLite each a turn on the one write lock every worker waits for. Now it reads what is due
first and writes only for that: with another connection holding SQLite's write lock, an idle
outbox still answers at once; a due reply is sent, and only it; a later one waits its time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bot.channels.email.send import KEEP_SECONDS, EmailOutbox
from bot.delivery import Delivery
from bot.settings import HostPort, Settings
from store.db import Store
from store.queue import OutboundItem, enqueue_outbound
from store.types import utcnow
from tests.smtp_support import HOST, SmtpSink
from tests.store_support import executed


def _delivery(store: Store, tmp_path: Path, sent: list[str]) -> Delivery:
    def send(session: Session, item: OutboundItem, accepted: Callable[[], None]) -> None:
        sent.append(item.key)

    return Delivery(store, Settings(data_dir=tmp_path, mailbox_address="m@x.example"),
                    {"email": send})


def _queue(store: Store, key: str, *, due_in: timedelta = timedelta(0)) -> None:
    with store.transaction() as session:
        enqueue_outbound(session, key=key, channel="email", recipient="a@b.example",
                         payload=b"x", now=utcnow() + due_in)


def test_an_idle_outbox_writes_nothing(db_store: Store, tmp_path: Path) -> None:
    sent: list[str] = []
    delivery = _delivery(db_store, tmp_path, sent)
    _queue(db_store, "done")
    assert delivery.deliver_due() == 1  # sent: no longer queued, so no longer due
    _queue(db_store, "later", due_in=timedelta(hours=1))
    writes = ("UPDATE", "INSERT", "DELETE")
    with executed(db_store.engine,
                  lambda sql: sql.startswith(writes) or "FOR UPDATE" in sql) as seen:
        assert delivery.deliver_due() == 0
    assert seen == [] and sent == ["done"]


@pytest.mark.postgres
def test_a_reply_taken_by_another_process_does_not_stop_the_other_channels(
    pg_schema_url: str, tmp_path: Path
) -> None:
    """Another process holds the email reply's row (it is sending it): that channel ends
    its round, and the Slack reply is still sent."""
    store = Store.open(pg_schema_url)
    try:
        sent: list[str] = []

        def send(session: Session, item: OutboundItem, accepted: Callable[[], None]) -> None:
            sent.append(item.key)

        delivery = Delivery(store, Settings(data_dir=tmp_path, mailbox_address="m@x.example"),
                            {"email": send, "slack": send})
        _queue(store, "by-email")
        with store.transaction() as session:
            enqueue_outbound(session, key="by-slack", channel="slack", recipient="U1",
                             payload=b"{}")
        with store.sessions() as other, other.begin():
            other.execute(select(OutboundItem).where(OutboundItem.key == "by-email")
                          .with_for_update())
            assert delivery.deliver_due() == 1
        assert sent == ["by-slack"]
    finally:
        store.close()


def test_an_idle_outbox_does_not_wait_for_the_write_lock(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'marac.db'}")
    try:
        # Our connections give up on a taken lock after 200 ms, not 30 s: a regression fails
        # quickly, with "database is locked".
        event.listen(store.engine, "connect",
                     lambda conn, _record: conn.execute("PRAGMA busy_timeout=200"))
        store.engine.dispose()
        delivery = _delivery(store, tmp_path, [])
        path = make_url(str(store.engine.url)).database
        assert path
        with closing(sqlite3.connect(path, isolation_level=None)) as other:
            other.execute("BEGIN IMMEDIATE")  # a worker's long transaction
            assert delivery.deliver_due() == 0
            other.execute("ROLLBACK")
    finally:
        store.close()


def test_only_what_is_due_is_sent(db_store: Store, tmp_path: Path) -> None:
    sent: list[str] = []
    delivery = _delivery(db_store, tmp_path, sent)
    _queue(db_store, "now-1")
    _queue(db_store, "now-2")
    _queue(db_store, "later", due_in=timedelta(hours=1))
    assert delivery.deliver_due() == 2
    assert sorted(sent) == ["now-1", "now-2"]
    assert delivery.deliver_due() == 0 and len(sent) == 2
    with db_store.reading() as session:
        statuses = dict(session.execute(select(OutboundItem.key, OutboundItem.status)).all())
    assert statuses == {"now-1": "sent", "now-2": "sent", "later": "queued"}


def test_at_most_the_limit_is_sent_per_wake_up(db_store: Store, tmp_path: Path) -> None:
    sent: list[str] = []
    delivery = _delivery(db_store, tmp_path, sent)
    for n in range(3):
        _queue(db_store, f"r{n}")
    assert delivery.deliver_due(limit=2) == 2
    assert delivery.deliver_due(limit=2) == 1
    assert sorted(sent) == ["r0", "r1", "r2"]


def _relay_delivery(store: Store, tmp_path: Path, port: int) -> tuple[Delivery, list[float]]:
    """The delivery ``run`` builds, sending to a real relay; its mail sender's clock is a
    list to move by hand."""
    settings = Settings(data_dir=tmp_path, mailbox_address="m@x.example",
                        smtp_relay=HostPort(HOST, port))
    delivery = Delivery.from_settings(store, settings)
    email = delivery.by_channel["email"]
    assert isinstance(email, EmailOutbox)
    now = [1000.0]
    email.mail.clock = lambda: now[0]
    return delivery, now


def test_replies_in_a_row_go_over_one_relay_connection_ended_at_close(
        db_store: Store, tmp_path: Path) -> None:
    with SmtpSink() as relay:
        delivery, _ = _relay_delivery(db_store, tmp_path, relay.port)
        for key in ("one", "two", "three"):
            _queue(db_store, key)
        assert delivery.deliver_due() == 3
        mails = relay.wait_for(3)
        assert len({m.peer for m in mails}) == 1 and relay.recorder.quits == []
        delivery.close()
        assert relay.recorder.quits == [mails[0].peer]


def test_an_idle_round_ends_a_relay_connection_unused_for_keep_seconds(
        db_store: Store, tmp_path: Path) -> None:
    with SmtpSink() as relay:
        delivery, now = _relay_delivery(db_store, tmp_path, relay.port)
        _queue(db_store, "one")
        assert delivery.deliver_due() == 1
        (mail,) = relay.wait_for(1)
        now[0] += KEEP_SECONDS
        assert delivery.deliver_due() == 0
        assert relay.recorder.quits == []  # not yet: kept exactly KEEP_SECONDS
        now[0] += 0.01
        assert delivery.deliver_due() == 0
        assert relay.recorder.quits == [mail.peer]


def test_a_sender_failing_to_release_its_connection_does_not_stop_delivery(
        db_store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    sent: list[str] = []

    class Sender:
        def __call__(self, session: Session, item: OutboundItem,
                     accepted: Callable[[], None]) -> None:
            sent.append(item.key)

        def release_idle(self) -> None:
            raise OSError("the relay's socket is gone")

    delivery = Delivery(db_store, Settings(data_dir=tmp_path, mailbox_address="m@x.example"),
                        {"email": Sender()})
    _queue(db_store, "one")
    assert delivery.deliver_due() == 1 and sent == ["one"]
    assert "release_idle of Sender failed" in caplog.text
    delivery.close()  # a sender without close() is passed over
