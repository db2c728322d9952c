"""Many rows in a few statements (store/bulk_insert.py): what goes in comes back the same on
both databases, whatever the values (days, times in another zone, text that needs escaping,
a column named by a keyword), and each database gets the statements it does best."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import cast

import pytest
from sqlalchemy import Table, select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from store.bulk_insert import CHUNK, JSON_CHUNK, insert_many
from store.db import open_engine, session_factory, upgrade
from store.models import Marac, Meeting, SubmissionIssue
from tests.store_support import T0, insert_sizes, load_registry, record, report, row

MEETINGS = cast(Table, Meeting.__table__)
ISSUES = cast(Table, SubmissionIssue.__table__)


def _croydon(session: Session) -> int:
    load_registry(session)
    marac_id = session.scalar(select(Marac.id).where(Marac.name == "Croydon"))
    assert marac_id is not None
    return marac_id


def test_days_and_times_come_back_as_they_went_in(db_session: Session) -> None:
    """A day stays that day; a time given in another zone is the same instant, in UTC."""
    marac_id = _croydon(db_session)
    summer = timezone(timedelta(hours=1))
    rows = [{"marac_id": marac_id, "meeting_date": date(2024, 3, 31) + timedelta(days=n),
             "quarter": f"Q{n}", "created_at": (T0 + timedelta(minutes=n)).astimezone(summer)}
            for n in range(3)]
    insert_many(db_session, MEETINGS, rows)
    stored = db_session.execute(
        select(Meeting.meeting_date, Meeting.quarter, Meeting.created_at)
        .order_by(Meeting.meeting_date)).all()
    assert [tuple(r) for r in stored] == [
        (date(2024, 3, 31) + timedelta(days=n), f"Q{n}", T0 + timedelta(minutes=n))
        for n in range(3)]
    assert all(r.created_at.utcoffset() == timedelta(0) for r in stored)


def test_text_that_needs_escaping_and_a_keyword_column_come_back_whole(
    db_session: Session,
) -> None:
    """``column`` is a keyword on PostgreSQL; quotes, backslashes, newlines, non-ASCII text and
    blanks (None) survive the JSON on the way in."""
    submission = record(db_session, report(row(2, "Croydon", date(2024, 10, 3))))
    odd = ['say "no"', "C:\\data\\q3.xlsx", "two\nlines", "Ynys Môn – café ✓", None]
    rows = [{"submission_id": submission.id, "position": 100 + n, "code": "odd-text",
             "severity": "info", "sheet": "Marac data", "cell": f"B{n}", "row": n,
             "column": value, "value": value, "message": f"message {n}"}
            for n, value in enumerate(odd)]
    insert_many(db_session, ISSUES, rows)
    stored = db_session.execute(
        select(SubmissionIssue.column, SubmissionIssue.value, SubmissionIssue.row)
        .where(SubmissionIssue.code == "odd-text").order_by(SubmissionIssue.position)).all()
    assert [tuple(r) for r in stored] == [(value, value, n) for n, value in enumerate(odd)]


def test_a_nul_is_kept_as_a_stand_in_where_the_database_cannot_hold_it(
    db_session: Session,
) -> None:
    """PostgreSQL's text holds no NUL: there it becomes U+FFFD, in every text of every row that
    has one, and rows without one are left alone (a cell an issue quotes may carry one: the
    whole recording used to fail). SQLite keeps the text as it came."""
    marac_id = _croydon(db_session)
    submission = record(db_session, report(row(2, "Croydon", date(2024, 10, 3))))
    values = ["a\x00b", "clean", "\x00\x00", "back\\u0000slash"]
    rows = [{"submission_id": submission.id, "position": 200 + n, "code": "nul-text",
             "severity": "info", "sheet": None, "cell": f"A{n}", "row": n,
             "column": None, "value": value, "message": value}
            for n, value in enumerate(values)]
    insert_many(db_session, ISSUES, rows)
    stored = db_session.execute(
        select(SubmissionIssue.value, SubmissionIssue.message, SubmissionIssue.row)
        .where(SubmissionIssue.code == "nul-text").order_by(SubmissionIssue.position)).all()
    postgresql = db_session.get_bind().dialect.name == "postgresql"
    if postgresql:
        values = [v.replace("\x00", "\ufffd") for v in values]
    assert [tuple(r) for r in stored] == [(v, v, n) for n, v in enumerate(values)]
    # Rows with days and times in them too: written again, they are written the same way.
    insert_many(db_session, MEETINGS, [{"marac_id": marac_id, "meeting_date": date(2019, 5, 6),
                                        "quarter": "Q\x00", "created_at": T0}])
    kept = db_session.execute(select(Meeting.quarter, Meeting.created_at)
                              .where(Meeting.meeting_date == date(2019, 5, 6))).one()
    assert tuple(kept) == ("Q\ufffd" if postgresql else "Q\x00", T0)


def test_a_naive_time_is_refused_before_anything_is_written(db_session: Session) -> None:
    marac_id = _croydon(db_session)
    naive = [{"marac_id": marac_id, "meeting_date": date(2024, 4, 1), "quarter": "Q",
              "created_at": datetime(2024, 4, 1, 9, 0)}]
    with pytest.raises((ValueError, StatementError), match="naive datetime"):
        insert_many(db_session, MEETINGS, naive)


@pytest.mark.postgres
def test_a_value_json_cannot_carry_is_a_programming_error_on_postgresql(
    pg_schema_url: str,
) -> None:
    """Bytes have no place in a JSON row: PostgreSQL's path says so rather than guess (on
    SQLite sqlite3 takes the rows itself, with nothing of ours in between)."""
    engine = open_engine(pg_schema_url)
    try:
        upgrade(engine)
        with session_factory(engine)() as session:
            marac_id = _croydon(session)
            rows = [{"marac_id": marac_id, "meeting_date": date(2024, 4, 1), "quarter": b"Q1",
                     "created_at": T0}]
            with pytest.raises(TypeError, match="bytes cannot go into a JSON row"):
                insert_many(session, MEETINGS, rows)
    finally:
        engine.dispose()


def test_nothing_to_insert_sends_nothing(db_session: Session) -> None:
    assert insert_sizes(db_session, "meetings", lambda: insert_many(db_session, MEETINGS, [])) == []


@pytest.mark.parametrize("extra", [0, 1])
def test_each_database_gets_its_chunks_up_to_the_limit(db_session: Session, extra: int) -> None:
    """PostgreSQL: JSON_CHUNK rows to a statement, the next one starting a second; SQLite: an
    executemany of CHUNK rows at a time (a lone last row is a plain execute)."""
    marac_id = _croydon(db_session)
    count = JSON_CHUNK + extra
    rows = [{"marac_id": marac_id, "meeting_date": date(1990, 1, 1) + timedelta(days=n),
             "quarter": "Q", "created_at": T0} for n in range(count)]
    sizes = insert_sizes(db_session, "meetings", lambda: insert_many(db_session, MEETINGS, rows))
    if db_session.get_bind().dialect.name == "postgresql":
        assert sizes == [JSON_CHUNK] + [1] * extra
    else:
        assert sizes == [CHUNK] * (JSON_CHUNK // CHUNK) + [1] * extra
    stored = db_session.scalars(select(Meeting.meeting_date).order_by(Meeting.meeting_date))
    assert list(stored) == [r["meeting_date"] for r in rows]
