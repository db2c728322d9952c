"""Helpers for driving a real ``python -m bot run`` subprocess (tests and bench/mail_latency.py).

``BotProcess`` starts the bot in a working directory of its own (so no stray ``.env`` is read)
with only the MARAC_* variables it is given, waits for the one start line on stdout and reads
the real SMTP and HTTP ports from it (both listeners bind port 0). Logs go to ``bot.log`` in
the working directory. ``BotDb`` reads the bot's SQLite file read-only while it runs (WAL lets
a reader in beside the writer).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import signal
import smtplib
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.policy import default as default_policy
from email.utils import make_msgid
from pathlib import Path
from types import TracebackType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = REPO_ROOT / "tests" / "fixtures"
XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
# The demo registry's Croydon coordinator (store/demo/contacts.csv).
COORDINATOR = "croydon.coordinator@example.org"
MAILBOX = "marac@example.org"
START_TIMEOUT = 60.0
_START_LINE = "Marac data assistant running:"
_SMTP_PORT = re.compile(r"SMTP listener on [^;]*:(\d+)")
_HTTP_PORT = re.compile(r"HTTP on [^;]*:(\d+)")
# Variables of the developer's own shell that would change what the bot does.
_OWN_PREFIXES = ("MARAC_", "SLACK_")


def wait_until(predicate: Callable[[], bool], *, timeout: float, what: str,
               interval: float = 0.01) -> float:
    """Poll ``predicate`` until it holds; returns the seconds it took, AssertionError after
    ``timeout``. For conditions nothing signals across processes (files, database rows)."""
    started = time.monotonic()
    deadline = started + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
    return time.monotonic() - started


def bot_environment(extra: Mapping[str, str]) -> dict[str, str]:
    """The process environment without MARAC_*/SLACK_* variables, plus ``extra``; the working
    tree's packages come first on the path, as ``python -m bot`` from the repository would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


class BotProcess:
    """One ``python -m bot run`` subprocess and what it printed."""

    def __init__(self, workdir: Path, env: Mapping[str, str]) -> None:
        self.workdir = workdir
        self.env = bot_environment(env)
        self.log_path = workdir / "bot.log"
        self.process: subprocess.Popen[str] | None = None
        self.start_line: str | None = None
        self.stdout_lines: list[str] = []
        self._started = threading.Event()
        self._reader: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def spawn(self) -> BotProcess:
        """Start the process without waiting for it (``wait_started`` or ``wait`` next)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.start_line = None
        self._started.clear()
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"], cwd=self.workdir, env=self.env,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, text=True)
        self._reader = threading.Thread(target=self._read_stdout, args=(self.process,),
                                        daemon=True)
        self._reader.start()
        return self

    def start(self, timeout: float = START_TIMEOUT) -> BotProcess:
        """Start and return once the start line is printed (AssertionError if it never is)."""
        self.spawn()
        self.wait_started(timeout)
        return self

    def wait_started(self, timeout: float = START_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while not self._started.wait(0.05):
            code = self.process.poll() if self.process else None
            if code is not None:
                raise AssertionError(f"the bot exited with {code} before starting:\n"
                                     f"{self.log_text()}")
            if time.monotonic() >= deadline:
                raise AssertionError(f"no start line within {timeout} s:\n{self.log_text()}")
        assert self.start_line is not None
        return self.start_line

    def _read_stdout(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.stdout_lines.append(line.rstrip("\n"))
            if line.startswith(_START_LINE) and self.start_line is None:
                self.start_line = line.strip()
                self._started.set()

    def signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def kill(self) -> int:
        """SIGKILL: no clean-up at all, as a power cut or the OOM killer would."""
        self.signal(signal.SIGKILL)
        return self.wait(30)

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        code = self.process.wait(timeout)
        if self._reader is not None:
            self._reader.join(5)
        return code

    def stop(self) -> None:
        """End the process if it still runs (SIGTERM, then SIGKILL after 30 s)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.wait(30)
        except subprocess.TimeoutExpired:
            self.kill()

    def __enter__(self) -> BotProcess:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- what it printed ---------------------------------------------------------------------

    @property
    def smtp_port(self) -> int:
        return self._port(_SMTP_PORT, "SMTP")

    @property
    def http_port(self) -> int:
        return self._port(_HTTP_PORT, "HTTP")

    def _port(self, pattern: re.Pattern[str], what: str) -> int:
        match = pattern.search(self.start_line or "")
        assert match, f"no {what} port in the start line {self.start_line!r}"
        return int(match.group(1))

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


# -- messages ------------------------------------------------------------------------------------


def submission(fixture: str = "clean_libreoffice.xlsx", *, sender: str = COORDINATOR,
               filename: str = "croydon-q3.xlsx", subject: str = "Q3 2024/25 return",
               message_id: str | None = None, to: str = MAILBOX, copies: int = 1) -> bytes:
    """An email from ``sender`` with a fixture workbook attached (``copies`` times, as
    croydon-q3.xlsx, croydon-q3-2.xlsx, …), CRLF line ends."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or make_msgid(domain="croydon.example.org")
    msg.set_content("Please find our return attached.\n")
    stem, _, suffix = filename.rpartition(".")
    for n in range(1, copies + 1):
        name = filename if n == 1 else f"{stem}-{n}.{suffix}"
        msg.add_attachment((FIXTURES / fixture).read_bytes(), maintype=XLSX_TYPE[0],
                           subtype=XLSX_TYPE[1], filename=name)
    return msg.as_bytes(policy=SMTP_POLICY)


def question(n: int, *, sender: str = COORDINATOR, to: str = MAILBOX) -> bytes:
    """The n-th of a burst of small questions (each its own thread), as raw mail."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = f"question {n}"
    msg["Message-ID"] = make_msgid(domain="croydon.example.org")
    msg.set_content("has Croydon uploaded Q3 2024/25?\n")
    return msg.as_bytes(policy=SMTP_POLICY)


def replies_by_thread(messages: Iterable[bytes]) -> Counter[str]:
    """How many replies went to each message (by In-Reply-To), from the raw replies."""
    return Counter(str(parse(raw)["In-Reply-To"] or "").strip() for raw in messages)


def long_submission(rows: int, *, sender: str = COORDINATOR, to: str = MAILBOX) -> bytes:
    """An email with one valid CSV template of ``rows`` distinct Croydon meetings (one a day
    from 1 Jan 2000): nothing hostile, just long to record (2,000 rows take seconds), so a
    message is reliably still in hand when a test kills the bot."""
    from tests.fixtures import make_fixtures as mf  # openpyxl and the columns: only if used

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(mf.headers())
    first = date(2000, 1, 1)
    for n in range(rows):
        row = mf.meeting(n % len(mf.MEETING_DATES))
        row[1] = (first + timedelta(days=n)).isoformat()
        writer.writerow(row)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = "Croydon return"
    msg["Message-ID"] = make_msgid(domain="croydon.example.org")
    msg.set_content("Please find our return attached.\n")
    msg.add_attachment(out.getvalue().encode(), maintype="text", subtype="csv",
                       filename="croydon-all.csv")
    return msg.as_bytes(policy=SMTP_POLICY)


def send_until_accepted(host: str, port: Callable[[], int], raw: bytes, *,
                        sender: str = COORDINATOR, recipient: str = MAILBOX,
                        timeout: float = 600.0, on_refused: Callable[[], None] = lambda: None
                        ) -> int:
    """Hand one message over as an MTA would: until the listener answers 250, retrying after
    a 4xx answer, a refused or dropped connection (the bot restarting), with back-off from
    50 ms to 2 s. ``port`` is asked on each try (a restarted bot may listen elsewhere).
    Returns the number of tries; raises on a 5xx answer or when ``timeout`` runs out."""
    deadline = time.monotonic() + timeout
    delay, tries = 0.05, 0
    while True:
        tries += 1
        try:
            with smtplib.SMTP(host, port(), timeout=30) as client:
                client.sendmail(sender, [recipient], raw)
            return tries
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500:
                raise
        except smtplib.SMTPRecipientsRefused as exc:
            if any(code >= 500 for code, _ in exc.recipients.values()):
                raise
        except (smtplib.SMTPException, OSError, AssertionError):
            pass  # connection refused or dropped; no port yet (the bot is starting)
        on_refused()
        if time.monotonic() + delay > deadline:
            raise TimeoutError(f"not accepted within {timeout} s ({tries} tries)")
        time.sleep(delay)  # an MTA's retry interval, not a wait for a condition
        delay = min(delay * 2, 2.0)


def message_id_of(raw: bytes) -> str:
    return str(parse(raw)["Message-ID"]).strip()


def parse(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=default_policy)
    assert isinstance(message, EmailMessage)
    return message


@dataclass(frozen=True)
class ParsedReply:
    """The parts of a reply that tests look at."""

    message_id: str
    in_reply_to: str
    references: str
    subject: str
    to: str
    text: str
    html: str
    attachments: dict[str, bytes]


def read_reply(raw: bytes) -> ParsedReply:
    message = parse(raw)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    attachments = {part.get_filename() or "": part.get_payload(decode=True) or b""
                   for part in message.iter_attachments()}
    return ParsedReply(
        message_id=str(message["Message-ID"] or "").strip(),
        in_reply_to=str(message["In-Reply-To"] or "").strip(),
        references=str(message["References"] or "").strip(),
        subject=str(message["Subject"] or ""),
        to=str(message["To"] or ""),
        text=text_part.get_content() if text_part is not None else "",
        html=html_part.get_content() if html_part is not None else "",
        attachments={name: bytes(data) if isinstance(data, bytes) else b""
                     for name, data in attachments.items()},
    )


# -- the bot's database, read beside it ----------------------------------------------------------


class BotDb:
    """Read-only queries on the bot's SQLite file (safe while the bot writes to it)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        try:
            yield db
        finally:
            db.close()

    def rows(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        if not self.path.exists():
            return []
        try:
            with self._connect() as db:
                return list(db.execute(query, params).fetchall())
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):  # the bot has not created its schema yet
                return []
            raise

    def count(self, query: str, *params: Any) -> int:
        found = self.rows(query, *params)
        return int(found[0][0]) if found else 0

    def inbound(self) -> list[tuple[int, str | None, str, str | None]]:
        """(id, message_id, status, outcome) of every stored inbound message."""
        return [(int(i), m, s, o) for i, m, s, o in self.rows(
            "SELECT id, message_id, status, outcome FROM inbound_queue ORDER BY id")]

    def item(self, item_id: int) -> tuple[str, int, str | None]:
        """(status, attempts, last_error) of one inbound message."""
        ((status, attempts, error),) = self.rows(
            "SELECT status, attempts, last_error FROM inbound_queue WHERE id = ?", item_id)
        return str(status), int(attempts), error

    def outbound(self) -> list[tuple[int, str, str, int | None]]:
        """(id, key, status, inbound_id) of every queued or sent reply."""
        return [(int(i), k, s, n) for i, k, s, n in self.rows(
            "SELECT id, key, status, inbound_id FROM outbound_queue ORDER BY id")]
