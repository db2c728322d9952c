"""A message in hand when ``marac-bot run`` is SIGKILLed twice (issue 10), with real processes.

The message is a valid but long submission (2,000 meetings: seconds to record), so that it is
reliably still being processed when the test, polling the bot's database, sees it claimed and
kills the process. After the first death the restarted bot tries it once more; after the
second the next start answers it with an apology and never handles it again. Waits are on
polled conditions with deadlines; every kill is checked to have landed with the message in hand.
"""

from __future__ import annotations

import re
import smtplib
from collections.abc import Iterator
from pathlib import Path

import pytest

from kernel import wording
from tests.run_e2e_support import (
    COORDINATOR,
    MAILBOX,
    BotDb,
    BotProcess,
    long_submission,
    message_id_of,
    read_reply,
    submission,
    wait_until,
)
from tests.smtp_support import HOST, SmtpSink

WAIT = 60.0


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
    }


def send(bot: BotProcess, raw: bytes) -> None:
    with smtplib.SMTP(HOST, bot.smtp_port, timeout=WAIT) as client:
        assert client.sendmail(COORDINATOR, [MAILBOX], raw) == {}


def kill_while_in_hand(bot: BotProcess, db: BotDb, *, attempt: int) -> None:
    """SIGKILL the bot as soon as it has claimed the message for the ``attempt``-th time, and
    check the kill landed while it was still in hand (not finished, not failed)."""
    wait_until(lambda: db.rows("SELECT 1 FROM inbound_queue WHERE status = 'processing' "
                               "AND attempts = ?", attempt) != [],
               timeout=WAIT, what=f"the message claimed (attempt {attempt})")
    if attempt > 1:  # the claim commits just before the worker says so: kill after it spoke
        wait_until(lambda: "one more try" in bot.log_text(), timeout=WAIT,
                   what="the worker's warning that this is the message's last try")
    bot.kill()
    status, attempts, _error = db.item(1)
    assert (status, attempts) == ("processing", attempt), "the kill missed the message in hand"


def test_a_message_in_hand_at_two_sigkills_is_answered_once_with_an_apology(
    tmp_path: Path, sink: SmtpSink
) -> None:
    env = bot_env(tmp_path / "data", sink)
    db = BotDb(tmp_path / "data" / "marac.db")
    poison = long_submission(2000)

    first = BotProcess(tmp_path / "work1", env).start()
    try:
        send(first, poison)
        kill_while_in_hand(first, db, attempt=1)
    finally:
        first.stop()
    second = BotProcess(tmp_path / "work2", env).start()  # one more try ...
    try:
        kill_while_in_hand(second, db, attempt=2)
    finally:
        second.stop()
    assert "one more try" in second.log_text()
    assert sink.messages == [], "a reply went out before the message was finished"

    later = submission()
    with BotProcess(tmp_path / "work3", env).start() as third:  # ... and no third
        (apology,) = sink.wait_for(1, timeout=WAIT)
        send(third, later)  # answered after the quarantined one: the worker went on
        sink.wait_for(2, timeout=WAIT)
        wait_until(lambda: db.count("SELECT count(*) FROM outbound_queue "
                                    "WHERE status = 'sent'") == 2,
                   timeout=WAIT, what="both replies marked sent")
    assert third.process is not None and third.process.returncode == 0

    status, attempts, error = db.item(1)
    assert status == "failed" and error is not None
    found = re.fullmatch(r"quarantined after 2 deaths \(incident ([0-9A-F]{6})\)", error)
    assert found, error
    reply = read_reply(apology.data)
    assert reply.in_reply_to == message_id_of(poison)
    assert reply.to == COORDINATOR
    assert reply.text.strip() == wording.quarantined_text(found.group(1))
    assert read_reply(sink.messages[1].data).in_reply_to == message_id_of(later)
    assert len(sink.messages) == 2, "one reply per message"
    assert db.count("SELECT count(*) FROM outbound_queue WHERE inbound_id = 1") == 1
    # Nothing of the quarantined message was recorded; it was never handled a third time.
    assert db.count("SELECT count(*) FROM submissions WHERE filename = 'croydon-all.csv'") == 0
    assert attempts == 3
    log = third.log_text()
    assert re.search(r"ERROR .*message 1 was in hand 2 times when the bot died: quarantined",
                     log), log[-3000:]
