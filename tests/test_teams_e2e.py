"""Teams end to end (issue 7), through the running bot: ``python -m bot run`` as a subprocess,
activities posted to ``/api/messages`` as the Bot Connector posts them, and replies received
by a fake Bot Connector on loopback (tests/teams_fake_support.py).

The running bot is in anonymous mode (``MARAC_TEAMS_ANONYMOUS=1``, no app id), as for local
testing; token validation with an app id is tested in tests/test_teams_auth.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.settings import Settings
from store.db import Store
from store.queue import enqueue_outbound
from tests.chat_e2e_support import (
    CHAT_FIXTURES,
    LAMBETH,
    LAMBETH_AAD,
    QUESTION,
    WAIT,
    email_answer,
    post,
    prepare_registry,
    words,
)
from tests.run_e2e_support import FIXTURES, MAILBOX, BotDb, BotProcess, read_reply
from tests.smtp_support import HOST, SmtpSink
from tests.teams_fake_support import FakeConnector, file_attachment, message_activity

CONVERSATION = "a:1on1-lambeth"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def connector() -> Iterator[FakeConnector]:
    with FakeConnector() as fake:
        yield fake


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as running:
        yield running


def bot_env(data_dir: Path, relay: SmtpSink) -> dict[str, str]:
    return {
        "MARAC_DATA_DIR": str(data_dir),
        "MARAC_MAILBOX_ADDRESS": MAILBOX,
        "MARAC_SMTP_LISTEN": f"{HOST}:0",
        "MARAC_HTTP_LISTEN": f"{HOST}:0",
        "MARAC_SMTP_RELAY": f"{HOST}:{relay.port}",
        "MARAC_TEAMS_ANONYMOUS": "1",
    }


def send(bot: BotProcess, activity: dict[str, object], **headers: str) -> int:
    status, _ = post(bot.http_port, "/api/messages", json.dumps(activity).encode(),
                     {**JSON, **headers})
    return status


def replying_to(activity_id: str) -> object:
    return lambda a: a["conversation"] == CONVERSATION and a["reply_to"] == activity_id


def test_a_template_and_a_question_in_a_teams_chat_are_answered_in_that_chat(
    tmp_path: Path, connector: FakeConnector, sink: SmtpSink
) -> None:
    db = BotDb(prepare_registry(tmp_path / "data"))
    url = connector.add_file("lambeth-q3.xlsx",
                             (CHAT_FIXTURES / "lambeth-q3.xlsx").read_bytes())
    upload = message_activity(connector, activity_id="act-file", aad_id=LAMBETH_AAD,
                              attachments=[file_attachment("lambeth-q3.xlsx", url)])
    question = message_activity(connector, activity_id="act-ask", aad_id=LAMBETH_AAD,
                                text=f"<at>Marac data assistant</at> {QUESTION}")
    with BotProcess(tmp_path / "work", bot_env(tmp_path / "data", sink)).start() as bot:
        assert "Teams at /api/messages" in (bot.start_line or "")
        assert send(bot, upload) == 202
        assert send(bot, upload) == 202, "a redelivery is accepted and ignored"
        filed = connector.wait_for(replying_to("act-file"), timeout=WAIT)
        assert send(bot, question) == 202
        answered = connector.wait_for(replying_to("act-ask"), timeout=WAIT)
        by_email = email_answer(bot.smtp_port, sink, sender=LAMBETH, question=QUESTION)

    assert "lambeth-q3.xlsx: 6 of 6 rows accepted for Lambeth" in filed["body"]["text"]
    assert filed["body"]["replyToId"] == "act-file"
    assert filed["body"]["recipient"]["aadObjectId"] == LAMBETH_AAD
    assert words(answered["body"]["text"]) == words(by_email)
    assert len([a for a in connector.activities if a["reply_to"] == "act-file"]) == 1
    assert db.count(
        "SELECT count(*) FROM meeting_versions v JOIN submissions s ON s.id = v.submission_id "
        "WHERE s.sender = ? AND s.channel = 'teams' AND v.is_current", LAMBETH) == 6
    (reference,) = db.rows("SELECT teams_reference FROM contacts WHERE email = ?", LAMBETH)
    stored = json.loads(reference[0])
    assert stored["conversation"]["id"] == CONVERSATION
    assert stored["serviceUrl"] == connector.service_url


def test_a_teams_reminder_reaches_the_contact_in_their_stored_chat(
    tmp_path: Path, connector: FakeConnector, sink: SmtpSink
) -> None:
    data_dir = tmp_path / "data"
    db_path = prepare_registry(data_dir)
    hello = message_activity(connector, activity_id="act-hello", aad_id=LAMBETH_AAD,
                             text="help")
    wake = message_activity(connector, activity_id="act-wake", aad_id=LAMBETH_AAD, text="help")
    with BotProcess(tmp_path / "work", bot_env(data_dir, sink)).start() as bot:
        assert send(bot, hello) == 202
        connector.wait_for(replying_to("act-hello"), timeout=WAIT)
        # What handlers/reminder_send.py queues for a Teams contact.
        store = Store.from_settings(Settings(database_url=f"sqlite:///{db_path}",
                                             data_dir=data_dir))
        try:
            with store.transaction() as session:
                enqueue_outbound(session, key="reminder:test:teams", channel="teams",
                                 recipient=LAMBETH_AAD, payload=json.dumps(
                                     {"text": "Please send Q3 2024/25.",
                                      "user": LAMBETH_AAD}).encode())
        finally:
            store.close()
        assert send(bot, wake) == 202  # its reply wakes the outbox
        reminder = connector.wait_for(
            lambda a: a["reply_to"] is None and a["conversation"] == CONVERSATION,
            timeout=WAIT)

    assert reminder["body"]["text"] == "Please send Q3 2024/25."
    assert BotDb(db_path).rows(
        "SELECT status FROM outbound_queue WHERE key = 'reminder:test:teams'") == [("sent",)]


def test_a_bearer_token_is_still_checked_in_anonymous_mode(
    tmp_path: Path, connector: FakeConnector, sink: SmtpSink
) -> None:
    db = BotDb(prepare_registry(tmp_path / "data"))
    activity = message_activity(connector, activity_id="act-forged", aad_id=LAMBETH_AAD,
                                text="help")
    with BotProcess(tmp_path / "work", bot_env(tmp_path / "data", sink)).start() as bot:
        forged = send(bot, activity, Authorization="Bearer not.a.token")
        malformed = send(bot, activity, Authorization="Basic abc")

    assert (forged, malformed) == (401, 401)
    assert db.count("SELECT count(*) FROM inbound_queue") == 0
    assert "ANONYMOUS" in (bot.start_line or "")


def test_a_workbook_teams_cannot_carry_is_emailed_to_the_contact(
    tmp_path: Path, connector: FakeConnector, sink: SmtpSink
) -> None:
    prepare_registry(tmp_path / "data")
    # Croydon's file, with problems, from Lambeth's coordinator: every row is not theirs to
    # send and some have more to fix, so the reply carries an annotated copy, which a bot
    # cannot attach in Teams. (A file refused for its Marac alone gets no copy.)
    url = connector.add_file("croydon-q3.xlsx", (FIXTURES / "several_issues.xlsx").read_bytes())
    upload = message_activity(connector, activity_id="act-annotated", aad_id=LAMBETH_AAD,
                              attachments=[file_attachment("croydon-q3.xlsx", url)])
    with BotProcess(tmp_path / "work", bot_env(tmp_path / "data", sink)).start() as bot:
        assert send(bot, upload) == 202
        reply = connector.wait_for(replying_to("act-annotated"), timeout=WAIT)
        (mail,) = sink.wait_for(1, timeout=WAIT)

    emailed = read_reply(mail.data)
    assert "croydon-q3.xlsx: 0 of 6 rows accepted" in reply["body"]["text"]
    assert "emailed it to your registered address" in reply["body"]["text"]
    assert emailed.to == LAMBETH
    assert list(emailed.attachments) == ["croydon-q3-checked.xlsx"]
