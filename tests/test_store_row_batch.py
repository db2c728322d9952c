"""Recording a file's rows a few statements at a time gives the same outcomes as row by row.

``store.row_batch`` takes new meetings and unchanged rows in bulk and leaves everything else to
the per-row path; these tests pin where one hands over to the other: the same meeting twice in
a file, a meeting with no current figures, files larger than one statement's chunk, and a file
whose rows span several Maracs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from store.bulk_insert import JSON_CHUNK
from store.meetings import _marac_index
from store.models import HeldChange, Marac, Meeting, MeetingVersion
from store.row_batch import CHUNK, add_first_versions, chunked, lock_meetings
from store.versions import Provenance, demote_current, lock_meeting
from tests.store_support import (
    T0,
    insert_sizes,
    load_registry,
    record,
    report,
    row,
    watching_statements,
)

OCT3 = date(2024, 10, 3)


def _versions(session: Session) -> list[tuple[date, int, bool, int | None, str]]:
    query = (
        select(Meeting.meeting_date, MeetingVersion.version, MeetingVersion.is_current,
               MeetingVersion.cases, MeetingVersion.recorded_by)
        .join(Meeting, Meeting.id == MeetingVersion.meeting_id)
        .order_by(Meeting.meeting_date, MeetingVersion.version)
    )
    return [tuple(r) for r in session.execute(query)]  # type: ignore[misc]


def test_chunks_split_at_the_limit_and_keep_order() -> None:
    assert [len(c) for c in chunked(range(CHUNK))] == [CHUNK]
    assert [len(c) for c in chunked(range(2 * CHUNK + 1))] == [CHUNK, CHUNK, 1]
    assert [x for c in chunked(range(7), 3) for x in c] == list(range(7))
    assert list(chunked([])) == []


def test_the_same_meeting_twice_in_a_file_is_recorded_once_then_held(
    db_session: Session,
) -> None:
    load_registry(db_session)
    twice = report(row(2, "Croydon", OCT3), row(3, "Croydon", OCT3, cases=30))
    record(db_session, twice)
    db_session.commit()
    assert [(r.sheet_row, r.held, r.unchanged, r.hard) for r in twice.rows] == [
        (2, False, False, False), (3, True, False, False)]
    assert _versions(db_session) == [(OCT3, 1, True, 12, "cara@example.org")]
    assert db_session.scalar(select(func.count()).select_from(HeldChange)) == 1


def test_the_same_meeting_twice_with_the_same_figures_is_one_version(
    db_session: Session,
) -> None:
    load_registry(db_session)
    twice = report(row(2, "Croydon", OCT3), row(3, "Croydon", OCT3))
    record(db_session, twice)
    db_session.commit()
    assert (twice.rows_accepted, twice.rows_unchanged) == (1, 1)
    assert _versions(db_session) == [(OCT3, 1, True, 12, "cara@example.org")]


def test_a_meeting_left_without_figures_gets_its_next_version(db_session: Session) -> None:
    load_registry(db_session)
    record(db_session, report(row(2, "Croydon", OCT3)))
    meeting = lock_meeting(db_session, _croydon(db_session), OCT3)
    assert meeting is not None
    assert demote_current(db_session, meeting.id, now=T0)
    db_session.commit()
    again = report(row(2, "Croydon", OCT3, cases=14))
    record(db_session, again, now=T0 + timedelta(hours=1))
    db_session.commit()
    assert again.rows_accepted == 1 and not again.rows[0].held
    assert _versions(db_session) == [
        (OCT3, 1, False, 12, "cara@example.org"), (OCT3, 2, True, 14, "cara@example.org")]


def test_the_same_figures_again_after_they_were_withdrawn_are_recorded_anew(
    db_session: Session,
) -> None:
    """A meeting whose only version is no longer current has no figures: the same figures
    sent again are new figures (version 2), not "unchanged" by the old version."""
    load_registry(db_session)
    record(db_session, report(row(2, "Croydon", OCT3)))
    meeting = lock_meeting(db_session, _croydon(db_session), OCT3)
    assert meeting is not None and demote_current(db_session, meeting.id, now=T0)
    db_session.commit()
    again = report(row(2, "Croydon", OCT3))
    record(db_session, again, now=T0 + timedelta(hours=1))
    db_session.commit()
    assert (again.rows_accepted, again.rows_unchanged) == (1, 0)
    assert _versions(db_session) == [
        (OCT3, 1, False, 12, "cara@example.org"), (OCT3, 2, True, 12, "cara@example.org")]


def test_a_file_larger_than_a_chunk_mixes_new_unchanged_and_held_rows(
    db_session: Session,
) -> None:
    """CHUNK + 2 meetings: the first file stores half of them; the second sends all, with one
    stored meeting changed. Every row's outcome and every version must come out as per row."""
    load_registry(db_session)
    days = [date(2020, 1, 1) + timedelta(days=n) for n in range(CHUNK + 2)]
    first = report(*(row(n + 2, "Croydon", d) for n, d in enumerate(days[::2])))
    record(db_session, first)
    db_session.commit()
    changed_day = days[2]
    rows = [row(n + 2, "Croydon", d, cases=13 if d == changed_day else 12)
            for n, d in enumerate(days)]
    second = report(*rows)
    record(db_session, second, sender="ada@example.org", now=T0 + timedelta(hours=1))
    db_session.commit()
    stored_before = len(days[::2])
    assert (second.rows_accepted, second.rows_unchanged, second.rows_held) == (
        len(days) - stored_before, stored_before - 1, 1)
    assert [r.meeting_date for r in second.rows if r.held] == [changed_day]
    versions = _versions(db_session)
    assert len(versions) == len(days)
    assert all(v[1] == 1 and v[2] and v[3] == 12 for v in versions)
    by_day = {v[0]: v[4] for v in versions}
    assert by_day[days[0]] == "cara@example.org" and by_day[days[1]] == "ada@example.org"


def test_meetings_made_in_bulk_carry_when_and_where_they_came_from(db_session: Session) -> None:
    load_registry(db_session)
    later = T0 + timedelta(days=3)
    record(db_session, report(row(7, "Croydon", OCT3)), now=later)
    db_session.commit()
    meeting = db_session.scalars(select(Meeting)).one()
    version = db_session.scalars(select(MeetingVersion)).one()
    assert meeting.created_at == later and meeting.quarter == "Q3 2024/25"
    assert (version.sheet, version.sheet_row, version.recorded_at) == ("Marac data", 7, later)
    assert version.withdrawal_of is None and version.superseded_at is None


def test_rows_of_several_maracs_in_one_file_each_find_their_meeting(
    db_session: Session,
) -> None:
    load_registry(db_session)
    names = db_session.scalars(select(Marac.name).order_by(Marac.name).limit(3)).all()
    mixed = report(*(row(n + 2, name, OCT3, cases=10 + n) for n, name in enumerate(names)))
    record(db_session, mixed)
    db_session.commit()
    query = (
        select(Marac.name, MeetingVersion.cases)
        .join(Meeting, Meeting.marac_id == Marac.id)
        .join(MeetingVersion, MeetingVersion.meeting_id == Meeting.id)
        .order_by(Marac.name)
    )
    assert [tuple(r) for r in db_session.execute(query)] == [
        (name, 10 + n) for n, name in enumerate(names)]


def _statements(session: Session, work: Callable[[], object]) -> Counter[str]:
    """How many statements of each kind ("INSERT INTO meetings", "SELECT ... FROM meetings")
    ``work`` sent to the database."""
    seen: Counter[str] = Counter()

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        # An executemany counts as one: sqlite3 runs it in C, psycopg in one pipeline.
        words = " ".join(statement.split())
        if words.startswith(("BEGIN", "COMMIT")):
            return  # the transaction around the work, not the work
        table = words.split(" FROM ", 1)[1].split()[0] if " FROM " in words else ""
        kind = " ".join(words.split()[:3]) if words.startswith("INSERT") else words.split()[0]
        seen[f"{kind} {table}".strip() if kind.startswith(("SELECT", "UPDATE")) else kind] += 1

    with watching_statements(session, count):
        work()
    return seen


def test_new_and_unchanged_meetings_take_the_same_few_statements_however_many_rows(
    db_session: Session,
) -> None:
    """The point of the batch: statements per file, not per row. New meetings are created and
    given their first figures in one INSERT each; a file sent again reads its meetings and
    their figures in one SELECT each and writes none."""
    load_registry(db_session)
    _marac_index(db_session)  # the registry as recording keeps it (read once per change)
    days = [date(2023, 1, 2) + timedelta(days=n) for n in range(40)]
    small = report(*(row(n + 2, "Croydon", d) for n, d in enumerate(days[:2])))
    large = report(*(row(n + 2, "Croydon", d) for n, d in enumerate(days[2:])))
    first = _statements(db_session, lambda: record(db_session, small))
    many = _statements(db_session, lambda: record(db_session, large, raw=b"other bytes"))
    assert many == first
    assert many["INSERT INTO meetings"] == 1 and many["INSERT INTO meeting_versions"] == 1
    db_session.commit()
    again = report(*(row(n + 2, "Croydon", d) for n, d in enumerate(days[2:])))
    resent = _statements(db_session, lambda: record(db_session, again, raw=b"third copy"))
    assert again.rows_unchanged == len(days) - 2
    assert resent["SELECT meetings"] == 1 and resent["SELECT meeting_versions"] == 1
    assert "INSERT INTO meetings" not in resent and "INSERT INTO meeting_versions" not in resent


def test_a_file_s_first_versions_reach_the_server_a_few_thousand_at_a_time_on_postgresql(
    db_session: Session,
) -> None:
    """On PostgreSQL the first versions of a file go JSON_CHUNK at a time in one INSERT with
    one parameter (the rows as JSON): the totals' statement trigger runs once per statement,
    not once per row as the driver's executemany made it (issue 14). SQLite, with no round
    trips and row triggers, keeps the executemany of a CHUNK at a time. Either way every
    version carries its own row's figures, place and time."""
    load_registry(db_session)
    days = [date(1990, 1, 1) + timedelta(days=n) for n in range(JSON_CHUNK + 1)]
    large = report(*(row(n + 2, "Croydon", d, cases=n % 50) for n, d in enumerate(days)))
    inserts = insert_sizes(db_session, "meeting_versions",
                           lambda: record(db_session, large))
    engine = db_session.get_bind()
    if engine.dialect.name == "postgresql":
        assert inserts == [JSON_CHUNK, 1]
    else:
        assert inserts == [CHUNK] * (JSON_CHUNK // CHUNK) + [1]
    stored = db_session.execute(
        select(Meeting.meeting_date, MeetingVersion.cases, MeetingVersion.sheet_row,
               MeetingVersion.version, MeetingVersion.is_current, MeetingVersion.recorded_at,
               MeetingVersion.recorded_by, MeetingVersion.sheet, MeetingVersion.ref_housing,
               MeetingVersion.ref_education)
        .join(Meeting, Meeting.id == MeetingVersion.meeting_id)
        .order_by(Meeting.meeting_date)).all()
    assert [tuple(r) for r in stored] == [
        (d, n % 50, n + 2, 1, True, T0, "cara@example.org", "Marac data", 0, None)
        for n, d in enumerate(days)]


def test_first_versions_keep_the_instant_they_were_recorded_whatever_its_zone(
    db_session: Session,
) -> None:
    """A recording time given in another zone is stored as the same instant, in UTC, on the
    JSON path as on the executemany one; a naive time is refused before anything is written."""
    load_registry(db_session)
    summer = timezone(timedelta(hours=1))
    record(db_session, report(row(2, "Croydon", date(2018, 6, 4))), now=T0.astimezone(summer))
    stored = db_session.scalars(select(MeetingVersion.recorded_at)).all()
    assert stored == [T0] and all(at.utcoffset() == timedelta(0) for at in stored)
    meeting_id = db_session.scalars(select(Meeting.id)).one()
    naive = Provenance(1, "Marac data", 2, "cara@example.org", T0.replace(tzinfo=None))
    with pytest.raises((ValueError, StatementError), match="naive datetime"):
        add_first_versions(db_session, [(meeting_id + 1, {}, naive)])


def _croydon(session: Session) -> int:
    marac_id = session.scalar(select(Marac.id).where(Marac.name == "Croydon"))
    assert marac_id is not None
    return marac_id


def test_locking_finds_the_stored_meetings_of_one_marac_or_several(db_session: Session) -> None:
    """One Marac's keys take the statement built once, several Maracs' the one composed per
    chunk (issue 14): both find exactly the stored meetings among the keys, by id."""
    load_registry(db_session)
    croydon = db_session.scalars(select(Marac).where(Marac.name == "Croydon")).one()
    leeds = db_session.scalars(select(Marac).where(Marac.name == "Leeds")).one()
    days = [OCT3 + timedelta(days=7 * n) for n in range(3)]
    record(db_session, report(*(row(2 + n, name, day) for n, (name, day) in
                                enumerate([(m, d) for m in ("Croydon", "Leeds") for d in days]))))
    stored = {(m, d): i for i, m, d in db_session.execute(
        select(Meeting.id, Meeting.marac_id, Meeting.meeting_date))}
    unstored = OCT3 + timedelta(days=1)
    one = [(croydon.id, d) for d in [*days, unstored]]
    assert lock_meetings(db_session, one) == {k: stored[k] for k in one[:3]}
    both = [*one, *((leeds.id, d) for d in days), (leeds.id, unstored)]
    assert lock_meetings(db_session, both) == {k: stored[k] for k in both
                                               if k in stored}
    assert len(lock_meetings(db_session, both)) == 6
    assert lock_meetings(db_session, [(leeds.id, unstored)]) == {}
