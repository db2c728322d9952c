"""On SQLite the SMTP listener never waits behind a long transaction (issues 14, 17).

A real ``python -m bot run`` on SQLite; this test holds the database's write lock itself (as a
worker recording a long file would) while a message arrives over SMTP. The listener must
answer 250 at once (the message is committed to the spool beside the database), and the
message must reach the inbox and be answered once the lock is released: stored once, answered
once, and nothing left in the spool.
"""

from __future__ import annotations

import re
import smtplib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.run_e2e_support import (
    COORDINATOR,
    MAILBOX,
    BotDb,
    BotProcess,
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


def test_mail_is_accepted_while_the_database_is_locked_and_answered_after(
    tmp_path: Path, sink: SmtpSink
) -> None:
    data = tmp_path / "data"
    env = {
        "MARAC_DATA_DIR": str(data),
        "MARAC_MAILBOX_ADDRESS": MAILBOX,
        "MARAC_SMTP_LISTEN": f"{HOST}:0",
        "MARAC_HTTP_LISTEN": f"{HOST}:0",
        "MARAC_SMTP_RELAY": f"{HOST}:{sink.port}",
    }
    raws = [submission("clean_libreoffice.xlsx") for _ in range(3)]
    with BotProcess(tmp_path / "work", env).start() as bot:
        lock = sqlite3.connect(data / "marac.db", timeout=WAIT, isolation_level=None)
        try:
            lock.execute("BEGIN IMMEDIATE")  # the write lock, as a long worker transaction
            started = time.monotonic()
            with smtplib.SMTP(HOST, bot.smtp_port, timeout=WAIT) as client:
                for raw in raws:
                    assert client.sendmail(COORDINATOR, [MAILBOX], raw) == {}
            accepted = time.monotonic() - started
            # Far below the 30 s busy timeout a listener writing marac.db would have waited.
            assert accepted < 5.0, f"acceptance waited {accepted:.1f} s for the lock"
            assert sink.messages == []
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        sink.wait_for(len(raws), timeout=WAIT)
        db = BotDb(data / "marac.db")
        wait_until(
            lambda: (
                all(s == "done" for _i, _m, s, _o in db.inbound())
                and len(db.inbound()) == len(raws)
            ),
            timeout=WAIT,
            what="every message done",
        )
        log = bot.log_text()
    # The log follows each message: the spool id the listener gave it, the inbox id it became.
    spooled = re.findall(r"\(\d+ bytes\) as spooled message (\d+)$", log, re.MULTILINE)
    moved = dict(re.findall(r"spooled message (\d+) is inbound (\d+)$", log, re.MULTILINE))
    assert len(spooled) == len(raws) and sorted(spooled) == sorted(moved)
    assert sorted(moved.values()) == sorted(str(i) for i, _m, _s, _o in db.inbound())
    replies = [read_reply(mail.data) for mail in sink.messages]
    assert sorted(r.in_reply_to for r in replies) == sorted(message_id_of(r) for r in raws)
    assert sorted(str(m) for _i, m, _s, _o in db.inbound()) == sorted(
        message_id_of(r) for r in raws
    )
    spool = sqlite3.connect(data / "spool.db")
    try:
        assert spool.execute("SELECT count(*) FROM inbound_queue").fetchone() == (0,)
    finally:
        spool.close()
