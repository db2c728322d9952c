"""``marac-bot run`` end to end (issue 4): a real bot process, real SMTP, a real Dovecot.

Every test starts ``python -m bot run`` as a subprocess with a temp data directory and SQLite,
ports from the environment (port 0: the start line says which were bound) and, for outgoing
mail, ``MARAC_SMTP_RELAY`` pointing at an aiosmtpd sink in the test process. Waits are on the
start line, the sink's count or a polled condition, each with a timeout; never a fixed sleep.
"""

from __future__ import annotations

import asyncio
import io
import json
import signal
import smtplib
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select, update

from bot.channels.email.send import EmailOutbox, MailSender, RelayConfig
from bot.delivery import Delivery
from bot.settings import HostPort, Settings
from kernel import wording
from store.db import Store
from store.queue import (
    InboundItem,
    OutboundItem,
    claim_inbound,
    enqueue_inbound,
    enqueue_outbound,
    release_claims,
)
from tests.dovecot_support import DOVECOT, DovecotAccount, DovecotServer
from tests.run_e2e_support import (
    COORDINATOR,
    MAILBOX,
    BotDb,
    BotProcess,
    ParsedReply,
    message_id_of,
    read_reply,
    submission,
    wait_until,
)
from tests.smtp_support import HOST, ReceivedMail, SmtpSink

WAIT = 30.0  # generous bound for anything that normally takes well under a second
# The fixtures' Croydon meetings fall in Q3 2024/25 (tests/fixtures/make_fixtures.py).
QUARTER = "Q3 2024/25 (1 Oct – 31 Dec 2024)"
STRANGER = "someone@elsewhere.example"


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as running:
        yield running


def bot_env(data_dir: Path, *, relay: SmtpSink | None = None, **extra: str) -> dict[str, str]:
    """Settings for one test bot: its own data dir and SQLite file, listeners on port 0."""
    env = {
        "MARAC_DATA_DIR": str(data_dir),
        "MARAC_MAILBOX_ADDRESS": MAILBOX,
        "MARAC_SMTP_LISTEN": f"{HOST}:0",
        "MARAC_HTTP_LISTEN": f"{HOST}:0",
    }
    if relay is not None:
        env["MARAC_SMTP_RELAY"] = f"{HOST}:{relay.port}"
    env.update(extra)
    return env


def send(bot: BotProcess, *messages: bytes, sender: str = COORDINATOR,
         recipient: str = MAILBOX) -> None:
    """Hand messages to the bot's listener over one SMTP session, as an MTA would."""
    with smtplib.SMTP(HOST, bot.smtp_port, timeout=WAIT) as client:
        for raw in messages:
            assert client.sendmail(sender, [recipient], raw) == {}


def replies(mails: list[ReceivedMail]) -> list[ParsedReply]:
    return [read_reply(mail.data) for mail in mails]


def http_get(port: int, path: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=WAIT) as response:
        return int(response.status), bytes(response.read())


def assert_threaded(reply: ParsedReply, original: bytes) -> None:
    original_id = message_id_of(original)
    assert reply.in_reply_to == original_id
    assert original_id in reply.references.split()
    assert reply.subject == "Re: Q3 2024/25 return"
    assert reply.message_id and reply.message_id != original_id


# -- one template, one reply ----------------------------------------------------------------------


def test_a_template_sent_to_the_listener_gets_one_threaded_reply_at_the_relay(
    tmp_path: Path, sink: SmtpSink
) -> None:
    raw = submission("several_issues.xlsx")
    with BotProcess(tmp_path / "work", bot_env(tmp_path / "data", relay=sink)).start() as bot:
        status, body = http_get(bot.http_port, "/healthz")
        assert status == 200
        assert json.loads(body)["status"] == "ok"

        send(bot, raw)
        (mail,) = sink.wait_for(1, timeout=WAIT)

    assert bot.process is not None and bot.process.returncode == 0
    assert len(sink.messages) == 1, "one message, one reply"
    assert (mail.mail_from, mail.rcpt_tos) == (MAILBOX, (COORDINATOR,))
    reply = read_reply(mail.data)
    assert_threaded(reply, raw)
    assert reply.to == COORDINATOR
    # Outcome first, then every hard and soft issue by cell (several_issues.xlsx: three rows
    # with hard issues in B3, C5 and D7, soft ones in C2 and E6).
    outcome = f"croydon-q3.xlsx: 3 of 6 rows accepted for Croydon, {QUARTER}"
    assert outcome in reply.text
    assert reply.text.index(outcome) < reply.text.index("B3")
    for cell in ("B3", "C5", "D7", "C2", "E6"):
        assert cell in reply.text and f"{cell}: {cell}" not in reply.text
    assert "[Marac data]" not in reply.text and "(exceeds-cases)" not in reply.text
    assert "3 of 6 rows accepted for Croydon" in reply.html
    annotated = openpyxl.load_workbook(io.BytesIO(reply.attachments["croydon-q3-checked.xlsx"]))
    sheet = annotated["Marac data"]
    assert all(sheet[cell].comment is not None for cell in ("B3", "C5", "D7", "C2", "E6"))
    assert sheet["B2"].comment is None


def test_a_newcomer_finds_the_threaded_reply_in_the_outbox_folder_within_a_second(
    tmp_path: Path,
) -> None:
    """Issue 4's "Done when": ``marac-bot run`` on its embedded defaults (SQLite and the
    outbox under ./marac-data/, mailbox marac@localhost, no relay), a template sent with
    smtplib, the reply in marac-data/outbox/ within a second of the end of DATA."""
    work = tmp_path / "work"
    defaults = {"MARAC_SMTP_LISTEN": f"{HOST}:0", "MARAC_HTTP_LISTEN": f"{HOST}:0"}
    outbox = work / "marac-data" / "outbox"
    raw = submission("clean_libreoffice.xlsx", to="marac@localhost")
    with BotProcess(work, defaults).start() as bot:
        assert "replies written to marac-data/outbox/" in (bot.start_line or "")
        send(bot, raw, recipient="marac@localhost")
        took = wait_until(lambda: any(outbox.glob("*.eml")), timeout=WAIT,
                          what="a reply in marac-data/outbox/")
        wait_until(lambda: _outbound_sent(BotDb(work / "marac-data" / "marac.db")) == 1,
                   timeout=WAIT, what="the reply marked sent")

    assert took < 1.0, f"the reply took {took:.2f} s"
    (eml,) = outbox.glob("*.eml")
    reply = read_reply(eml.read_bytes())
    assert_threaded(reply, raw)
    assert reply.to == COORDINATOR
    assert f"croydon-q3.xlsx: 6 of 6 rows accepted for Croydon, {QUARTER}." in reply.text
    assert reply.attachments == {}, "a clean file needs no annotated copy"
    db = BotDb(work / "marac-data" / "marac.db")
    assert db.count("SELECT count(*) FROM meeting_versions WHERE is_current") == 6


def _outbound_sent(db: BotDb) -> int:
    return db.count("SELECT count(*) FROM outbound_queue WHERE status = 'sent'")


# -- through a Dovecot mailbox --------------------------------------------------------------------


@pytest.fixture(scope="module")
def dovecot() -> Iterator[DovecotServer]:
    """One Dovecot for this module's tests (stopping one takes about a second)."""
    if not Path(DOVECOT).exists():
        pytest.skip("dovecot is not installed (Debian package dovecot-imapd)")
    # Not pytest's tmp_path: its parents are 0700 and Dovecot's mail user must get through.
    with tempfile.TemporaryDirectory(prefix="marac-dovecot-") as root:
        server = DovecotServer(Path(root), spare_users=5)
        with server:
            yield server


def imap_env(account: DovecotAccount) -> dict[str, str]:
    return {
        "MARAC_IMAP_HOST": account.server.host,
        "MARAC_IMAP_PORT": str(account.server.port),
        "MARAC_IMAP_USER": account.user,
        "MARAC_IMAP_PASSWORD": account.password,
        "MARAC_IMAP_TLS": "none",
        "MARAC_SMTP_LISTEN": "",  # IMAP only: the reply can only have come through the mailbox
    }


def test_mail_appended_to_the_mailbox_is_answered_and_filed(
    tmp_path: Path, sink: SmtpSink, dovecot: DovecotServer
) -> None:
    account = dovecot.new_account()
    template = submission("exceeds_cases_d7.xlsx")
    stranger = submission("clean_libreoffice.xlsx", sender=STRANGER)
    account.append(template)
    account.append(stranger)
    env = bot_env(tmp_path / "data", relay=sink, **imap_env(account))
    with BotProcess(tmp_path / "work", env).start() as bot:
        assert "IMAP watcher on" in (bot.start_line or "")
        assert "SMTP listener" not in (bot.start_line or "")
        mails = sink.wait_for(2, timeout=WAIT)
        wait_until(lambda: len(account.messages("Processed")) == 1
                   and len(account.messages("Rejected")) == 1,
                   timeout=WAIT, what="both messages filed", interval=0.1)

    assert account.messages("Processed") == [template]
    assert account.messages("Rejected") == [stranger]
    assert account.messages("INBOX") == []
    assert len(sink.messages) == 2
    by_recipient = {mail.rcpt_tos: read_reply(mail.data) for mail in mails}
    answer = by_recipient[(COORDINATOR,)]
    assert_threaded(answer, template)
    assert f"croydon-q3.xlsx: 5 of 6 rows accepted for Croydon, {QUARTER}" in answer.text
    assert "D7" in answer.text and "croydon-q3-checked.xlsx" in answer.attachments
    refusal = by_recipient[(STRANGER,)]
    assert_threaded(refusal, stranger)
    assert wording.unknown_sender_text(MAILBOX) in refusal.text
    db = BotDb(tmp_path / "data" / "marac.db")
    assert sorted(str(o) for _i, _m, _s, o in db.inbound()) == [
        "refused-unknown-sender", "submission-partially-accepted"]
    # Nothing the stranger sent is data: no meeting version was recorded by them.
    assert db.count("SELECT count(*) FROM meeting_versions WHERE recorded_by = ?", STRANGER) == 0
    assert db.count("SELECT count(*) FROM meeting_versions WHERE recorded_by = ?",
                    COORDINATOR) == 5


# -- stopping ---------------------------------------------------------------------------------


def test_sigterm_finishes_the_message_in_hand_and_exits_0(
    tmp_path: Path, sink: SmtpSink
) -> None:
    """SIGTERM while a message is being processed: that message is finished and its reply
    handed to the relay before the process exits 0; the rest wait, untouched, for the next
    start, which answers them (each once)."""
    # Four files a message: long enough in hand (a few hundred ms) that the signal sent on
    # seeing one being processed reliably arrives before it is finished.
    batch = [submission("several_issues.xlsx", copies=4) for _ in range(6)]
    env = bot_env(tmp_path / "data", relay=sink)
    db = BotDb(tmp_path / "data" / "marac.db")
    bot = BotProcess(tmp_path / "work", env).start()
    try:
        send(bot, *batch)
        wait_until(lambda: _in_hand(db) is not None, timeout=WAIT,
                   what="a message being processed", interval=0.002)
        in_hand = _in_hand(db)
        assert in_hand is not None
        signalled = datetime.now(UTC)
        bot.signal(signal.SIGTERM)
        assert bot.wait(WAIT) == 0
    finally:
        bot.stop()

    assert "stopping: finishing the message in hand" in bot.log_text()
    statuses = {item_id: status for item_id, _m, status, _o in db.inbound()}
    assert statuses[in_hand] == "done", "the message in hand was finished"
    assert "processing" not in statuses.values(), "nothing left half-done"
    done = {i for i, s in statuses.items() if s == "done"}
    answered = {inbound for _i, _k, status, inbound in db.outbound() if status == "sent"}
    assert answered == done, "every finished message's reply went out before the exit"
    assert {r.in_reply_to for r in replies(sink.messages)} == {
        m for i, m, _s, _o in db.inbound() if i in done}
    # The relay connection the replies went over (kept between them) was ended at the stop.
    peers = {m.peer for m in sink.messages}
    assert peers and set(sink.recorder.quits) == peers
    finished_at = db.rows("SELECT finished_at FROM inbound_queue WHERE id = ?", in_hand)[0][0]
    assert finished_at is not None
    # Informative when it fails: the signal should have landed before the message finished.
    assert _utc(finished_at) > signalled, (
        "the message finished before SIGTERM was sent; nothing was in hand")

    with BotProcess(tmp_path / "work2", env).start():
        wait_until(lambda: len({r.in_reply_to for r in replies(sink.messages)}) == len(batch),
                   timeout=WAIT, what="every message answered after the restart")
        wait_until(lambda: _outbound_sent(db) == len(batch), timeout=WAIT,
                   what="every reply marked sent")
    counts = Counter(r.in_reply_to for r in replies(sink.messages))
    assert counts == Counter({message_id_of(raw): 1 for raw in batch})


def _utc(stored: object) -> datetime:
    """A timestamp as SQLite holds it (UTC, written without a zone) as an aware datetime."""
    value = datetime.fromisoformat(str(stored))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _in_hand(db: BotDb) -> int | None:
    found = [i for i, _m, status, _o in db.inbound() if status == "processing"]
    return found[0] if found else None


@pytest.mark.parametrize(
    ("variable", "value", "extra"),
    [
        ("MARAC_DUE_DAYS", "abc", {}),
        ("MARAC_SMTP_LISTEN", "localhost", {}),
        # Found only while starting (the files are read then), and still exit 2.
        ("MARAC_SMTP_TLS_CERT", "/nonexistent/cert.pem",
         {"MARAC_SMTP_TLS_KEY": "/nonexistent/key.pem"}),
        ("MARAC_IMAP_PORT", "993", {"MARAC_IMAP_HOST": HOST, "MARAC_IMAP_USER": "marac",
                                    "MARAC_IMAP_PASSWORD": "x", "MARAC_IMAP_TLS": "none"}),
    ],
)
def test_a_bad_configuration_value_exits_2_naming_the_variable(
    tmp_path: Path, variable: str, value: str, extra: dict[str, str]
) -> None:
    env = {**bot_env(tmp_path / "data"), variable: value, **extra}
    bot = BotProcess(tmp_path / "work", env).spawn()
    try:
        code = bot.wait(WAIT)
    finally:
        bot.stop()
    log = bot.log_text()
    assert code == 2, log
    assert variable in log
    assert "Traceback" not in log
    assert bot.start_line is None


def test_a_listen_address_in_use_exits_2_naming_the_variable(tmp_path: Path,
                                                              sink: SmtpSink) -> None:
    env = bot_env(tmp_path / "data", MARAC_SMTP_LISTEN=f"{HOST}:{sink.port}")
    bot = BotProcess(tmp_path / "work", env).spawn()
    try:
        code = bot.wait(WAIT)
    finally:
        bot.stop()
    assert code == 2, bot.log_text()
    assert "MARAC_SMTP_LISTEN" in bot.log_text()
    assert "Traceback" not in bot.log_text()


def test_claims_left_by_a_crash_are_queued_again_at_start_or_given_up(
    db_store: Store,
) -> None:
    """``release_claims`` (called at start on SQLite): a message in hand when the process died
    is queued again at once rather than after the 10-minute stale-claim wait, unless it has
    already been tried as often as ``claim_inbound`` allows (it may be what kills us)."""
    now = datetime.now(UTC)
    with db_store.transaction() as session:
        ids = [enqueue_inbound(session, channel="email", raw=f"m{n}".encode(),
                               source_key=f"smtp:{n}", received_at=now) for n in range(3)]
    with db_store.transaction() as session:
        for _ in range(2):
            claim_inbound(session, worker="worker", stale_after=timedelta(minutes=10))
        session.execute(update(InboundItem).where(InboundItem.id == ids[1])
                        .values(attempts=5))
    with db_store.transaction() as session:
        released = release_claims(session, max_attempts=5)
    with db_store.transaction() as session:
        statuses = {i: session.get(InboundItem, i) for i in ids}
        assert released == [ids[0]]
        assert {i: item.status for i, item in statuses.items() if item} == {
            ids[0]: "queued", ids[1]: "failed", ids[2]: "queued"}
        again = claim_inbound(session, worker="worker", stale_after=timedelta(minutes=10))
        assert again is not None and again.id == ids[0] and again.attempts == 2


def test_a_reply_is_recorded_sent_before_quit_and_a_failed_quit_does_not_resend_it(
    db_store: Store, sink: SmtpSink
) -> None:
    """The re-send window is as small as it can be: "sent" is committed while the relay is
    still waiting for our QUIT (here held back), and the relay answering QUIT with an error
    after it accepted the message does not count as a failure to send. The connection is
    kept after a send (KEEP_SECONDS), so the QUIT here is the one of ``Delivery.close``."""
    release = threading.Event()

    async def held_quit(server: object, session: object, envelope: object) -> str:
        await asyncio.to_thread(release.wait, WAIT)
        return "421 4.3.0 closing anyway"

    setattr(sink.recorder, "handle_QUIT", held_quit)  # noqa: B010 (aiosmtpd finds hooks by name)
    with db_store.transaction() as session:
        item_id = enqueue_outbound(session, key="reply:1", channel="email",
                                   recipient=COORDINATOR, payload=submission())
    mail = MailSender(relay=RelayConfig(HostPort(HOST, sink.port)), outbox_dir=Path("unused"))
    delivery = Delivery(db_store, Settings(mailbox_address=MAILBOX),
                        {"email": EmailOutbox(mail, MAILBOX)})
    result: list[int] = []

    def deliver_and_close() -> None:
        result.append(delivery.deliver_due())
        delivery.close()

    worker = threading.Thread(target=deliver_and_close)
    worker.start()
    try:
        sink.wait_for(1, timeout=WAIT)
        wait_until(lambda: _status(db_store, item_id) == "sent", timeout=WAIT,
                   what="the item marked sent while QUIT is pending")
        assert worker.is_alive(), "close should still be waiting for QUIT"
    finally:
        release.set()
        worker.join(WAIT)
    assert result == [1]
    assert _status(db_store, item_id) == "sent"
    assert len(sink.messages) == 1
    assert delivery.deliver_due() == 0


def _status(store: Store, item_id: int) -> str | None:
    with store.transaction() as session:
        return session.scalar(select(OutboundItem.status).where(OutboundItem.id == item_id))


# -- the process carries on when a round fails -------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("table", ["inbound_queue", "outbound_queue"])
def test_a_failing_inbox_or_outbox_round_is_logged_and_the_loop_carries_on(
    tmp_path: Path, sink: SmtpSink, table: str
) -> None:
    """The database failing under a loop (here: its table renamed away, as good as a
    PostgreSQL restart mid-query) is logged, and once it is back the next message is still
    answered: the loop did not die while the process went on answering /healthz."""
    db_path = tmp_path / "data" / "marac.db"
    with BotProcess(tmp_path / "work", bot_env(tmp_path / "data", relay=sink)).start() as bot:
        send(bot, submission())
        sink.wait_for(1, timeout=WAIT)
        _rename(db_path, table, f"{table}_away")
        try:
            # The loop's next poll (every few seconds, unprompted) meets the missing table.
            wait_until(lambda: f"no such table: {table}" in bot.log_text(), timeout=WAIT,
                       what=f"the {table} failure logged", interval=0.1)
        finally:
            _rename(db_path, f"{table}_away", table)
        later = submission()
        send(bot, later)
        (_first, mail) = sink.wait_for(2, timeout=WAIT)
        assert http_get(bot.http_port, "/healthz")[0] == 200
    assert read_reply(mail.data).in_reply_to == message_id_of(later)
    assert bot.process is not None and bot.process.returncode == 0


def _rename(db_path: Path, old: str, new: str) -> None:
    with closing(sqlite3.connect(db_path, timeout=WAIT)) as db, db:
        db.execute(f'ALTER TABLE "{old}" RENAME TO "{new}"')


# -- the kill test ------------------------------------------------------------------------------


class Sender:
    """Sends a batch in the background, each message over an SMTP session of its own (as
    several MTAs would, so that the batch is stored about as fast as the listener can), and
    notes which got a 250. When the bot is killed mid-batch the rest fail; like an MTA, the
    test sends those again to the restarted bot."""

    def __init__(self, port: int, batch: list[bytes]) -> None:
        self.port = port
        self.accepted: list[bytes] = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._send, args=(raw,), daemon=True)
                         for raw in batch]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _send(self, raw: bytes) -> None:
        try:
            with smtplib.SMTP(HOST, self.port, timeout=WAIT) as client:
                client.sendmail(COORDINATOR, [MAILBOX], raw)
        except (smtplib.SMTPException, OSError):
            return
        with self._lock:
            self.accepted.append(raw)


def test_sigkill_mid_batch_then_restart_gives_each_message_one_reply_and_one_record(
    tmp_path: Path, sink: SmtpSink
) -> None:
    """SIGKILL while a batch of 20 is being stored, processed and answered; restart; every
    message then has exactly one inbound row (done), one submission per file, one outbox
    item (sent), and one reply at the relay.

    The one exception, by design (the known gap): a reply the relay accepted before the kill
    but whose "sent" had not been committed is sent again after the restart, byte for byte
    the same message with the same Message-ID (derived from the outbox key), so mail clients
    show it once. ``Delivery`` commits "sent" as soon as the relay answers DATA with 250,
    before QUIT, so the window is that answer's trip plus one commit, and as one reply is
    handed over at a time, at most one reply can be in it. This test kills the moment the
    sink has recorded a reply, before the sink has even sent its 250, so the kill lands in
    that window nearly every run (a crash at a random moment rarely would). The test
    asserts: at most one reply arrived twice; it is one whose outbox item the killed process
    had not marked sent (read from the database the kill left); both copies are the same
    bytes.
    """
    batch = [submission("several_issues.xlsx") for _ in range(20)]
    ids = [message_id_of(raw) for raw in batch]
    env = bot_env(tmp_path / "data", relay=sink)
    db = BotDb(tmp_path / "data" / "marac.db")

    bot = BotProcess(tmp_path / "work", env).start()
    sender = Sender(bot.smtp_port, batch)
    try:
        sender.start()
        sink.wait_for(5, timeout=WAIT)
        bot.kill()
    finally:
        bot.stop()
    sender.join(WAIT)
    # What the kill left: the process is dead, so the database cannot change until restart.
    inbound_at_kill = Counter(status for _i, _m, status, _o in db.inbound())
    unsent_at_kill = {_message_id_for(db, inbound)
                      for _i, _k, status, inbound in db.outbound() if status != "sent"}
    replied_at_kill = len(sink.messages)
    assert 0 < replied_at_kill < len(batch), "the kill must land mid-batch"
    answered_in_db = _outbound_sent(db)
    assert answered_in_db < len(batch), "the kill left nothing for the restart to do"

    with BotProcess(tmp_path / "work2", env).start() as restarted:
        # An MTA sends again what got no 250; a message stored just before its 250 was lost
        # is recognised by its bytes and not stored twice.
        send(restarted, *[raw for raw in batch if raw not in sender.accepted])
        wait_until(lambda: len({r.in_reply_to for r in replies(sink.messages)}) == len(batch)
                   and _outbound_sent(db) == len(batch),
                   timeout=WAIT, what="every message answered and every reply marked sent")

    # The database: one record of everything per message.
    inbound = db.inbound()
    assert Counter(m for _i, m, _s, _o in inbound) == Counter(ids)
    assert {status for _i, _m, status, _o in inbound} == {"done"}
    outbound = db.outbound()
    assert Counter(inbound_id for _i, _k, _s, inbound_id in outbound) == Counter(
        i for i, _m, _s, _o in inbound)
    assert {status for _i, _k, status, _n in outbound} == {"sent"}
    keys = [k for (k,) in db.rows("SELECT dedupe_key FROM submissions")]
    assert len(keys) == len(batch) == len(set(keys))
    assert {k.rsplit(":", 1)[0] for k in keys} == {f"email:{m}" for m in ids}

    # The relay: one reply per message, but for at most one in the window, sent twice alike.
    copies: dict[str, list[bytes]] = defaultdict(list)
    for mail in sink.messages:
        copies[read_reply(mail.data).in_reply_to].append(mail.data)
    assert set(copies) == set(ids)
    twice = {original for original, sent in copies.items() if len(sent) > 1}
    assert len(twice) <= 1, f"more than one reply sent twice: {twice}"
    assert twice <= unsent_at_kill, "a reply marked sent was sent again"
    for original in twice:
        first, second = copies[original]
        assert len(copies[original]) == 2 and first == second
    print(f"kill left inbound {dict(inbound_at_kill)}, {replied_at_kill} replies at the relay, "
          f"{answered_in_db} marked sent; {len(twice)} reply sent twice (same Message-ID); "
          f"{len(batch) - len(sender.accepted)} messages sent again by the client")


def _message_id_for(db: BotDb, inbound_id: int | None) -> str:
    found = db.rows("SELECT message_id FROM inbound_queue WHERE id = ?", inbound_id)
    return str(found[0][0]) if found else ""


def test_time_from_end_of_data_to_relay_is_measured_by_the_bench() -> None:
    """bench/mail_latency.py runs; its summary has the median and p95 (a smoke run of 3)."""
    bench = Path(__file__).resolve().parents[1] / "bench" / "mail_latency.py"
    started = time.monotonic()
    result = subprocess.run([sys.executable, str(bench), "-n", "3", "--json"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["n"] == 3
    assert 0 < summary["median_ms"] <= summary["p95_ms"] < (time.monotonic() - started) * 1000
