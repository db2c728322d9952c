"""The SQL behind the answers: every total is a GROUP BY over current meeting versions, so the
database does the adding up and Python only sees one row per Marac (or Marac and quarter).

Filters use ``meetings.quarter`` and ``meetings.marac_id`` (index ``ix_meetings_quarter_marac``);
the current version of a meeting is found through ``ix_meeting_versions_current``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import ColumnElement, Select, Subquery, and_, distinct, func, null, or_, select
from sqlalchemy.orm import Session

from store.history import standing_at
from store.models import Contact, HeldChange, HeldStatus, Meeting, MeetingVersion, Role, Submission
from store.models import contact_maracs as cm
from store.totals import marac_quarter_totals

PENDING = HeldStatus.PENDING.value
_Select = TypeVar("_Select", bound=Select[*tuple[Any, ...]])


def _current() -> Select[*tuple[Any, ...]]:
    """meetings joined to their current version; callers add columns and filters."""
    return select(Meeting.id).join(
        MeetingVersion,
        and_(MeetingVersion.meeting_id == Meeting.id, MeetingVersion.is_current.is_(True)),
    )


def _where(query: _Select, quarters: Sequence[str], marac_ids: Collection[int] | None) -> _Select:
    query = query.where(Meeting.quarter.in_(list(quarters)))
    if marac_ids is not None:
        query = query.where(Meeting.marac_id.in_(sorted(marac_ids)))
    return query


class Uploads(NamedTuple):
    """What one Marac has for one quarter (a named tuple: a national grid makes 1,200 of
    them per answer, and a frozen dataclass took several times as long to build)."""

    marac_id: int
    quarter: str
    meetings: int
    cases: int | None = None  # only when asked for
    cases_blank: int = 0
    held: int = 0


def uploads(
    session: Session,
    quarters: Sequence[str],
    marac_ids: Collection[int] | None,
    *,
    with_cases: bool = False,
    when: datetime | None = None,
) -> dict[tuple[int, str], Uploads]:
    """Meetings (and, ``with_cases``, cases) and pending held changes per (Marac id, quarter);
    ``when``: as they stood then.

    Meetings are counted by their current version, not by the meeting row alone: a meeting
    whose only figures were withdrawn (store/withdraw.py) has no current version and is not
    an upload. As they stand now, the database's per-Marac-quarter totals answer
    (store/totals.py); as they stood then, the versions standing at ``when``.
    """
    if when is None:
        query = _kept_uploads(quarters, marac_ids)
    else:
        held = _held_per_group(quarters, marac_ids, when)
        query = _uploads_then(quarters, marac_ids, held, with_cases=with_cases, when=when)
    found = {}
    for quarter, marac_id, meetings, cases, cases_known, held in session.execute(query):
        key = (marac_id, quarter)
        if not with_cases:  # as before: no cases, none said to be blank
            cases, cases_known = None, meetings
        found[key] = Uploads(marac_id, quarter, meetings, cases, meetings - cases_known, held)
    return found


def _kept_uploads(
    quarters: Sequence[str], marac_ids: Collection[int] | None
) -> Select[*tuple[Any, ...]]:
    """From the per-Marac-quarter totals the database keeps (store/totals.py), pending held
    changes included: one narrow row per group instead of a join over every meeting of the
    period and their held changes (issue 14)."""
    t = marac_quarter_totals
    query = select(
        t.c.quarter, t.c.marac_id, t.c.meetings, t.c.cases_total, t.c.cases_known, t.c.held
    ).where(t.c.quarter.in_(list(quarters)), t.c.meetings > 0)
    if marac_ids is not None:
        query = query.where(t.c.marac_id.in_(sorted(marac_ids)))
    return query


def _uploads_then(
    quarters: Sequence[str],
    marac_ids: Collection[int] | None,
    held: Subquery,
    *,
    with_cases: bool,
    when: datetime,
) -> Select[*tuple[Any, ...]]:
    """As things stood at ``when``: counted from the versions standing then."""
    base = select(Meeting.id).join(
        MeetingVersion, and_(MeetingVersion.meeting_id == Meeting.id, standing_at(when))
    )
    if with_cases:
        columns = base.with_only_columns(
            Meeting.quarter,
            Meeting.marac_id,
            func.count(),
            func.sum(MeetingVersion.cases),
            func.count(MeetingVersion.cases),
        )
    else:
        columns = base.with_only_columns(
            Meeting.quarter, Meeting.marac_id, func.count(), null(), func.count()
        )
    return (
        _where(columns, quarters, marac_ids)
        .outerjoin(
            held, and_(held.c.marac_id == Meeting.marac_id, held.c.quarter == Meeting.quarter)
        )
        .add_columns(func.coalesce(func.max(held.c.held), 0))
        .group_by(Meeting.quarter, Meeting.marac_id)
    )


def _held_per_group(
    quarters: Sequence[str], marac_ids: Collection[int] | None, when: datetime | None
) -> Subquery:
    """Open held changes per (Marac, quarter), joined to the meetings' groups so that one
    query answers a grid of every Marac (issue 14); one row a group, so the join never
    repeats a meeting, and a held change counts whatever its meeting's versions."""
    return (
        _where(
            select(Meeting.marac_id, Meeting.quarter, func.count().label("held"))
            .select_from(HeldChange)
            .join(Meeting, HeldChange.meeting_id == Meeting.id)
            .where(_open_held(when)),
            quarters,
            marac_ids,
        )
        .group_by(Meeting.marac_id, Meeting.quarter)
        .subquery("held")
    )


def _open_held(when: datetime | None) -> ColumnElement[bool]:
    if when is None:
        return HeldChange.status == PENDING
    return (HeldChange.created_at <= when) & or_(
        HeldChange.resolved_at.is_(None), HeldChange.resolved_at > when
    )


@dataclass(frozen=True)
class Received:
    """The latest file that gave a Marac's current figures for a quarter."""

    at: datetime
    sender: str
    sender_name: str | None
    filename: str
    channel: str
    files: int  # how many files the current figures came from


def last_received(session: Session, marac_id: int, quarter: str) -> Received | None:
    base = _where(_current(), [quarter], [marac_id])
    # How many files, asked within the same statement (one round trip, not two); not
    # correlated: it counts over the whole quarter, not the latest row.
    files = (
        base.with_only_columns(func.count(distinct(MeetingVersion.submission_id)))
        .correlate(None)
        .scalar_subquery()
    )
    latest = (
        base.with_only_columns(
            MeetingVersion.recorded_at,
            MeetingVersion.recorded_by,
            Contact.name,
            Submission.filename,
            Submission.channel,
            files,
        )
        .join(Submission, Submission.id == MeetingVersion.submission_id)
        .outerjoin(Contact, Contact.email == MeetingVersion.recorded_by)
        .order_by(MeetingVersion.recorded_at.desc(), MeetingVersion.id.desc())
        .limit(1)
    )
    row = session.execute(latest).first()
    if row is None:
        return None
    at, sender, name, filename, channel, count = row
    return Received(at, sender, name, filename, channel, count or 0)


@dataclass(frozen=True)
class Held:
    meeting_date: date
    sender: str
    created_at: datetime
    expires_at: datetime


def held_changes(session: Session, marac_id: int, quarter: str) -> list[Held]:
    """The pending held changes of a Marac's quarter, by meeting date."""
    # The quarter's meetings first (a handful), then their held changes by meeting: joined
    # plainly, SQLite walked every pending held change of every Marac instead (~100× slower).
    meetings = _where(select(Meeting.id), [quarter], [marac_id])
    query = (
        select(
            Meeting.meeting_date, HeldChange.sender, HeldChange.created_at, HeldChange.expires_at
        )
        .select_from(HeldChange)
        .join(Meeting, HeldChange.meeting_id == Meeting.id)
        .where(HeldChange.status == PENDING, HeldChange.meeting_id.in_(meetings))
        .order_by(Meeting.meeting_date, HeldChange.created_at)
    )
    return [Held(*row) for row in session.execute(query)]


def coordinators(session: Session, marac_ids: Collection[int]) -> dict[int, list[tuple[str, str]]]:
    """(name, email) of each Marac's coordinators, by Marac id."""
    if not marac_ids:
        return {}
    query = (
        select(cm.c.marac_id, Contact.name, Contact.email)
        .join(Contact, Contact.id == cm.c.contact_id)
        .where(Contact.role == Role.COORDINATOR.value, cm.c.marac_id.in_(sorted(marac_ids)))
        .order_by(Contact.name)
    )
    found: dict[int, list[tuple[str, str]]] = {}
    for marac_id, name, email in session.execute(query):
        found.setdefault(marac_id, []).append((name, email))
    return found
