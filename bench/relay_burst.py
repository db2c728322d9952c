"""Benchmark (not a test): the deadline-day burst on SQLite with replies sent through a relay
that takes its time, as one across a network does (bot/delivery.py, store/outbox_turn.py).

    python bench/relay_burst.py [--returns 1100] [--delay-ms 10] [--turns 1]

A real ``python -m bot run`` on SQLite with ``MARAC_SMTP_RELAY`` set to an aiosmtpd sink in a
process of its own, which waits ``--delay-ms`` before it answers each DATA and then writes
the message to a folder. Printed per turn: every return accepted over SMTP, every return
recorded (its reply queued), every reply at the relay, and the bot's CPU per return.

A relay that answers quickly gets each reply in one writing transaction, SQLite's write lock
held across the send; one whose last send took longer than 0.25 s gets the next with no write
lock held, so that the workers' recording does not wait on it (``--delay-ms 300`` shows it).
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import burst_support as b  # noqa: E402

from tests.run_e2e_support import BotProcess  # noqa: E402

# The relay's process: prints its port, then runs until its standard input closes.
SINK = """
import asyncio, socket, sys
from pathlib import Path
from aiosmtpd.controller import Controller

folder, delay = Path(sys.argv[1]), float(sys.argv[2])
folder.mkdir(parents=True, exist_ok=True)


class Slow:
    taken = 0

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(delay)
        Slow.taken += 1
        (folder / f"{Slow.taken}.eml").write_bytes(envelope.original_content or b"")
        return "250 OK"


with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
controller = Controller(Slow(), hostname="127.0.0.1", port=port)
controller.start()
print(port, flush=True)
sys.stdin.read()
controller.stop()
"""


@contextmanager
def slow_relay(folder: Path, delay_s: float) -> Iterator[int]:
    sink = subprocess.Popen([sys.executable, "-c", SINK, str(folder), str(delay_s)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert sink.stdout is not None
        yield int(sink.stdout.readline())
    finally:
        assert sink.stdin is not None
        sink.stdin.close()
        sink.wait(30)


def relay_burst(count: int, delay_s: float) -> tuple[float, float, float, float]:
    """Seconds until every return was accepted, until every one was recorded (its reply
    queued), and until every reply was at the relay; the bot's CPU seconds per return."""
    mail = b.returns(count)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with b.database("sqlite", folder, "") as url, \
                slow_relay(folder / "relay", delay_s) as port:
            work = folder / "work"
            work.mkdir()
            env = {"MARAC_DATABASE_URL": url, "MARAC_DATA_DIR": str(folder / "data"),
                   "MARAC_MAILBOX_ADDRESS": b.MAILBOX, "MARAC_SMTP_RELAY": f"127.0.0.1:{port}",
                   "MARAC_SMTP_LISTEN": "127.0.0.1:0", "MARAC_HTTP_LISTEN": "127.0.0.1:0"}
            b.import_registry(env, work, (count + 3) // 4)
            before = b._children_cpu()
            with BotProcess(work, env).start() as bot:
                started = time.monotonic()
                b._send_all(bot.smtp_port, mail, 8)
                accepted = time.monotonic() - started
                recorded = _wait_for_recorded(folder / "bench.db", count, 900)
                answered = b._wait_for_files(folder / "relay", count, 900)
            if answered is None or recorded is None:
                raise SystemExit("not every return was recorded, or its reply at the relay")
            return (accepted, recorded - started, answered - started,
                    (b._children_cpu() - before) / count)


def _wait_for_recorded(database: Path, count: int, timeout: float) -> float | None:
    """When ``count`` messages of the inbox are done (read from the side: WAL lets a reader
    look without waiting for the bot's writers, or holding them up)."""
    started = time.monotonic()
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        while time.monotonic() - started < timeout:
            done = db.execute("SELECT count(*) FROM inbound_queue WHERE status = 'done'")
            if done.fetchone()[0] >= count:
                return time.monotonic()
            time.sleep(0.05)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--returns", type=int, default=1_100)
    parser.add_argument("--delay-ms", type=float, default=10.0)
    parser.add_argument("--turns", type=int, default=1)
    args = parser.parse_args()
    for _ in range(args.turns):
        accepted, recorded, answered, cpu = relay_burst(args.returns, args.delay_ms / 1000)
        print(f"{args.returns} returns, relay {args.delay_ms:.0f} ms a message: accepted in "
              f"{accepted:.2f} s, all recorded in {recorded:.2f} s, every reply at the relay "
              f"in {answered:.2f} s, bot CPU {cpu * 1000:.1f} ms a return", flush=True)


if __name__ == "__main__":
    main()
