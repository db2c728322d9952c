"""One Dovecot mailbox, real ``python -m bot run`` processes on PostgreSQL (issue 17).

- Two processes watch the same mailbox: one (elected by a lease row) sweeps, moves and IDLEs,
  the other stands by; every message is answered once and filed once, nobody reconnects, and
  when the mover is SIGKILLed the other takes the mailbox over within a minute.
- A Processed folder that cannot be created (a file where Dovecot's Maildir++ folder would
  go) stops nothing: every message is still answered, the error is logged at every sweep and
  ``/healthz`` answers 503 naming ``imap-filing``; once the file is gone, the next sweep files
  everything and ``/healthz`` is 200 again.
"""

from __future__ import annotations

import json
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from store.db import open_engine, upgrade
from tests.dovecot_support import DOVECOT, DovecotAccount, DovecotServer
from tests.run_e2e_support import (
    MAILBOX,
    BotProcess,
    message_id_of,
    question,
    replies_by_thread,
    wait_until,
)
from tests.smtp_support import HOST, SmtpSink

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

WAIT = 60.0


@pytest.fixture(scope="module")
def dovecot() -> Iterator[DovecotServer]:
    if not Path(DOVECOT).exists():
        pytest.skip("dovecot is not installed (Debian package dovecot-imapd)")
    # Not pytest's tmp_path: its parents are 0700 and Dovecot's mail user must get through.
    with tempfile.TemporaryDirectory(prefix="marac-dovecot-") as root:
        server = DovecotServer(Path(root), spare_users=4)
        with server:
            yield server


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as running:
        yield running


@pytest.fixture
def database(pg_schema_url: str) -> Iterator[Engine]:
    engine = open_engine(pg_schema_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def bot_env(url: str, data_dir: Path, relay: SmtpSink, account: DovecotAccount) -> dict[str, str]:
    return {
        "MARAC_DATABASE_URL": url,
        "MARAC_DATA_DIR": str(data_dir),
        "MARAC_MAILBOX_ADDRESS": MAILBOX,
        "MARAC_SMTP_LISTEN": "",
        "MARAC_HTTP_LISTEN": f"{HOST}:0",
        "MARAC_SMTP_RELAY": f"{HOST}:{relay.port}",
        "MARAC_IMAP_HOST": account.server.host,
        "MARAC_IMAP_PORT": str(account.server.port),
        "MARAC_IMAP_USER": account.user,
        "MARAC_IMAP_PASSWORD": account.password,
        "MARAC_IMAP_TLS": "none",
        "MARAC_WORKERS": "1",
    }


def replies(sink: SmtpSink) -> Counter[str]:
    return replies_by_thread(mail.data for mail in sink.messages)


def filed(account: DovecotAccount, folder: str = "Processed") -> Counter[str]:
    return Counter(message_id_of(raw) for raw in account.messages(folder))


def healthz(bot: BotProcess) -> tuple[int, dict[str, Any]]:
    url = f"http://{HOST}:{bot.http_port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=WAIT) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def test_two_watchers_on_one_mailbox_file_each_message_once_and_never_reconnect(
    tmp_path: Path,
    sink: SmtpSink,
    dovecot: DovecotServer,
    database: Engine,
    pg_schema_url: str,
) -> None:
    account = dovecot.new_account()
    early = [question(n) for n in range(10)]
    for raw in early:
        account.append(raw)
    bots = [
        BotProcess(
            tmp_path / name, bot_env(pg_schema_url, tmp_path / f"{name}-data", sink, account)
        )
        for name in ("a", "b")
    ]
    with bots[0].start(), bots[1].start():
        late = [question(n) for n in range(10, 20)]
        for raw in late:
            account.append(raw)
        wanted = {message_id_of(raw) for raw in early + late}
        wait_until(
            lambda: set(filed(account)) == wanted,
            timeout=WAIT,
            what="every message filed in Processed",
            interval=0.2,
        )
        wait_until(
            lambda: wanted <= set(replies(sink)),
            timeout=WAIT,
            what="every message answered",
            interval=0.1,
        )
        assert filed(account) == dict.fromkeys(wanted, 1)
        assert account.messages("INBOX") == []
        logs = [bot.log_text() for bot in bots]
        movers = [n for n, log in enumerate(logs) if "this process is now the mover" in log]
        assert len(movers) == 1, logs
        mover, standby = bots[movers[0]], bots[1 - movers[0]]
        assert "standing by" in standby.log_text()
        for log in logs:
            assert "IMAP session on" not in log, "a watcher reconnected"
            assert log.count("IMAP connected to") <= 1

        mover.kill()
        killed = time.monotonic()
        after = [question(n) for n in range(20, 25)]
        for raw in after:
            account.append(raw)
        wanted |= {message_id_of(raw) for raw in after}
        wait_until(
            lambda: set(filed(account)) == wanted,
            timeout=WAIT,
            what="the other process filing after the mover died",
            interval=0.2,
        )
        took = time.monotonic() - killed
        wait_until(
            lambda: wanted <= set(replies(sink)),
            timeout=WAIT,
            what="every message answered",
            interval=0.1,
        )
    assert took < WAIT
    print(f"\nIMAP mover taken over; new mail filed {took:.1f} s after the SIGKILL")
    assert "this process is now the mover" in standby.log_text()
    assert filed(account) == dict.fromkeys(wanted, 1)
    assert all(n == 1 for n in replies(sink).values())


def test_an_uncreatable_processed_folder_stops_no_reply_and_health_says_so(
    tmp_path: Path,
    sink: SmtpSink,
    dovecot: DovecotServer,
    database: Engine,
    pg_schema_url: str,
) -> None:
    account = dovecot.new_account()
    first = question(0)
    account.append(first)  # Dovecot creates the Maildir on first use
    blocker = dovecot.root / "mail" / account.user / "Maildir" / ".Processed"
    blocker.write_text("a file where the Processed folder would be\n")
    more = [question(n) for n in range(1, 4)]
    env = bot_env(pg_schema_url, tmp_path / "data", sink, account)
    with BotProcess(tmp_path / "work", env).start() as bot:
        for raw in more:
            account.append(raw)
        wanted = {message_id_of(raw) for raw in [first, *more]}
        wait_until(
            lambda: wanted <= set(replies(sink)),
            timeout=WAIT,
            what="every message answered",
            interval=0.1,
        )
        status, body = healthz(bot)
        assert status == 503, body
        assert body["down"] == ["imap-filing"]
        filing = body["components"]["imap-filing"]
        assert filing["state"] == "down" and "cannot create Processed" in filing["last_error"]
        assert body["components"]["imap"]["state"] == "up"
        assert body["queues"]["inbound"]["queued"] == 0
        print("\nhealth while Processed cannot be created:", json.dumps(body, indent=1))
        assert bot.log_text().count("finished messages cannot be filed") >= 2
        assert len(account.messages("INBOX")) == len(wanted)  # answered, waiting to be filed

        blocker.unlink()
        fixed = question(4)
        account.append(fixed)  # a new message wakes the IDLE: the next sweep files them all
        wanted.add(message_id_of(fixed))
        wait_until(
            lambda: set(filed(account)) == wanted,
            timeout=WAIT,
            what="everything filed once the folder can be made",
            interval=0.2,
        )
        status, body = healthz(bot)
        assert status == 200, body
        assert body["down"] == [] and body["components"]["imap-filing"]["state"] == "up"
        assert "filing into the outcome folders works again" in bot.log_text()
    assert filed(account) == dict.fromkeys(wanted, 1)
    assert account.messages("INBOX") == []
    assert replies(sink) == dict.fromkeys(wanted, 1)


def test_health_is_503_naming_imap_while_the_server_is_down_and_200_once_back(
    tmp_path: Path,
    sink: SmtpSink,
    dovecot: DovecotServer,
    database: Engine,
    pg_schema_url: str,
) -> None:
    account = dovecot.new_account()
    env = bot_env(pg_schema_url, tmp_path / "data", sink, account)
    with BotProcess(tmp_path / "work", env).start() as bot:
        wait_until(
            lambda: healthz(bot)[0] == 200, timeout=WAIT, what="healthy at start", interval=0.2
        )
        dovecot.stop()
        try:
            wait_until(
                lambda: healthz(bot)[0] == 503,
                timeout=WAIT,
                what="503 once IMAP is down",
                interval=0.2,
            )
            _status, body = healthz(bot)
            assert body["down"] == ["imap"]
            assert body["components"]["imap"]["last_error"]
            print("\nhealth while the IMAP server is down:", json.dumps(body["components"]["imap"]))
        finally:
            dovecot.start()
        wait_until(
            lambda: healthz(bot)[0] == 200, timeout=WAIT, what="200 once IMAP is back", interval=0.2
        )
        raw = question(0)
        account.append(raw)
        wait_until(
            lambda: message_id_of(raw) in replies(sink),
            timeout=WAIT,
            what="mail answered after the reconnect",
            interval=0.1,
        )
