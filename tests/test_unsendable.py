"""Nothing waits for ever for a channel that cannot send, and a failing relay shows in health
(issue 17), on SQLite and PostgreSQL.

- A reminder for a contact who prefers Slack or Teams, on an installation without them, goes
  by email (and the log names email); one for a contact reached on email and Slack goes by
  email only.
- An outbox item for a channel with no sender here is marked failed with the reason.
- The relay failing is ``failing`` (not down) for its grace, then ``down`` in health, and
  ``up`` again at the next delivery it takes.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels.email.outbound import email_renderer
from bot.delivery import Delivery
from bot.health import RELAY_GRACE, Health, State
from bot.settings import HostPort, Settings
from handlers.reminders import run_reminders
from kernel.quarters import Quarter
from store.db import Store
from store.models import Contact, ReminderLog
from store.queue import OutboundItem, enqueue_outbound
from tests.reminders_support import MAILBOX, at_send_time, load_four_nations, outbox, upload
from tests.smtp_support import HOST, SmtpSink

Q2 = Quarter(2024, 2)
NO_CHAT = Settings(mailbox_address=MAILBOX)  # neither Slack nor Teams configured
TEAMS_TOO = Settings(mailbox_address=MAILBOX, teams_anonymous=True)


def test_a_reminder_for_an_unconfigured_chat_channel_goes_by_email(
    db_session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    load_four_nations(db_session)
    for marac in ("Croydon", "Glasgow", "Cardiff", "Belfast"):
        upload(db_session, marac, Q2, on=date(2024, 10, 20))
    db_session.commit()
    day = date(2025, 1, 29)
    assert NO_CHAT.sendable_channels == {"email"}
    with caplog.at_level(logging.WARNING, logger="handlers.reminder_send"):
        run_reminders(
            db_session,
            settings=NO_CHAT,
            today=day,
            dry_run=False,
            now=at_send_time(day),
            render_email=email_renderer(MAILBOX),
        )
    db_session.commit()

    items = outbox(db_session)
    assert {item.channel for item in items} == {"email"}, "nothing queued for Slack or Teams"
    recipients = {item.recipient for item in items}
    assert {"gil@glasgow.example", "cara@croydon.example"} <= recipients
    gil = db_session.scalar(select(Contact.id).where(Contact.email == "gil@glasgow.example"))
    assert {
        row.channels
        for row in db_session.scalars(select(ReminderLog).where(ReminderLog.contact_id == gil))
    } == {"email"}
    assert (
        "reminder for gil@glasgow.example: teams not configured here; sending by email"
        in caplog.text
    )
    assert "reminder for cara@croydon.example: slack not configured here" in caplog.text


def test_an_item_for_a_channel_without_a_sender_fails_with_the_reason(
    db_store: Store, tmp_path: Path
) -> None:
    settings = Settings(mailbox_address=MAILBOX, data_dir=tmp_path)
    with db_store.transaction() as session:
        enqueue_outbound(
            session,
            key="reminder:x:slack",
            channel="slack",
            recipient="U1",
            payload=b'{"text": "hi", "user": "U1"}',
        )
    health = Health()
    delivery = Delivery.from_settings(db_store, settings, health)
    assert set(delivery.by_channel) == {"email"}
    delivery.deliver_due()
    with db_store.transaction() as session:
        item = session.scalars(select(OutboundItem)).one()
        assert (item.status, item.last_error) == (
            "failed",
            "not sent: slack is not configured on this installation",
        )
    assert health.snapshot()["email-outbox-folder"].state == State.STARTING  # nothing sent


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 6, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_relay_failing_past_its_grace_is_down_and_up_again_once_it_takes_mail(
    db_store: Store, tmp_path: Path
) -> None:
    clock = Clock()
    health = Health(clock=clock)
    with SmtpSink(data_reply="451 4.3.0 try again later") as relay:
        settings = Settings(
            mailbox_address=MAILBOX, data_dir=tmp_path, smtp_relay=HostPort(HOST, relay.port)
        )
        delivery = Delivery.from_settings(db_store, settings, health)
        with db_store.transaction() as session:
            enqueue_outbound(
                session,
                key="reply:1",
                channel="email",
                recipient="someone@example.org",
                payload=_mail(),
            )
        delivery.deliver_due()
        failing = health.snapshot()["email-relay"]
        assert failing.state == State.FAILING and "451" in (failing.last_error or "")
        assert health.down_components() == []
        clock.now += RELAY_GRACE - timedelta(seconds=1)
        assert health.down_components() == []
        clock.now += timedelta(seconds=1)
        assert health.down_components() == ["email-relay"]

        relay.recorder.data_reply = None  # the relay takes mail again
        with db_store.transaction() as session:
            session.execute(
                OutboundItem.__table__.update().values(
                    next_attempt_at=clock.now - timedelta(days=1)
                )
            )
        assert delivery.deliver_due() == 1
    assert health.snapshot()["email-relay"].state == State.UP
    assert health.down_components() == []


def _mail() -> bytes:
    return (
        f"From: {MAILBOX}\r\nTo: someone@example.org\r\nSubject: hi\r\n"
        "Message-ID: <reply.1@example.org>\r\n\r\nHello.\r\n"
    ).encode()


def test_a_teams_contact_the_bot_has_never_talked_with_is_reminded_by_email(
    db_session: Session,
) -> None:
    """A bot can only write into a Teams conversation it has been given (a chat or an install
    stores its reference): before that, the reminder goes by email, and ``remind --json``
    names the channel it went by."""
    load_four_nations(db_session)
    gil = db_session.scalar(select(Contact).where(Contact.email == "gil@glasgow.example"))
    assert gil is not None
    gil.teams_reference = None
    for marac in ("Croydon", "Cardiff", "Belfast", "Leeds"):
        upload(db_session, marac, Q2, on=date(2024, 10, 20))
    db_session.commit()
    day = date(2025, 1, 29)
    decisions = run_reminders(db_session, settings=TEAMS_TOO, today=day, dry_run=False,
                              now=at_send_time(day), render_email=email_renderer(MAILBOX))
    db_session.commit()
    gils = [d.to_dict() for d in decisions if d.contact == "gil@glasgow.example"]
    assert gils and {d["channel"] for d in gils} == {"email"} and all(d["sent"] for d in gils)
    assert [i.channel for i in outbox(db_session) if "gil" in i.recipient] == ["email"]


def test_remind_json_names_the_channels_used_not_the_registrys(db_session: Session) -> None:
    """Cara prefers email and Slack, Gil Teams: on an installation without chat, a dry run
    says email for both, as the real run sends."""
    load_four_nations(db_session)
    for marac in ("Croydon", "Glasgow", "Cardiff", "Belfast"):
        upload(db_session, marac, Q2, on=date(2024, 10, 20))
    db_session.commit()
    day = date(2025, 1, 29)
    decisions = run_reminders(db_session, settings=NO_CHAT, today=day, dry_run=True)
    used = {(d.contact, d.channel) for d in decisions
            if d.contact in {"cara@croydon.example", "gil@glasgow.example"}}
    assert used == {("cara@croydon.example", "email"), ("gil@glasgow.example", "email")}
    assert all(not d.sent for d in decisions)
