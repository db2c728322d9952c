"""The worker under faults (issue 10), on real SQLite and PostgreSQL databases.

- A database error in the middle of a message is waited out and the message answered once,
  never failed: caused for real (SQLite: another connection holds the write lock; PostgreSQL:
  the worker's backend is terminated from another connection in the middle of its transaction).
- An error that keeps coming while the database answers is the message's own: an incident.
- The apology path records "failed" first; an apology that cannot be queued leaves it failed.
- A message in hand when the process died twice is quarantined: answered once with an apology,
  never handled again. The deaths are the queue state a killed process leaves (status
  processing, ``attempts`` N), found at start as ``marac-bot run`` finds it (SQLite:
  ``release_claims``; PostgreSQL: a stale claim, or one whose process is gone).
"""

from __future__ import annotations

import logging
import re
import subprocess
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot.app import FAILED_ROUND_FIRST, FAILED_ROUND_MAX, LoopHealth
from bot.settings import Settings
from bot.worker import PERSISTENT_AFTER, PROCESS_NAME, Worker, claim_owner_gone
from kernel import wording
from store.db import Store
from store.models import MeetingVersion, Submission
from store.queue import (
    InboundItem,
    OutboundItem,
    claim_inbound,
    enqueue_inbound,
    is_transient_db_error,
    release_claims,
)
from store.types import utcnow
from tests.dispatch_support import (
    COORDINATOR,
    MAILBOX,
    body_of,
    compose,
    fixture,
    load_registry,
    parse,
)

CLEAN = "clean_libreoffice.xlsx"  # six Croydon meetings, no issue


@pytest.fixture
def store(db_store: Store) -> Store:
    with db_store.transaction() as session:
        load_registry(session)
    return db_store


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", mailbox_address=MAILBOX, smtp_listen=None,
                    http_listen=None)


def fast_worker(store: Store, settings: Settings, *, name: str = "worker") -> Worker:
    """A worker whose waits between retries are short: back-off in milliseconds, not seconds."""
    return Worker(store, settings, name=name, retry_first=0.01, retry_max=0.05)


def deliver(store: Store, raw: bytes, *, channel: str = "email") -> int:
    with store.transaction() as session:
        return enqueue_inbound(session, channel=channel, raw=raw, source_key=f"k:{hash(raw)}",
                               recipients=[MAILBOX], received_at=utcnow())


def item_state(store: Store, item_id: int) -> tuple[str, str | None, int]:
    with store.transaction() as session:
        item = session.get_one(InboundItem, item_id)
        return item.status, item.last_error, item.attempts


def replies_to(store: Store, item_id: int) -> list[str]:
    """The text of every reply queued for the item."""
    with store.transaction() as session:
        payloads = session.scalars(select(OutboundItem.payload)
                                   .where(OutboundItem.inbound_id == item_id)).all()
    return [body_of(parse(p)).strip() for p in payloads]


def count(store: Store, model: type) -> int:
    with store.transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def backend(store: Store) -> str:
    return store.engine.dialect.name


# -- causing database faults for real ------------------------------------------------------------


class OnLog(logging.Handler):
    """Calls ``action`` once, when the worker logs a line containing ``needle``: lets a test
    end a fault exactly when the worker has met it, with no timing involved."""

    def __init__(self, needle: str, action: Callable[[], None]) -> None:
        super().__init__(logging.DEBUG)
        self.needle, self.action, self.fired = needle, action, False

    def emit(self, record: logging.LogRecord) -> None:
        if not self.fired and self.needle in record.getMessage():
            self.fired = True
            self.action()


@contextmanager
def on_worker_log(needle: str, action: Callable[[], None]) -> Iterator[OnLog]:
    handler = OnLog(needle, action)
    worker_log = logging.getLogger("bot.worker")
    worker_log.addHandler(handler)
    level = worker_log.level
    worker_log.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        worker_log.removeHandler(handler)
        worker_log.setLevel(level)


class Fault:
    """One real database failure in the worker's transaction, after its claim committed.

    SQLite: right after the claim commits, another connection takes the write lock
    (BEGIN EXCLUSIVE) and the worker's connections wait only 200 ms for it, so the handling
    transaction's BEGIN IMMEDIATE fails with "database is locked".
    PostgreSQL: when the handler first inserts into ``submissions`` (mid-transaction: the claim
    renewed, the registry read), another connection terminates the worker's backend and waits
    until it is gone; the INSERT then fails on the dead connection.
    ``end()`` releases the lock (SQLite; nothing to end on PostgreSQL: the next connection works).
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.happened = False
        self._lock: Any = None
        self._admin: Engine | None = None

    def arm(self) -> None:
        if backend(self.store) == "sqlite":
            self._arm_sqlite()
        else:
            self._arm_postgres()

    def _arm_sqlite(self) -> None:
        import sqlite3

        engine = self.store.engine
        event.listen(engine, "connect", _short_busy_timeout)
        engine.dispose()  # pooled connections were made before: make new ones, 200 ms
        path = make_url(str(engine.url)).database
        assert path
        self._lock = sqlite3.connect(path, timeout=0, isolation_level=None,
                                     check_same_thread=False)

        def lock_after_claim(_session: Any) -> None:
            if not self.happened:
                self.happened = True
                self._lock.execute("BEGIN EXCLUSIVE")

        event.listen(self.store.sessions, "after_commit", lock_after_claim)

    def _arm_postgres(self) -> None:
        self._admin = create_engine(self.store.engine.url, isolation_level="AUTOCOMMIT")

        def terminate(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
            if self.happened or not statement.lstrip().upper().startswith(
                    "INSERT INTO SUBMISSIONS"):
                return
            self.happened = True
            pid = cursor.connection.info.backend_pid
            assert self._admin is not None
            with self._admin.connect() as admin:
                gone = admin.execute(text("SELECT pg_terminate_backend(:pid, 10000)"),
                                     {"pid": pid}).scalar()
            assert gone, "the worker's backend did not end"

        event.listen(self.store.engine, "before_cursor_execute", terminate)

    def end(self) -> None:
        if self._lock is not None and self._lock.in_transaction:
            self._lock.execute("ROLLBACK")

    def close(self) -> None:
        self.end()
        if self._lock is not None:
            self._lock.close()
        if self._admin is not None:
            self._admin.dispose()


def _short_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
    with closing(dbapi_connection.cursor()) as cursor:
        cursor.execute("PRAGMA busy_timeout=200")


@pytest.fixture
def fault(store: Store) -> Iterator[Fault]:
    made = Fault(store)
    yield made
    made.close()


# -- B: database errors are retried, never apologised for ----------------------------------------


def test_a_database_error_mid_message_is_retried_and_the_message_answered_once(
    store: Store, settings: Settings, fault: Fault, caplog: pytest.LogCaptureFixture
) -> None:
    item_id = deliver(store, compose(files=[fixture(CLEAN)]))
    fault.arm()
    with caplog.at_level(logging.INFO, logger="bot.worker"), \
            on_worker_log("database error", fault.end):
        assert fast_worker(store, settings).process_one()

    assert fault.happened, "the fault was not caused: the test proves nothing"
    expected = ("database is locked" if backend(store) == "sqlite"
                else "terminating connection due to administrator command")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING
                and "database error" in r.getMessage()]
    assert len(warnings) == 1 and expected in warnings[0], warnings
    assert f"message {item_id}: database error" in warnings[0]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    status, error, attempts = item_state(store, item_id)
    assert (status, error, attempts) == ("done", None, 1)
    (reply,) = replies_to(store, item_id)
    assert "6 of 6 rows accepted for Croydon" in reply
    assert count(store, Submission) == 1
    assert count(store, MeetingVersion) == 6


def test_stopping_during_a_database_outage_gives_the_message_back_uncounted(
    store: Store, settings: Settings, fault: Fault
) -> None:
    """SIGTERM while the message waits out an outage: it goes back to the queue with its
    attempt not counted (it did not kill anyone), and the next start answers it once."""
    stopping: list[bool] = []
    item_id = deliver(store, compose(files=[fixture(CLEAN)]))
    fault.arm()
    worker = Worker(store, settings, retry_first=30.0, should_stop=lambda: bool(stopping))

    def sigterm_now() -> None:  # the stop arrives while the worker waits; the fault ends too
        fault.end()
        stopping.append(True)

    with on_worker_log("database error", sigterm_now):
        assert worker.process_one()
    assert fault.happened
    assert item_state(store, item_id) == ("queued", None, 0)
    assert replies_to(store, item_id) == []

    assert Worker(store, settings).process_one()
    assert item_state(store, item_id)[:2] == ("done", None)
    assert len(replies_to(store, item_id)) == 1


@contextmanager
def persistent_fault(store: Store) -> Iterator[str]:
    """Every INSERT into ``submissions`` fails with an operational error while the database
    answers everything else; yields the error text the worker will log."""
    with store.transaction() as session:
        if backend(store) == "sqlite":
            # A table gone from under a query: OperationalError "no such table".
            session.execute(text('ALTER TABLE submissions RENAME TO submissions_away'))
            expected = "no such table: submissions"
        else:
            session.execute(text(
                "CREATE FUNCTION conflict() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "RAISE EXCEPTION 'could not serialize access' USING ERRCODE = "
                "'serialization_failure'; END $$"))
            session.execute(text(
                "CREATE TRIGGER conflict BEFORE INSERT ON submissions "
                "FOR EACH ROW EXECUTE FUNCTION conflict()"))
            expected = "could not serialize access"
    yield expected


def test_an_operational_error_that_persists_while_the_database_answers_is_an_incident(
    store: Store, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A database error that only this message meets (the database answers a plain query
    between tries) is bounded: after PERSISTENT_AFTER such tries and a last one, it is an
    incident, not a message blocking the inbox for ever."""
    item_id = deliver(store, compose(files=[fixture(CLEAN)]))
    later = deliver(store, compose(subject="Hello", body="Hello.\n"))
    failures: list[str] = []  # one database error per try, counted where the driver raised it
    event.listen(store.engine, "handle_error",
                 lambda context: failures.append(str(context.original_exception)))
    with persistent_fault(store) as expected, caplog.at_level(logging.INFO, logger="bot.worker"):
        worker = fast_worker(store, settings)
        assert worker.process_one()
        tries = [f for f in failures if expected in f]
        assert worker.process_one()  # the next message is not held up

    assert len(tries) == PERSISTENT_AFTER + 1
    status, error, _attempts = item_state(store, item_id)
    assert status == "failed" and error is not None
    ref = error.removeprefix("incident ")
    assert re.fullmatch(r"[0-9A-F]{6}", ref), error
    assert replies_to(store, item_id) == [wording.incident_text(ref)]
    incident = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(incident) == 1 and ref in incident[0].getMessage()
    assert expected in caplog.text
    assert item_state(store, later)[0] == "done"


# -- the apology path records "failed" first -----------------------------------------------------


def refuse_inserts(store: Store, table: str) -> None:
    """Make the database refuse every row into ``table`` (not an operational error: a bug or a
    constraint, as a full disk would look to the handler after the fact)."""
    with store.transaction() as session:
        if backend(store) == "sqlite":
            session.execute(text(
                f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"))
            return
        session.execute(text(
            f"CREATE FUNCTION refuse_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'refused by the test'; END $$"))
        session.execute(text(
            f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION refuse_{table}()"))


def test_an_apology_that_cannot_be_queued_leaves_the_message_failed_and_logged(
    store: Store, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    item_id = deliver(store, compose(files=[fixture(CLEAN)]))
    refuse_inserts(store, "submissions")  # the handler fails: an incident
    refuse_inserts(store, "outbound_queue")  # and so does queueing the apology
    with caplog.at_level(logging.ERROR, logger="bot.worker"):
        assert fast_worker(store, settings).process_one()

    status, error, _attempts = item_state(store, item_id)
    assert status == "failed" and error is not None and error.startswith("incident ")
    assert replies_to(store, item_id) == []
    told = [r.getMessage() for r in caplog.records
            if "apology could not be queued" in r.getMessage()]
    assert told == [f"message {item_id}: failed, and the apology could not be queued; "
                    "the operator must answer it"]


# -- A: quarantine after two deaths ---------------------------------------------------------------


def die_with_it(store: Store, item_id: int, deaths: int) -> None:
    """The queue state ``deaths`` killed processes leave: claimed, ``attempts`` = deaths, by
    a process of this host that no longer runs, claimed long enough ago to be stale."""
    with store.transaction() as session:
        session.execute(update(InboundItem).where(InboundItem.id == item_id).values(
            status="processing", attempts=deaths, claimed_by=gone_process(),
            claimed_at=utcnow() - timedelta(minutes=11)))


def gone_process() -> str:
    """A claimant name of this host whose process has exited."""
    child = subprocess.Popen(["true"])
    child.wait()
    host = PROCESS_NAME.rsplit(":", 2)[0]
    return f"{host}:{child.pid}:deadbeef"


def restart(store: Store, settings: Settings) -> Worker:
    """What ``marac-bot run`` does at start (bot/app.py ``_open_store``), then its worker."""
    with store.transaction() as session:
        if backend(store) == "sqlite":
            release_claims(session)
    return fast_worker(store, settings, name=PROCESS_NAME)


def test_a_message_in_hand_at_two_deaths_is_answered_once_with_an_apology(
    store: Store, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    raw = compose(files=[fixture(CLEAN)])
    item_id = deliver(store, raw)
    die_with_it(store, item_id, deaths=2)
    with caplog.at_level(logging.INFO, logger="bot.worker"):
        worker = restart(store, settings)
        assert worker.process_one()
        assert not worker.process_one(), "nothing else to do"

    status, error, _attempts = item_state(store, item_id)
    assert status == "failed" and error is not None
    found = re.fullmatch(r"quarantined after 2 deaths \(incident ([0-9A-F]{6})\)", error)
    assert found, error
    ref = found.group(1)
    assert replies_to(store, item_id) == [wording.quarantined_text(ref)]
    with store.transaction() as session:
        reply = parse(session.scalars(select(OutboundItem.payload)).one())
    assert str(reply["To"]) == COORDINATOR
    assert str(reply["In-Reply-To"]) == str(parse(raw)["Message-ID"])
    assert count(store, Submission) == 0, "the message was handled again"
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert f"message {item_id} was in hand 2 times when the bot died" in errors[0]
    assert ref in errors[0]

    # Another start finds nothing to do: answered once, and for good.
    again = restart(store, settings)
    assert not again.process_one()
    assert len(replies_to(store, item_id)) == 1


def test_a_message_in_hand_at_one_death_gets_one_more_try(
    store: Store, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    item_id = deliver(store, compose(files=[fixture(CLEAN)]))
    die_with_it(store, item_id, deaths=1)
    with caplog.at_level(logging.WARNING, logger="bot.worker"):
        assert restart(store, settings).process_one()
    assert item_state(store, item_id) == ("done", None, 2)
    (reply,) = replies_to(store, item_id)
    assert "6 of 6 rows accepted for Croydon" in reply
    assert f"message {item_id} was in hand when the bot died; one more try" in caplog.text


def test_a_quarantined_automatic_mail_is_failed_without_a_reply(
    store: Store, settings: Settings
) -> None:
    item_id = deliver(store, compose(files=[fixture(CLEAN)],
                                     headers={"Auto-Submitted": "auto-replied"}))
    die_with_it(store, item_id, deaths=2)
    assert restart(store, settings).process_one()
    status, error, _attempts = item_state(store, item_id)
    assert status == "failed" and error is not None and error.startswith("quarantined after 2")
    assert replies_to(store, item_id) == []


def test_a_quarantined_message_that_cannot_be_read_is_failed_without_a_reply(
    store: Store, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A Slack item with Slack no longer configured: not even whom to answer is known."""
    item_id = deliver(store, b'{"event": {}}', channel="slack")
    die_with_it(store, item_id, deaths=2)
    with caplog.at_level(logging.ERROR, logger="bot.worker"):
        assert restart(store, settings).process_one()
    status, error, _attempts = item_state(store, item_id)
    assert status == "failed" and error is not None and error.startswith("quarantined after 2")
    assert replies_to(store, item_id) == []
    assert f"message {item_id}: could not be read either" in caplog.text


def test_a_claim_whose_process_is_alive_or_elsewhere_is_left_until_stale(
    store: Store,
) -> None:
    """On a shared PostgreSQL a start releases only claims of its host's dead processes."""
    ids = [deliver(store, compose(subject=f"m{n}", body="Hello.\n")) for n in range(3)]
    owners = [gone_process(), f"{PROCESS_NAME.rsplit(':', 2)[0]}:1:aaaa",  # pid 1 lives
              "another-host:4242:bbbb"]
    with store.transaction() as session:
        for item_id, owner in zip(ids, owners, strict=True):
            session.execute(update(InboundItem).where(InboundItem.id == item_id).values(
                status="processing", attempts=1, claimed_by=owner, claimed_at=utcnow()))
    with store.transaction() as session:
        assert release_claims(session, owner_gone=claim_owner_gone) == [ids[0]]
    assert [item_state(store, i)[0] for i in ids] == ["queued", "processing", "processing"]
    with store.transaction() as session:  # not stale yet: not taken
        first = claim_inbound(session, worker="w", stale_after=timedelta(minutes=10))
        assert first is not None and first.id == ids[0]
        assert claim_inbound(session, worker="w", stale_after=timedelta(minutes=10)) is None


def test_claim_owner_gone_is_true_only_for_a_dead_process_of_this_host() -> None:
    host, pid, _token = PROCESS_NAME.rsplit(":", 2)
    assert claim_owner_gone(gone_process())
    assert claim_owner_gone(f"{host}:{pid}:0ther")  # an earlier life with our pid
    assert not claim_owner_gone(PROCESS_NAME)
    assert not claim_owner_gone(f"{host}:1:aaaa")
    assert not claim_owner_gone("elsewhere:99999999:aaaa")
    assert not claim_owner_gone("worker")
    assert not claim_owner_gone(None)


# -- what counts as transient, and the run loops' back-off --------------------------------------


def test_operational_errors_are_transient_and_others_are_not(store: Store) -> None:
    """Real errors of each backend: an operational one (SQLite: a table missing; PostgreSQL: a
    serialization failure) is transient, also when wrapped; a constraint violation is not."""
    operational = ("SELECT * FROM no_such_table" if backend(store) == "sqlite" else
                   "DO $$ BEGIN RAISE EXCEPTION 'conflict' "
                   "USING ERRCODE = 'serialization_failure'; END $$")
    errors = []
    for statement in (operational, "INSERT INTO inbound_queue (channel) VALUES (NULL)"):
        with pytest.raises(Exception) as raised, store.transaction() as session:
            session.execute(text(statement))
        errors.append(raised.value)
    transient, permanent = errors
    assert isinstance(transient, OperationalError)
    assert is_transient_db_error(transient)
    assert not is_transient_db_error(permanent)
    try:
        raise RuntimeError("the handler's own wrapper") from transient
    except RuntimeError as wrapped:
        assert is_transient_db_error(wrapped)
    try:
        try:
            raise transient
        except OperationalError:
            raise RuntimeError("unrelated, raised from None") from None
    except RuntimeError as unrelated:
        assert not is_transient_db_error(unrelated)


def test_a_failing_loop_backs_off_to_30_s_and_logs_one_line_per_outage(
    caplog: pytest.LogCaptureFixture,
) -> None:
    health = LoopHealth("inbox")
    down = OperationalError("SELECT 1", {}, Exception("connection refused\nDETAIL: more"))
    with caplog.at_level(logging.DEBUG, logger="bot.app"):
        delays = []
        for _ in range(8):
            health.failed(down)
            delays.append(health.delay)
        health.succeeded()
    assert delays == [FAILED_ROUND_FIRST * 2 ** n for n in range(5)] + [FAILED_ROUND_MAX] * 3
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.levelno for r in loud] == [logging.ERROR, logging.WARNING]
    assert "connection refused" in loud[0].getMessage() and loud[0].exc_info is None
    assert "DETAIL" not in loud[0].getMessage()
    assert "after 8 failed rounds" in loud[1].getMessage()
    health.failed(down)
    assert health.delay == FAILED_ROUND_FIRST, "a new outage starts from 1 s again"
