"""A file's validation reads its stored meetings a Marac-quarter at a time (issue 14): the
same answers as reading meeting by meeting, with one query where there were seven."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import date

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kernel.quarters import Quarter
from store.views import DbStoredMeetings
from tests.store_support import counts, executed, load_registry, record, report, row

OCT3, OCT17, NOV7, JUL4 = date(2024, 10, 3), date(2024, 10, 17), date(2024, 11, 7), date(2024, 7, 4)


def _queries(session: Session) -> AbstractContextManager[list[str]]:
    bind = session.get_bind()
    assert isinstance(bind, Engine)
    # SELECTs only: not SQLite's BEGIN.
    return executed(bind, keep=lambda statement: statement.lstrip().upper().startswith("SELECT"))


def _stored(db_session: Session) -> None:
    load_registry(db_session)
    rows = [row(2, "Croydon", OCT3), row(3, "Croydon", OCT17, cases=9), row(4, "Croydon", JUL4)]
    record(db_session, report(*rows))
    db_session.commit()


def test_kept_answers_are_the_fresh_answers(db_session: Session) -> None:
    _stored(db_session)
    fresh, kept = DbStoredMeetings(db_session), DbStoredMeetings(db_session, kept=True)
    for day in (OCT3, OCT17, NOV7, JUL4, date(2023, 10, 3)):
        assert kept.current("Croydon", day) == fresh.current("Croydon", day)
        assert kept.current("Leeds", day) is None
    assert kept.current("Croydon", OCT17) == counts(cases=9)
    q3 = Quarter(2024, 3)
    assert kept.quarter_totals("Croydon", q3) == fresh.quarter_totals("Croydon", q3)
    assert [m["meeting_date"] for m in kept.quarter_totals("Croydon", q3)] == [OCT3, OCT17]


def test_a_quarter_of_meetings_is_one_query(db_session: Session) -> None:
    _stored(db_session)
    kept = DbStoredMeetings(db_session, kept=True)
    with _queries(db_session) as seen:
        for day in (OCT3, OCT17, NOV7, date(2024, 11, 21), date(2024, 12, 5), date(2024, 12, 19)):
            kept.current("Croydon", day)
        kept.quarter_totals("Croydon", Quarter(2024, 3))
    assert len(seen) == 1
    with _queries(db_session) as seen:
        kept.current("Croydon", JUL4)  # another quarter: one more
    assert len(seen) == 1


def test_a_fresh_view_sees_what_was_recorded_since(db_session: Session) -> None:
    _stored(db_session)
    fresh = DbStoredMeetings(db_session)
    assert fresh.current("Croydon", NOV7) is None
    record(db_session, report(row(2, "Croydon", NOV7, cases=11)))
    assert fresh.current("Croydon", NOV7) == counts(cases=11)
