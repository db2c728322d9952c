"""A file's rows in a handful of statements instead of a handful per row.

On deadline day nearly every row is a meeting seen for the first time, or one sent again with
the same figures. For those the work per file is: lock the file's stored meetings in one
``SELECT … FOR UPDATE`` ordered by (Marac, date) — the order every writer locks in, so two
files cannot deadlock — read their current figures in one query, create the missing meetings
in one ``INSERT`` and give them their first version in another. Per-row statements cost ~2 ms
a row on SQLite and more over a PostgreSQL connection; a 6-row return paid for 30 of them.

Everything rarer (new figures for a stored meeting, to hold or confirm; a meeting whose only
figures were withdrawn) is left to the caller's per-row path in ``store.versions``, which
already holds the lock taken here. If another transaction creates one of the same meetings at
the same moment, the meetings' INSERT skips it (ON CONFLICT on the unique (Marac, date)
constraint) and the caller sends that meeting's rows down the per-row path, which is built for
that race.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from itertools import islice
from typing import TypeVar, cast

from sqlalchemy import Integer, Table, and_, bindparam, insert, or_, select, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from store.models import Meeting, MeetingVersion, quarter_label
from store.types import UTCDateTime
from store.upsert import skipping_duplicates
from store.versions import Provenance
from validation.columns import COUNT_KEYS

MeetingKey = tuple[int, date]  # (Marac id, meeting date)
Counts = dict[str, int | None]
# Parameters per statement stay well under SQLite's 32,766 and PostgreSQL's 65,535 limits.
CHUNK = 500

_T = TypeVar("_T")
_COUNT_COLUMNS = [getattr(MeetingVersion, key) for key in COUNT_KEYS]
_VERSIONS = cast(Table, MeetingVersion.__table__)
# On SQLite, a Core INSERT given a list of rows: the driver's executemany, which sqlite3 runs
# in C. Measured per 6-row message under the profiler (issue 14): 0.4 ms, the ORM's bulk
# insert it replaces 0.9 ms. On PostgreSQL it is ``_VERSIONS_FROM_JSON`` (below): there
# RETURNING, which makes SQLAlchemy write one multi-row VALUES, took 4.7 ms (a query text
# that long, and different for every length, is parsed afresh), .values() 6.7 ms (compiled
# afresh for every file).
_INSERT_VERSIONS = insert(_VERSIONS)


def chunked(items: Iterable[_T], size: int = CHUNK) -> Iterator[list[_T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def lock_meetings(session: Session, keys: Sequence[MeetingKey]) -> dict[MeetingKey, int]:
    """The stored meetings among ``keys`` (sorted), locked until the transaction ends: key → id.

    PostgreSQL locks the rows in the ORDER BY's order; SQLite's writers are already one at a
    time (BEGIN IMMEDIATE), and it ignores FOR UPDATE.
    """
    found: dict[MeetingKey, int] = {}
    for chunk in chunked(keys):
        dates_by_marac: dict[int, list[date]] = defaultdict(list)
        for marac_id, meeting_date in chunk:
            dates_by_marac[marac_id].append(meeting_date)
        if len(dates_by_marac) == 1:  # a Marac's own return: the statement built once
            [(only, dates)] = dates_by_marac.items()
            rows = session.execute(_LOCK_ONE_MARAC, {"marac_id": only, "dates": dates})
        else:
            rows = session.execute(
                select(*_LOCKED)
                .where(or_(*(and_(_MEETINGS.c.marac_id == marac_id,
                                  _MEETINGS.c.meeting_date.in_(dates))
                             for marac_id, dates in dates_by_marac.items())))
                .order_by(_MEETINGS.c.marac_id, _MEETINGS.c.meeting_date)
                .with_for_update())
        for meeting_id, marac_id, meeting_date in rows:
            found[(marac_id, meeting_date)] = meeting_id
    return found


_MEETINGS = cast(Table, Meeting.__table__)
_LOCKED = (_MEETINGS.c.id, _MEETINGS.c.marac_id, _MEETINGS.c.meeting_date)
_LOCK_ONE_MARAC = (
    select(*_LOCKED)
    .where(_MEETINGS.c.marac_id == bindparam("marac_id", type_=Integer()),
           _MEETINGS.c.meeting_date.in_(bindparam("dates", expanding=True)))
    .order_by(_MEETINGS.c.meeting_date)
    .with_for_update()
)


def current_counts(session: Session, meeting_ids: Iterable[int]) -> dict[int, Counts]:
    """Each meeting's current figures (blank kept as None); meetings with none are left out."""
    figures: dict[int, Counts] = {}
    for chunk in chunked(meeting_ids):
        query = select(MeetingVersion.meeting_id, *_COUNT_COLUMNS).where(
            MeetingVersion.meeting_id.in_(chunk), MeetingVersion.is_current.is_(True)
        )
        for meeting_id, *values in session.execute(query):
            figures[meeting_id] = dict(zip(COUNT_KEYS, values, strict=True))
    return figures


def create_meetings(
    session: Session, keys: Sequence[MeetingKey], *, now: datetime
) -> dict[MeetingKey, int]:
    """Insert the meetings of ``keys`` (none stored when locked): key → new id. A meeting
    another transaction created meanwhile is skipped (ON CONFLICT, ``store.upsert``) and is
    missing from the answer; the caller takes its rows one at a time."""
    created: dict[MeetingKey, int] = {}
    statement = skipping_duplicates(session, _MEETINGS, ("marac_id", "meeting_date"), _LOCKED)
    for chunk in chunked(keys):
        rows = [{"marac_id": marac_id, "meeting_date": meeting_date,
                 "quarter": quarter_label(meeting_date), "created_at": now}
                for marac_id, meeting_date in chunk]
        for meeting_id, marac_id, meeting_date in session.execute(statement, rows):
            created[(marac_id, meeting_date)] = meeting_id
    return created


def add_first_versions(
    session: Session, firsts: Sequence[tuple[int, Counts, Provenance]]
) -> None:
    """Version 1, current, of each (new meeting id, figures, where they came from)."""
    dialect = session.get_bind().dialect
    postgresql = dialect.name == "postgresql"
    for chunk in chunked(firsts, JSON_CHUNK if postgresql else CHUNK):
        rows = [_first_version(meeting_id, counts, source)
                for meeting_id, counts, source in chunk]
        if postgresql:
            session.execute(_VERSIONS_FROM_JSON, {"rows": _json_rows(rows, dialect)})
        else:
            session.execute(_INSERT_VERSIONS, rows)


def _first_version(meeting_id: int, counts: Counts, source: Provenance) -> dict[str, object]:
    return {"meeting_id": meeting_id, "version": 1, "is_current": True,
            "submission_id": source.submission_id, "sheet": source.sheet,
            "sheet_row": source.sheet_row, "recorded_at": source.recorded_at,
            "recorded_by": source.recorded_by, "withdrawal_of": source.withdrawal_of,
            **counts}


def _json_rows(rows: list[dict[str, object]], dialect: Dialect) -> str:
    """The rows as a JSON array of objects keyed by column; times as ISO text in UTC, by the
    column type's own rule (a naive time is refused, as it is for any other write)."""
    to_utc = UTCDateTime().process_bind_param
    texts: dict[datetime, str] = {}  # a file's rows share their time: converted once
    for row in rows:
        at = cast(datetime, row["recorded_at"])
        if at not in texts:
            texts[at] = cast(datetime, to_utc(at, dialect)).isoformat()
        row["recorded_at"] = texts[at]
    return json.dumps(rows, separators=(",", ":"))


# On PostgreSQL, a file's first versions in one INSERT per JSON_CHUNK rows: the rows as one
# JSON text that the server turns into rows of the table's own type (issue 14). psycopg's
# executemany sent one INSERT per row, and ran the totals' statement trigger (migration 0013)
# once per row: six times for a 6-row return, 2,000 for a national one. One array per column
# (``unnest``) was one statement too, but psycopg dumps arrays in Python. Per call, measured
# by turns (/tmp/w/ins.py, medians of 30): 6 rows 1.48 ms executemany, 1.28 unnest, 0.77
# JSON; 200 rows 42.9, 14.4, 10.4 ms. The text never changes: psycopg prepares it once per
# connection.
JSON_CHUNK = 5_000  # a few MB of JSON a statement: a national file in a handful
_FIRST_COLUMNS = ", ".join(("meeting_id", "version", "is_current", "submission_id", "sheet",
                            "sheet_row", "recorded_at", "recorded_by", "withdrawal_of",
                            *COUNT_KEYS))
_VERSIONS_FROM_JSON = text(
    f"INSERT INTO {_VERSIONS.name} ({_FIRST_COLUMNS}) "
    f"SELECT {_FIRST_COLUMNS} FROM json_populate_recordset(NULL::{_VERSIONS.name}, "
    "CAST(:rows AS json))"
)
