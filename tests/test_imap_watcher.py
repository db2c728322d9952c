"""The IMAP watcher against a real Dovecot (one per session) and a real SQLite inbox table.

Each test gets a mailbox user of its own, so tests share the server but not the mail.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid
from pathlib import Path

import pytest

from bot.channels.email.imap_connect import (
    Authenticator,
    ImapAuthError,
    ImapTransport,
    MsalTokenSource,
    OAuth2Login,
    PasswordLogin,
    xoauth2_string,
)
from bot.channels.email.imap_sweep import parse_namespace, server_folder_name
from bot.channels.email.imap_watcher import (
    LOGGED_RETRIES,
    ImapWatcher,
    WatcherTimings,
    backoff_delay,
    watcher_from_settings,
)
from bot.settings import ConfigError, Settings
from tests.dovecot_support import (
    DOVECOT,
    DovecotAccount,
    DovecotServer,
    free_port,
    make_self_signed_cert,
)
from tests.entra_fake_support import FakeEntra

# Fast enough for tests; the periodic sweep is far off so that only IDLE or wake() can explain
# a prompt pickup or move.
FAST = WatcherTimings(
    sweep_interval=300, idle_rearm=300, wake_latency=0.1, backoff_initial=0.05, backoff_max=0.4
)
WAIT = 10.0  # upper bound for anything that should happen "promptly"


# -- the inbox: MailboxQueue over a real SQLite table --------------------------------------------


@dataclass(frozen=True)
class Row:
    source_key: str
    raw: bytes
    outcome: str | None
    moved: bool


class SqliteQueue:
    """Durable, idempotent on source_key, and observable by the test thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.enqueue_calls: list[str] = []
        self.changed = threading.Condition()
        with self._db() as db:
            db.execute(
                "CREATE TABLE inbox (source_key TEXT PRIMARY KEY, raw BLOB NOT NULL, "
                "outcome TEXT, moved INTEGER NOT NULL DEFAULT 0)"
            )

    def enqueue(self, raw: bytes, *, source_key: str) -> None:
        with self._db() as db:
            db.execute(
                "INSERT INTO inbox (source_key, raw) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (source_key, raw),
            )
        self._notify(lambda: self.enqueue_calls.append(source_key))

    def finished(self, source_keys: Sequence[str]) -> dict[str, str]:
        marks = ",".join("?" * len(source_keys))
        with self._db() as db:
            found = db.execute(
                f"SELECT source_key, outcome FROM inbox WHERE outcome IS NOT NULL "
                f"AND source_key IN ({marks})",
                list(source_keys),
            ).fetchall()
        return dict(found)

    def mark_moved(self, source_key: str) -> None:
        with self._db() as db:
            db.execute("UPDATE inbox SET moved = 1 WHERE source_key = ?", (source_key,))
        self._notify(lambda: None)

    # what the test (playing the worker) does
    def finish(self, source_key: str, outcome: str) -> None:
        with self._db() as db:
            db.execute("UPDATE inbox SET outcome = ? WHERE source_key = ?", (outcome, source_key))

    def rows(self) -> list[Row]:
        with self._db() as db:
            found = db.execute(
                "SELECT source_key, raw, outcome, moved FROM inbox ORDER BY rowid"
            ).fetchall()
        return [Row(key, raw, outcome, bool(moved)) for key, raw, outcome, moved in found]

    def wait_until(self, predicate: Callable[[list[Row]], bool], timeout: float = WAIT) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: predicate(self.rows()), timeout)

    def _notify(self, action: Callable[[], None]) -> None:
        with self.changed:
            action()
            self.changed.notify_all()

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path)) as db, db:
            yield db


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def entra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeEntra]:
    cert, key = make_self_signed_cert(tmp_path_factory.mktemp("entra"))
    fake = FakeEntra(cert, key).start()
    yield fake
    fake.close()


@pytest.fixture(scope="session")
def dovecot(entra: FakeEntra) -> Iterator[DovecotServer]:
    """One Dovecot for the session; it also accepts XOAUTH2 tokens from the fake Entra."""
    if not Path(DOVECOT).exists():
        pytest.skip("dovecot is not installed (Debian package dovecot-imapd)")
    # Not pytest's tmp_path: its parents are 0700 and Dovecot's mail user must get through.
    with tempfile.TemporaryDirectory(prefix="marac-dovecot-") as root:
        server = DovecotServer(Path(root), oauth_introspection_url=entra.introspection_url)
        with server:
            yield server


@pytest.fixture
def account(dovecot: DovecotServer) -> DovecotAccount:
    return dovecot.new_account()


@pytest.fixture
def queue(tmp_path: Path) -> SqliteQueue:
    return SqliteQueue(tmp_path / "inbox.db")


def make_watcher(
    account: DovecotAccount, queue: SqliteQueue, *, tls: str = "none",
    auth: Authenticator | None = None,
) -> ImapWatcher:
    server = account.server
    context = ssl.create_default_context(cafile=str(server.cert))
    port = server.tls_port if tls == "ssl" else server.port
    return ImapWatcher(
        transport=ImapTransport(server.host, port, tls, timeout=10, ssl_context=context),
        auth=auth or PasswordLogin(account.user, account.password),
        queue=queue, timings=FAST, rng=random.Random(7),
    )


@contextmanager
def running(watcher: ImapWatcher) -> Iterator[ImapWatcher]:
    thread = threading.Thread(target=watcher.run, name="imap-watcher", daemon=True)
    thread.start()
    try:
        yield watcher
    finally:
        watcher.stop.set()
        thread.join(WAIT)
        assert not thread.is_alive(), "the watcher did not stop"
    assert watcher.state == "stopped"


def message(subject: str = "Q3 2024/25 return") -> bytes:
    """A real-looking submission: text plus a spreadsheet attachment, CRLF line ends."""
    msg = EmailMessage()
    msg["From"] = "Coordinator <coordinator@croydon.example>"
    msg["To"] = "marac@example.org"
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="croydon.example")
    msg.set_content("Please find our return attached.\n")
    msg.add_attachment(
        b"PK\x03\x04" + uuid.uuid4().bytes * 50, maintype="application",
        subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename="croydon-q3.xlsx",
    )
    return msg.as_bytes(policy=SMTP)


# -- sweeping and moving --------------------------------------------------------------------------


def test_new_mail_is_enqueued_byte_for_byte_and_stays_unread_in_place(
    account: DovecotAccount, queue: SqliteQueue
) -> None:
    raw = message()
    uid = account.append(raw)

    result = make_watcher(account, queue).sweep_once()

    uidvalidity = account.uidvalidity()
    assert (result.enqueued, result.moved, result.waiting) == (1, 0, 1)
    assert queue.rows() == [Row(f"imap:{uidvalidity}:{uid}", raw, None, False)]
    assert account.messages() == [raw]
    assert b"\\Seen" not in account.flags()[0]
    assert {"Processed", "Rejected"} <= set(account.folders())


def test_messages_move_only_once_their_outcome_is_committed(
    account: DovecotAccount, queue: SqliteQueue
) -> None:
    accepted, refused, pending = message("accepted"), message("refused"), message("pending")
    for raw in (accepted, refused, pending):
        account.append(raw)
    watcher = make_watcher(account, queue)
    watcher.sweep_once()
    keys = {row.raw: row.source_key for row in queue.rows()}

    queue.finish(keys[accepted], "processed")
    queue.finish(keys[refused], "rejected")
    result = watcher.sweep_once()

    assert (result.enqueued, result.moved, result.waiting) == (0, 2, 1)
    assert account.messages("Processed") == [accepted]
    assert account.messages("Rejected") == [refused]
    assert account.messages() == [pending]
    assert {row.source_key: row.moved for row in queue.rows()} == {
        keys[accepted]: True, keys[refused]: True, keys[pending]: False,
    }


def test_a_second_sweep_enqueues_nothing_and_a_restart_only_repeats_the_same_key(
    account: DovecotAccount, queue: SqliteQueue
) -> None:
    account.append(message())
    watcher = make_watcher(account, queue)
    assert watcher.sweep_once().enqueued == 1
    assert watcher.sweep_once().enqueued == 0
    assert len(queue.enqueue_calls) == 1

    # A new process remembers nothing: it hands the message over again under the same key,
    # which the inbox ignores.
    make_watcher(account, queue).sweep_once()
    assert queue.enqueue_calls == [queue.enqueue_calls[0]] * 2
    assert len(queue.rows()) == 1


def test_uidvalidity_change_does_not_enqueue_a_message_twice(
    account: DovecotAccount, queue: SqliteQueue
) -> None:
    raw = message()
    uid = account.append(raw)
    watcher = make_watcher(account, queue)
    watcher.sweep_once()
    old = account.uidvalidity()

    account.set_uidvalidity(old + 1000)
    later = message("sent after the index was rebuilt")
    later_uid = account.append(later)
    result = watcher.sweep_once()

    assert result.enqueued == 1
    assert [row.source_key for row in queue.rows()] == [
        f"imap:{old}:{uid}", f"imap:{old + 1000}:{later_uid}",
    ]
    # The outcome recorded under the old key still moves the message.
    queue.finish(f"imap:{old}:{uid}", "processed")
    assert watcher.sweep_once().moved == 1
    assert account.messages("Processed") == [raw]
    assert account.messages() == [later]


@pytest.mark.parametrize("tls", ["ssl", "starttls"])
def test_tls_transports(account: DovecotAccount, queue: SqliteQueue, tls: str) -> None:
    raw = message()
    account.append(raw)
    assert make_watcher(account, queue, tls=tls).sweep_once().enqueued == 1
    assert [row.raw for row in queue.rows()] == [raw]


def test_a_wrong_password_is_an_auth_error(account: DovecotAccount, queue: SqliteQueue) -> None:
    watcher = make_watcher(account, queue, auth=PasswordLogin(account.user, "not-it"))
    with pytest.raises(ImapAuthError, match=account.user):
        watcher.sweep_once()


# -- the loop: IDLE, wake-up, reconnecting --------------------------------------------------------


def test_mail_arriving_during_idle_is_picked_up_and_moved_promptly_after_wake(
    account: DovecotAccount, queue: SqliteQueue
) -> None:
    with running(make_watcher(account, queue)) as watcher:
        assert watcher.wait_for_state("idle", WAIT)
        raw = message()
        account.append(raw)
        assert queue.wait_until(lambda rows: len(rows) == 1)
        key = queue.rows()[0].source_key
        assert account.messages() == [raw]  # stored, not yet finished: stays put

        queue.finish(key, "processed")
        watcher.wake()
        assert queue.wait_until(lambda rows: rows[0].moved)
        assert account.messages("Processed") == [raw]
        assert account.messages() == []


def test_a_server_without_idle_move_or_namespace_is_polled_and_copies(
    dovecot: DovecotServer, queue: SqliteQueue
) -> None:
    account = dovecot.new_minimal_account()
    with running(make_watcher(account, queue)) as watcher:
        assert watcher.wait_for_state("waiting", WAIT)  # no IDLE: waits on its events only
        raw = message()
        account.append(raw)
        watcher.wake()
        assert queue.wait_until(lambda rows: len(rows) == 1)

        queue.finish(queue.rows()[0].source_key, "rejected")
        watcher.wake()
        assert queue.wait_until(lambda rows: rows[0].moved)
    assert account.messages("Rejected") == [raw]  # COPY, then STORE \Deleted and EXPUNGE
    assert account.messages() == []


def test_watcher_reconnects_after_dovecot_restarts(
    dovecot: DovecotServer, account: DovecotAccount, queue: SqliteQueue,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.channels.email.imap_watcher")
    with running(make_watcher(account, queue)) as watcher:
        assert watcher.wait_for_state("idle", WAIT)
        dovecot.stop()
        assert watcher.wait_until(lambda w: w.failures >= 2, WAIT)
        dovecot.start()
        assert watcher.wait_until(lambda w: w.failures == 0 and w.state == "idle", WAIT)

        raw = message()
        account.append(raw)
        assert queue.wait_until(lambda rows: [row.raw for row in rows] == [raw])
    assert any("again after" in record.getMessage() for record in caplog.records)


def test_failures_are_logged_a_few_times_then_quietly_retried(
    queue: SqliteQueue, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.channels.email.imap_watcher")
    nobody_listens = ImapTransport("127.0.0.1", free_port(), "none", timeout=2)
    timings = WatcherTimings(backoff_initial=0.001, backoff_max=0.002)
    watcher = ImapWatcher(
        transport=nobody_listens, auth=PasswordLogin("x", "y"), queue=queue, timings=timings
    )
    with running(watcher):
        assert watcher.wait_until(lambda w: w.failures >= LOGGED_RETRIES + 5, WAIT)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == LOGGED_RETRIES + 1
    assert all("ConnectionRefusedError" in line for line in warnings[:LOGGED_RETRIES])
    assert "not logged until it recovers" in warnings[-1]


def test_backoff_doubles_from_one_second_to_five_minutes_with_jitter() -> None:
    rng = random.Random(1)
    ceilings = [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    for failures, ceiling in enumerate(ceilings, start=1):
        delay = backoff_delay(failures, initial=1.0, maximum=300.0, rng=rng)
        assert ceiling / 2 <= delay <= ceiling


# -- Microsoft 365 XOAUTH2, against the fake Entra and Dovecot's oauth2 passdb ---------------------


def token_source(entra: FakeEntra) -> MsalTokenSource:
    return MsalTokenSource(
        tenant=entra.tenant, client_id=entra.client_id, client_secret=entra.client_secret,
        authority_host=entra.authority_host, verify=str(entra.cert),
    )


@pytest.fixture
def oauth_account(
    account: DovecotAccount, entra: FakeEntra, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DovecotAccount]:
    # requests lets these variables override the CA file msal is given (requests issue 3829);
    # real Entra has a public certificate, the fake one only ours.
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    entra.username, entra.expires_in, entra.active = account.user, 3600, True
    start = len(entra.token_requests)
    yield account
    del entra.token_requests[start:]  # keep token numbering meaningful per test
    entra.active = True


def test_msal_token_source_uses_the_client_credentials_grant_and_caches(
    oauth_account: DovecotAccount, entra: FakeEntra
) -> None:
    tokens = token_source(entra)
    first, again = tokens.token(), tokens.token()
    assert first.value == again.value
    assert len(entra.token_requests) == 1
    request = entra.token_requests[-1]
    assert request["grant_type"] == "client_credentials"
    assert request["scope"] == "https://outlook.office365.com/.default"
    assert request["client_id"] == entra.client_id
    assert 3500 < first.expires_at - time.monotonic() <= 3600

    fresh = tokens.token(fresh=True)
    assert fresh.value != first.value
    assert len(entra.token_requests) == 2


def test_xoauth2_login_sweeps_like_a_password_login(
    oauth_account: DovecotAccount, entra: FakeEntra, queue: SqliteQueue
) -> None:
    raw = message()
    oauth_account.append(raw)
    auth = OAuth2Login(oauth_account.user, token_source(entra))
    assert make_watcher(oauth_account, queue, auth=auth).sweep_once().enqueued == 1
    assert [row.raw for row in queue.rows()] == [raw]
    assert entra.introspected[-1] == entra.issued()[-1]


def test_a_refused_token_is_replaced_exactly_once(
    oauth_account: DovecotAccount, entra: FakeEntra, queue: SqliteQueue
) -> None:
    tokens = token_source(entra)
    stale = tokens.token().value
    entra.revoke(stale)  # msal still holds it in its cache; the IMAP server now refuses it
    watcher = make_watcher(oauth_account, queue, auth=OAuth2Login(oauth_account.user, tokens))

    watcher.sweep_once()
    assert entra.introspected[-2:] == [stale, entra.issued()[-1]]
    assert len(entra.token_requests) == 2

    entra.active = False  # now every token is refused: one retry, then an error
    with pytest.raises(ImapAuthError):
        watcher.sweep_once()
    assert len(entra.token_requests) == 3


def test_session_is_renewed_with_a_new_token_before_the_old_one_expires(
    oauth_account: DovecotAccount, entra: FakeEntra, queue: SqliteQueue
) -> None:
    entra.expires_in = 2  # renewed half-way through: after about a second
    watcher = make_watcher(
        oauth_account, queue, auth=OAuth2Login(oauth_account.user, token_source(entra))
    )
    with running(watcher):
        assert watcher.wait_until(
            lambda w: len(entra.token_requests) >= 3 and w.state == "idle", WAIT
        )
        raw = message()
        oauth_account.append(raw)
        assert queue.wait_until(lambda rows: [row.raw for row in rows] == [raw])
    assert watcher.failures == 0
    assert set(entra.issued()[:3]) <= set(entra.introspected)


def test_xoauth2_initial_response_format() -> None:
    assert xoauth2_string("marac@example.org", "abc") == (
        b"user=marac@example.org\x01auth=Bearer abc\x01\x01"
    )


# -- configuration and folder names ---------------------------------------------------------------


def test_watcher_from_settings_logs_in_with_the_password(
    account: DovecotAccount, queue: SqliteQueue
) -> None:
    settings = Settings(
        imap_host=account.server.host, imap_port=account.server.port, imap_tls="none",
        imap_user=account.user, imap_password=account.password,
    )
    account.append(message())
    assert watcher_from_settings(settings, queue).sweep_once().enqueued == 1


def test_watcher_from_settings_chooses_xoauth2_when_oauth_is_configured(
    queue: SqliteQueue,
) -> None:
    settings = Settings(
        imap_host="outlook.office365.com", imap_user="marac@example.org",
        imap_oauth_tenant="t", imap_oauth_client_id="c", imap_oauth_client_secret="s",
    )
    watcher = watcher_from_settings(settings, queue)
    assert isinstance(watcher.auth, OAuth2Login)
    assert (watcher.transport.port, watcher.transport.tls) == (993, "ssl")


def test_watcher_from_settings_rejects_starttls_on_the_implicit_tls_port(
    queue: SqliteQueue,
) -> None:
    settings = Settings(
        imap_host="mail.example.org", imap_user="u", imap_password="p", imap_tls="starttls"
    )
    with pytest.raises(ConfigError, match="MARAC_IMAP_PORT"):
        watcher_from_settings(settings, queue)


@pytest.mark.parametrize(
    ("response", "name", "expected"),
    [
        (b'(("" ".")) NIL NIL', "Processed", "Processed"),
        (b'(("INBOX." ".")) NIL NIL', "Marac/Processed", "INBOX.Marac.Processed"),
        (b'(("" "/")) NIL (("" "/"))', "Marac/Rejected", "Marac/Rejected"),
    ],
)
def test_outcome_folder_names_follow_the_servers_namespace(
    response: bytes, name: str, expected: str
) -> None:
    parsed = parse_namespace(response)
    assert parsed is not None
    prefix, delimiter = parsed
    assert server_folder_name(name, prefix=prefix, delimiter=delimiter) == expected
