"""The IMAP watcher: keeps the marac@ mailbox drained into the durable inbox.

A blocking loop for a thread of its own (``asyncio.to_thread(watcher.run)`` or a plain
``threading.Thread``); set ``watcher.stop`` to end it. Each cycle sweeps the folder (store
what is new, file what is finished, see ``imap_sweep``) and then waits in IMAP IDLE until
the server reports a change, ``sweep_interval`` passes (servers drop IDLE silently, so a sweep
runs regardless), or the inbox's worker calls ``wake()`` after committing an outcome.

Waking without busy looping: while in IDLE the thread sleeps in ``poll()`` on the IMAP socket
for at most ``wake_latency`` seconds at a time, then looks at the wake and stop events (see
``imap_idle``). That is one system call per half second and no traffic; a committed outcome
is moved within ``wake_latency`` plus one sweep (milliseconds) of ``wake()``, and ``stop`` is
noticed as quickly.

Several processes may watch one mailbox: a ``MailboxLeader`` (a lease in the database) says
which one sweeps, moves and IDLEs; the others stand by without a session and take over when
the lease lapses. A folder that cannot be created or written never stops the inbox: new mail is
still stored (and so answered), finished mail waits in place, and the problem is logged as an
error at every sweep and reported to ``health`` until it is fixed.
"""

from __future__ import annotations

import imaplib
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from imap_tools import BaseMailBox
from imap_tools.errors import ImapToolsError, UnexpectedCommandStatusError

from bot.channels.email.imap_connect import (
    Authenticator,
    ImapAuthError,
    ImapTransport,
    MsalTokenSource,
    OAuth2Login,
    PasswordLogin,
    close_mailbox,
    refresh_capabilities,
)
from bot.channels.email.imap_idle import idle_until
from bot.channels.email.imap_sweep import (
    Folders,
    MailboxQueue,
    SweepResult,
    SweepState,
    create_missing,
    resolve_folders,
    response_text,
    sweep,
)
from bot.health import Health
from bot.settings import ConfigError, Settings

__all__ = [
    "ImapWatcher", "MailboxQueue", "WatcherTimings", "backoff_delay", "watcher_from_settings",
]

logger = logging.getLogger(__name__)

# What "the server went away" looks like: socket and TLS errors, BYE / EOF (IMAP4.abort),
# unexpected command results, and (msal) an unreachable token endpoint.
SESSION_ERRORS = (OSError, imaplib.IMAP4.error, ImapToolsError, ImapAuthError)
# Retries logged one line each; after that only the recovery is logged.
LOGGED_RETRIES = 3
# Health components this watcher reports.
IMAP, FILING = "imap", "imap-filing"


class MailboxLeader(Protocol):
    """Who may sweep, move and IDLE on the mailbox (one process of several)."""

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def held(self) -> bool:
        """Cheap (asked every ``wake_latency`` while idle): no I/O."""
        ...


class SoleWatcher:
    """The leader when nothing else watches the mailbox (tests, the CLI)."""

    def start(self) -> None:
        """Nothing to take."""

    def stop(self) -> None:
        """Nothing to give up."""

    def held(self) -> bool:
        return True


@dataclass(frozen=True)
class WatcherTimings:
    sweep_interval: float = 60.0
    idle_rearm: float = 25 * 60.0  # RFC 2177: re-issue IDLE at least every 29 minutes
    wake_latency: float = 0.5
    backoff_initial: float = 1.0
    backoff_max: float = 300.0
    standby_poll: float = 2.0  # how often a process standing by looks whether it may lead


class ImapWatcher:
    """Sweeps one IMAP folder into a ``MailboxQueue`` until ``stop`` is set."""

    def __init__(
        self,
        *,
        transport: ImapTransport,
        auth: Authenticator,
        queue: MailboxQueue,
        folder: str = "INBOX",
        processed_folder: str = "Processed",
        rejected_folder: str = "Rejected",
        timings: WatcherTimings | None = None,
        stop: threading.Event | None = None,
        rng: random.Random | None = None,
        health: Health | None = None,
        leader: MailboxLeader | None = None,
    ) -> None:
        self.transport = transport
        self.auth = auth
        self.queue = queue
        self.folder = folder
        self.outcome_folders = (processed_folder, rejected_folder)
        self.timings = timings or WatcherTimings()
        self.stop = stop or threading.Event()
        self.last_result: SweepResult | None = None
        self._wake = threading.Event()
        self._rng = rng or random.Random()
        self._sweep_state = SweepState()
        self._failures = 0
        self._failure_kind = ""
        self._state = "stopped"
        self._state_changed = threading.Condition()
        self.health = health
        self.leader = leader or SoleWatcher()
        self._folders_ready = False
        self._filing_error: str | None = None
        if health is not None:
            health.expect(IMAP)
            health.expect(FILING)

    # -- what other threads call -------------------------------------------------------------

    def wake(self) -> None:
        """Outcomes were committed: sweep (and move) now instead of at the next interval."""
        self._wake.set()

    @property
    def state(self) -> str:
        """``connecting``, ``sweeping``, ``idle``, ``waiting``, ``disconnected``, ``standby``
        (another process has the mailbox) or ``stopped``."""
        return self._state

    @property
    def failures(self) -> int:
        """Consecutive failed connection attempts (0 while connected)."""
        return self._failures

    def wait_for_state(self, state: str, timeout: float) -> bool:
        """Block until the watcher reaches ``state`` (for health checks and tests)."""
        return self.wait_until(lambda watcher: watcher.state == state, timeout)

    def wait_until(self, predicate: Callable[[ImapWatcher], bool], timeout: float) -> bool:
        """Block until ``predicate(self)`` holds; it is re-checked at every state change."""
        with self._state_changed:
            return self._state_changed.wait_for(lambda: predicate(self), timeout)

    # -- the loop ----------------------------------------------------------------------------

    def run(self) -> None:
        """Connect, sweep and wait until ``stop`` is set; reconnect with backoff on failure."""
        logger.info("IMAP watcher started for %s on %s", self.folder, self._where())
        self.leader.start()
        try:
            while not self.stop.is_set():
                if not self.leader.held():
                    self._stand_by()
                    continue
                try:
                    self._session()
                    continue
                except SESSION_ERRORS as exc:
                    self._failed(exc)
                except Exception as exc:  # a bug or the inbox failing: keep watching, loudly
                    self._failed(exc, unexpected=True)
                self._set_state("disconnected")
                self.stop.wait(self._backoff_delay())
        finally:
            self.leader.stop()  # another process takes the mailbox at once, not after a lease
        self._set_state("stopped")
        logger.info("IMAP watcher stopped")

    def _stand_by(self) -> None:
        if self._state != "standby":
            logger.info("IMAP: another process watches %s; standing by", self.folder)
            self._set_state("standby")
            self._report_up(IMAP)
        self.stop.wait(self.timings.standby_poll)

    def sweep_once(self) -> SweepResult:
        """One connect–sweep–logout pass (CLI, tests); not while ``run`` is running."""
        mailbox = self.transport.open()
        try:
            folders, _renew_at = self._start(mailbox)
            result = self._cycle(mailbox, folders)
        except BaseException:
            close_mailbox(mailbox, polite=False)
            raise
        close_mailbox(mailbox, polite=True)
        return result

    def _session(self) -> None:
        self._set_state("connecting")
        mailbox = self.transport.open()
        try:
            folders, renew_at = self._start(mailbox)
            self._connected()
            self._serve(mailbox, folders, renew_at)
        except BaseException:
            close_mailbox(mailbox, polite=False)
            raise
        close_mailbox(mailbox, polite=True)

    def _start(self, mailbox: BaseMailBox) -> tuple[Folders, float | None]:
        """Log in, learn what the server can do, name the outcome folders (each sweep makes
        sure they exist: a folder that cannot be created must not keep mail from being read)."""
        renew_at = self.auth.login(mailbox)
        refresh_capabilities(mailbox)
        processed, rejected = self.outcome_folders
        folders = resolve_folders(
            mailbox, watched=self.folder, processed=processed, rejected=rejected
        )
        self._folders_ready = False
        return folders, renew_at

    def _serve(self, mailbox: BaseMailBox, folders: Folders, renew_at: float | None) -> None:
        while not self.stop.is_set():
            self._wake.clear()  # before the sweep: a wake() during it triggers another one
            self._cycle(mailbox, folders)
            if not self.leader.held():
                logger.info("IMAP: no longer the mailbox's mover; leaving it to the other "
                            "process")
                return
            now = time.monotonic()
            if renew_at is not None and now >= renew_at:
                logger.info("IMAP login token is about to expire; starting a new session")
                return
            deadline = now + self.timings.sweep_interval
            self._wait(mailbox, deadline if renew_at is None else min(deadline, renew_at))

    def _cycle(self, mailbox: BaseMailBox, folders: Folders) -> SweepResult:
        self._set_state("sweeping")
        can_file = self._ensure_folders(mailbox, folders)
        result = sweep(mailbox, self.queue, self._sweep_state, folders, file=can_file)
        if result.filing_error:
            self._folders_ready = False  # deleted meanwhile? try creating it next time
        self._report_filing(self._filing_error if not can_file else result.filing_error)
        self.last_result = result
        if result.enqueued or result.moved:
            logger.info(
                "IMAP sweep: %d stored, %d moved, %d awaiting an outcome",
                result.enqueued, result.moved, result.waiting,
            )
        return result

    def _wait(self, mailbox: BaseMailBox, deadline: float) -> None:
        if "IDLE" not in mailbox.client.capabilities:
            self._set_state("waiting")
            while not self._interrupted() and time.monotonic() < deadline:
                self.stop.wait(min(self.timings.wake_latency, deadline - time.monotonic()))
            return
        self._set_state("idle")
        idle_until(
            mailbox,
            deadline=min(deadline, time.monotonic() + self.timings.idle_rearm),
            check_every=self.timings.wake_latency,
            interrupted=self._interrupted,
        )

    def _interrupted(self) -> bool:
        return self.stop.is_set() or self._wake.is_set() or not self.leader.held()

    # -- filing into Processed / Rejected ----------------------------------------------------

    def _ensure_folders(self, mailbox: BaseMailBox, folders: Folders) -> bool:
        """Create the outcome folders if missing; False (with the reason kept) if the server
        refuses. Asked at every sweep until it works."""
        if self._folders_ready:
            return True
        try:
            create_missing(mailbox, folders)
        except UnexpectedCommandStatusError as exc:
            self._filing_error = (f"cannot create {folders.processed} or {folders.rejected}: "
                                  f"{response_text(exc)}")
            return False
        self._folders_ready = True
        return True

    def _report_filing(self, error: str | None) -> None:
        """An error at every sweep while finished mail cannot be filed; one line when it can
        be again."""
        if error:
            logger.error("IMAP: finished messages cannot be filed (%s); they are answered and "
                         "stay in %s until this is fixed", error, self.folder)
            self._filing_error = error
            if self.health is not None:
                self.health.down(FILING, error)
            return
        if self._filing_error is not None:
            logger.warning("IMAP: filing into the outcome folders works again")
            self._filing_error = None
        self._report_up(FILING)

    def _report_up(self, component: str) -> None:
        if self.health is not None:
            self.health.up(component)

    # -- connection bookkeeping --------------------------------------------------------------

    def _connected(self) -> None:
        if self._failures:
            logger.warning(
                "IMAP connected to %s again after %d failed attempts", self._where(), self._failures
            )
        else:
            logger.info("IMAP connected to %s", self._where())
        self._failures = 0
        self._failure_kind = ""
        self._report_up(IMAP)

    def _failed(self, exc: BaseException, *, unexpected: bool = False) -> None:
        """Log the first few failures and any change in kind; then stay quiet until recovery."""
        self._failures += 1
        kind = type(exc).__name__
        changed = kind != self._failure_kind
        self._failure_kind = kind
        if self.health is not None:
            self.health.down(IMAP, f"{kind}: {exc}")
        if self._failures > LOGGED_RETRIES and not changed:
            if self._failures == LOGGED_RETRIES + 1:
                logger.warning("IMAP still failing; retries are not logged until it recovers")
            return
        if unexpected:
            logger.exception("IMAP watcher error (attempt %d)", self._failures)
        else:
            logger.warning(
                "IMAP session on %s failed (attempt %d): %s: %s",
                self._where(), self._failures, kind, exc,
            )

    def _backoff_delay(self) -> float:
        t = self.timings
        return backoff_delay(
            self._failures, initial=t.backoff_initial, maximum=t.backoff_max, rng=self._rng
        )

    def _set_state(self, state: str) -> None:
        with self._state_changed:
            self._state = state
            self._state_changed.notify_all()

    def _where(self) -> str:
        return f"{self.transport.host}:{self.transport.port}"


def backoff_delay(
    failures: int, *, initial: float, maximum: float, rng: random.Random
) -> float:
    """Exponential backoff with jitter: ``initial`` doubling per failure up to ``maximum``,
    scaled by a random 0.5–1 so that many clients do not retry in step."""
    ceiling = min(maximum, initial * 2 ** min(max(failures - 1, 0), 30))
    return ceiling * rng.uniform(0.5, 1.0)


def watcher_from_settings(settings: Settings, queue: MailboxQueue, *,
                          health: Health | None = None, leader: MailboxLeader | None = None
                          ) -> ImapWatcher:
    """The watcher ``marac-bot run`` starts when ``MARAC_IMAP_HOST`` is set."""
    if not settings.imap_host or not settings.imap_user:
        raise ConfigError("MARAC_IMAP_HOST and MARAC_IMAP_USER must be set for the IMAP watcher")
    if settings.imap_tls != "ssl" and settings.imap_port == 993:
        raise ConfigError(
            f"MARAC_IMAP_PORT is 993 (implicit TLS) but MARAC_IMAP_TLS is {settings.imap_tls}; "
            "set MARAC_IMAP_PORT (usually 143)"
        )
    transport = ImapTransport(settings.imap_host, settings.imap_port, settings.imap_tls)
    return ImapWatcher(
        transport=transport, auth=_auth_from_settings(settings), queue=queue,
        folder=settings.imap_folder, health=health, leader=leader,
    )


def _auth_from_settings(settings: Settings) -> Authenticator:
    assert settings.imap_user is not None
    if settings.imap_oauth_tenant and settings.imap_oauth_client_id:
        tokens = MsalTokenSource(
            tenant=settings.imap_oauth_tenant,
            client_id=settings.imap_oauth_client_id,
            client_secret=settings.imap_oauth_client_secret or "",
        )
        return OAuth2Login(settings.imap_user, tokens)
    if not settings.imap_password:
        raise ConfigError("MARAC_IMAP_PASSWORD (or the MARAC_IMAP_OAUTH_* variables) must be set")
    return PasswordLogin(settings.imap_user, settings.imap_password)
