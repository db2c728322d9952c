"""``marac-bot run``: one asyncio process carrying every configured channel (DESIGN.md).

The SMTP listener and the HTTP endpoint run on the event loop; the IMAP watcher in a thread
of its own; processing the stored inbox and delivering the outbox run in worker threads via
``asyncio.to_thread`` so nothing blocks the loop. SIGTERM or Ctrl-C stops taking new work,
lets the message in hand finish, then closes everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import time
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from bot.channels.registry import Endpoints, endpoints
from bot.channels.web.pages.operator import Component, RunStatus
from bot.delivery import Delivery
from bot.health import Health, report
from bot.housekeeping import expire_and_notify
from bot.settings import ConfigError, Settings
from bot.worker import CLAIM_LEASE, PROCESS, Worker, claim_owner_gone, first_line
from bot.workers.heartbeat import Heartbeat
from bot.workers.pool import WorkerProcesses
from kernel import wording
from store.db import Store
from store.facts import track_start
from store.queue import is_transient_db_error, release_claims
from store.registry import is_demo_registry, load_demo_registry
from validation import reader_process

if TYPE_CHECKING:
    from bot.channels.email.early import EarlySmtp

    # Imported where used: the scheduler (apscheduler, holidays, the reminder handlers) is
    # started after the listeners, so the SMTP port answers before it is loaded (issue 14).
    from bot.scheduler import ReminderScheduler

logger = logging.getLogger(__name__)

# Even with nothing signalled, look at the inbox and the outbox this often (retries fall due,
# a claim goes stale, another process queued something).
POLL_SECONDS = 5.0
HOUSEKEEPING_SECONDS = 3600.0
# After a failed round (the database down, a bug): wait 1 s, doubling to 30 s.
FAILED_ROUND_FIRST = 1.0
FAILED_ROUND_MAX = 30.0


@dataclass
class Signals:
    """Thread-safe wake-ups from producers (listener, watcher, worker) to the loops."""

    loop: asyncio.AbstractEventLoop
    inbox: asyncio.Event = field(default_factory=asyncio.Event)
    outbox: asyncio.Event = field(default_factory=asyncio.Event)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def wake_inbox(self) -> None:
        self.loop.call_soon_threadsafe(self.inbox.set)

    def wake_outbox(self) -> None:
        self.loop.call_soon_threadsafe(self.outbox.set)


def run(settings: Settings) -> int:
    """Run until SIGTERM / Ctrl-C; returns the exit code. (``marac-bot run`` goes through
    bot/startup.py, which starts the SMTP listener before this module is even loaded.)"""
    return asyncio.run(_main(settings))


async def _main(settings: Settings, early_smtp: EarlySmtp | None = None) -> int:
    reader_process.start()  # files are read in children of a small process, not forks of this
    # Open already when the SMTP listener writes into it (PostgreSQL; bot/startup.py).
    store = await asyncio.to_thread(_open_store, settings,
                                    early_smtp.store if early_smtp is not None else None)
    signals = Signals(asyncio.get_running_loop())
    _install_signal_handlers(signals)
    bot = RunningBot(settings, store, signals, early_smtp=early_smtp)
    try:
        await bot.start()
        # What start-up loaded stays for the process's life: kept out of every later
        # collection, which otherwise walks it all (60-80 ms pauses in a question, issue 14).
        gc.freeze()
        print(wording.started_text(bot.describe()), flush=True)
        await signals.stop.wait()
        logger.info("stopping: finishing the message in hand")
    finally:
        await bot.stop()
        store.close()
        reader_process.stop()
    return 0


def _open_store(settings: Settings, store: Store | None = None) -> Store:
    if store is None:
        store = Store.from_settings(settings)
    with store.transaction() as session:
        if load_demo_registry(session):
            logger.warning(wording.DEMO_REGISTRY_LOADED)
        if is_demo_registry(session):
            logger.warning(wording.DEMO_IN_USE)  # on every start until a real import
        begin = track_start(session, track_from=settings.track_from, timezone=settings.timezone)
        log = logger.info if begin.configured else logger.warning
        log(wording.tracking_from(begin.quarter.label, begin.quarter.range_text(),
                                  begin.created_on))
        if store.engine.dialect.name == "sqlite":
            # One bot process per SQLite file: a claim found now is our own, left by a crash.
            release_claims(session)
        else:
            # PostgreSQL may be shared by several processes: release at once only the claims
            # of processes of this host that are gone; others are taken over once stale.
            release_claims(session, owner_gone=claim_owner_gone)
    if not settings.trusted_authserv_id:
        logger.warning(wording.SENDERS_ON_TRUST)
    return store


def _install_signal_handlers(signals: Signals) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signals.loop.add_signal_handler(sig, signals.stop.set)


class RunningBot:
    """The channels and loops of one process, started and stopped together."""

    def __init__(self, settings: Settings, store: Store, signals: Signals, *,
                 early_smtp: EarlySmtp | None = None) -> None:
        self.settings, self.store, self.signals = settings, store, signals
        self.http: web.AppRunner | None = None
        self.http_port: int | None = None
        self.tasks: list[asyncio.Task[None]] = []
        self.scheduler: ReminderScheduler | None = None
        # One worker in this process, and MARAC_WORKERS - 1 worker processes beside it
        # (threads would take turns on one core). Ours answers from the first moment, while
        # the processes load; each handles one message at a time in its own transaction,
        # and claims spread the inbox over all of them (and over other bot processes).
        self.processes = (WorkerProcesses(store, settings.workers - 1,
                                          on_outbox=signals.wake_outbox,
                                          on_finished=self._wake_channels,
                                          on_trouble=self._workers_trouble)
                          if settings.workers > 1 else None)
        self.workers = [Worker(store, settings, name=PROCESS.name, on_outbox=signals.wake_outbox,
                               on_finished=self._wake_channels)]
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="worker")
        # What /healthz reports: channels, the relay and the heartbeat report into it.
        self.health = Health()
        self.heartbeat = Heartbeat(store, PROCESS, on_result=self._heartbeat_result)
        self.delivery = Delivery.from_settings(store, settings, self.health)
        self.channels: list[Endpoints] = endpoints(settings, store, signals.wake_inbox,
                                                   on_outbox=signals.wake_outbox,
                                                   run_status=self._run_status,
                                                   early_smtp=early_smtp)
        for channel in self.channels:  # those with a connection of their own report its state
            report_to = getattr(channel, "report_to", None)
            if report_to is not None:
                report_to(self.health)

    async def start(self) -> None:
        if self.processes is not None:  # first: they load their modules while we start
            await self.processes.start()
        # Registered before anything is claimed; renewed while the process lives.
        await asyncio.to_thread(self.heartbeat.start)
        if self.settings.http_listen is not None:
            await self._start_http()
        for channel in self.channels:
            await channel.start(http_running=self.http is not None)
        from bot.scheduler import start_scheduler

        self.scheduler = start_scheduler(self.settings, self.store,
                                         on_enqueued=self.signals.wake_outbox)
        self.tasks = [
            asyncio.create_task(self._inbox_loop(), name="inbox"),
            asyncio.create_task(self._outbox_loop(), name="outbox"),
            asyncio.create_task(self._housekeeping_loop(), name="housekeeping"),
        ]

    def describe(self) -> list[str]:
        parts = [part for channel in self.channels for part in channel.describe(self.http_port)]
        if self.http_port is not None and self.settings.http_listen is not None:
            parts.append(f"HTTP on {self.settings.http_listen.host}:{self.http_port} (/healthz)")
        if self.scheduler is not None:
            policy = self.scheduler.policy
            parts.append(f"reminders at {policy.send_time:%H:%M} {policy.timezone} "
                         "on working days")
        relay = self.settings.smtp_relay
        parts.append(f"replies via {relay}" if relay else
                     f"replies written to {self.settings.outbox_dir}/")
        return parts

    async def stop(self) -> None:
        self.signals.stop.set()
        self.signals.inbox.set()
        self.signals.outbox.set()
        for channel in self.channels:
            await channel.stop_accepting()
        if self.scheduler is not None:
            from bot.scheduler import stop_scheduler

            await stop_scheduler(self.scheduler)  # lets a reminder run in progress commit
        for task in self.tasks:
            # Again before each: the outbox loop's last round must follow the end of the inbox
            # loop, so that the reply to the message in hand goes out before we exit.
            self.signals.outbox.set()
            try:
                await asyncio.wait_for(task, timeout=60)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
        for channel in self.channels:
            await channel.stop()
        if self.http is not None:
            await self.http.cleanup()
        self.pool.shutdown(wait=True)
        await asyncio.to_thread(self.heartbeat.stop)

    def _run_status(self) -> RunStatus:
        """What the dashboard's operator view shows of this process (issue 15)."""
        from bot.scheduler import REMINDER_JOB_ID

        job = self.scheduler.get_job(REMINDER_JOB_ID) if self.scheduler is not None else None
        components = tuple(Component(name, part.state.value, part.since, part.last_error)
                           for name, part in self.health.snapshot().items())
        return RunStatus(tuple(self.describe()), getattr(job, "next_run_time", None),
                         components)

    def _wake_channels(self) -> None:
        for channel in self.channels:
            channel.wake()

    async def _start_http(self) -> None:
        assert self.settings.http_listen is not None
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        for channel in self.channels:
            channel.mount(app)
        self.http = web.AppRunner(app, access_log=None)
        await self.http.setup()
        site = web.TCPSite(self.http, self.settings.http_listen.host,
                           self.settings.http_listen.port)
        try:
            await site.start()
        except OSError as exc:  # in use, or not an address of this machine
            raise ConfigError(f"MARAC_HTTP_LISTEN: cannot listen on "
                              f"{self.settings.http_listen}: {exc.strerror or exc}") from exc
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        self.http_port = sockets[0].getsockname()[1] if sockets else self.settings.http_listen.port

    async def _healthz(self, request: web.Request) -> web.Response:
        """200 when every configured component works, else 503 naming those that do not."""
        answer = await asyncio.to_thread(report, self.health, self.store, process=PROCESS.name,
                                         channels=self.describe())
        return web.json_response(answer.body, status=200 if answer.ok else 503)

    def _heartbeat_result(self, error: Exception | None) -> None:
        # Down only once beats have failed for a claim lease (when our claims would lapse): a
        # beat that waited out SQLite's lock behind a long transaction is not an outage.
        if error is None:
            self.health.up("database")
        else:
            self.health.down("database", first_line(error), grace=CLAIM_LEASE)

    async def _inbox_loop(self) -> None:
        health = LoopHealth("inbox")
        while not self.signals.stop.is_set():
            self.signals.inbox.clear()
            if await _guarded(health, self._drain_all()):
                await _wait(self.signals.inbox, POLL_SECONDS)
            else:  # not in a tight loop; new mail or a stop cuts the wait short
                await _wait(self.signals.inbox, health.delay)
        if self.processes is not None:  # their messages in hand finish before the last outbox
            await self.processes.stop()

    async def _outbox_loop(self) -> None:
        health = LoopHealth("outbox")
        while True:
            self.signals.outbox.clear()
            # Decided before delivering: once the inbox loop has ended, this round also sends
            # the reply to the message that was in hand at the stop, and it is the last.
            last_round = self.signals.stop.is_set() and self._inbox_finished()
            if not await _guarded(health, asyncio.to_thread(self.delivery.deliver_due)):
                await _wait(self.signals.stop, health.delay)
            if last_round:
                await asyncio.to_thread(self.delivery.close)
                return
            if self.delivery.more_due:  # a full round: the rest now, not at the next poll
                continue
            await _wait(self.signals.outbox, POLL_SECONDS)

    async def _drain_all(self) -> None:
        """Every worker drains the inbox at once; done when all found it empty (or stop).
        Worker processes are woken and drain on their own."""
        if self.processes is not None:
            self.processes.wake()
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(self.pool, worker.drain,
                                                    self.signals.stop.is_set)
                               for worker in self.workers))

    def _workers_trouble(self, error: str | None) -> None:
        if error is None:
            self.health.up("workers")
        else:
            self.health.down("workers", error)

    def _inbox_finished(self) -> bool:
        return all(task.done() for task in self.tasks if task.get_name() == "inbox")

    async def _housekeeping_loop(self) -> None:
        health = LoopHealth("housekeeping")
        while not self.signals.stop.is_set():
            await _guarded(health, asyncio.to_thread(self._expire_held))
            await _wait(self.signals.stop, HOUSEKEEPING_SECONDS)

    def _expire_held(self) -> None:
        if expire_and_notify(self.store, self.settings):
            self.signals.wake_outbox()


@dataclass
class LoopHealth:
    """A loop's current run of failed rounds: how long to wait before the next, and what was
    logged. One line when an outage starts and one when it ends, not a traceback per round."""

    loop: str
    failures: int = 0
    since: float = 0.0
    delay: float = 0.0

    def failed(self, exc: Exception) -> None:
        self.failures += 1
        self.delay = min(self.delay * 2, FAILED_ROUND_MAX) if self.delay else FAILED_ROUND_FIRST
        if self.failures > 1:
            logger.debug("the %s loop failed again (%d): %s", self.loop, self.failures,
                         first_line(exc))
            return
        self.since = time.monotonic()
        if is_transient_db_error(exc):
            logger.error("the %s loop cannot use the database: %s; trying again with back-off "
                         "(up to %.0f s)", self.loop, first_line(exc), FAILED_ROUND_MAX)
        else:
            logger.error("the %s loop failed; it carries on with back-off (up to %.0f s)",
                         self.loop, FAILED_ROUND_MAX, exc_info=exc)

    def succeeded(self) -> None:
        if self.failures:
            logger.warning("the %s loop works again after %d failed rounds in %.0f s",
                           self.loop, self.failures, time.monotonic() - self.since)
        self.failures, self.delay = 0, 0.0


async def _guarded(health: LoopHealth, work: Awaitable[object]) -> bool:
    """One round of a loop; False when it failed. A failure (the database restarting, a bug)
    is logged and the loop goes on: a loop that died would leave a process that answers
    /healthz but never processes or sends again."""
    try:
        await work
    except Exception as exc:
        health.failed(exc)
        return False
    health.succeeded()
    return True


async def _wait(event: asyncio.Event, timeout: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout)
