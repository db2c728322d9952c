"""The question engine's store queries (handlers/questions/queries.py) on both databases:
the latest file of a quarter with how many files its figures came from, a quarter's pending
held changes, and uploads with their held counts (read from the kept totals, issue 14)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from handlers.questions import queries
from tests.store_support import T0, flag_as_validation_would, load_registry, record, report, row

Q3 = "Q3 2024/25"


def _id(session: Session, name: str) -> int:
    found = session.scalar(text("SELECT id FROM maracs WHERE name = :n"), {"n": name})
    assert isinstance(found, int)
    return found


def test_last_received_names_the_latest_file_and_counts_the_quarters_files(
    db_session: Session,
) -> None:
    load_registry(db_session)
    record(db_session, report(row(2, "Croydon", date(2024, 10, 3)),
                              row(3, "Croydon", date(2024, 10, 17)), file="first.xlsx"))
    record(db_session, report(row(2, "Croydon", date(2024, 11, 7)), file="second.xlsx"),
           now=T0 + timedelta(hours=1))
    # Another Marac's and another quarter's files are not counted.
    record(db_session, report(row(2, "Leeds", date(2024, 10, 8)), file="leeds.xlsx"),
           now=T0 + timedelta(hours=2))
    record(db_session, report(row(2, "Croydon", date(2025, 1, 9)), file="q4.xlsx"),
           now=T0 + timedelta(hours=3))
    croydon, leeds = _id(db_session, "Croydon"), _id(db_session, "Leeds")

    found = queries.last_received(db_session, croydon, Q3)
    assert found is not None
    assert (found.filename, found.files, found.sender) == ("second.xlsx", 2,
                                                            "cara@example.org")
    only = queries.last_received(db_session, leeds, Q3)
    assert only is not None and (only.filename, only.files) == ("leeds.xlsx", 1)
    assert queries.last_received(db_session, _id(db_session, "Kirklees"), Q3) is None


def test_uploads_and_held_changes_of_a_quarter(db_session: Session) -> None:
    load_registry(db_session)
    record(db_session, report(row(2, "Croydon", date(2024, 10, 3)),
                              row(3, "Croydon", date(2024, 11, 7), cases=None)))
    changed = report(row(2, "Croydon", date(2024, 10, 3), cases=40))
    flag_as_validation_would(db_session, changed)
    record(db_session, changed, now=T0 + timedelta(hours=1))
    croydon = _id(db_session, "Croydon")

    found = queries.uploads(db_session, [Q3, "Q2 2024/25"], None, with_cases=True)
    assert list(found) == [(croydon, Q3)]
    up = found[(croydon, Q3)]
    assert (up.meetings, up.cases, up.cases_blank, up.held) == (2, 12, 1, 1)
    plain = queries.uploads(db_session, [Q3], [croydon])[(croydon, Q3)]
    assert (plain.cases, plain.cases_blank, plain.held) == (None, 0, 1)
    held = queries.held_changes(db_session, croydon, Q3)
    assert [h.meeting_date for h in held] == [date(2024, 10, 3)]
    assert queries.held_changes(db_session, croydon, "Q4 2024/25") == []
