"""``marac-bot run`` takes mail before the rest of it has started (issue 14; bot/startup.py).

On SQLite the SMTP listener writes into its own spool, so it starts before the database is
opened and the rest loaded. To catch the bot "still starting" without timing anything, the test
holds an exclusive lock on the bot's database file: the bot cannot open it (it waits, within its
busy timeout) until the test lets go. On PostgreSQL the listener writes into the inbox once the
schema is up to date, before the rest starts; there the test locks the registry's table, which
the rest reads first. Real processes, real SMTP; waits are polls with a bound.
"""

from __future__ import annotations

import smtplib
import socket
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from store.db import open_engine, upgrade
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
from tests.smtp_support import HOST

WAIT = 30.0  # bound for what normally takes well under a second
# Below the bot's SQLite busy timeout (30 s): the lock must be let go before the bot gives up.
LISTENING_WAIT = 20.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _env(data_dir: Path, smtp_port: int, http: str = f"{HOST}:0",
         database_url: str = "") -> dict[str, str]:
    # A fixed SMTP port: the start line that names it comes only once everything is up.
    return {"MARAC_DATA_DIR": str(data_dir), "MARAC_MAILBOX_ADDRESS": MAILBOX,
            "MARAC_SMTP_LISTEN": f"{HOST}:{smtp_port}", "MARAC_HTTP_LISTEN": http,
            "MARAC_DATABASE_URL": database_url}


@contextmanager
def _database_locked(data_dir: Path) -> Iterator[None]:
    """The bot's database file held under an exclusive lock (the bot waits to open it)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(data_dir / "marac.db", isolation_level=None)) as held:
        held.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            held.execute("ROLLBACK")


def _listening(port: int) -> bool:
    try:
        socket.create_connection((HOST, port), timeout=1).close()
        return True
    except OSError:
        return False


def _send(port: int, raw: bytes) -> None:
    with smtplib.SMTP(HOST, port, timeout=WAIT) as client:
        assert client.sendmail(COORDINATOR, [MAILBOX], raw) == {}  # 250: stored


def _spooled(data_dir: Path) -> int:
    with closing(sqlite3.connect(f"file:{data_dir / 'spool.db'}?mode=ro", uri=True)) as spool:
        count: int = spool.execute("SELECT count(*) FROM inbound_queue").fetchone()[0]
        return count


def _replies(outbox: Path) -> list[bytes]:
    return [eml.read_bytes() for eml in sorted(outbox.glob("*.eml"))]


def test_mail_sent_while_the_bot_is_still_starting_is_answered_once(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "data", _free_port()
    raw = submission("clean_libreoffice.xlsx")
    with BotProcess(tmp_path / "work", _env(data_dir, port)) as bot:
        with _database_locked(data_dir):
            bot.spawn()
            wait_until(lambda: _listening(port), timeout=LISTENING_WAIT,
                       what="the SMTP listener")
            _send(port, raw)
            # Taken while the database cannot even be opened: it waits in the spool.
            assert _spooled(data_dir) == 1
            assert bot.start_line is None
            assert bot.process is not None and bot.process.poll() is None
        bot.wait_started(WAIT)
        outbox = data_dir / "outbox"
        wait_until(lambda: len(_replies(outbox)) >= 1, timeout=WAIT, what="the reply")
        wait_until(lambda: _spooled(data_dir) == 0, timeout=WAIT, what="the spool emptied")
    (reply,) = _replies(outbox)
    assert read_reply(reply).in_reply_to == message_id_of(raw)
    assert BotDb(data_dir / "marac.db").count("SELECT count(*) FROM inbound_queue") == 1


def test_mail_taken_before_the_rest_fails_to_start_is_answered_after_a_restart(
        tmp_path: Path) -> None:
    """The web listener's address is taken: ``run`` stops with the usual one-line message
    and exit code 2, and the mail its SMTP listener took meanwhile is not lost."""
    data_dir, port = tmp_path / "data", _free_port()
    raw = submission("clean_libreoffice.xlsx")
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        http_in_use = f"{HOST}:{taken.getsockname()[1]}"
        with BotProcess(tmp_path / "work", _env(data_dir, port, http_in_use)) as bot:
            with _database_locked(data_dir):
                bot.spawn()
                wait_until(lambda: _listening(port), timeout=LISTENING_WAIT,
                           what="the SMTP listener")
                _send(port, raw)
            assert bot.wait(WAIT) == 2
        log = bot.log_text()
        assert "MARAC_HTTP_LISTEN" in log
        assert "Traceback" not in log
        assert not _listening(port)
    assert _spooled(data_dir) == 1  # kept for the next start

    with BotProcess(tmp_path / "work", _env(data_dir, port)).start():
        outbox = data_dir / "outbox"
        wait_until(lambda: len(_replies(outbox)) >= 1, timeout=WAIT, what="the reply")
        wait_until(lambda: _spooled(data_dir) == 0, timeout=WAIT, what="the spool emptied")
    (reply,) = _replies(outbox)
    assert read_reply(reply).in_reply_to == message_id_of(raw)


@pytest.mark.postgres
def test_on_postgresql_mail_sent_while_the_rest_is_starting_is_answered_once(
        tmp_path: Path, pg_schema_url: str) -> None:
    engine = open_engine(pg_schema_url)
    upgrade(engine)  # the registry's table must exist to be locked
    data_dir, port = tmp_path / "data", _free_port()
    raw = submission("clean_libreoffice.xlsx")
    try:
        with BotProcess(tmp_path / "work", _env(data_dir, port,
                                                database_url=pg_schema_url)) as bot:
            with engine.connect() as held:
                held.execute(text("LOCK TABLE maracs IN ACCESS EXCLUSIVE MODE"))
                bot.spawn()
                wait_until(lambda: _listening(port), timeout=LISTENING_WAIT,
                           what="the SMTP listener")
                _send(port, raw)
                # Stored in the inbox while the rest waits for the registry.
                assert held.scalar(text("SELECT count(*) FROM inbound_queue")) == 1
                assert bot.start_line is None
                held.rollback()
            bot.wait_started(WAIT)
            outbox = data_dir / "outbox"
            wait_until(lambda: len(_replies(outbox)) >= 1, timeout=WAIT, what="the reply")
        (reply,) = _replies(outbox)
        assert read_reply(reply).in_reply_to == message_id_of(raw)
    finally:
        engine.dispose()

