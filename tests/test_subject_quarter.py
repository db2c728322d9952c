"""A quarter in the subject without its year (issue 12): "Q1 return" for meetings all in
Apr–Jun 2024 is Q1 2024/25, and the reply says so; a quarter with a year that contradicts the
meetings stays a hard issue. Through the stored inbox, the Worker and the real dispatcher on
SQLite and PostgreSQL, and on the helpers that decide it.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from kernel.quarters import Quarter
from store.db import Store
from store.models import Submission
from tests.dispatch_support import (
    File,
    Mailroom,
    body_of,
    compose,
    registered_mailroom,
)
from tests.fixtures import make_fixtures as mf
from validation.context import names_its_year, quarter_of_meetings

Q1_2024 = Quarter(2024, 1)


def q1_2024_file() -> File:
    """The six clean Croydon meetings, moved six months back: all in Apr–Jun 2024."""
    rows = mf.baseline_rows()
    for row in rows:
        day = row[1]
        assert isinstance(day, date)
        row[1] = day.replace(month=day.month - 6)
    buffer = io.BytesIO()
    mf.to_workbook({mf.DATA_SHEET: [mf.headers(), *rows]}).save(buffer)
    return File("croydon-q1.xlsx", buffer.getvalue())


@pytest.fixture
def mailroom(db_store: Store, tmp_path: Path) -> Mailroom:
    return registered_mailroom(db_store, tmp_path)


def declared_of(mailroom: Mailroom) -> str | None:
    with mailroom.store.transaction() as session:
        return session.scalars(select(Submission.declared_quarter)).one()


def test_a_bare_quarter_is_the_one_the_meetings_fall_in_and_the_reply_says_so(
    mailroom: Mailroom,
) -> None:
    # Sent long after (the test's today is past 2024/25): "Q1" alone would be this year's Q1.
    handled = mailroom.exchange(compose(subject="Q1 return", files=[q1_2024_file()]))
    assert handled.outcome == "submission-accepted"
    body = body_of(handled.reply)
    assert body.splitlines()[0] == "All 6 meetings recorded."
    assert ("croydon-q1.xlsx: The quarter was named as Q1 without a year; every meeting in "
            "this file is in Q1 2024/25 (1 Apr – 30 Jun 2024), so we read it as that "
            "quarter.") in body
    assert declared_of(mailroom) == "Q1 2024/25"


def test_a_quarter_with_a_year_that_contradicts_the_meetings_stays_a_hard_issue(
    mailroom: Mailroom,
) -> None:
    handled = mailroom.exchange(compose(subject="Q1 2023/24 return", files=[q1_2024_file()]))
    assert handled.outcome == "submission-rejected"
    body = body_of(handled.reply)
    assert "is not in Q1 2023/24" in body and "without a year" not in body


def test_a_bare_quarter_of_another_number_is_not_stretched_to_fit(mailroom: Mailroom) -> None:
    handled = mailroom.exchange(compose(subject="Q2 return", files=[q1_2024_file()]))
    assert handled.outcome == "submission-rejected"
    assert "without a year" not in body_of(handled.reply)


@pytest.mark.parametrize(("subject", "has_year"), [
    ("Q1 return", False),
    ("Apr-Jun return", False),
    ("quarter 1", False),
    ("Q1 2024/25 return", True),
    ("q1 24/25", True),
    ("Apr-Jun 2024", True),
    ("last quarter's return", True),  # relative: not a bare number either
])
def test_whether_a_subject_names_its_year(subject: str, has_year: bool) -> None:
    assert names_its_year(subject) is has_year


def test_the_meetings_decide_only_when_they_share_one_quarter_of_that_number() -> None:
    april, may = date(2024, 4, 3), date(2024, 5, 17)
    assert quarter_of_meetings(Quarter(2026, 1), [april, may]) == Q1_2024
    assert quarter_of_meetings(Quarter(2026, 1), [april, date(2025, 4, 3)]) is None  # two Q1s
    assert quarter_of_meetings(Quarter(2026, 1), [april, date(2024, 7, 1)]) is None  # Q1 + Q2
    assert quarter_of_meetings(Quarter(2026, 2), [april, may]) is None  # another number
    assert quarter_of_meetings(Quarter(2026, 1), []) is None
    # The last day of a quarter is in it; the next day is not.
    assert quarter_of_meetings(Quarter(2026, 1), [april, date(2024, 6, 30)]) == Q1_2024
    assert quarter_of_meetings(Quarter(2026, 1), [april, date(2024, 7, 1)]) is None
