"""Explaining and withdrawing in Slack (issue 13), end to end: a real bot process, a loopback
fake of Slack's Web API, signed Events API callbacks. A coordinator drops a file with a soft
issue in their DM and answers the check in the file's thread with EXPLAIN; past the due date
only the data team may withdraw the file, and does."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.chat_e2e_support import ADMIN_SLACK, CHAT_FIXTURES, WAIT, prepare_registry
from tests.run_e2e_support import BotProcess
from tests.slack_fake_support import FakeSlack
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
