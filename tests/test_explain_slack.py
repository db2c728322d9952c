"""Explaining and withdrawing in Slack (issue 13), end to end: a real bot process, a loopback
fake of Slack's Web API, signed Events API callbacks. A coordinator drops a file with a soft
issue in their DM and answers the check in the file's thread with EXPLAIN; past the due date
only the data team may withdraw the file, and does."""

from __future__ import annotations

import io
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.channels.slack import explain_view
from tests.chat_e2e_support import (
    ADMIN_SLACK,
    CHAT_FIXTURES,
    LAMBETH_SLACK,
    WAIT,
    prepare_registry,
)
from tests.run_e2e_support import BotProcess
from tests.slack_fake_support import TEAM, FakeSlack
from tests.test_forms_slack_e2e import FormsSlack, signed_post
from tests.test_slack_e2e import bot_env, dm_event, in_thread, reply_text, send_event

REASON = "the household's children were counted at the next meeting"


@pytest.fixture
def slack() -> Any:
    with FakeSlack() as fake:
        yield fake


def _with_soft_issue() -> bytes:
    """Lambeth's Q3 with no children on the 17 Oct row but cases with children: a check (E3)."""
    workbook = load_workbook(CHAT_FIXTURES / "lambeth-q3.xlsx")
    workbook.active["E3"] = 0
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _thread_reply(event_id: str, thread_ts: str, text: str) -> tuple[dict[str, Any], str]:
    body, ts = dm_event(event_id, text=text)
    body["event"]["thread_ts"] = thread_ts
    return body, ts


def test_a_check_is_explained_in_the_files_thread_and_the_file_withdrawn(
    tmp_path: Path, slack: FakeSlack
) -> None:
    data = tmp_path / "data"
    prepare_registry(data)
    file = slack.add_file("F1", "lambeth-q3.xlsx", _with_soft_issue())
    with BotProcess(tmp_path / "work", bot_env(data, slack)).start() as bot:
        body, file_ts = dm_event("EvFile", files=[file])
        assert send_event(bot, body)[0] == 200
        first = reply_text(slack.wait_for("chat.postMessage", in_thread(file_ts), timeout=WAIT))
        assert "Recorded as submission 1 (lambeth-q3.xlsx)" in " ".join(first.split())

        body, _ = _thread_reply("EvExplain", file_ts, f"EXPLAIN E3: {REASON}")
        assert send_event(bot, body)[0] == 200
        thanks = slack.wait_for("chat.postMessage", lambda c: in_thread(file_ts)(c)
                                and "explanation" in reply_text(c), timeout=WAIT)
        assert ("Your explanation for E3 is recorded with Lambeth's meeting of 17 Oct 2024"
                in " ".join(reply_text(thanks).split()))

        # Past the quarter's due date the coordinator may not withdraw it; the data team may.
        body, _ = _thread_reply("EvWithdraw", file_ts, "withdraw submission 1")
        assert send_event(bot, body)[0] == 200
        refused = slack.wait_for("chat.postMessage", lambda c: in_thread(file_ts)(c)
                                 and "only the data team" in reply_text(c), timeout=WAIT)
        assert "only the data team can withdraw it" in " ".join(reply_text(refused).split())
        body, admin_ts = dm_event("EvAdmin", user=ADMIN_SLACK, channel="DADMIN",
                                  text="withdraw submission 1")
        assert send_event(bot, body)[0] == 200
        gone = slack.wait_for("chat.postMessage", in_thread(admin_ts), timeout=WAIT)
        assert "- Lambeth, 17 Oct 2024: no figures now" in reply_text(gone)

    with sqlite3.connect(data / "marac.db") as db:
        (text, cell), = db.execute("SELECT text, cell FROM explanations").fetchall()
        assert (text, cell) == (REASON, "E3")
        current = db.execute("SELECT count(*) FROM meeting_versions WHERE is_current").fetchone()
        assert current == (0,)  # every meeting the file created has no figures now
        assert db.execute("SELECT count(*) FROM meeting_versions").fetchone() == (6,)


def test_the_explain_button_opens_a_modal_whose_answer_is_kept_in_the_files_thread(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    prepare_registry(data)
    with FormsSlack() as fake:
        file = fake.add_file("F1", "lambeth-q3.xlsx", _with_soft_issue())
        with BotProcess(tmp_path / "work", bot_env(data, fake)).start() as bot:
            body, file_ts = dm_event("EvFile", files=[file])
            assert send_event(bot, body)[0] == 200
            reply = fake.wait_for("chat.postMessage", in_thread(file_ts), timeout=WAIT)
            button = next(e for b in reply["blocks"] if b["type"] == "actions"
                          for e in b["elements"] if e["action_id"] == explain_view.OPEN_ACTION)
            assert button["text"]["text"] == "Explain a check"
            press = {
                "type": "block_actions", "team": {"id": TEAM}, "user": {"id": LAMBETH_SLACK},
                "api_app_id": "AMARAC", "channel": {"id": reply["channel"]},
                "container": {"type": "message", "channel_id": reply["channel"]},
                "trigger_id": "trigger-explain",
                "message": {"ts": "1737379999.000001", "thread_ts": file_ts},
                "actions": [{"type": "button", "action_id": explain_view.OPEN_ACTION,
                             "block_id": "marac_explain", "value": button["value"],
                             "action_ts": f"{time.time():.6f}"}],
            }
            assert signed_post(bot, {"payload": json.dumps(press)})[0] == 200
            opened = fake.wait_for("views.open", timeout=WAIT)
            view = json.loads(opened["view"]) if isinstance(opened["view"], str) else opened["view"]
            cell_input = view["blocks"][0]["element"]
            assert [o["value"] for o in cell_input["options"]] == ["E3"]
            state = {"values": {
                explain_view.CELL_BLOCK: {explain_view.CELL_ACTION: {
                    "type": "static_select", "selected_option": {"value": "E3"}}},
                explain_view.REASON_BLOCK: {explain_view.REASON_ACTION: {
                    "type": "plain_text_input", "value": REASON}},
            }}
            submitted = {
                "type": "view_submission", "team": {"id": TEAM},
                "user": {"id": LAMBETH_SLACK, "team_id": TEAM}, "api_app_id": "AMARAC",
                "trigger_id": "trigger-send",
                "view": {**view, "id": "VEXPLAIN", "hash": "h1", "state": state},
            }
            assert signed_post(bot, {"payload": json.dumps(submitted)})[0] == 200
            thanks = fake.wait_for("chat.postMessage", lambda c: in_thread(file_ts)(c)
                                   and "explanation" in reply_text(c), timeout=WAIT)
    assert thanks["channel"] == reply["channel"]
    assert ("Your explanation for E3 is recorded with Lambeth's meeting of 17 Oct 2024"
            in " ".join(reply_text(thanks).split()))
    with sqlite3.connect(data / "marac.db") as db:
        assert db.execute("SELECT cell, text FROM explanations").fetchall() == [("E3", REASON)]
