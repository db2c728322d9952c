"""MARAC_TRACK_FROM and MARAC_REMINDER_TIME: a fresh installation does not chase (or escalate
for) quarters collected before the bot existed, and the daily run moves with the send time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.orm import Session

from bot.scheduler import REMINDER_JOB_ID, start_scheduler, stop_scheduler
from bot.settings import ConfigError, Settings
from handlers.questions import answer_question
from handlers.reminder_policy import ReminderPolicy
from handlers.reminders import ReminderDecision, plan_day, run_reminders
from kernel.quarters import Quarter
from store.db import Store
from tests.reminders_support import LONDON, MAILBOX, load_four_nations, upload

Q2, Q3 = Quarter(2024, 2), Quarter(2024, 3)
TRACK_Q3 = Settings(mailbox_address=MAILBOX, track_from=Q3)
TRACK_ALL = Settings(mailbox_address=MAILBOX)
Q3_OVERDUE = date(2025, 1, 29)  # the first working day after Q3's due date, 28 Jan 2025


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(f"sqlite:///{tmp_path / 'marac.db'}")
    with store.sessions() as session:
        load_four_nations(session)
    yield store
    store.close()


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _q2_season_stages(session: Session, settings: Settings) -> set[tuple[str, str]]:
    """Every (quarter, stage) of reminder or digest planned between Q2's end and Q3's."""
    policy = ReminderPolicy.from_settings(settings)
    return {
        (notice.quarter.label, notice.stage)
        for day in _days(Q2.end, Q3.end)
        for notice in plan_day(session, policy=policy, today=day, mailbox=MAILBOX)
    }


def test_nothing_at_all_for_a_quarter_before_track_from(store: Store) -> None:
    with store.sessions() as session:
        upload(session, "Leeds", Q2.previous(), on=date(2024, 7, 10))  # Leeds: plain overdue
        session.commit()
        tracked_all = _q2_season_stages(session, TRACK_ALL)
        tracked_from_q3 = _q2_season_stages(session, TRACK_Q3)
    # The control: tracking everything, Q2's whole chain and its digests go out.
    assert {stage for _, stage in tracked_all} == {
        "quarter-ended", "due-soon", "overdue", "second-quarter-missing",
        "managers-digest-2w", "managers-digest-1w"}
    assert tracked_from_q3 == set()


def _overdue_day(session: Session, settings: Settings) -> list[ReminderDecision]:
    return run_reminders(session, settings=settings, today=Q3_OVERDUE, dry_run=True)


def test_the_first_tracked_quarter_is_overdue_not_second_missing(store: Store) -> None:
    with store.sessions() as session:
        upload(session, "Leeds", Q2, on=date(2024, 10, 10))  # Leeds sent the untracked Q2
        session.commit()
        tracked_all = _overdue_day(session, TRACK_ALL)
        tracked_from_q3 = _overdue_day(session, TRACK_Q3)
    escalated = {d.marac for d in tracked_all if d.stage == "second-quarter-missing"}
    assert escalated == {"Croydon", "Cardiff", "Glasgow", "Belfast"}  # the control
    assert {(d.quarter, d.stage) for d in tracked_from_q3} == {("Q3 2024/25", "overdue")}
    assert {d.marac for d in tracked_from_q3} == {"Croydon", "Leeds", "Cardiff", "Glasgow",
                                                  "Belfast"}
    assert not [d for d in tracked_from_q3 if d.role == "manager"]  # managers not copied
    assert {d.contact for d in tracked_from_q3 if d.role == "chair"} >= {
        "chris@croydon.example", "lou@leeds.example"}


def test_the_quarter_after_the_first_tracked_one_escalates_again(store: Store) -> None:
    day = date(2025, 4, 29)  # the first working day after Q4 2024/25's due date
    with store.sessions() as session:
        upload(session, "Leeds", Q3, on=date(2025, 1, 10))
        session.commit()
        decisions = run_reminders(session, settings=TRACK_Q3, today=day, dry_run=True)
    stages = {d.marac: d.stage for d in decisions if d.quarter == "Q4 2024/25"}
    assert stages["Leeds"] == "overdue"
    assert stages["Croydon"] == "second-quarter-missing"


def test_the_missing_answer_does_not_claim_two_in_a_row_before_track_from(store: Store) -> None:
    def ask(settings: Settings) -> tuple[dict[str, bool], str]:
        with store.sessions() as session:
            answer = answer_question(session, "who hasn't uploaded Q3 2024/25?", asker=None,
                                     settings=settings, today=date(2025, 2, 10),
                                     is_operator=True)
        assert answer.answered
        details = answer.data["details"]
        return {d["marac"]: d["missed_previous"] for d in details}, answer.text

    everything, text_everything = ask(TRACK_ALL)
    assert set(everything.values()) == {True}  # the control: nothing stored for Q2
    assert "two quarters in a row" in text_everything
    tracked, text_tracked = ask(TRACK_Q3)
    assert tracked.keys() == everything.keys()
    assert set(tracked.values()) == {False}
    assert "two quarters in a row" not in text_tracked and "also missed" not in text_tracked


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Q3 2024/25", Q3), ("q3 24/25", Q3), ("Oct-Dec 2024", Q3),
     ("quarter ended 31 March 2025", Quarter(2024, 4))],
)
def test_track_from_reads_a_label_or_a_dated_phrase(raw: str, expected: Quarter) -> None:
    settings = Settings.from_env({"MARAC_TRACK_FROM": raw})
    assert settings.track_from == expected
    assert ReminderPolicy.from_settings(settings).track_from == expected
    assert Settings.from_env({}).track_from is None


@pytest.mark.parametrize(
    "raw", ["Q3", "last quarter", "Q3 2024", "Q5 2024/25", "Q3 2024/26", "from now on"]
)
def test_a_bad_track_from_names_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match="MARAC_TRACK_FROM"):
        Settings.from_env({"MARAC_TRACK_FROM": raw})


@pytest.mark.parametrize("raw", ["01:00", "01:30", "02:59", "9.30", "0930", "24:00", "09:60",
                                 "17:00", "noon"])
def test_a_bad_reminder_time_names_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match="MARAC_REMINDER_TIME"):
        Settings.from_env({"MARAC_REMINDER_TIME": raw})


def test_the_reminder_time_reaches_the_policy() -> None:
    assert ReminderPolicy.from_settings(Settings.from_env({})).send_time == time(9, 30)
    for raw, expected in (("07:45", time(7, 45)), ("3:00", time(3, 0)), ("16:59", time(16, 59))):
        settings = Settings.from_env({"MARAC_REMINDER_TIME": raw})
        assert ReminderPolicy.from_settings(settings).send_time == expected


def test_the_reminder_time_moves_the_scheduler_trigger(store: Store) -> None:
    settings = Settings.from_env({"MARAC_REMINDER_TIME": "07:45",
                                  "MARAC_MAILBOX_ADDRESS": MAILBOX})

    async def inspect() -> None:
        evening = datetime.combine(date(2025, 1, 2), time(20, 0), tzinfo=LONDON)
        scheduler = start_scheduler(settings, store, on_enqueued=lambda: None,
                                    clock=lambda: evening)
        try:
            job = scheduler.get_job(REMINDER_JOB_ID)
            assert job is not None and isinstance(job.trigger, CronTrigger)
            assert job.trigger.timezone == ZoneInfo("Europe/London")
            fields = {f.name: str(f) for f in job.trigger.fields}
            assert (fields["hour"], fields["minute"]) == ("7", "45")
            assert job.next_run_time.astimezone(LONDON).time() == time(7, 45)
            # A late run is still accepted until 17:00: the grace grows with an earlier start.
            assert job.misfire_grace_time == int(timedelta(hours=9, minutes=15).total_seconds())
        finally:
            await stop_scheduler(scheduler)

    asyncio.run(inspect())
