"""``run`` with worker processes beside its own worker (MARAC_WORKERS > 1; issue 14).

Real ``python -m bot run`` processes on SQLite: the children are found through /proc, killed
with real signals, and every message is checked to have been answered exactly once.
"""

from __future__ import annotations

import os
import signal
import smtplib
from collections import Counter
from pathlib import Path

from tests.chat_e2e_support import CHAT_FIXTURES, prepare_registry
from tests.run_e2e_support import (
    COORDINATOR,
    MAILBOX,
    BotDb,
    BotProcess,
    question,
    wait_until,
)
from tests.slack_fake_support import TEAM, FakeSlack
from tests.smtp_support import HOST
from tests.test_slack_e2e import bot_env, dm_event, in_thread, send_event

WAIT = 60.0  # generous: three interpreters start on two cores
READY = "worker process "


def _env(data: Path, workers: int) -> dict[str, str]:
    return {"MARAC_DATA_DIR": str(data), "MARAC_MAILBOX_ADDRESS": MAILBOX,
            "MARAC_SMTP_LISTEN": f"{HOST}:0", "MARAC_HTTP_LISTEN": f"{HOST}:0",
            "MARAC_WORKERS": str(workers)}


def _children(parent: int) -> list[int]:
    """The worker processes whose parent is ``parent``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"bot.workers.child" in cmdline:
            found.append(int(entry.name))
    return sorted(found)


def _ready(bot: BotProcess) -> int:
    return sum(1 for line in bot.log_text().splitlines() if READY in line and "ready" in line)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _send(bot: BotProcess, messages: list[bytes]) -> None:
    with smtplib.SMTP(HOST, bot.smtp_port, timeout=WAIT) as client:
        for raw in messages:
            assert client.sendmail(COORDINATOR, [MAILBOX], raw) == {}


def _answered(db: BotDb) -> int:
    """Email messages done (each with its reply queued in the same commit)."""
    return db.count("SELECT count(*) FROM inbound_queue WHERE channel = 'email'"
                    " AND status = 'done'")


def _all_answered_once(db: BotDb, count: int) -> bool:
    done = [i for i in db.inbound() if i[2] == "done"]
    return len(done) == count and len(db.outbound()) >= count


def test_while_one_worker_waits_on_a_message_the_others_answer_the_rest_once(
    tmp_path: Path,
) -> None:
    # Which process claims what is a race, so the test makes it not matter: the Slack file
    # is held by the fake until every question is answered. Whichever worker fetches it is
    # busy for that whole time, so the questions can only be answered by the others, and
    # one of those is a worker process whatever the claim order.
    db = BotDb(prepare_registry(tmp_path / "data"))
    with FakeSlack() as slack:
        file = slack.add_file("F1", "lambeth-q3.xlsx",
                              (CHAT_FIXTURES / "lambeth-q3.xlsx").read_bytes())
        slack.hold_downloads()
        env = {**bot_env(tmp_path / "data", slack), "MARAC_WORKERS": "3"}
        with BotProcess(tmp_path / "work", env).start() as bot:
            assert bot.process is not None
            parent = bot.process.pid
            wait_until(lambda: len(_children(parent)) == 2 and _ready(bot) == 2,
                       timeout=WAIT, what="two worker processes ready")
            body, ts = dm_event("EvHeld", files=[file])
            assert send_event(bot, body)[0] == 200
            slack.wait_for_download(f"{TEAM}-F1", timeout=WAIT)
            questions = [question(n) for n in range(24)]
            _send(bot, questions)
            wait_until(lambda: _answered(db) == len(questions), timeout=WAIT,
                       what="every question answered while the file is held")
            slack.release_downloads()
            slack.wait_for("chat.postMessage", in_thread(ts), timeout=WAIT)
            wait_until(lambda: _all_answered_once(db, len(questions) + 1), timeout=WAIT,
                       what="the held file's message done too")
            children = {str(pid) for pid in _children(parent)}
    per_message = Counter(inbound for _, _, _, inbound in db.outbound())
    assert set(per_message.values()) == {1} and len(per_message) == len(questions) + 1
    claims = dict(db.rows("SELECT channel, claimed_by FROM inbound_queue WHERE channel = 'slack'"))
    holder = claims["slack"]
    answerers = {owner for (owner,) in db.rows(
        "SELECT claimed_by FROM inbound_queue WHERE channel = 'email'")}
    assert holder not in answerers, "a worker took another message while one was in hand"
    assert {o.split(":")[1] for o in {holder, *answerers}} & children, \
        "no message was handled by a worker process"
    assert db.count("SELECT count(*) FROM meeting_versions") == 6


def test_a_worker_process_that_dies_is_replaced_and_work_goes_on(tmp_path: Path) -> None:
    with BotProcess(tmp_path / "work", _env(tmp_path / "data", 2)).start() as bot:
        assert bot.process is not None
        parent = bot.process.pid
        wait_until(lambda: _ready(bot) == 1, timeout=WAIT, what="the worker process ready")
        (first,) = _children(parent)
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: _children(parent) not in ([], [first]) and _ready(bot) == 2,
                   timeout=WAIT, what="a new worker process")
        assert "ended with signal SIGKILL; starting another" in bot.log_text()
        (second,) = _children(parent)
        assert second != first
        messages = [question(n) for n in range(6)]
        _send(bot, messages)
        db = BotDb(tmp_path / "data" / "marac.db")
        wait_until(lambda: _all_answered_once(db, len(messages)), timeout=WAIT,
                   what="every message answered after the replacement")


def test_stopping_run_stops_its_worker_processes_after_their_messages(tmp_path: Path) -> None:
    bot = BotProcess(tmp_path / "work", _env(tmp_path / "data", 3)).start()
    try:
        assert bot.process is not None
        wait_until(lambda: _ready(bot) == 2, timeout=WAIT, what="two worker processes ready")
        children = _children(bot.process.pid)
        messages = [question(n) for n in range(8)]
        _send(bot, messages)
        bot.signal(signal.SIGTERM)
        assert bot.wait(WAIT) == 0
    finally:
        bot.stop()
    assert not [pid for pid in children if _alive(pid)]
    db = BotDb(tmp_path / "data" / "marac.db")
    statuses = Counter(status for _, _, status, _ in db.inbound())
    # What was in hand finished with its reply; the rest waits, queued, for the next start.
    assert set(statuses) <= {"done", "queued"} and sum(statuses.values()) == len(messages)
    answered = Counter(inbound for _, _, _, inbound in db.outbound())
    assert len(answered) == statuses["done"] and set(answered.values()) <= {1}


def test_worker_processes_end_when_run_is_killed(tmp_path: Path) -> None:
    bot = BotProcess(tmp_path / "work", _env(tmp_path / "data", 3)).start()
    try:
        assert bot.process is not None
        wait_until(lambda: _ready(bot) == 2, timeout=WAIT, what="two worker processes ready")
        children = _children(bot.process.pid)
        assert len(children) == 2
        bot.kill()
        wait_until(lambda: not any(_alive(pid) for pid in children), timeout=WAIT,
                   what="the orphaned worker processes to end")
    finally:
        bot.stop()
