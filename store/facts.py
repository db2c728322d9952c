"""Facts about the store itself (table ``store_facts``, migration 0006): when it was created,
and the random token its Message-IDs are made with (migration 0014).

With MARAC_TRACK_FROM unset, tracking starts at the first quarter that ends after the store
was created: what was collected before the bot existed is not in its store, and must not be
chased or counted as missing (a new installation once queued 81 escalations on its first
overdue day).
"""

from __future__ import annotations

import secrets
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
class MessageIds:
    """What this store's Message-IDs are made with (bot/channels/email/outbound.py)."""

    token: str  # random, one per store: never the same in another store
    legacy_through: int | None  # outbox items up to this id have the older, token-less ids


def message_ids(session: Session) -> MessageIds:
    """The store's Message-ID token (drawn now, should the row or the token be gone: a store
    made by hand; the migration draws it for every other).

    Read once per database connection and kept with it: the token never changes once
    committed, and every reply, reminder and threading look asks for it (a statement per
    message, issue 14). One drawn here is not kept, as its transaction may yet roll back."""
    kept = session.connection().info
    found = kept.get(_MESSAGE_IDS)
    if isinstance(found, MessageIds):
        return found
    facts = session.get(StoreFacts, 1)
    if facts is None:
        facts = StoreFacts(id=1, created_at=utcnow())
        session.add(facts)
    if facts.message_id_token is None:
        facts.message_id_token = secrets.token_hex(16)
        session.flush()
        return MessageIds(facts.message_id_token, facts.legacy_message_ids_through)
    found = MessageIds(facts.message_id_token, facts.legacy_message_ids_through)
    kept[_MESSAGE_IDS] = found
    return found


# The key of the ids kept in a connection's info (``message_ids``).
_MESSAGE_IDS = "marac_message_ids"


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
