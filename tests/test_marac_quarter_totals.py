"""The per-Marac-quarter totals (store/totals.py) equal a from-scratch sum of the current
figures after every way figures change: recording new meetings, a held change confirmed or
kept, a resubmission with confirm, a withdrawal, a meeting demoted, a version's figures edited
in place, a bulk insert, and the demo registry removed. On SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from store.db import open_engine, session_factory, upgrade
from store.held import confirm_held, expire_held, keep_held
from store.models import HeldChange, HeldStatus, Meeting, MeetingVersion
from store.registry_demo import remove_demo
from store.totals import FIELDS, figure_columns, marac_quarter_totals
from store.versions import demote_current, lock_meeting_by_id
from store.withdraw import find_submission, withdraw_submission
from tests.store_support import T0, flag_as_validation_would, load_registry, record, report, row


def _kept(session: Session) -> dict[tuple[str, int], tuple[int, ...]]:
    """What the triggers keep, leaving out groups left with nothing."""
    t = marac_quarter_totals
    columns = [t.c[name] for name in (*figure_columns(), "held")]
    query = select(t.c.quarter, t.c.marac_id, *columns).where((t.c.meetings > 0) | (t.c.held > 0))
    return {(r[0], r[1]): tuple(r[2:]) for r in session.execute(query)}


def _recomputed(session: Session) -> dict[tuple[str, int], tuple[int, ...]]:
    """The same totals summed afresh over every current version and pending held change."""
    width = len(figure_columns()) + 1
    found: dict[tuple[str, int], list[int]] = {}
    query = (
        select(Meeting.quarter, Meeting.marac_id, MeetingVersion)
        .join(MeetingVersion, MeetingVersion.meeting_id == Meeting.id)
        .where(MeetingVersion.is_current.is_(True))
    )
    for quarter, marac_id, version in session.execute(query):
        sums = found.setdefault((quarter, marac_id), [0] * width)
        for i, value in enumerate(_contribution(version.counts)):
            sums[i] += value
    held = (
        select(Meeting.quarter, Meeting.marac_id)
        .join(HeldChange, HeldChange.meeting_id == Meeting.id)
        .where(HeldChange.status == HeldStatus.PENDING.value)
    )
    for quarter, marac_id in session.execute(held):
        found.setdefault((quarter, marac_id), [0] * width)[-1] += 1
    return {key: tuple(values) for key, values in found.items()}


def _contribution(counts: dict[str, Any]) -> list[int]:
    cases = counts.get("cases")
    found = [1, cases or 0, int(cases is not None)]
    for key in FIELDS:
        value = counts.get(key)
        found += [value or 0, int(value is not None), 0 if value is None else cases or 0]
    return found


def _check(session: Session) -> dict[tuple[str, int], tuple[int, ...]]:
    session.flush()
    kept = _kept(session)
    assert kept == _recomputed(session)
    return kept


def _first_file() -> list[Any]:
    return [
        row(2, "Croydon", date(2024, 10, 3)),
        row(3, "Croydon", date(2024, 11, 7), cases=9, repeat_cases=None, male=0),
        row(4, "Croydon", date(2024, 12, 5), cases=None, lgbtq=3),
        row(5, "Croydon", date(2025, 1, 9), cases=20, harming_under_18=1),
    ]


def test_totals_follow_recording_held_changes_and_withdrawal(db_session: Session) -> None:
    load_registry(db_session)
    assert _check(db_session) == {}
    first = record(db_session, report(*_first_file()))
    kept = _check(db_session)
    assert {key[0] for key in kept} == {"Q3 2024/25", "Q4 2024/25"}
    assert sum(v[0] for v in kept.values()) == 4

    # A changed row is held: the totals stay as they were until it is confirmed.
    changed = report(row(2, "Croydon", date(2024, 10, 3), cases=30, repeat_cases=11))
    flag_as_validation_would(db_session, changed)
    second = record(db_session, changed, now=T0 + timedelta(hours=1))
    held = _check(db_session)
    assert held[("Q3 2024/25", _id(db_session, "Croydon"))][-1] == 1  # one pending
    assert {k: v[:-1] for k, v in held.items()} == {k: v[:-1] for k, v in kept.items()}
    assert confirm_held(db_session, sender="cara@example.org", submission_id=second.id,
                        now=T0 + timedelta(hours=2)) == 1
    confirmed = _check(db_session)
    assert confirmed != kept

    # Kept (the stored figures stand): nothing moves.
    again = report(row(3, "Croydon", date(2024, 11, 7), cases=1))
    flag_as_validation_would(db_session, again)
    third = record(db_session, again, now=T0 + timedelta(hours=3))
    assert keep_held(db_session, sender="cara@example.org", submission_id=third.id,
                     now=T0 + timedelta(hours=4)) == 1
    assert _check(db_session) == confirmed

    # A newer hold from the same sender supersedes the older; both expire unconfirmed.
    for hours, cases in ((5, 3), (6, 4)):
        late = report(row(4, "Croydon", date(2024, 12, 5), cases=cases))
        flag_as_validation_would(db_session, late)
        record(db_session, late, now=T0 + timedelta(hours=hours))
        assert sum(v[-1] for v in _check(db_session).values()) == 1
    assert expire_held(db_session, now=T0 + timedelta(days=30))
    assert sum(v[-1] for v in _check(db_session).values()) == 0

    # A resubmission with confirm supersedes at once.
    direct = report(row(5, "Croydon", date(2025, 1, 9), cases=2, children=None))
    flag_as_validation_would(db_session, direct)
    record(db_session, direct, confirm=True, now=T0 + timedelta(days=31))
    _check(db_session)

    # Withdrawing the confirmed change puts the first figures back; withdrawing the first
    # file leaves meetings with no current figures (and groups with none drop out).
    # A pending change whose file is withdrawn is no longer pending.
    again = report(row(2, "Croydon", date(2024, 10, 3), cases=44))
    flag_as_validation_would(db_session, again)
    fourth = record(db_session, again, now=T0 + timedelta(days=31, hours=1))
    assert sum(v[-1] for v in _check(db_session).values()) == 1
    for submission_id in (fourth.id, second.id, first.id):
        found = find_submission(db_session, submission_id, lock=True)
        assert found is not None
        withdraw_submission(db_session, found, by="ada@example.org", now=T0 + timedelta(days=32))
        _check(db_session)
    assert sum(v[-1] for v in _check(db_session).values()) == 0
    db_session.commit()
    _check(db_session)


def test_totals_follow_demotion_edits_in_place_and_bulk_inserts(db_session: Session) -> None:
    load_registry(db_session)
    submission = record(db_session, report(*_first_file()))
    meeting_ids = sorted(db_session.scalars(select(Meeting.id)))
    demote_current(db_session, lock_meeting_by_id(db_session, meeting_ids[0]).id, now=T0)
    _check(db_session)

    # A figure edited in place on the current version, and on a past one (no effect).
    v = MeetingVersion
    db_session.execute(update(v).where(v.meeting_id == meeting_ids[1], v.is_current.is_(True))
                       .values(cases=None, repeat_cases=5))
    before = _check(db_session)
    db_session.execute(update(v).where(v.is_current.is_(False)).values(cases=99))
    assert _check(db_session) == before

    # A bulk insert of new meetings and versions (Core, no ORM events).
    marac_id = db_session.scalar(text("SELECT id FROM maracs WHERE name = 'Leeds'"))
    day = date(2024, 4, 4)
    meeting_id = db_session.scalar(
        insert(Meeting).values(marac_id=marac_id, meeting_date=day, quarter="Q1 2024/25",
                               created_at=T0).returning(Meeting.id))
    db_session.execute(insert(v), [
        {"meeting_id": meeting_id, "version": 1, "is_current": False, "submission_id":
         submission.id, "recorded_at": T0, "recorded_by": "x", "cases": 3},
        {"meeting_id": meeting_id, "version": 2, "is_current": True, "submission_id":
         submission.id, "recorded_at": T0, "recorded_by": "x", "cases": 4, "male": 1},
    ])
    kept = _check(db_session)
    assert kept[("Q1 2024/25", marac_id)][:3] == (1, 4, 1)
    db_session.commit()


def test_totals_follow_the_demo_registry_removed(db_session: Session) -> None:
    load_registry(db_session)
    record(db_session, report(*_first_file(), row(6, "Leeds", date(2024, 10, 8))))
    # Croydon stands in for a demo Marac: its meetings, versions and totals go with it.
    db_session.execute(text("UPDATE maracs SET is_demo = true WHERE name = 'Croydon'"))
    assert len(_check(db_session)) == 3
    remove_demo(db_session)
    kept = _check(db_session)
    assert [key[0] for key in kept] == ["Q3 2024/25"]
    db_session.commit()


def _id(session: Session, name: str) -> int:
    found = session.scalar(text("SELECT id FROM maracs WHERE name = :n"), {"n": name})
    assert isinstance(found, int)
    return found


def test_the_upgrade_fills_the_totals_from_what_is_stored(db_url: str) -> None:
    engine = open_engine(db_url)
    try:
        upgrade(engine, "0009_forms")  # before the totals: figures and a held change stored
        with session_factory(engine)() as session:
            load_registry(session)
            record(session, report(*_first_file(), row(6, "Leeds", date(2024, 10, 8))))
            changed = report(row(2, "Croydon", date(2024, 10, 3), cases=30))
            flag_as_validation_would(session, changed)
            record(session, changed, now=T0 + timedelta(hours=1))
            session.commit()
        upgrade(engine)
        with session_factory(engine)() as session:
            kept = _check(session)
            assert len(kept) == 3 and sum(v[-1] for v in kept.values()) == 1
    finally:
        engine.dispose()


# pg_trigger.tgtype's lowest bit: set for a row trigger, clear for a statement trigger.
_INSERT_TRIGGER_PER_ROW = text(
    "SELECT tgtype::int & 1 = 1 FROM pg_trigger WHERE tgname = 'mqt_after_insert'")


@pytest.mark.postgres
def test_on_postgresql_inserted_versions_are_totalled_per_statement_both_ways(
    pg_schema_url: str,
) -> None:
    """Migration 0013: one upsert per INSERT statement (the many-row and mixed inserts above
    run through it); its downgrade brings back 0010's row trigger, which totals as before."""
    from alembic import command

    from store.db import alembic_config

    engine = open_engine(pg_schema_url)
    try:
        upgrade(engine)
        with session_factory(engine)() as session:
            assert session.scalar(_INSERT_TRIGGER_PER_ROW) is False
            load_registry(session)
            record(session, report(*_first_file()))
            assert len(_check(session)) == 2
            session.commit()
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0012_queue_bytes_apart")
        with session_factory(engine)() as session:
            assert session.scalar(_INSERT_TRIGGER_PER_ROW) is True
            record(session, report(row(6, "Leeds", date(2024, 10, 8), cases=4)))
            assert len(_check(session)) == 3
            session.commit()
        upgrade(engine)
        with session_factory(engine)() as session:
            assert session.scalar(_INSERT_TRIGGER_PER_ROW) is False
            record(session, report(row(7, "Leeds", date(2024, 11, 8), cases=5)))
            assert _check(session)[("Q3 2024/25", _id(session, "Leeds"))][:3] == (2, 9, 2)
            session.commit()
    finally:
        engine.dispose()
