"""Who reminders go to: each Marac's coordinators, chairs and the managers whose scope covers
it, and the admins; and on which channels each contact is reached (spec §6).

Loaded once per run as plain frozen data, so that planning is pure and needs no session.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from store.models import Contact, Marac, Role
from store.registry_contacts import ALL, CHANNEL_ID_COLUMN, CHANNELS

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    email: str
    role: str
    channels: tuple[str, ...]  # the channels it can be reached on, email first when named
    slack_user_id: str | None = None
    teams_id: str | None = None

    def chat_id(self, channel: str) -> str | None:
        """The contact's user id on a chat channel (the registry's column for it)."""
        column = CHANNEL_ID_COLUMN.get(channel)
        return getattr(self, column) if column else None


@dataclass(frozen=True)
class MaracPeople:
    id: int
    name: str
    nation: str
    coordinators: tuple[Person, ...]
    chairs: tuple[Person, ...]
    managers: tuple[Person, ...]  # managers whose scope covers this Marac


@dataclass(frozen=True)
class Overseer:
    """An admin or manager and the Maracs its digest covers."""

    person: Person
    marac_ids: frozenset[int]
    scope: str | None  # what the scope is called ("London"); None for every Marac


@dataclass(frozen=True)
class ReminderRegistry:
    maracs: tuple[MaracPeople, ...]  # by name
    overseers: tuple[Overseer, ...]  # admins, then managers, by email

    @classmethod
    def load(cls, session: Session) -> ReminderRegistry:
        # Retired Maracs and contacts (registry import --replace) are chased and told nothing.
        maracs = list(
            session.scalars(select(Marac).where(Marac.retired_at.is_(None)).order_by(Marac.name))
        )
        contacts = list(
            session.scalars(
                select(Contact)
                .where(Contact.retired_at.is_(None))
                .options(selectinload(Contact.maracs))
                .order_by(Contact.email)
            )
        )
        overseers = [_overseer(c, maracs) for c in contacts if c.role == Role.ADMIN.value]
        overseers += [_overseer(c, maracs) for c in contacts if c.role == Role.MANAGER.value]
        return cls(tuple(_marac_people(m, contacts, overseers) for m in maracs), tuple(overseers))


def delivery_channels(contact: Contact) -> tuple[str, ...]:
    """The channels the registry names for this contact that can be used (email by default).

    A chat channel without its user id cannot be reached (the registry import refuses that,
    but an older row may have it), nor Teams before the person has chatted with the bot or
    installed it (a bot can only write into a conversation it has been given): fall back to
    email rather than stay silent.
    """
    named = [c for c in contact.channels if c in CHANNELS] or ["email"]
    usable = tuple(c for c in named if _reachable(contact, c))
    if len(usable) < len(named):
        logger.warning("contact %s names %s, not all of them reachable (no user id, or no "
                       "Teams conversation yet)", contact.email, named)
    return usable or ("email",)


def _reachable(contact: Contact, channel: str) -> bool:
    if channel not in CHANNEL_ID_COLUMN:
        return True
    return bool(_chat_id(contact, channel)) and (
        channel != "teams" or contact.teams_reference is not None)


def _chat_id(contact: Contact, channel: str) -> str | None:
    column = CHANNEL_ID_COLUMN.get(channel)
    return getattr(contact, column) if column else None


def to_person(contact: Contact) -> Person:
    return Person(
        contact.id,
        contact.name,
        contact.email,
        contact.role,
        delivery_channels(contact),
        contact.slack_user_id,
        contact.teams_id,
    )


def _overseer(contact: Contact, maracs: list[Marac]) -> Overseer:
    everything = contact.role == Role.ADMIN.value or ALL in contact.scopes
    scopes = set(contact.scopes)
    covered = {
        m.id
        for m in maracs
        if everything or m.region in scopes or m.police_force_area in scopes
    }
    covered |= {m.id for m in contact.maracs}
    names = [s for s in contact.scopes if s != ALL] + [m.name for m in contact.maracs]
    return Overseer(to_person(contact), frozenset(covered),
                    None if everything else ", ".join(names))


def _marac_people(
    marac: Marac, contacts: list[Contact], overseers: list[Overseer]
) -> MaracPeople:
    own = [c for c in contacts if any(m.id == marac.id for m in c.maracs)]
    return MaracPeople(
        marac.id,
        marac.name,
        marac.nation,
        tuple(to_person(c) for c in own if c.role == Role.COORDINATOR.value),
        tuple(to_person(c) for c in own if c.role == Role.CHAIR.value),
        tuple(
            o.person
            for o in overseers
            if o.person.role == Role.MANAGER.value and marac.id in o.marac_ids
        ),
    )
