"""The reminder scheduler, checked on the real AsyncIOScheduler: time zone, coalescing, misfire
grace, the send time across the clock changes, catch-up at start, a real run, a clean stop."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from bot.scheduler import (
    REMINDER_JOB_ID,
    ReminderScheduler,
    build_scheduler,
    daily_trigger,
    start_scheduler,
    stop_scheduler,
)
from bot.settings import ConfigError, Settings
from handlers.reminder_policy import ReminderPolicy
from store.db import Store
from tests.reminders_support import LONDON, SETTINGS, load_four_nations, outbox

UTC = ZoneInfo("UTC")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store.open(f"sqlite:///{tmp_path / 'marac.db'}")
    with store.sessions() as session:
        load_four_nations(session)
    return store


def _clock(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=LONDON)


def _nothing() -> None:
    return None


def test_the_job_is_configured_on_the_real_scheduler(store: Store) -> None:
    async def inspect() -> None:
        scheduler = start_scheduler(SETTINGS, store, on_enqueued=_nothing,
                                    clock=lambda: _clock(date(2025, 1, 2), time(20, 0)))
        try:
            assert scheduler.running
            assert scheduler.timezone == ZoneInfo("Europe/London")
            job = scheduler.get_job(REMINDER_JOB_ID)
            assert job is not None
            assert job.coalesce is True
            assert job.max_instances == 1
            # Generous: a run delayed by the machine sleeping still goes that working day.
            assert job.misfire_grace_time == int(timedelta(hours=7, minutes=30).total_seconds())
            assert isinstance(job.trigger, CronTrigger)
            assert job.trigger.timezone == ZoneInfo("Europe/London")
            fields = {f.name: str(f) for f in job.trigger.fields}
            assert (fields["hour"], fields["minute"]) == ("9", "30")
            assert job.next_run_time.astimezone(LONDON).time() == time(9, 30)
        finally:
            await stop_scheduler(scheduler)
        assert not scheduler.running

    asyncio.run(inspect())


def test_the_timezone_comes_from_the_settings(store: Store) -> None:
    scheduler = build_scheduler(Settings(timezone="Europe/Belfast"), store,
                                on_enqueued=_nothing)
    assert scheduler.timezone == ZoneInfo("Europe/Belfast")


def test_runs_are_daily_at_half_past_nine_local_across_the_clock_changes() -> None:
    trigger = daily_trigger(ReminderPolicy.from_settings(SETTINGS))
    now = datetime(2024, 3, 1, tzinfo=LONDON)
    fires = []
    while now < datetime(2025, 5, 1, tzinfo=LONDON):
        fire = trigger.get_next_fire_time(None, now)
        assert fire is not None
        fires.append(fire)
        now = fire + timedelta(seconds=1)
    local = [f.astimezone(LONDON) for f in fires]
    assert all(f.time() == time(9, 30) for f in local)
    assert not [f for f in local if time(1, 0) <= f.time() < time(3, 0)]
    days = [f.date() for f in local]
    assert days == [days[0] + timedelta(days=i) for i in range(len(days))]  # one a day
    by_day = dict(zip(days, fires, strict=True))
    # The clock-change Sundays and the days either side: 09:30 BST is 08:30 UTC.
    assert by_day[date(2024, 3, 30)].astimezone(UTC).hour == 9
    assert by_day[date(2024, 3, 31)].astimezone(UTC).hour == 8
    assert by_day[date(2024, 10, 26)].astimezone(UTC).hour == 8
    assert by_day[date(2024, 10, 27)].astimezone(UTC).hour == 9
    assert by_day[date(2025, 3, 30)].astimezone(UTC).hour == 8


def test_a_send_time_when_clocks_change_is_refused(store: Store) -> None:
    with pytest.raises(ConfigError):
        build_scheduler(SETTINGS, store, on_enqueued=_nothing,
                        policy=ReminderPolicy(send_time=time(1, 30)))


@pytest.mark.parametrize(("at", "at_once"), [(time(8, 0), False), (time(11, 0), True),
                                             (time(18, 0), False)])
def test_a_start_within_sending_hours_runs_once_at_start(
    store: Store, at: time, at_once: bool
) -> None:
    async def first_run() -> datetime:
        scheduler = start_scheduler(SETTINGS, store, on_enqueued=_nothing,
                                    clock=lambda: _clock(date(2025, 1, 2), at))
        scheduler.pause()  # inspect the plan only
        try:
            job = scheduler.get_job(REMINDER_JOB_ID)
            assert job is not None
            return job.next_run_time
        finally:
            await stop_scheduler(scheduler)

    before = datetime.now(LONDON)
    first = asyncio.run(first_run())
    if at_once:
        assert first - before < timedelta(minutes=1)
    else:
        assert first.astimezone(LONDON).time() == time(9, 30) and first > before


def test_a_run_at_start_queues_the_reminders_and_wakes_the_sender(store: Store) -> None:
    async def run() -> None:
        woken = asyncio.Event()
        scheduler = start_scheduler(SETTINGS, store, on_enqueued=woken.set,
                                    clock=lambda: _clock(date(2025, 1, 2), time(10, 0)))
        try:
            await asyncio.wait_for(woken.wait(), timeout=60)
        finally:
            await stop_scheduler(scheduler)

    asyncio.run(run())
    with store.sessions() as session:
        reminded = {i.recipient for i in outbox(session)}
    assert {"cara@croydon.example", "U0CARA", "lee@leeds.example", "cai@cardiff.example",
            "bea@belfast.example"} == reminded


def test_a_late_run_waits_for_tomorrow_and_stop_finishes_a_run_in_hand(store: Store) -> None:
    async def run() -> tuple[int, set[str]]:
        late = ReminderScheduler(settings=SETTINGS, store=store,
                                 policy=ReminderPolicy.from_settings(SETTINGS),
                                 on_enqueued=_nothing,
                                 clock=lambda: _clock(date(2025, 1, 2), time(21, 0)))
        skipped = len(await late.tick())
        scheduler = build_scheduler(SETTINGS, store, on_enqueued=_nothing,
                                    clock=lambda: _clock(date(2025, 1, 2), time(9, 45)))
        scheduler.start(paused=True)
        tick = asyncio.ensure_future(scheduler.tick())
        await asyncio.sleep(0)  # one turn of the loop: the tick hands its work to a thread
        await scheduler.stop()  # ... and stopping waits for that work to commit
        with store.sessions() as session:
            queued = {i.recipient for i in outbox(session)}
        await tick
        return skipped, queued

    skipped, queued = asyncio.run(run())
    assert skipped == 0
    assert queued == {"cara@croydon.example", "U0CARA", "lee@leeds.example",
                      "cai@cardiff.example", "bea@belfast.example"}
