"""The registry's outside: CSV import (atomic, row-numbered errors) and export, the packaged
demo registry, and finding a contact by email, Slack or Teams id.

File formats are interface.md's: the header decides whether a file holds Maracs or contacts,
and ``;`` separates list items inside a cell.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from sqlalchemy import Select, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from kernel import wording
from store.models import Contact, Marac
from store.names import join_list
from store.registry_contacts import apply_contacts, check_contacts
from store.registry_csv import CONTACT_COLUMNS, MARAC_COLUMNS, RegistryError, read_table
from store.registry_demo import DemoRemoved, Relinked, relink, remove_demo
from store.registry_maracs import apply_maracs, check_maracs
from store.types import utcnow

logger = logging.getLogger(__name__)


@dataclass
class ImportResult:
    """What an import did, or, when ``errors`` is not empty, why it did nothing."""

    kind: str | None  # "maracs" | "contacts" | None when the header was not recognised
    inserted: int = 0
    updated: int = 0
    errors: list[RegistryError] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)  # names or emails no longer listed
    demo_removed: DemoRemoved | None = None  # the demo registry this import replaced
    relinked: Relinked | None = None  # real contacts kept through leaving demo mode
    demo_hint: bool = False  # contacts naming unknown Maracs while the demo is in use

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        """The line an operator reads, or the error list."""
        if self.errors:
            failed = wording.registry_import_failed([str(e) for e in self.errors])
            return f"{failed}\n{wording.DEMO_MARACS_FIRST}" if self.demo_hint else failed
        lines = [wording.registry_import_summary(self.kind or "", self.inserted, self.updated)]
        if self.demo_removed is not None:
            removed = self.demo_removed
            lines.insert(
                0,
                wording.demo_replaced(
                    removed.maracs,
                    removed.contacts,
                    removed.submissions,
                    removed.meetings,
                    removed.unsent,
                ),
            )
        if self.relinked is not None and self.relinked.contacts:
            lines.insert(1, wording.demo_contacts_kept(self.relinked.contacts,
                                                       self.relinked.unlinked))
        if self.retired:
            lines.append(wording.registry_retired(self.kind or "", self.retired))
        return "\n".join(lines)


def import_csv(
    session: Session, source: Path | str, *, demo: bool = False, replace: bool = False
) -> ImportResult:
    """Upsert Maracs (by name) or contacts (by email) from a CSV file (``Path``) or CSV text.

    Every row is checked before anything is written; on any error nothing is imported and the
    result lists every problem with its row number. Writes happen in the caller's transaction
    (flushed, not committed). ``demo`` marks what is written as the demo registry.

    A real Maracs file imported while the demo registry is in use replaces it (remove_demo),
    in the same transaction. Contacts imported while the demo is in use are real ones (they
    may name its Maracs): they stay when it goes, linked again to the real Maracs of the same
    names (relink); they used to join the demo and go with it, unsaid. ``replace``: the file
    is the whole registry of its kind, and entries it does not list are retired, their data
    kept.
    """
    table = read_table(source)
    result = ImportResult(table.kind, errors=list(table.errors))
    if table.kind is None or any(e.row == 1 for e in table.errors):
        return result  # without a usable header the rows cannot be read
    in_demo = not demo and is_demo_registry(session)
    savepoint = session.begin_nested()  # undoes the demo's removal if the rows are refused
    if in_demo and table.kind == "maracs":
        result.demo_removed = remove_demo(session)
    if table.kind == "maracs":
        marac_rows, errors = check_maracs(session, table)
        if not errors and not result.errors:
            result.inserted, result.updated = apply_maracs(session, marac_rows, demo=demo)
            if result.demo_removed is not None:
                result.relinked = relink(session, result.demo_removed.kept_links)
            if replace:
                result.retired = _retire(session, Marac, {m.name for m in marac_rows})
    else:
        contact_rows, errors = check_contacts(session, table)
        if not errors and not result.errors:
            result.inserted, result.updated = apply_contacts(session, contact_rows, demo=demo)
            if replace:
                result.retired = _retire(session, Contact, {c.email for c in contact_rows})
    result.errors = sorted([*result.errors, *errors], key=lambda e: e.row)
    if result.errors:
        savepoint.rollback()
        result.demo_removed = result.relinked = None
        # Contacts for real Maracs sent before the Maracs file: say which file comes first.
        result.demo_hint = in_demo and any(e.code == "registry-unknown-marac" for e in errors)
    else:
        savepoint.commit()
    return result


def _retire(session: Session, model: type[Marac] | type[Contact], listed: set[str]) -> list[str]:
    """Retire the active entries a full registry file does not list; their names, sorted."""
    if model is Marac:
        query = select(Marac).where(Marac.retired_at.is_(None), Marac.name.not_in(listed))
        maracs = list(session.scalars(query))
        _stamp(session, maracs)
        return sorted(m.name for m in maracs)
    query_c = select(Contact).where(Contact.retired_at.is_(None), Contact.email.not_in(listed))
    contacts = list(session.scalars(query_c))
    _stamp(session, contacts)
    return sorted(c.email for c in contacts)


def _stamp(session: Session, entries: Sequence[Marac | Contact]) -> None:
    now = utcnow()
    for entry in entries:
        entry.retired_at = now
    session.flush()


def export_csv(session: Session, directory: Path) -> tuple[Path, Path]:
    """Write ``maracs.csv`` and ``contacts.csv`` into ``directory``, in the import formats."""
    directory.mkdir(parents=True, exist_ok=True)
    maracs_path, contacts_path = directory / "maracs.csv", directory / "contacts.csv"
    with maracs_path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(MARAC_COLUMNS)
        writer.writerows(
            _marac_cells(m)
            for m in session.scalars(
                select(Marac).where(Marac.retired_at.is_(None)).order_by(Marac.name)
            )
        )
    contacts = (
        select(Contact)
        .where(Contact.retired_at.is_(None))
        .options(selectinload(Contact.maracs))
        .order_by(Contact.email)
    )
    with contacts_path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(CONTACT_COLUMNS)
        writer.writerows(_contact_cells(c) for c in session.scalars(contacts))
    return maracs_path, contacts_path


def _marac_cells(marac: Marac) -> list[str]:
    population = marac.adult_female_population
    return [
        marac.name,
        join_list(marac.aliases),
        marac.police_force_area,
        marac.region,
        marac.nation,
        join_list(marac.local_authorities),
        "" if population is None else str(population),
    ]


def _contact_cells(contact: Contact) -> list[str]:
    return [
        contact.name,
        contact.email,
        contact.role,
        join_list([*contact.scopes, *(m.name for m in contact.maracs)]),
        contact.slack_user_id or "",
        contact.teams_id or "",
        join_list(contact.channels),
    ]


def is_registry_empty(session: Session) -> bool:
    """True when there is no Marac and no contact."""
    return not session.scalar(select(exists().where(Marac.id.is_not(None)))) and not (
        session.scalar(select(exists().where(Contact.id.is_not(None))))
    )


def is_demo_registry(session: Session) -> bool:
    """True while any demo Marac is registered: say so wherever the registry shows."""
    return bool(session.scalar(select(exists().where(Marac.is_demo.is_(True)))))


def load_demo_registry(session: Session) -> bool:
    """Load the packaged demo registry (London's 33 Maracs, contacts at example.org) into an
    empty registry; returns False and changes nothing if the registry has anything in it.

    Two processes starting at once may both see an empty registry: the loser's insert hits
    the unique names at the savepoint, and it reports False instead of failing.
    """
    if not is_registry_empty(session):
        return False
    demo = resources.files("store.demo")
    try:
        with session.begin_nested():
            for name in ("maracs.csv", "contacts.csv"):
                result = import_csv(session, demo.joinpath(name).read_text("utf-8"), demo=True)
                if not result.ok:
                    raise RuntimeError(f"the packaged demo {name} is broken: {result.summary()}")
    except IntegrityError:
        logger.info("another process loaded the demo registry first")
        return False
    logger.info("loaded the DEMO registry: %s", wording.demo_label())
    return True


def find_contact(session: Session, email: str) -> Contact | None:
    """The contact with this email address (any case), or None; a retired one is None."""
    return session.scalar(_active_contacts().where(Contact.email == email.strip().lower()))


def find_contact_by_slack(session: Session, slack_user_id: str) -> Contact | None:
    return session.scalar(_active_contacts().where(Contact.slack_user_id == slack_user_id))


def find_contact_by_teams(session: Session, teams_id: str) -> Contact | None:
    return session.scalar(
        _active_contacts().where(func.lower(Contact.teams_id) == teams_id.lower())
    )


def _active_contacts() -> Select[Contact]:
    """Contacts not retired: a retired contact is no longer a sender we know."""
    return select(Contact).where(Contact.retired_at.is_(None))
