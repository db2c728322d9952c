"""The reminder scheduler inside ``marac-bot run`` (APScheduler 3.x on the bot's event loop).

One job, every day at the policy's send time (09:30 Europe/London by default, never 01:00–03:00
when clocks change), runs the reminders for that day in a thread with its own session; whether a
day is a working day is the policy's business, per Marac nation. Missed runs (the machine slept,
the loop was busy) are coalesced into one, within a grace period that ends at the last send time
of the day; a bot started between the send time and the last send time runs once at start, so a
restart in the morning does not skip a day. Exactly once is the reminder log's unique key; on
PostgreSQL an advisory lock for the tick also spares a second process the work.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.util import undefined
from sqlalchemy import text
from sqlalchemy.orm import Session

from bot.channels.email.outbound import email_renderer
from bot.settings import Settings
from handlers.reminder_policy import ReminderPolicy
from handlers.reminders import ReminderDecision, run_reminders
from store.db import Store

logger = logging.getLogger(__name__)

REMINDER_JOB_ID = "marac-reminders"
# pg_try_advisory_xact_lock key of the daily tick ("MARC"); store.db's upgrade lock is "MARA".
TICK_LOCK_KEY = 0x4D415243

Clock = Callable[[], datetime]


class ReminderScheduler(AsyncIOScheduler):
    """An AsyncIOScheduler whose daily job runs the reminders, and that stops cleanly."""

    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        policy: ReminderPolicy,
        on_enqueued: Callable[[], None],
        clock: Clock | None = None,
    ) -> None:
        zone = ZoneInfo(policy.timezone)
        super().__init__(timezone=zone, job_defaults=job_defaults(policy))
        self.settings = settings
        self.store = store
        self.policy = policy
        self.on_enqueued = on_enqueued
        self.clock: Clock = clock or (lambda: datetime.now(zone))
        self._in_flight: set[asyncio.Future[list[ReminderDecision]]] = set()

    def add_reminder_job(self) -> None:
        """The daily job; due at once when started within today's sending hours."""
        self.add_job(
            self.tick,
            daily_trigger(self.policy),
            id=REMINDER_JOB_ID,
            name="quarterly reminders and managers' digest",
            replace_existing=True,
            next_run_time=datetime.now(self.timezone) if self._in_sending_hours() else undefined,
        )

    def _in_sending_hours(self) -> bool:
        now = self.clock().astimezone(self.timezone).time()
        return self.policy.send_time <= now < self.policy.last_send_time

    async def tick(self) -> list[ReminderDecision]:
        """Run today's reminders in a thread; tell the sender loop if anything was queued."""
        if not self._in_sending_hours():
            # A coalesced run that would land outside office hours waits for tomorrow.
            logger.warning("reminder run skipped: outside the sending hours %s–%s",
                           f"{self.policy.send_time:%H:%M}", f"{self.policy.last_send_time:%H:%M}")
            return []
        today = self.clock().astimezone(self.timezone).date()
        work = asyncio.ensure_future(
            asyncio.to_thread(run_tick, self.store, self.settings, self.policy, today=today)
        )
        self._in_flight.add(work)
        work.add_done_callback(self._in_flight.discard)
        # Shielded: stopping the scheduler cancels this coroutine, never the transaction.
        decisions = await asyncio.shield(work)
        if any(d.sent for d in decisions):
            self.on_enqueued()
        return decisions

    async def stop(self) -> None:
        """Stop scheduling, then let a run in hand finish its transaction."""
        if self.running:
            self.shutdown(wait=False)
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)
        await asyncio.sleep(0)  # APScheduler finishes shutting down on the loop's next turn


def job_defaults(policy: ReminderPolicy) -> dict[str, Any]:
    """Coalesce missed runs into one; accept a late run until the last send time of the day."""
    start = datetime.combine(date.min, policy.send_time)
    grace = datetime.combine(date.min, policy.last_send_time) - start
    return {"coalesce": True, "misfire_grace_time": int(grace / timedelta(seconds=1)),
            "max_instances": 1}


def daily_trigger(policy: ReminderPolicy) -> CronTrigger:
    """Every day at the send time, in the policy's (the settings') time zone."""
    return CronTrigger(hour=policy.send_time.hour, minute=policy.send_time.minute,
                       second=policy.send_time.second, timezone=ZoneInfo(policy.timezone))


def run_tick(
    store: Store, settings: Settings, policy: ReminderPolicy, *, today: date
) -> list[ReminderDecision]:
    """One day's reminders in one transaction (blocking: run it in a thread)."""
    with store.transaction() as session:
        if not _take_tick_lock(session):
            logger.info("another process is running today's reminders: leaving it to that one")
            return []
        return run_reminders(session, settings=settings, today=today, dry_run=False,
                             policy=policy, render_email=email_renderer(settings.mailbox_address))


def _take_tick_lock(session: Session) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True  # SQLite: one writer at a time already (BEGIN IMMEDIATE)
    query = text("SELECT pg_try_advisory_xact_lock(:key)")
    return bool(session.execute(query, {"key": TICK_LOCK_KEY}).scalar())


def build_scheduler(
    settings: Settings,
    store: Store,
    *,
    on_enqueued: Callable[[], None],
    policy: ReminderPolicy | None = None,
    clock: Clock | None = None,
) -> ReminderScheduler:
    """The scheduler with its job, not started (``start_scheduler`` starts it)."""
    scheduler = ReminderScheduler(
        settings=settings,
        store=store,
        policy=policy or ReminderPolicy.from_settings(settings),
        on_enqueued=on_enqueued,
        clock=clock,
    )
    scheduler.add_reminder_job()
    return scheduler


def start_scheduler(
    settings: Settings,
    store: Store,
    *,
    on_enqueued: Callable[[], None],
    policy: ReminderPolicy | None = None,
    clock: Clock | None = None,
) -> ReminderScheduler:
    """Build and start the scheduler on the running event loop (call it from a coroutine).

    ``on_enqueued`` is called on the loop after a run queued anything, to wake the sender.
    Stop it with ``await stop_scheduler(scheduler)``.
    """
    scheduler = build_scheduler(settings, store, on_enqueued=on_enqueued, policy=policy,
                                clock=clock)
    scheduler.start()
    job = scheduler.get_job(REMINDER_JOB_ID)
    logger.info("reminders scheduled daily at %s %s; next run %s",
                f"{scheduler.policy.send_time:%H:%M}", scheduler.policy.timezone,
                job.next_run_time if job else None)
    return scheduler


async def stop_scheduler(scheduler: AsyncIOScheduler) -> None:
    """Stop cleanly: no new runs, and a run in hand finishes (its transaction commits)."""
    if isinstance(scheduler, ReminderScheduler):
        await scheduler.stop()
    elif scheduler.running:
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)
