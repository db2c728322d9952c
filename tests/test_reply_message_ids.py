"""The Message-IDs of the mail the bot sends (RFC 5322 §3.6.4: unique to one message, worldwide).

A reply's Message-ID was the hash of its outbox key alone, and every store's first reply is
"reply:1": a fresh installation's first reply had the Message-ID of another's, and mail
clients drop or misthread a message whose Message-ID they have seen. It is now made with the
store's random token (store_facts, migration 0014) and the Message-ID of the email answered,
and is still the same for the same outbox item: rendered again, or sent again after a crash
between the relay's 250 and its record, the reply is the same message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from sqlalchemy import event, select, update

from bot.channels.email.channel import EmailChannel
from bot.channels.email.inbound import to_inbound
from bot.channels.email.outbound import make_message_id
from bot.channels.email.send import EmailOutbox, MailSender, RelayConfig
from bot.channels.email.threads import replied_prefixes
from bot.delivery import Delivery
from bot.settings import HostPort, Settings
from kernel.messages import Reply, dedupe_prefix
from store.db import Store, alembic_config, open_engine, session_factory
from store.facts import message_ids
from store.models import StoreFacts
from store.queue import OutboundItem, QueueStatus, enqueue_inbound, enqueue_outbound
from store.types import utcnow
from tests.dispatch_support import MAILBOX, Mailroom, compose, load_registry, parse
from tests.smtp_support import HOST, SmtpSink

DOMAIN = MAILBOX.rpartition("@")[2]


def question() -> bytes:
    """A question by email, with a Message-ID of its own."""
    return compose(subject="Quick question", body="has Croydon uploaded Q3?\n")


@contextmanager
def installation(folder: Path) -> Iterator[Mailroom]:
    """A new installation: its own data folder and a database made there on first use."""
    data = folder / "data"
    store = Store.open(f"sqlite:///{data / 'marac.db'}", data_dir=data)
    try:
        with store.transaction() as session:
            load_registry(session)
        yield Mailroom(store, Settings(data_dir=data, mailbox_address=MAILBOX, smtp_listen=None,
                                       http_listen=None))
    finally:
        store.close()


def reply_id(mailroom: Mailroom, raw: bytes) -> tuple[str, str]:
    """The outbox key and the Message-ID of the one reply to ``raw``."""
    handled = mailroom.exchange(raw)
    with mailroom.store.reading() as session:
        key = session.scalars(select(OutboundItem.key)
                              .where(OutboundItem.inbound_id == handled.item_id)).one()
    return key, str(handled.reply["Message-ID"])


def test_two_fresh_installations_never_reply_under_the_same_message_id(tmp_path: Path) -> None:
    with installation(tmp_path / "one") as one, installation(tmp_path / "two") as two:
        first = reply_id(one, question())
        second = reply_id(two, question())
        # Each store's first reply: the same outbox key, once the same Message-ID.
        assert first[0] == second[0] == "reply:1"
        assert first[1] != second[1]
        # Even the very same message, answered by both (a copy to two mailboxes).
        raw = question()
        assert reply_id(one, raw)[1] != reply_id(two, raw)[1]
        with one.store.reading() as a, two.store.reading() as b:
            assert message_ids(a).token != message_ids(b).token
            assert message_ids(a).legacy_through is message_ids(b).legacy_through is None


def test_a_database_made_anew_in_the_same_folder_replies_under_new_ids(tmp_path: Path) -> None:
    with installation(tmp_path) as before:
        first = reply_id(before, question())
    (tmp_path / "data" / "marac.db").unlink()
    with installation(tmp_path) as after:
        again = reply_id(after, question())
    assert first[0] == again[0] == "reply:1" and first[1] != again[1]


def test_a_reply_rendered_or_sent_again_keeps_its_message_id(tmp_path: Path) -> None:
    """The worker renders a reply again if it died before committing it; the outbox sends
    one again if it died between the relay's 250 and recording it (README): the same
    message each time, which the recipient's client shows once."""
    with installation(tmp_path) as mailroom:
        raw = question()
        key, queued = reply_id(mailroom, raw)
        thread = to_inbound(raw, mailbox_address=MAILBOX, trusted_authserv_id=None,
                            received_at=utcnow()).thread
        with mailroom.store.transaction() as session:
            (again,) = EmailChannel(mailroom.settings).outgoing(
                session, Reply(thread, "Rendered again, with other words."), key=key)
        assert parse(again.payload)["Message-ID"] == queued

        with SmtpSink() as sink:
            delivery = Delivery(
                mailroom.store, Settings(mailbox_address=MAILBOX, smtp_relay=HostPort(HOST, 25)),
                {"email": EmailOutbox(MailSender(relay=RelayConfig(HostPort(HOST, sink.port)),
                                                 outbox_dir=tmp_path / "unused"), MAILBOX)})
            assert delivery.deliver_due() == 1
            with mailroom.store.transaction() as session:  # the record of the 250, lost
                session.execute(update(OutboundItem).where(OutboundItem.key == key).values(
                    status=QueueStatus.QUEUED, sent_at=None, next_attempt_at=utcnow()))
            assert delivery.deliver_due() == 1
            sent = [parse(m.data)["Message-ID"] for m in sink.wait_for(2)]
        assert sent == [queued, queued]


def test_replies_queued_before_the_token_are_still_known_in_a_thread(tmp_path: Path) -> None:
    """A store upgraded with replies in its outbox: they were sent with the key's hash alone,
    and "CONFIRM" in reply to one must still find its message (bot/channels/email/threads.py);
    a reply queued since is known by its new id only."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = open_engine(url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0013_totals_per_statement")
    sender = "jane@croydon.example"
    with session_factory(engine)() as session:
        old_in = enqueue_inbound(session, channel="email", raw=b"x", source_key="old",
                                 received_at=utcnow(), message_id="<old@croydon.example>")
        old_out = enqueue_outbound(session, key=f"reply:{old_in}", channel="email",
                                   recipient=sender, payload=b"x", inbound_id=old_in)
        session.commit()
    engine.dispose()
    store = Store.open(url)
    try:
        with store.transaction() as session:
            ids = message_ids(session)
            assert ids.legacy_through == old_out and len(ids.token) == 32
            new_in = enqueue_inbound(session, channel="email", raw=b"y", source_key="new",
                                     received_at=utcnow(), message_id="<new@croydon.example>")
            enqueue_outbound(session, key=f"reply:{new_in}", channel="email", recipient=sender,
                             payload=b"y", inbound_id=new_in)

            def known(reference: str) -> list[str]:
                return replied_prefixes(session, sender=sender, references=(reference,),
                                        domain=DOMAIN)

            old = dedupe_prefix("email", "<old@croydon.example>")
            new = dedupe_prefix("email", "<new@croydon.example>")
            assert known(legacy_id(f"reply:{old_in}")) == [old]
            assert known(legacy_id(f"reply:{new_in}")) == []
            assert known(make_message_id(f"reply:{new_in}", domain=DOMAIN, token=ids.token,
                                         answering="<new@croydon.example>")) == [new]
            assert known(make_message_id(f"reply:{old_in}", domain=DOMAIN, token=ids.token,
                                         answering="<old@croydon.example>")) == [old]
    finally:
        store.close()


def legacy_id(key: str) -> str:
    return f"<marac.{hashlib.sha256(key.encode()).hexdigest()[:32]}@{DOMAIN}>"


def test_the_token_is_read_once_per_connection_and_a_drawn_one_only_once_committed(
    tmp_path: Path,
) -> None:
    """Every reply asks for the token (issue 14: a statement per message), so a connection
    keeps what it read; a token drawn in a transaction that rolls back is never kept."""
    store = Store.open(f"sqlite:///{tmp_path / 'marac.db'}")
    statements: list[tuple[int, str]] = []
    try:
        with store.transaction() as session:
            session.execute(update(StoreFacts).values(message_id_token=None))
        with store.transaction() as session:
            drawn = message_ids(session).token
            session.rollback()  # as a handler's failure would
        with store.transaction() as session:
            committed = message_ids(session).token
        assert committed != drawn  # the rolled-back draw was not kept
        event.listen(store.engine, "before_cursor_execute",
                     lambda conn, _cursor, statement, *_rest: statements.append(
                         (id(conn.connection.dbapi_connection), statement)))
        for _ in range(6):
            with store.transaction() as session:
                assert message_ids(session).token == committed
        reads = [c for c, s in statements if "store_facts" in s]
        assert len(reads) == len(set(reads)) <= 2  # at most one per pooled connection
    finally:
        store.close()
