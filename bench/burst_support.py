"""The deadline-day flood for bench/run_all.py: a registry of Maracs with one coordinator each,
a return (six meetings, one soft issue) per Marac and quarter, and two ways to time them.

``burst``: a real ``python -m bot run`` on SQLite or PostgreSQL; sender threads hand every
return to its SMTP listener like MTAs do (retrying on 4xx), then we wait until every reply is
written to the outbox folder. ``per_message``: the same returns queued straight into a store
and worked off by one in-process ``Worker``, the collector kept off what start-up loaded as a
worker process of ``run`` keeps it: the work per message with no SMTP or process.
"""

from __future__ import annotations

import gc
import io
import os
import smtplib
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.run_e2e_support import BotProcess  # noqa: E402

MAILBOX = "marac@example.org"
QUARTER_STARTS = (date(2025, 4, 1), date(2025, 7, 1), date(2025, 10, 1), date(2026, 1, 1))
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def marac_name(i: int) -> str:
    return f"Bench Marac {i:03d}"


def coordinator(i: int) -> str:
    return f"coordinator{i:03d}@bench.example.org"


def registry_csvs(maracs: int) -> tuple[str, str]:
    """(Maracs CSV, contacts CSV) in the registry's import formats."""
    rows = ["name,aliases,police_force_area,region,nation,local_authorities,"
            "adult_female_population"]
    rows += [f"{marac_name(i)},,Metropolitan Police,London,England,,{100_000 + i}"
             for i in range(maracs)]
    contacts = ["name,email,role,maracs,slack_user_id,teams_id,channels"]
    contacts += [f"Coordinator {i},{coordinator(i)},coordinator,{marac_name(i)},,,email"
                 for i in range(maracs)]
    return "\n".join(rows) + "\n", "\n".join(contacts) + "\n"


def return_workbook(marac: str, quarter_start: date) -> bytes:
    """Six fortnightly meetings of the quarter; the first meeting's police referrals one too
    many, so the referrals do not add up to the cases (one soft issue)."""
    from openpyxl import Workbook

    from tests.fixtures import make_fixtures as mf

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Marac data")
    sheet.append(mf.headers())
    for index in range(6):
        row = mf.meeting(index, marac)
        row[1] = quarter_start + timedelta(days=7 + 14 * index)
        if index == 0:
            row[mf.col("G")] = int(row[mf.col("G")]) + 1  # type: ignore[call-overload]
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def return_email(i: int, quarter: int, workbook: bytes) -> bytes:
    message = EmailMessage()
    message["From"] = coordinator(i)
    message["To"] = MAILBOX
    message["Subject"] = f"Q{quarter + 1} 2025/26 return"
    message["Message-ID"] = make_msgid(domain="bench.example.org")
    message.set_content("Please find our return attached.\n")
    message.add_attachment(workbook, maintype=XLSX[0], subtype=XLSX[1],
                           filename=f"marac-{i:03d}-q{quarter + 1}.xlsx")
    return message.as_bytes(policy=SMTP_POLICY)


def returns(count: int) -> list[tuple[str, bytes]]:
    """``count`` returns as (sender, raw email): Marac after Marac, four quarters each."""
    found = []
    for n in range(count):
        i, quarter = divmod(n, 4)
        workbook = return_workbook(marac_name(i), QUARTER_STARTS[quarter])
        found.append((coordinator(i), return_email(i, quarter, workbook)))
    return found


@contextmanager
def database(backend: str, folder: Path, admin_url: str) -> Iterator[str]:
    """A fresh database URL: a SQLite file, or a PostgreSQL database dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'bench.db'}"
        return
    name = f"marac_burst_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def import_registry(env: dict[str, str], workdir: Path, maracs: int) -> None:
    """The bench registry, through ``marac-bot registry import`` as an operator would."""
    from tests.run_e2e_support import bot_environment

    maracs_csv, contacts_csv = registry_csvs(maracs)
    for name, content in (("maracs.csv", maracs_csv), ("contacts.csv", contacts_csv)):
        path = workdir / name
        path.write_text(content)
        done = subprocess.run([sys.executable, "-m", "bot", "registry", "import", str(path)],
                              cwd=workdir, env=bot_environment(env), capture_output=True,
                              text=True)
        if done.returncode != 0:
            raise SystemExit(f"registry import failed: {done.stdout}{done.stderr}")


@dataclass(frozen=True)
class BurstResult:
    messages: int
    accepted_s: float  # until the last 250
    answered_s: float  # until the last reply was written
    replies: int
    retries: int  # 4xx answers or refused connections the senders met
    # CPU seconds the bot used, its worker and reader processes included (measured from the
    # start to the clean stop): unlike the wall time, hardly moved by a busy machine.
    bot_cpu_s: float = 0.0
    # CPU seconds of a PostgreSQL server on this machine over the same span (every database on
    # it: true of the burst only when nothing else uses the server); None without one.
    server_cpu_s: float | None = None


def burst(backend: str, mail: list[tuple[str, bytes]], maracs: int, folder: Path,
          admin_url: str, senders: int = 8, timeout: float = 600.0) -> BurstResult:
    """Hand every message to a running bot over SMTP and wait for every reply."""
    with database(backend, folder, admin_url) as url:
        work = folder / "work"
        work.mkdir(parents=True, exist_ok=True)
        outbox = folder / "data" / "outbox"
        env = {"MARAC_DATABASE_URL": url, "MARAC_DATA_DIR": str(folder / "data"),
               "MARAC_MAILBOX_ADDRESS": MAILBOX,
               "MARAC_SMTP_LISTEN": "127.0.0.1:0", "MARAC_HTTP_LISTEN": "127.0.0.1:0"}
        import_registry(env, work, maracs)
        before, server_before = _children_cpu(), postgres_cpu() if backend != "sqlite" else None
        with BotProcess(work, env).start() as bot:
            outbox = _outbox_of(bot.start_line or "", outbox)
            started = time.monotonic()
            retries = _send_all(bot.smtp_port, mail, senders)
            accepted = time.monotonic() - started
            answered = _wait_for_files(outbox, len(mail), timeout)
            replies = _count(outbox)
        server = postgres_cpu() if server_before is not None else None
        return BurstResult(len(mail), accepted, answered - started if answered else -1.0,
                           replies, retries, _children_cpu() - before,
                           None if server is None or server_before is None
                           else server - server_before)


def postgres_cpu() -> float | None:
    """CPU seconds of the local PostgreSQL server: its processes, and the children it reaped
    (each connection's backend). None if no server runs here (or /proc cannot tell)."""
    total, found = 0.0, False
    ticks = os.sysconf("SC_CLK_TCK")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                name, _, rest = stat.read().partition(") ")
        except OSError:
            continue
        if not name.endswith("(postgres"):
            continue
        fields = rest.split()  # from the state on: utime, stime, cutime, cstime at 11..14
        total += sum(int(f) for f in fields[11:15]) / ticks
        found = True
    return total if found else None


def _children_cpu() -> float:
    """CPU seconds of this process's finished (and reaped) children and theirs."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _outbox_of(start_line: str, default: Path) -> Path:
    """The folder the start line says replies are written to (else the one we set)."""
    marker = "replies written to "
    if marker in start_line:
        return Path(start_line.split(marker, 1)[1].split()[0].rstrip("/."))
    return default


def _count(folder: Path) -> int:
    """Replies written: .eml files, not the temporary files they are written through. By
    name alone (no stat of each file): polled 20 times a second over 1,100 files, the stats
    took the load generator ~1 s of the two cores the bot needs."""
    try:
        with os.scandir(folder) as entries:
            return sum(1 for entry in entries if entry.name.endswith(".eml"))
    except FileNotFoundError:
        return 0


def _wait_for_files(folder: Path, count: int, timeout: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if _count(folder) >= count:
            return time.monotonic()
        time.sleep(0.05)
    return None


def _send_all(port: int, mail: list[tuple[str, bytes]], senders: int) -> int:
    """Several sender threads, each with its own connection, retrying like an MTA."""
    queue = list(reversed(mail))
    lock = threading.Lock()
    retries = [0]

    def take() -> tuple[str, bytes] | None:
        with lock:
            return queue.pop() if queue else None

    def sender() -> None:
        client: smtplib.SMTP | None = None
        while (item := take()) is not None:
            while True:
                try:
                    client = client or smtplib.SMTP("127.0.0.1", port, timeout=120)
                    client.sendmail(item[0], [MAILBOX], item[1])
                    break
                except (smtplib.SMTPException, OSError):
                    with lock:
                        retries[0] += 1
                    _close(client)
                    client = None
                    time.sleep(0.05)
        _close(client)

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return retries[0]


def _close(client: smtplib.SMTP | None) -> None:
    if client is not None:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def per_message(backend: str, mail: list[tuple[str, bytes]], maracs: int, folder: Path,
                admin_url: str) -> float:
    """Seconds per message for one in-process Worker: parse, validate, record, annotate,
    render and queue the reply, each message in its own transaction."""
    from bot.channels.email.smtp_listener import message_id_of
    from bot.settings import Settings
    from bot.worker import Worker
    from store.db import Store
    from store.queue import enqueue_inbound
    from store.registry import import_csv
    from store.types import utcnow
    from validation import reader_process

    with database(backend, folder, admin_url) as url:
        store = Store.open(url)
        try:
            with store.transaction() as session:
                for source in registry_csvs(maracs):
                    assert import_csv(session, source).ok
            with store.transaction() as session:
                for n, (sender, raw) in enumerate(mail):
                    enqueue_inbound(session, channel="email", raw=raw, received_at=utcnow(),
                                    source_key=f"bench:{n}", envelope_from=sender,
                                    recipients=[MAILBOX], message_id=message_id_of(raw))
            worker = Worker(store, Settings(mailbox_address=MAILBOX))
            reader_process.start()  # as run does: files are read by its reader process
            # As run's worker processes do once started (bot/workers/child.py): what is loaded
            # by then is kept out of every later collection. Without it the collector walked
            # this process's ~150,000 start-up objects again and again, ~0.35 ms a message
            # that no worker of run spends.
            gc.collect()
            gc.freeze()
            try:
                started = time.perf_counter()
                done = worker.drain()
                elapsed = time.perf_counter() - started
            finally:
                gc.unfreeze()
                reader_process.stop()
            assert done == len(mail), f"worked {done} of {len(mail)}"
            return elapsed / len(mail)
        finally:
            store.close()


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started
