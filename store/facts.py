"""Facts about the store itself (table ``store_facts``, migration 0006): when it was created.

With MARAC_TRACK_FROM unset, tracking starts at the first quarter that ends after the store
was created: what was collected before the bot existed is not in its store, and must not be
chased or counted as missing (a new installation once queued 81 escalations on its first
overdue day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from kernel.quarters import Quarter
from store.models import StoreFacts
from store.types import utcnow


def created_at(session: Session) -> datetime:
    """When the store was created (recorded by its migration; now, should the row be gone)."""
    facts = session.get(StoreFacts, 1)
    if facts is None:
        facts = StoreFacts(id=1, created_at=utcnow())
        session.add(facts)
        session.flush()
    return facts.created_at


@dataclass(frozen=True)
class TrackStart:
    """The first tracked quarter, and why: set by MARAC_TRACK_FROM, or from the store's age."""

    quarter: Quarter
    configured: bool
    created_on: date | None  # the store's creation day (local), when that decided it


def first_quarter_ending_after(moment: datetime, timezone: str) -> Quarter:
    """The quarter containing the local day of ``moment``: it is the first to end after it."""
    return Quarter.containing(moment.astimezone(ZoneInfo(timezone)).date())


def track_start(session: Session, *, track_from: Quarter | None, timezone: str) -> TrackStart:
    """The first quarter whose uploads are chased."""
    if track_from is not None:
        return TrackStart(track_from, configured=True, created_on=None)
    created = created_at(session)
    day = created.astimezone(ZoneInfo(timezone)).date()
    return TrackStart(first_quarter_ending_after(created, timezone), False, day)
