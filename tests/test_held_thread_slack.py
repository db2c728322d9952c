"""Replies in a Slack thread on held changes, read in that context (issue 12): the running bot
(``python -m bot run``) against the fake Slack on loopback, signed events, a temp SQLite store.

Waits are on what the fake records, each with a timeout; never a sleep.
"""

from __future__ import annotations

from pathlib import Path

from kernel import wording
from tests.chat_e2e_support import CHAT_FIXTURES, WAIT, prepare_registry
from tests.run_e2e_support import BotDb, BotProcess
from tests.slack_fake_support import FakeSlack
from tests.test_slack_e2e import bot_env, dm_event, in_thread, reply_text, send_event, slack

__all__ = ["slack"]  # the fixture, used by name

PENDING = "SELECT count(*) FROM held_changes WHERE status = 'pending'"


def test_words_in_the_thread_confirm_or_are_asked_back(tmp_path: Path, slack: FakeSlack) -> None:
    db = BotDb(prepare_registry(tmp_path / "data"))
    first = slack.add_file("F1", "lambeth-q3.xlsx",
                           (CHAT_FIXTURES / "lambeth-q3.xlsx").read_bytes())
    revised = slack.add_file("F2", "lambeth-q3-revised.xlsx",
                             (CHAT_FIXTURES / "lambeth-q3-revised.xlsx").read_bytes())
    with BotProcess(tmp_path / "work", bot_env(tmp_path / "data", slack)).start() as bot:
        body, ts = dm_event("EvFirst", files=[first])
        assert send_event(bot, body)[0] == 200
        slack.wait_for("chat.postMessage", in_thread(ts), timeout=WAIT)
        body, held_ts = dm_event("EvRevised", files=[revised])
        assert send_event(bot, body)[0] == 200
        slack.wait_for("chat.postMessage", in_thread(held_ts), timeout=WAIT)
        assert db.count(PENDING) == 1

        # "thanks" in the thread answers nothing we asked: asked back, nothing changes.
        body, _ = dm_event("EvThanks", text="thanks")
        body["event"]["thread_ts"] = held_ts
        assert send_event(bot, body)[0] == 200
        unclear = slack.wait_for("chat.postMessage", in_thread(held_ts), count=2, timeout=WAIT)
        assert db.count(PENDING) == 1

        body, _ = dm_event("EvYes", text="yes please confirm, those are the right figures")
        body["event"]["thread_ts"] = held_ts
        assert send_event(bot, body)[0] == 200
        done = slack.wait_for("chat.postMessage", in_thread(held_ts), count=3, timeout=WAIT)

    assert reply_text(unclear) == wording.held_unclear_text([("Lambeth", "3 Oct 2024")])
    assert reply_text(done) == wording.confirmed_text(1)
    assert db.count(PENDING) == 0
    assert db.count("SELECT count(*) FROM held_changes WHERE status = 'confirmed'") == 1
