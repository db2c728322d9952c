"""Words in a Teams 1:1 chat right after a held-changes reply are read against those changes
(issue 12): a 1:1 chat has no threads, so the bot's last answer in the conversation is the
context. End to end against the fake Bot Connector (``python -m bot run``, anonymous mode,
SQLite); the context lookup itself on SQLite and PostgreSQL below.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from handlers.held_thread import chat_context
from kernel import wording
from kernel.messages import InboundMessage, ThreadRef
from store.queue import enqueue_inbound, enqueue_outbound, finish_inbound
from tests.chat_e2e_support import LAMBETH_AAD, WAIT, prepare_registry
from tests.run_e2e_support import BotDb, BotProcess
from tests.teams_fake_support import FakeConnector, message_activity
from tests.test_forms_teams_e2e import (
    CLEAN,
    CONVERSATION,
    bot_env,
    card_submit,
    connector,
    form_value,
    replying_to,
    send,
)

__all__ = ["connector"]  # the fixture, used by name

PENDING = "SELECT count(*) FROM held_changes WHERE status = 'pending'"
POLICE = "SELECT ref_police FROM meeting_versions WHERE is_current"
NOW = datetime(2025, 1, 20, 10, 0, tzinfo=UTC)


def say(connector: FakeConnector, activity_id: str, text: str) -> dict[str, object]:
    return message_activity(connector, activity_id=activity_id, aad_id=LAMBETH_AAD, text=text)


def test_yes_and_keep_in_a_one_to_one_chat_settle_the_changes_just_held(
    tmp_path: Path, connector: FakeConnector
) -> None:
    db = BotDb(prepare_registry(tmp_path / "data"))

    def exchange(bot: BotProcess, activity: dict[str, object]) -> str:
        assert send(bot, activity) == 202
        answer = connector.wait_for(replying_to(str(activity["id"])), timeout=WAIT)
        return str(answer["body"]["text"])

    with BotProcess(tmp_path / "work", bot_env(tmp_path / "data")).start() as bot:
        exchange(bot, card_submit(connector, "act-rec", form_value(CLEAN)))
        exchange(bot, card_submit(connector, "act-12", form_value({**CLEAN, "ref_police": 12})))
        assert db.count(PENDING) == 1
        # Nothing we asked about: asked back, and the question keeps the context.
        unclear = exchange(bot, say(connector, "act-thanks", "thanks"))
        confirmed = exchange(bot, say(connector, "act-yes", "yes please confirm"))
        assert db.count(PENDING) == 0 and db.rows(POLICE) == [(12,)]

        exchange(bot, card_submit(connector, "act-15", form_value({**CLEAN, "ref_police": 15})))
        kept = exchange(bot, say(connector, "act-no", "No, keep the old figures"))
        assert db.count(PENDING) == 0 and db.rows(POLICE) == [(12,)]

        # A question after a held change is answered (a chat goes on, unlike a thread); once
        # the bot has said something else, "yes" is no longer about the change.
        exchange(bot, card_submit(connector, "act-16", form_value({**CLEAN, "ref_police": 16})))
        question = exchange(bot, say(connector, "act-q", "has Lambeth uploaded Q3 2024/25?"))
        exchange(bot, say(connector, "act-yes2", "yes"))

    assert unclear == wording.held_unclear_text([("Lambeth", "14 Nov 2024")])
    assert confirmed == wording.confirmed_text(1)
    assert kept == wording.kept_text(1)
    assert "Lambeth" in question.splitlines()[0] and "Q3 2024/25" in question
    assert "Did you mean to confirm" not in question
    assert db.count(PENDING) == 1, "the late 'yes' confirmed nothing"
    assert db.rows(POLICE) == [(12,)]


# -- the context itself: the last answer in the conversation, on both databases --------------


def _teams(text: str, activity_id: str, conversation: str = CONVERSATION) -> InboundMessage:
    thread = ThreadRef(channel="teams", address=conversation, message_id=activity_id)
    return InboundMessage(
        channel="teams", sender=LAMBETH_AAD, thread=thread, text=text, dedupe_key=activity_id
    )


def _answered(
    session: Session, activity_id: str, outcome: str, conversation: str = CONVERSATION
) -> None:
    item = enqueue_inbound(
        session, channel="teams", raw=b"{}", source_key=f"teams:{activity_id}", received_at=NOW
    )
    finish_inbound(session, item, outcome=outcome, now=NOW)
    enqueue_outbound(
        session,
        key=f"reply:{item}",
        channel="teams",
        recipient=conversation,
        payload=b"{}",
        inbound_id=item,
        now=NOW,
    )


def test_the_context_is_the_last_answer_past_our_asking_back(db_session: Session) -> None:
    assert chat_context(db_session, _teams("yes", "a-0")) == [], "nothing said yet"
    _answered(db_session, "a-file", "submission-held")
    assert chat_context(db_session, _teams("yes", "a-1")) == ["teams:a-file"]
    _answered(db_session, "a-thanks", "held-reply-unclear")
    assert chat_context(db_session, _teams("yes", "a-2")) == ["teams:a-file"]
    _answered(db_session, "a-other", "submission-held", conversation="a:1on1-someone-else")
    assert chat_context(db_session, _teams("yes", "a-3")) == ["teams:a-file"], "own chat only"
    _answered(db_session, "a-yes", "confirmed")
    assert chat_context(db_session, _teams("yes", "a-4")) == ["teams:a-yes"]


def test_a_reminder_since_ends_the_context_and_a_channel_thread_keeps_its_own(
    db_session: Session,
) -> None:
    _answered(db_session, "b-file", "submission-held")
    enqueue_outbound(
        db_session,
        key="reminder:1",
        channel="teams",
        recipient=CONVERSATION,
        payload=b"{}",
        now=NOW,
    )
    assert chat_context(db_session, _teams("yes", "b-1")) == []
    in_thread = InboundMessage(
        channel="teams",
        sender=LAMBETH_AAD,
        text="yes",
        thread=ThreadRef(channel="teams", address=CONVERSATION),
        replies_to=("root-post",),
    )
    assert chat_context(db_session, in_thread) == [], "a channel thread names its own root"
