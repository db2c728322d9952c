"""Leaving demo mode: the first real registry replaces the demo one (issue 13).

The demo registry (London's Maracs, contacts at example.org) lets an operator try the bot.
Once a real registry arrives, everything that belongs to the demo goes, in the import's own
transaction: the demo Maracs, the demo contacts, the meetings of demo Maracs and the
submissions that only ever concerned the demo (sent by a demo contact, or giving figures for
a demo Marac). A submission that also gave figures for a real Marac is kept.

Rows are removed with whatever refers to them, found from the table metadata rather than a
fixed list, so a table added later that points at a submission or a meeting cannot make the
removal fail halfway.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.orm import Session

from store.all_models import metadata
from store.models import (
    Contact,
    HeldChange,
    Marac,
    Meeting,
    MeetingVersion,
    Submission,
    contact_maracs,
)
from store.names import NameIndex
from store.queue import OutboundItem, QueueStatus

DEMO_UNSENT = "not sent: the demo registry was replaced by a real one"


@dataclass(frozen=True)
class DemoRemoved:
    """What leaving demo mode removed."""

    maracs: int
    contacts: int
    submissions: int
    meetings: int
    unsent: int = 0  # queued messages to demo contacts, kept as failed and never sent
    # Real contacts (imported by the operator while the demo was in use) linked to demo
    # Maracs: they stay, and are linked again by name once the real Maracs are in (relink).
    kept_links: dict[int, list[str]] = field(default_factory=dict)

    @property
    def anything(self) -> bool:
        return bool(self.maracs or self.contacts)


def remove_demo(session: Session) -> DemoRemoved:
    """Remove the demo registry and its data; nothing if no demo entry is registered."""
    marac_ids = set(session.scalars(select(Marac.id).where(Marac.is_demo.is_(True))))
    kept_links = _real_links(session, marac_ids)
    demo_contacts = select(Contact.id, Contact.email).where(Contact.is_demo.is_(True))
    contacts: dict[int, str] = {row.id: row.email for row in session.execute(demo_contacts)}
    meeting_ids = set(session.scalars(select(Meeting.id).where(Meeting.marac_id.in_(marac_ids))))
    submission_ids = _demo_submissions(session, meeting_ids, contacts.values())
    tables = metadata.tables
    # Submissions first: their versions go with them; then what is left on demo meetings.
    _delete_with_dependants(session, tables[Submission.__tablename__], submission_ids)
    _delete_with_dependants(session, tables[Meeting.__tablename__], meeting_ids)
    _delete_with_dependants(session, tables[Marac.__tablename__], marac_ids)
    _delete_with_dependants(session, tables[Contact.__tablename__], set(contacts))
    unsent = _stop_unsent(session, contacts.values())
    session.expire_all()  # the ORM's copies of removed rows must not be flushed back
    return DemoRemoved(len(marac_ids), len(contacts), len(submission_ids), len(meeting_ids),
                       unsent, kept_links)


def _real_links(session: Session, marac_ids: set[int]) -> dict[int, list[str]]:
    """The demo Maracs each real contact is linked to, by name: the links go with the demo
    Maracs, the contacts do not."""
    links = (select(contact_maracs.c.contact_id, Marac.name)
             .join(Marac, Marac.id == contact_maracs.c.marac_id)
             .join(Contact, Contact.id == contact_maracs.c.contact_id)
             .where(Marac.id.in_(sorted(marac_ids)), Contact.is_demo.is_(False))
             .order_by(Marac.name))
    found: dict[int, list[str]] = {}
    for contact_id, name in session.execute(links):
        found.setdefault(contact_id, []).append(name)
    return found


@dataclass(frozen=True)
class Relinked:
    """How many real contacts leaving demo mode kept (every one: those with demo Maracs and
    those with none, an admin), and the Marac names not found again."""

    contacts: int
    unlinked: list[tuple[str, str]]  # (email, the demo Marac's name), sorted


def relink(session: Session, kept_links: dict[int, list[str]]) -> Relinked:
    """Link the real contacts again to the active Maracs of the names they had in the demo
    (names and aliases match as in any file): contacts imported for Croydon while the demo
    was in use are Croydon's once the real Croydon is imported. They used to be removed with
    the demo, unsaid."""
    index: NameIndex[Marac] = NameIndex()
    for active in session.scalars(select(Marac).where(Marac.retired_at.is_(None))):
        index.add(active.name, active, active.aliases)
    unlinked: list[tuple[str, str]] = []
    for contact_id, names in kept_links.items():
        contact = session.get_one(Contact, contact_id)
        for name in names:
            marac = index.get(name)
            if marac is None:
                unlinked.append((contact.email, name))
            elif marac not in contact.maracs:
                contact.maracs.append(marac)
    session.flush()
    kept = session.scalar(select(func.count()).select_from(Contact)
                          .where(Contact.is_demo.is_(False))) or 0
    return Relinked(kept, sorted(unlinked))


def _stop_unsent(session: Session, emails: Collection[str]) -> int:
    """Messages still queued for demo addresses (reminders to example.org) are never sent:
    kept as failed, with the reason, for an operator to see."""
    waiting = select(OutboundItem.id).where(
        OutboundItem.status == QueueStatus.QUEUED.value,
        OutboundItem.recipient.in_(sorted(emails)),
    )
    ids = list(session.scalars(waiting))
    if ids:
        session.execute(
            update(OutboundItem)
            .where(OutboundItem.id.in_(ids))
            .values(status=QueueStatus.FAILED.value, last_error=DEMO_UNSENT)
        )
    return len(ids)


def _demo_submissions(session: Session, meeting_ids: set[int], emails: Collection[str]) -> set[int]:
    """Submissions from demo senders or about demo meetings, unless they touched real ones."""
    about_demo = set(
        session.scalars(
            select(MeetingVersion.submission_id).where(MeetingVersion.meeting_id.in_(meeting_ids))
        )
    )
    about_demo |= set(
        session.scalars(
            select(HeldChange.submission_id).where(HeldChange.meeting_id.in_(meeting_ids))
        )
    )
    from_demo = set(session.scalars(select(Submission.id).where(Submission.sender.in_(emails))))
    candidates = about_demo | from_demo
    touching_real = set(
        session.scalars(
            select(MeetingVersion.submission_id).where(
                MeetingVersion.submission_id.in_(candidates),
                MeetingVersion.meeting_id.not_in(meeting_ids),
            )
        )
    )
    touching_real |= set(
        session.scalars(
            select(HeldChange.submission_id).where(
                HeldChange.submission_id.in_(candidates), HeldChange.meeting_id.not_in(meeting_ids)
            )
        )
    )
    return candidates - touching_real


def _delete_with_dependants(session: Session, table: Table, ids: set[int]) -> None:
    """Delete rows of ``table`` by id after every row that refers to them, depth first."""
    if not ids:
        return
    for other in metadata.sorted_tables:
        for fk in other.foreign_keys:
            if fk.column.table is not table or other is table:
                continue
            where = fk.parent.in_(sorted(ids))
            if "id" in other.c and list(other.primary_key.columns) == [other.c.id]:
                child_ids = set(session.scalars(select(other.c.id).where(where)))
                _delete_with_dependants(session, other, child_ids)
            else:  # an association table (contact_maracs): nothing refers to its rows
                session.execute(delete(other).where(where))
    session.execute(delete(table).where(table.c.id.in_(sorted(ids))))
