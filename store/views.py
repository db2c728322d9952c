"""Read-only views of the store that validation asks through (validation/context.py's
protocols): the registry, what a sender may do, and the meetings already accepted.

Who may submit (a decision the spec leaves open; spec §6 says "coordinators submit"):
coordinators for their own Maracs, and admins (the central data team) for every Marac. Chairs
and managers may ask about Maracs (their own; a manager's whole scope) but not submit data:
figures come from the person who keeps them, and a refusal tells a chair or manager to ask
that Marac's coordinator, which is the right outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from kernel.config import Bands
from kernel.quarters import Quarter
from store.models import (
    Contact,
    Marac,
    Meeting,
    MeetingVersion,
    Role,
    contact_maracs,
    quarter_label,
)
from store.names import NameIndex
from store.registry_contacts import ALL
from store.registry_version import kept_read
from validation.columns import COUNT_KEYS
from validation.context import MaracInfo, ValidationContext

logger = logging.getLogger(__name__)


@dataclass
class DbRegistryView:
    """The registry, loaded once per validation (about 290 Maracs: one query)."""

    index: NameIndex[MaracInfo] = field(default_factory=NameIndex)

    @classmethod
    def load(cls, session: Session) -> DbRegistryView:
        """The active Maracs, as read while the registry's version stays where it is."""
        return kept_read(session, "validation", lambda: cls._read(session))

    @classmethod
    def _read(cls, session: Session) -> DbRegistryView:
        view = cls()
        # A retired Marac (registry import --replace) takes no more figures: unknown-marac.
        # Three columns, not Marac objects: once per file, ~290 rows (issue 14).
        active = (select(Marac.name, Marac.adult_female_population, Marac.aliases)
                  .where(Marac.retired_at.is_(None)).order_by(Marac.name))
        for name, population, aliases in session.execute(active):
            view.index.add(name, MaracInfo(name, population), aliases or ())
        return view

    def is_empty(self) -> bool:
        return len(self.index) == 0

    def resolve(self, text: str) -> MaracInfo | None:
        return self.index.get(text)

    def suggest(self, text: str, limit: int = 3) -> Sequence[str]:
        return self.index.suggest(text, limit)


@dataclass(frozen=True)
class ContactSenderView:
    """What one registered contact may do, by canonical Marac name."""

    email: str
    role: str
    own: frozenset[str]  # the Maracs the contact belongs to
    in_scope: frozenset[str]  # own plus a manager's regions / police force areas
    everything: bool  # admin, or a manager with scope "*"

    @classmethod
    def load(cls, session: Session, contact: Contact) -> ContactSenderView:
        return cls.of(session, contact.email, contact.role,
                      frozenset(m.name for m in contact.maracs), contact.scopes)

    @classmethod
    def of(cls, session: Session, email: str, role: str, own: frozenset[str],
           scopes: Sequence[str]) -> ContactSenderView:
        """The view of a contact with these Maracs (``own``) and a manager's ``scopes``."""
        scoped = set(scopes)
        everything = role == Role.ADMIN.value or (role == Role.MANAGER.value and ALL in scoped)
        in_scope = own
        if role == Role.MANAGER.value and scoped and not everything:
            in_scope = own | _maracs_in(session, scoped)
        return cls(email, role, own, in_scope, everything)

    def may_submit(self, marac: str) -> bool:
        """Coordinators for their own Maracs; admins for all (see the module docstring)."""
        if self.role == Role.ADMIN.value:
            return True
        return self.role == Role.COORDINATOR.value and marac in self.own

    def may_view(self, marac: str) -> bool:
        """Whether this contact may ask about the Marac: own Maracs, a manager's scope, or all."""
        return self.everything or marac in self.in_scope


def _maracs_in(session: Session, scopes: set[str]) -> frozenset[str]:
    query = select(Marac.name).where(Marac.region.in_(scopes) | Marac.police_force_area.in_(scopes))
    return frozenset(session.scalars(query))


def nobody(email: str) -> ContactSenderView:
    """The view of an unregistered sender: may submit for, and ask about, no Marac."""
    return ContactSenderView(email, "", frozenset(), frozenset(), everything=False)


# The mapped classes' tables. The statements every message runs are built on them, not on the
# classes: through the session, a statement naming mapped classes goes through the ORM's
# execution layer, about 80 microseconds a statement more for rows that are only read as
# columns (issue 14).
_CONTACTS = cast(Table, Contact.__table__)
_MARACS = cast(Table, Marac.__table__)
_MEETINGS = cast(Table, Meeting.__table__)
_VERSIONS = cast(Table, MeetingVersion.__table__)

# The contact and the names of their Maracs in one statement, built once (issue 14: every
# message with a file asks, and loading a Contact with its Marac objects took two statements
# and most of a millisecond of ORM work). A contact with no Marac gives one row, name NULL.
_SENDER = (
    select(_CONTACTS.c.email, _CONTACTS.c.role, _CONTACTS.c.scopes, _MARACS.c.name)
    .outerjoin(contact_maracs, contact_maracs.c.contact_id == _CONTACTS.c.id)
    .outerjoin(_MARACS, _MARACS.c.id == contact_maracs.c.marac_id)
    .where(_CONTACTS.c.email == bindparam("email"), _CONTACTS.c.retired_at.is_(None))
)


def sender_view(session: Session, email: str) -> ContactSenderView | None:
    """The sender view of the contact with this email, or None for an unknown sender."""
    rows = session.execute(_SENDER, {"email": email.strip().lower()}).all()
    if not rows:
        return None
    address, role, scopes, _ = rows[0]
    own = frozenset(name for *_, name in rows if name is not None)
    return ContactSenderView.of(session, address, role, own, scopes or ())


@dataclass
class DbStoredMeetings:
    """The current accepted figures, read within the caller's session.

    ``kept``: read a Marac-quarter at a time and kept for the life of the view, for one
    file's validation, during which nothing is recorded. A return asks for each of its
    meetings and then for their quarter; one query answers all of them (issue 14: a query
    each cost more than the rest of validating it). Without it every call reads afresh."""

    session: Session
    kept: bool = False
    _quarters: dict[tuple[str, str], list[tuple[date, dict[str, int | None]]]] = field(
        default_factory=dict, repr=False
    )

    def current(self, marac: str, meeting_date: date) -> Mapping[str, int | None] | None:
        for day, counts in self._quarter(marac, quarter_label(meeting_date)):
            if day == meeting_date:
                return dict(counts)
        return None

    def quarter_totals(self, marac: str, quarter: Quarter) -> Sequence[Mapping[str, Any]]:
        """Each current meeting of the quarter: its 30 counts and its "meeting_date"."""
        return [
            {**counts, "meeting_date": day} for day, counts in self._quarter(marac, quarter.label)
        ]

    def _quarter(self, marac: str, label: str) -> list[tuple[date, dict[str, int | None]]]:
        found = self._quarters.get((marac, label)) if self.kept else None
        if found is None:
            rows = self.session.execute(_QUARTER, {"marac": marac, "label": label})
            found = [(day, dict(zip(COUNT_KEYS, counts, strict=True))) for day, *counts in rows]
            if self.kept:
                self._quarters[(marac, label)] = found
        return found


# A Marac-quarter's current figures by meeting date: the columns only, not MeetingVersion
# objects (41 attributes each, into the session's identity map), and the statement built
# once. Every file with rows asks it (issue 14).
_QUARTER = (
    select(_MEETINGS.c.meeting_date, *(_VERSIONS.c[key] for key in COUNT_KEYS))
    .join(_VERSIONS, _VERSIONS.c.meeting_id == _MEETINGS.c.id)
    .join(_MARACS, _MEETINGS.c.marac_id == _MARACS.c.id)
    .where(_VERSIONS.c.is_current.is_(True), _MARACS.c.name == bindparam("marac"),
           _MEETINGS.c.quarter == bindparam("label"))
    .order_by(_MEETINGS.c.meeting_date)
)


def validation_context(
    session: Session,
    *,
    today: date,
    sender: str | ContactSenderView | None = None,
    declared_quarter: Quarter | None = None,
    bands: Bands | None = None,
    max_file_bytes: int | None = None,
) -> ValidationContext:
    """A ValidationContext backed by this session: the registry (loaded now), the sender's
    rights and the stored meetings. ``sender``: an email address, looked up now, or the view
    of a sender already looked up in this session. ``sender=None`` (``marac-bot validate``)
    checks no rights; an unregistered sender may submit for no Marac."""
    optional: dict[str, Any] = {}
    if bands is not None:
        optional["bands"] = bands
    if max_file_bytes is not None:
        optional["max_file_bytes"] = max_file_bytes
    return ValidationContext(
        today=today,
        declared_quarter=declared_quarter,
        registry=DbRegistryView.load(session),
        sender=_sender(session, sender),
        stored=DbStoredMeetings(session, kept=True),
        **optional,
    )


def _sender(session: Session, sender: str | ContactSenderView | None
            ) -> ContactSenderView | None:
    if isinstance(sender, ContactSenderView):
        return sender
    if not sender:
        return None
    return sender_view(session, sender) or nobody(sender)
