"""Exactly once: a second run the same day, a restart, a catch-up after downtime, a lost race
at the savepoint, and several processes against one PostgreSQL at the same moment."""

from __future__ import annotations

import multiprocessing
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.channels.email.outbound import email_renderer
from handlers.reminders import run_reminders
from kernel.quarters import Quarter
from store.db import Store, open_engine, session_factory, upgrade
from store.models import ReminderLog
from store.queue import enqueue_outbound
from store.reminders import log_reminder
from store.types import utcnow
from tests.reminders_race_support import DecisionRow, remind_in_process
from tests.reminders_support import (
    SETTINGS,
    count,
    load_four_nations,
    log_count,
    outbox,
    upload,
)

SPAWN = multiprocessing.get_context("spawn")
Q2, Q3 = Quarter(2024, 2), Quarter(2024, 3)
JAN2 = date(2025, 1, 2)


def _remind(session: Session, day: date, *, dry_run: bool = False) -> list[Any]:
    decisions = run_reminders(session, settings=SETTINGS, today=day, dry_run=dry_run,
                              render_email=email_renderer(SETTINGS.mailbox_address))
    session.commit()
    return decisions


def test_a_second_run_the_same_day_and_a_restart_send_nothing(db_url: str) -> None:
    first = Store.open(db_url)
    with first.sessions() as session:
        load_four_nations(session)
        sent = _remind(session, JAN2)
        queued = len(outbox(session))
        assert sent and all(d.sent for d in sent) and queued == len(sent)
        assert _remind(session, JAN2) == []
    first.close()

    restarted = Store.open(db_url)  # a new process: nothing in memory survives
    with restarted.sessions() as session:
        assert _remind(session, JAN2, dry_run=True) == []
        assert _remind(session, JAN2) == []
        # The next day only Scotland (2 January was its holiday) is due its reminder.
        next_day = _remind(session, date(2025, 1, 3))
        assert {d.marac for d in next_day} == {"Glasgow"}
        assert len(outbox(session)) == queued + len(next_day)
    restarted.close()


def test_a_dry_run_writes_nothing(db_session: Session) -> None:
    load_four_nations(db_session)
    planned = _remind(db_session, JAN2, dry_run=True)
    assert planned and not any(d.sent for d in planned)
    assert {d.marac for d in planned} == {"Croydon", "Leeds", "Cardiff", "Belfast"}
    assert (len(outbox(db_session)), log_count(db_session)) == (0, 0)
    sent = _remind(db_session, JAN2)
    assert [(d.marac, d.contact, d.channel) for d in sent] == [
        (d.marac, d.contact, d.channel) for d in planned]


def test_downtime_is_caught_up_once_and_a_closed_stage_is_not_sent_late(
    db_session: Session,
) -> None:
    load_four_nations(db_session)
    for marac in ("Croydon", "Cardiff", "Glasgow", "Belfast", "Leeds"):
        upload(db_session, marac, Q2, on=date(2024, 10, 1))
    db_session.commit()
    # Down from 1 to 9 January: the quarter-ended reminders go on the 10th, once.
    caught_up = _remind(db_session, date(2025, 1, 10))
    assert {(d.marac, d.stage) for d in caught_up} == {
        (m, "quarter-ended") for m in ("Croydon", "Leeds", "Cardiff", "Glasgow", "Belfast")}
    assert _remind(db_session, date(2025, 1, 13)) == []
    # Down over the whole overdue week (29 Jan – 4 Feb): on 5 Feb it is too late to send.
    upload(db_session, "Croydon", Q3, on=date(2025, 1, 20))
    db_session.commit()
    assert {d.stage for d in _remind(db_session, date(2025, 1, 21))} == {
        "due-soon", "managers-digest-1w"}
    assert _remind(db_session, date(2025, 2, 5)) == []


def test_losing_the_race_at_the_savepoint_keeps_the_transaction(db_engine: Engine) -> None:
    sessions = session_factory(db_engine)
    load = sessions()
    load_four_nations(load)
    load.close()
    key = (None, Q3.label, "managers-digest-2w", 1)
    with sessions.begin() as winner:
        assert log_reminder(winner, key, channels=["email"], now=utcnow())

    def queue(session: Session, name: str) -> None:
        enqueue_outbound(session, key=name, channel="email", recipient="a@x.example",
                         payload=b"x")

    with sessions.begin() as loser:
        lost = log_reminder(loser, key, channels=["email"], now=utcnow(),
                            also=lambda: queue(loser, "lost"))
        assert lost is False
        # The transaction goes on (on PostgreSQL it would be aborted without the savepoint).
        other = (None, Q3.label, "managers-digest-1w", 1)
        assert log_reminder(loser, other, channels=["email"], now=utcnow(),
                            also=lambda: queue(loser, "won"))
    with sessions() as check:
        assert [i.key for i in outbox(check)] == ["won"]
        assert count(check, ReminderLog) == 2


def _race(url: str, days: list[date], *, processes: int, use_tick: bool
          ) -> dict[date, list[DecisionRow]]:
    """``processes`` processes run each day's reminders together, day after day."""
    start, results = SPAWN.Barrier(processes), SPAWN.Queue()
    names = [d.isoformat() for d in days]
    workers = [
        SPAWN.Process(target=remind_in_process, args=(url, names, use_tick, start, results))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    rows: dict[date, list[DecisionRow]] = {d: [] for d in days}
    for _ in range(processes * len(days)):
        day, found, error = results.get(timeout=120)
        assert error is None, error
        rows[date.fromisoformat(day)] += found
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    return rows


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.parametrize("use_tick", [False, True], ids=["unique-key", "advisory-lock"])
def test_racing_processes_on_postgresql_never_send_twice(
    pg_schema_url: str, use_tick: bool
) -> None:
    engine = open_engine(pg_schema_url)
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions() as session:
        load_four_nations(session)
        upload(session, "Croydon", Q2, on=date(2024, 10, 2))
        session.commit()
    # The first days of quarter-ended, due-soon (with a digest) and the escalation: each
    # closes the stage before, so each day's plan can be taken before the race.
    days = [JAN2, date(2025, 1, 21), date(2025, 1, 29)]
    with sessions() as session:
        planned = {day: run_reminders(session, settings=SETTINGS, today=day, dry_run=True)
                   for day in days}
    assert all(planned.values())

    raced = _race(pg_schema_url, days, processes=3, use_tick=use_tick)

    for day, rows in raced.items():
        sent = [row[:5] for row in rows if row[5]]
        assert len(sent) == len(set(sent)), f"{day}: a reminder was sent twice"
        assert set(sent) == {(d.marac, d.quarter, d.stage, d.contact, d.channel)
                             for d in planned[day]}
    with sessions() as session:
        assert len(outbox(session)) == sum(len(p) for p in planned.values())
        assert log_count(session) == len({(d.marac, d.quarter, d.stage, d.contact)
                                          for p in planned.values() for d in p})
    engine.dispose()
