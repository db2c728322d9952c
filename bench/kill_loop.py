"""Kill loop (not a test): ``marac-bot run`` SIGKILLed every few seconds while mail arrives,
PostgreSQL restarted mid-burst; every message must end answered exactly once, nothing lost.

    python bench/kill_loop.py [-n 500] [--senders 8] [--kill-every 2 4] [--pg-restarts 3]
                              [--admin-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
                              [--json]

Makes a fresh PostgreSQL database (dropped at the end), starts ``python -m bot run`` on it with
the SMTP listener on a fixed free port (as an MX has one) and the relay pointing at an
aiosmtpd sink in this process. N small valid templates (the demo registry's Croydon
coordinator, each its own Message-ID) are handed over by several sender threads that behave
like an MTA: they retry on 4xx answers and on refused or dropped connections until the
listener answers 250. Meanwhile, and until the stored backlog is worked off, the bot is
SIGKILLed every few seconds and started again at once, and PostgreSQL is restarted
(``pg_ctlcluster … restart``) when a quarter, half and three quarters of the messages have
been accepted. Then the bot runs undisturbed until each stored message is finished and each
reply sent, and stops.

Reports: messages sent, accepted by SMTP (250), stored, answered exactly once (outbox replies
per stored message), lost (accepted, then not stored or never answered), duplicates (a message
stored twice, or answered twice in the outbox), failed (inbound status failed, e.g. a message
quarantined after dying in hand twice), and the replies the relay received per message: a
reply handed to the relay just before a kill, whose "sent" was not yet committed, goes out
again after the restart with the same Message-ID (the known window; see tests/test_run_e2e.py).
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.run_e2e_support import (
    MAILBOX,
    BotProcess,
    message_id_of,
    read_reply,
    send_until_accepted,
    submission,
)
from tests.smtp_support import HOST, SmtpSink

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
FINISH_TIMEOUT = 1800.0  # a claim left by a process elsewhere goes stale after 10 minutes
START_TIMEOUT = 120.0


def pg_restart_command() -> list[str]:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
    return ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class Fresh:
    """A database made for one run, dropped afterwards."""

    admin_url: str
    name: str = field(default_factory=lambda: f"marac_kill_{uuid.uuid4().hex[:10]}")

    def __enter__(self) -> str:
        with self._admin() as admin, admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        return make_url(self.admin_url).set(database=self.name).render_as_string(
            hide_password=False)

    def __exit__(self, *_exc: object) -> None:
        with self._admin() as admin, admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))

    def _admin(self) -> _Disposing:
        return _Disposing(create_engine(self.admin_url, isolation_level="AUTOCOMMIT"))


@dataclass
class _Disposing:
    engine: Engine

    def __enter__(self) -> Engine:
        return self.engine

    def __exit__(self, *_exc: object) -> None:
        self.engine.dispose()


class Burst:
    """The sender threads: each message handed over until a 250, like an MTA."""

    def __init__(self, port: int, messages: list[bytes], senders: int) -> None:
        self.port = port
        self.todo = list(messages)
        self.accepted: list[bytes] = []
        self.refusals = 0
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(senders)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def done(self) -> bool:
        return not any(thread.is_alive() for thread in self._threads)

    def _next(self) -> bytes | None:
        with self._lock:
            return self.todo.pop(0) if self.todo else None

    def _refused(self) -> None:
        with self._lock:
            self.refusals += 1

    def _run(self) -> None:
        while (raw := self._next()) is not None:
            try:
                send_until_accepted(HOST, lambda: self.port, raw, on_refused=self._refused)
            except Exception as exc:  # a 5xx or the timeout: reported, never retried
                with self._lock:
                    self.errors.append(f"{message_id_of(raw)}: {exc}")
                continue
            with self._lock:
                self.accepted.append(raw)


class Chaos:
    """Kills and restarts the bot every few seconds, while mail arrives and while the stored
    backlog is worked off (so kills land with messages in hand); restarts PostgreSQL at given
    progress of the burst."""

    def __init__(self, bot: BotProcess, burst: Burst, db: Engine, total: int, *,
                 every: tuple[float, float], pg_restarts: int) -> None:
        self.bot, self.burst, self.db, self.total, self.every = bot, burst, db, total, every
        self.kills = 0
        self.died_alone = 0  # exits nobody asked for: the process must never die of faults
        self.starts = 0
        self.failed_starts = 0
        self.pg_done = 0
        self.pg_at = [total * (k + 1) // (pg_restarts + 1) for k in range(pg_restarts)]
        self._thread = threading.Thread(target=self._pg_loop, daemon=True)

    def start_bot(self) -> None:
        """Start the bot, again and again if it dies while starting (PostgreSQL down)."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                self.bot.start(timeout=START_TIMEOUT)
                self.starts += 1
                return
            except AssertionError:
                self.failed_starts += 1
                self.bot.stop()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)  # a supervisor's restart delay

    def busy(self) -> bool:
        return not self.burst.done() or unfinished(self.db) > 0

    def kill_loop(self) -> None:
        self._thread.start()
        while self.busy():
            time.sleep(random.uniform(*self.every))  # the chaos cadence, not a wait for state
            if not self.busy():
                break
            if self.bot.process is not None and self.bot.process.poll() is not None:
                self.died_alone += 1
            self.bot.kill()
            self.kills += 1
            self.start_bot()
        self._thread.join()

    def _pg_loop(self) -> None:
        for threshold in self.pg_at:
            while len(self.burst.accepted) < threshold and not self.burst.done():
                time.sleep(0.05)
            if self.burst.done():
                return
            subprocess.run(pg_restart_command(), check=True, capture_output=True)
            self.pg_done += 1


def unfinished(db: Engine) -> int:
    """Stored messages not yet finished (0 while PostgreSQL is restarting: asked again)."""
    try:
        with db.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM inbound_queue "
                                         "WHERE status IN ('queued', 'processing')")).scalar_one())
    except Exception:
        return 1


def wait_finished(db: Engine, expected: int) -> None:
    """Until ``expected`` messages are stored and finished and every reply is sent."""
    deadline = time.monotonic() + FINISH_TIMEOUT
    query = text("SELECT (SELECT count(*) FROM inbound_queue), "
                 "(SELECT count(*) FROM inbound_queue WHERE status IN ('queued', 'processing')),"
                 " (SELECT count(*) FROM outbound_queue WHERE status = 'queued')")
    while time.monotonic() < deadline:
        with db.connect() as conn:
            stored, open_in, open_out = conn.execute(query).one()
        if stored >= expected and open_in == 0 and open_out == 0:
            return
        time.sleep(0.5)  # polling another process's database
    raise TimeoutError(f"not finished within {FINISH_TIMEOUT} s")


def figures(db: Engine, burst: Burst, sink: SmtpSink, sent: list[bytes]) -> dict[str, Any]:
    with db.connect() as conn:
        inbound = conn.execute(text(
            "SELECT id, message_id, status FROM inbound_queue")).all()
        replies = Counter(i for (i,) in conn.execute(text(
            "SELECT inbound_id FROM outbound_queue WHERE key LIKE 'reply:%'")).all())
    accepted_ids = {message_id_of(raw) for raw in burst.accepted}
    stored = Counter(str(m) for _i, m, _s in inbound)
    answered_once = sum(1 for i, _m, _s in inbound if replies[i] == 1)
    relay = Counter(read_reply(mail.data).in_reply_to for mail in sink.messages)
    return {
        "sent": len(sent),
        "accepted_250": len(burst.accepted),
        "refused_or_451_tries": burst.refusals,
        "send_errors": len(burst.errors),
        "stored": len(inbound),
        "answered_exactly_once": answered_once,
        "lost": sum(1 for m in accepted_ids if stored[m] == 0)
        + sum(1 for i, _m, _s in inbound if replies[i] == 0),
        "duplicates": sum(1 for n in stored.values() if n > 1)
        + sum(1 for n in replies.values() if n > 1),
        "failed": sum(1 for _i, _m, s in inbound if s == "failed"),
        "relay_replies": sum(relay.values()),
        "relay_messages_answered": sum(1 for m in accepted_ids if relay[m] >= 1),
        "relay_sent_twice": sum(1 for m in accepted_ids if relay[m] > 1),
    }


def run(count: int, senders: int, every: tuple[float, float], pg_restarts: int,
        admin_url: str, workdir: Path) -> dict[str, Any]:
    messages = [submission("clean_libreoffice.xlsx") for _ in range(count)]
    port = free_port()
    started = time.monotonic()
    with Fresh(admin_url) as database_url, SmtpSink() as sink:
        env = {
            "MARAC_DATABASE_URL": database_url,
            "MARAC_DATA_DIR": str(workdir / "data"),
            "MARAC_MAILBOX_ADDRESS": MAILBOX,
            "MARAC_SMTP_LISTEN": f"{HOST}:{port}",
            "MARAC_HTTP_LISTEN": f"{HOST}:0",
            "MARAC_SMTP_RELAY": f"{HOST}:{sink.port}",
        }
        bot = BotProcess(workdir / "work", env)
        burst = Burst(port, messages, senders)
        db = create_engine(database_url, pool_pre_ping=True)
        chaos = Chaos(bot, burst, db, count, every=every, pg_restarts=pg_restarts)
        try:
            chaos.start_bot()
            burst.start()
            chaos.kill_loop()
            burst_seconds = time.monotonic() - started
            wait_finished(db, len({message_id_of(raw) for raw in burst.accepted}))
            bot.stop()
            result = figures(db, burst, sink, messages)
        finally:
            bot.stop()
            db.dispose()
        log = bot.log_text()
    result.update({
        "kills": chaos.kills,
        "died_on_its_own": chaos.died_alone,
        "starts": chaos.starts,
        "failed_starts": chaos.failed_starts,
        "pg_restarts": chaos.pg_done,
        "burst_s": round(burst_seconds, 1),
        "total_s": round(time.monotonic() - started, 1),
        "log_quarantined": log.count("quarantined, not handled again"),
        "log_tracebacks": log.count("Traceback"),
    })
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=500, help="messages to send (default 500)")
    parser.add_argument("--senders", type=int, default=8, help="sender threads (default 8)")
    parser.add_argument("--kill-every", type=float, nargs=2, default=(2.0, 4.0),
                        metavar=("MIN", "MAX"), help="seconds between kills (default 2 4)")
    parser.add_argument("--pg-restarts", type=int, default=3,
                        help="PostgreSQL restarts mid-burst (default 3)")
    parser.add_argument("--admin-url", default=ADMIN_URL,
                        help="PostgreSQL URL allowed to create and drop a database")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="work in DIR and keep it (the bot's log is DIR/work/bot.log)")
    parser.add_argument("--json", action="store_true", help="also print one JSON line")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="marac-kill-") as temp:
        result = run(args.n, args.senders, tuple(args.kill_every), args.pg_restarts,
                     args.admin_url, args.keep or Path(temp))
    print(f"{result['sent']} sent, {result['accepted_250']} accepted (250), "
          f"{result['stored']} stored, {result['answered_exactly_once']} answered exactly once, "
          f"{result['lost']} lost, {result['duplicates']} duplicates, {result['failed']} failed; "
          f"{result['kills']} kills, {result['pg_restarts']} PostgreSQL restarts, "
          f"{result['refused_or_451_tries']} refused/451 tries; relay: "
          f"{result['relay_messages_answered']} answered, {result['relay_sent_twice']} twice; "
          f"{result['total_s']} s")
    if args.json:
        print(json.dumps(result))
    ok = (result["lost"] == 0 and result["duplicates"] == 0 and result["died_on_its_own"] == 0
          and result["answered_exactly_once"] == result["accepted_250"] == result["sent"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
