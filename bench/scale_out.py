"""Benchmark (not a test): one ``marac-bot run`` process against two on one PostgreSQL.

    python bench/scale_out.py [-n 120] [--workers 1] [--fixture several_issues.xlsx]
                              [--rounds 1] [--json]

For one process and then two (each with its own SMTP listener, ``MARAC_WORKERS`` each, a fresh
PostgreSQL database per run), sends N returns as fast as the listeners take them: by default
a clean six-meeting CSV return from each demo Marac's coordinator in turn (as on deadline day:
many Maracs, so the two processes rarely touch the same meetings); with ``--fixture``, that
workbook N times from the Croydon coordinator (every process then works on the same six
meetings, and their row locks serialise much of the work). The mail is split evenly, one
sending thread per listener; the time runs from the first send to the last reply reaching an
aiosmtpd relay in this process.
Prints each run's messages per second and the ratio; checks every message was answered once.
With ``--rounds R``, R runs of each, alternating which goes first, and the ratio of the
medians: on a shared machine one pair of runs can land anywhere from 1.4x to 2x.

Each process pays its start-up (imports, caches) on one warm-up message before timing.
Needs the PostgreSQL of the test suite (``MARAC_TEST_POSTGRES_URL``, default
postgresql://postgres@127.0.0.1:5432/test, used to create and drop the databases).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import smtplib
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import make_msgid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from store.db import open_engine, upgrade
from tests.run_e2e_support import (
    COORDINATOR,
    MAILBOX,
    BotProcess,
    message_id_of,
    parse,
    submission,
    wait_until,
)
from tests.smtp_support import HOST, SmtpSink

ADMIN_URL = os.environ.get("MARAC_TEST_POSTGRES_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TIMEOUT = 600.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=120, help="messages per run")
    parser.add_argument("--workers", type=int, default=1, help="MARAC_WORKERS per process")
    parser.add_argument("--fixture", default=None,
                        help="send this fixture from Croydon instead of one return per Marac")
    parser.add_argument("--rounds", type=int, default=1,
                        help="pairs of runs, one and two processes, in alternating order "
                             "(1 2, 2 1, …); the medians are compared")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--timeline", action="store_true",
                        help="print, for each run, the cores busy and the replies written in "
                             "each half second: where the idle time falls")
    args = parser.parse_args()
    timed: dict[int, list[tuple[float, CoresUsed]]] = {1: [], 2: []}
    for round_ in range(args.rounds):
        # Alternating which goes first: on a machine whose speed drifts (a shared VM), a
        # drift then falls on both sides rather than always on the second.
        for processes in ((1, 2) if round_ % 2 == 0 else (2, 1)):
            seconds, used = run(processes, args.n, args.workers, args.fixture,
                                timeline=args.timeline)
            timed[processes].append((seconds, used))
            print(f"{processes} process(es), MARAC_WORKERS={args.workers}: {args.n} messages "
                  f"in {seconds:.1f} s = {args.n / seconds:.1f} msg/s; the machine's cores "
                  f"busy {used.busy:.2f} of {os.cpu_count()} on average, this bench's own "
                  f"sending and relay {used.bench:.2f} of them", flush=True)
    one = statistics.median(seconds for seconds, _ in timed[1])
    two = statistics.median(seconds for seconds, _ in timed[2])
    pairs = [a / b for (a, _), (b, _) in zip(timed[1], timed[2], strict=True)]
    if args.rounds > 1:
        print(f"each round's ratio: {', '.join(f'{r:.2f}' for r in pairs)}")
    print(f"two processes / one: {one / two:.2f}x ({os.cpu_count()} cores"
          f"{f'; medians of {args.rounds} runs each' if args.rounds > 1 else ''})")
    if args.json:
        print(json.dumps({"messages": args.n, "workers": args.workers,
                          "one_s": round(one, 2), "two_s": round(two, 2),
                          "ratio": round(one / two, 2), "cores": os.cpu_count(),
                          "round_ratios": [round(r, 2) for r in pairs]}))
    return 0


def returns(count: int, fixture: str | None) -> list[tuple[str, bytes]]:
    """(sender, raw) for ``count`` messages."""
    if fixture is not None:
        return [(COORDINATOR, submission(fixture)) for _ in range(count)]
    coordinators = demo_coordinators()
    return [marac_return(*coordinators[n % len(coordinators)]) for n in range(count)]


def demo_coordinators() -> list[tuple[str, str]]:
    """(Marac, coordinator's address) of every Marac in the demo registry."""
    path = Path(__file__).resolve().parents[1] / "store" / "demo" / "contacts.csv"
    with path.open(newline="") as lines:
        return [(row["maracs"], row["email"]) for row in csv.DictReader(lines)
                if row["role"] == "coordinator"]


def marac_return(marac: str, sender: str) -> tuple[str, bytes]:
    from tests.fixtures import make_fixtures as mf

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(mf.headers())
    for n in range(len(mf.MEETING_DATES)):
        writer.writerow(mf.meeting(n, marac))
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, MAILBOX, f"{marac} Q3 return"
    msg["Message-ID"] = make_msgid(domain="marac.example.org")
    msg.set_content("Please find our return attached.\n")
    msg.add_attachment(out.getvalue().encode(), maintype="text", subtype="csv",
                       filename=f"{marac.lower().replace(' ', '-')}-q3.csv")
    return sender, msg.as_bytes(policy=SMTP_POLICY)


@dataclass(frozen=True)
class CoresUsed:
    """Over a timed run, on average: how many cores the whole machine kept busy (every bot
    process, PostgreSQL, this bench), and how many of them were this bench's own threads."""

    busy: float
    bench: float


class _CpuClock:
    """The machine's busy and total CPU time (/proc/stat) and this process's, from now."""

    def __init__(self) -> None:
        self.machine, self.own, self.wall = _machine_jiffies(), _own_seconds(), time.monotonic()

    def used(self) -> CoresUsed:
        busy, total = (now - then for now, then in zip(_machine_jiffies(), self.machine,
                                                        strict=True))
        cores = os.cpu_count() or 1
        wall = time.monotonic() - self.wall
        return CoresUsed(busy / total * cores if total else 0.0,
                         (_own_seconds() - self.own) / wall if wall else 0.0)


def _machine_jiffies() -> tuple[int, int]:
    """(busy, total) clock ticks of every core since boot: idle and iowait are not busy."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(f) for f in stat.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def _own_seconds() -> float:
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def run(processes: int, count: int, workers: int, fixture: str | None, *,
        timeline: bool = False) -> tuple[float, CoresUsed]:
    with fresh_database() as url, tempfile.TemporaryDirectory() as tmp, SmtpSink() as sink:
        engine = open_engine(url)
        upgrade(engine)  # the release step, before the processes start
        engine.dispose()
        bots = [BotProcess(Path(tmp) / f"bot{n}", {
            "MARAC_DATABASE_URL": url,
            "MARAC_DATA_DIR": str(Path(tmp) / f"data{n}"),
            "MARAC_MAILBOX_ADDRESS": MAILBOX,
            "MARAC_SMTP_LISTEN": f"{HOST}:0",
            "MARAC_HTTP_LISTEN": f"{HOST}:0",
            "MARAC_SMTP_RELAY": f"{HOST}:{sink.port}",
            "MARAC_WORKERS": str(workers),
        }) for n in range(processes)]
        try:
            for bot in bots:
                bot.start()
            for n, bot in enumerate(bots, start=1):  # warm-up, not timed
                send(bot.smtp_port, [(COORDINATOR, submission("clean_libreoffice.xlsx"))])
                # Called at once, so the closure's n is this turn's.
                wait_until(lambda: len(sink.messages) >= n, timeout=TIMEOUT,  # noqa: B023
                           what="the warm-up reply", interval=0.05)
            warm = len(sink.messages)
            mails = returns(count, fixture)
            shares = [mails[n::processes] for n in range(processes)]
            started, clock = time.monotonic(), _CpuClock()
            watch = _Timeline(lambda: len(sink.messages) - warm) if timeline else None
            senders = [threading.Thread(target=send, args=(bot.smtp_port, share))
                       for bot, share in zip(bots, shares, strict=True)]
            for sender in senders:
                sender.start()
            for sender in senders:
                sender.join()
            sent = time.monotonic() - started
            wait_until(lambda: len(sink.messages) >= warm + count, timeout=TIMEOUT,
                       what="every reply", interval=0.05)
            seconds, used = time.monotonic() - started, clock.used()
            if watch is not None:
                watch.stop()
                print(f"  every message accepted by {sent:.1f} s", flush=True)
                watch.show()
        finally:
            for bot in bots:
                bot.stop()
        answered = Counter(str(parse(m.data)["In-Reply-To"]).strip() for m in sink.messages)
        assert all(answered[message_id_of(raw)] == 1 for _s, raw in mails), "not once each"
        return seconds, used


class _Timeline:
    """Every half second of a run: the machine's cores busy and the replies written so far."""

    STEP = 0.5

    def __init__(self, replies: Callable[[], int]) -> None:
        self.replies, self.samples = replies, [(0.0, _machine_jiffies(), 0)]
        self.started, self.done = time.monotonic(), threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while not self.done.wait(self.STEP):
            self.samples.append((time.monotonic() - self.started, _machine_jiffies(),
                                 self.replies()))

    def stop(self) -> None:
        self.done.set()
        self.thread.join()

    def show(self) -> None:
        cores = os.cpu_count() or 1
        for (_, (b0, t0), _r0), (at, (b1, t1), replies) in zip(self.samples, self.samples[1:],
                                                                strict=False):
            busy = (b1 - b0) / (t1 - t0) * cores if t1 > t0 else 0.0
            print(f"  {at:6.1f} s  busy {busy:4.2f}  replies {replies}", flush=True)


def send(port: int, mails: list[tuple[str, bytes]]) -> None:
    with smtplib.SMTP(HOST, port, timeout=TIMEOUT) as client:
        for sender, raw in mails:
            client.sendmail(sender, [MAILBOX], raw)


class fresh_database:
    """A PostgreSQL database made for one run, dropped after it."""

    def __enter__(self) -> str:
        self.name = f"marac_bench_{uuid.uuid4().hex[:12]}"
        self.admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        return make_url(ADMIN_URL).set(database=self.name).render_as_string(
            hide_password=False)

    def __exit__(self, *_exc: object) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
