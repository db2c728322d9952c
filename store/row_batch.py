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

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from itertools import islice
from typing import TypeVar, cast

from sqlalchemy import Integer, Table, and_, bindparam, or_, select
from sqlalchemy.orm import Session

from store.bulk_insert import CHUNK, insert_many
from store.models import Meeting, MeetingVersion, quarter_label
from store.upsert import skipping_duplicates
from store.versions import Provenance
from validation.columns import COUNT_KEYS

MeetingKey = tuple[int, date]  # (Marac id, meeting date)
Counts = dict[str, int | None]

_T = TypeVar("_T")
_COUNT_COLUMNS = [getattr(MeetingVersion, key) for key in COUNT_KEYS]
_VERSIONS = cast(Table, MeetingVersion.__table__)


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
    """Version 1, current, of each (new meeting id, figures, where they came from): on
    PostgreSQL a few thousand to a statement, and the totals' trigger once for each
    (``store.bulk_insert``)."""
    insert_many(session, _VERSIONS, [
        {"meeting_id": meeting_id, "version": 1, "is_current": True,
         "submission_id": source.submission_id, "sheet": source.sheet,
         "sheet_row": source.sheet_row, "recorded_at": source.recorded_at,
         "recorded_by": source.recorded_by, "withdrawal_of": source.withdrawal_of,
         **counts}
        for meeting_id, counts, source in firsts
    ])
