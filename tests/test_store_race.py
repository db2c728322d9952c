"""Two real processes recording overlapping files at the same moment: never a duplicate
meeting, never two current versions, never an exception."""

from __future__ import annotations

import multiprocessing
import threading
import time
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from store.db import open_engine, session_factory, upgrade
from store.models import HeldChange, Meeting, MeetingVersion, Submission
from tests.store_race_support import RowSpec, record_in_process
from tests.store_support import load_registry, record, report, row

SPAWN = multiprocessing.get_context("spawn")
MEETINGS = [date(2024, 10, 1) + timedelta(days=7 * i) for i in range(6)]


def _specs(*, different: set[int], reverse: bool) -> list[RowSpec]:
    """Croydon and Leeds meetings; those at ``different`` indexes get other figures."""
    specs: list[RowSpec] = []
    for i, day in enumerate(MEETINGS):
        over: dict[str, int | None] = {"cases": 40 + i} if i in different else {}
        specs.append((2 + 2 * i, "Croydon", day.isoformat(), over))
        specs.append((3 + 2 * i, "Leeds", day.isoformat(), {}))
    return specs[::-1] if reverse else specs


def _results(results: Any, n: int) -> dict[str, list[tuple[int, str]]]:
    found: dict[str, list[tuple[int, str]]] = {}
    for _ in range(n):
        sender, outcomes, error = results.get(timeout=120)
        assert error is None, f"{sender}: {error}"
        found[sender] = outcomes
    return found


def _assert_one_current_each(session: Session) -> None:
    meetings = session.scalar(select(func.count()).select_from(Meeting))
    current = session.scalar(
        select(func.count()).select_from(MeetingVersion).where(MeetingVersion.is_current.is_(True))
    )
    assert meetings == current == 2 * len(MEETINGS)
    per_meeting = session.execute(
        select(MeetingVersion.meeting_id, func.count())
        .where(MeetingVersion.is_current.is_(True))
        .group_by(MeetingVersion.meeting_id)
    ).all()
    assert {n for _, n in per_meeting} == {1}


def test_racing_processes_create_each_meeting_once(
    db_engine: Engine, db_url: str, db_session: Session
) -> None:
    load_registry(db_session)
    different = {1, 4}
    files = {
        "cara@example.org": _specs(different=set(), reverse=False),
        "ada@example.org": _specs(different=different, reverse=True),
    }
    start, results = SPAWN.Barrier(len(files)), SPAWN.Queue()
    workers = [
        SPAWN.Process(
            target=record_in_process, args=(db_url, specs, sender, results), kwargs={"start": start}
        )
        for sender, specs in files.items()
    ]
    for w in workers:
        w.start()
    outcomes = _results(results, len(workers))
    for w in workers:
        w.join(timeout=60)
        assert w.exitcode == 0
    by_row = {
        sheet_row: {
            outcomes[s][i][1]
            for s in files
            for i in range(len(outcomes[s]))
            if outcomes[s][i][0] == sheet_row
        }
        for sheet_row in range(2, 2 + 2 * len(MEETINGS))
    }
    changed_rows = {2 + 2 * i for i in different}
    for sheet_row, seen in by_row.items():
        loser = "held" if sheet_row in changed_rows else "unchanged"
        assert seen == {"accepted", loser}, sheet_row
    db_session.expire_all()
    _assert_one_current_each(db_session)
    held = db_session.scalar(select(func.count()).select_from(HeldChange))
    assert held == len(different)


def _wait_for_lock_waiter(engine: Engine, deadline_s: float = 60.0, *,
                          table: str = "meetings") -> None:
    """Until a backend of this database waits on a lock: the second insert is blocked."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        f"AND wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO {table}%'"
    )
    end = time.monotonic() + deadline_s
    with engine.connect() as conn:
        while conn.execute(query).scalar() == 0:
            conn.rollback()
            if time.monotonic() > end:
                raise AssertionError("the second process never waited on the meeting insert")
            time.sleep(0.02)  # polling an observable condition, not waiting for luck


@pytest.mark.postgres
def test_the_loser_of_an_insert_race_sees_the_winners_meeting(pg_schema_url: str) -> None:
    """Deterministic: A inserts and keeps its transaction open until B is seen blocked on the
    same meeting's unique key; then A commits, and B's insert skips that meeting (ON
    CONFLICT) and records its row on the per-row path, in the same transaction."""
    engine = open_engine(pg_schema_url)
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions() as session:
        load_registry(session)
    same: list[RowSpec] = [(2, "Croydon", "2024-10-03", {})]
    changed: list[RowSpec] = [(2, "Croydon", "2024-10-03", {"cases": 99})]
    try:
        for b_specs, loser in ((same, "unchanged"), (changed, "held")):
            _clear_meetings(engine)
            outcomes = _ordered_race(pg_schema_url, engine, same, b_specs)
            assert outcomes == {
                "cara@example.org": [(2, "accepted")],
                "ada@example.org": [(2, loser)],
            }
            with sessions() as session:
                assert session.scalar(select(func.count()).select_from(Meeting)) == 1
                versions = session.scalars(select(MeetingVersion)).all()
                assert [(v.version, v.is_current, v.cases) for v in versions] == [(1, True, 12)]
        # B's file also has a meeting nobody else made: its insert creates that one and
        # skips only the other.
        _clear_meetings(engine)
        more: list[RowSpec] = [*same, (3, "Croydon", "2024-10-10", {"cases": 5})]
        outcomes = _ordered_race(pg_schema_url, engine, same, more)
        assert sorted(outcomes["ada@example.org"]) == [(2, "unchanged"), (3, "accepted")]
        with sessions() as session:
            stored = session.execute(
                select(Meeting.meeting_date, MeetingVersion.version, MeetingVersion.cases)
                .join(MeetingVersion, MeetingVersion.meeting_id == Meeting.id)
                .order_by(Meeting.meeting_date)).all()
            assert [tuple(r) for r in stored] == [(date(2024, 10, 3), 1, 12),
                                                  (date(2024, 10, 10), 1, 5)]
    finally:
        engine.dispose()


def _clear_meetings(engine: Engine) -> None:
    tables = ("held_changes", "meeting_versions", "meetings", "submission_issues", "submissions")
    with engine.begin() as conn:
        for table in tables:
            conn.execute(text(f"DELETE FROM {table}"))


def _ordered_race(
    url: str, engine: Engine, a_specs: list[RowSpec], b_specs: list[RowSpec]
) -> dict[str, list[tuple[int, str]]]:
    results, recorded, commit = SPAWN.Queue(), SPAWN.Event(), SPAWN.Event()
    a = SPAWN.Process(
        target=record_in_process,
        args=(url, a_specs, "cara@example.org", results),
        kwargs={"recorded": recorded, "commit": commit},
    )
    a.start()
    try:
        assert recorded.wait(timeout=60), "the first process never recorded its row"
        b = SPAWN.Process(target=record_in_process, args=(url, b_specs, "ada@example.org", results))
        b.start()
        _wait_for_lock_waiter(engine)
    finally:
        commit.set()
    outcomes = _results(results, 2)
    for process in (a, b):
        process.join(timeout=60)
        assert process.exitcode == 0
    return outcomes


@pytest.mark.postgres
def test_the_same_message_recorded_at_the_same_moment_is_one_submission(
    pg_schema_url: str,
) -> None:
    """Deterministic: A records a file under a dedupe key and keeps its transaction open until
    B, recording the same key, is seen waiting on it; A commits, and B gets A's submission
    back, writes nothing, and its transaction goes on (no error, no savepoint)."""
    engine = open_engine(pg_schema_url)
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions() as session:
        load_registry(session)
    key = "<same@example.org>:abc"
    file = [row(2, "Croydon", date(2024, 10, 3))]
    found: list[Any] = []
    try:
        with sessions() as a:
            first = record(a, report(*file), dedupe_key=key)
            b_thread = threading.Thread(target=_record_again, args=(sessions, file, key, found))
            b_thread.start()
            _wait_for_lock_waiter(engine, table="submissions")
            a.commit()
        b_thread.join(timeout=60)
        assert found == [(first.id, 1)]
        with sessions() as session:
            assert session.scalar(select(func.count()).select_from(Submission)) == 1
            assert session.scalar(select(func.count()).select_from(MeetingVersion)) == 1
    finally:
        engine.dispose()


def _record_again(sessions: Any, file: list[Any], key: str, found: list[Any]) -> None:
    with sessions() as b:
        again = record(b, report(*file), dedupe_key=key, sender="ada@example.org")
        # The transaction is still usable after the skipped insert.
        found.append((again.id, b.scalar(select(func.count()).select_from(Submission))))
        b.commit()
