"""Importing contacts: check every row against the file and the registry, then upsert by email.

``maracs`` lists Marac names (names and aliases match loosely). A manager or admin may list a
region, a police force area or ``*`` instead; a coordinator or chair may not. Columns left out of
the header keep their stored values. A retired Marac is taken only for a contact already
linked to it: export lists such links, and its file must import again unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel import wording
from store.models import Contact, Marac, Role
from store.names import NameIndex, name_key, split_list
from store.places import Places
from store.registry_csv import CsvTable, RegistryError

CHANNELS = ("email", "slack", "teams")
CHANNEL_ID_COLUMN = {"slack": "slack_user_id", "teams": "teams_id"}
ALL = "*"
_EMAIL = re.compile(r"[^@\s;,<>\"]+@[^@\s;,<>\".]+(?:\.[^@\s;,<>\".]+)+")
_SCOPED_ROLES = (Role.MANAGER.value, Role.ADMIN.value)


@dataclass
class ContactRow:
    row: int
    email: str
    values: dict[str, Any]
    maracs: list[Marac] = field(default_factory=list)
    scopes: list[str] = field(default_factory=list)


@dataclass
class _Registry:
    """What a contact's ``maracs`` cell may name."""

    maracs: NameIndex[Marac]
    regions: dict[str, str]  # key -> the registry's spelling
    areas: dict[str, str]
    places: Places  # the shipped lists, for the other spellings of a region or force area
    # Retired Maracs by the emails of the contacts still linked to them: export lists those
    # links (their data is kept), so importing the export must take them back.
    kept_links: dict[str, NameIndex[Marac]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> _Registry:
        index: NameIndex[Marac] = NameIndex()
        regions: dict[str, str] = {}
        areas: dict[str, str] = {}
        active = select(Marac).where(Marac.retired_at.is_(None)).order_by(Marac.name)
        for marac in session.scalars(active):
            index.add(marac.name, marac, marac.aliases)
            regions.setdefault(name_key(marac.region), marac.region)
            areas.setdefault(name_key(marac.police_force_area), marac.police_force_area)
        return cls(index, regions, areas, Places.load(), _retired_links(session))

    def marac(self, item: str, email: str) -> Marac | None:
        """The active Marac ``item`` names, or a retired one this contact is linked to."""
        found = self.maracs.get(item)
        if found is None and email in self.kept_links:
            found = self.kept_links[email].get(item)
        return found

    def scope(self, item: str, *, other_spellings: bool = True) -> str | None:
        """The region or force area ``item`` names (or ``*``). ``other_spellings``: also as
        the shipped lists spell it; not when a Marac has that name ("Kent" is a Marac before
        it is Kent Police), as before those spellings were read here."""
        if item == ALL:
            return ALL
        found = self._stored(item)
        if found is None and other_spellings:
            found = self._stored(self.places.region(item)) or self._stored(self._force(item))
        return found

    def _stored(self, item: str | None) -> str | None:
        """The registry's spelling of a region or area named ``item``."""
        if item is None:
            return None
        key = name_key(item)
        return self.regions.get(key) or self.areas.get(key)

    def _force(self, item: str) -> str | None:
        """The force area ``item`` means in the shipped list, matched as a Maracs file's cell
        is (store.registry_maracs): a spelling accepted there, and stored in the list's
        spelling ("West Yorkshire" as "West Yorkshire Police"), is accepted here too."""
        force = self.places.force(item)
        return None if force is None else force.name

    def suggest(self, item: str) -> str:
        return wording.did_you_mean(self.maracs.suggest(item))


def _retired_links(session: Session) -> dict[str, NameIndex[Marac]]:
    """For each contact linked to a retired Marac, those Maracs by name and alias."""
    links = (select(Contact.email, Marac).join(Contact.maracs)
             .where(Marac.retired_at.is_not(None)).order_by(Marac.name))
    found: dict[str, NameIndex[Marac]] = {}
    for email, marac in session.execute(links):
        found.setdefault(email, NameIndex()).add(marac.name, marac, marac.aliases)
    return found


def check_contacts(
    session: Session, table: CsvTable
) -> tuple[list[ContactRow], list[RegistryError]]:
    """Every row parsed and checked; nothing is written."""
    registry = _Registry.load(session)
    rows: list[ContactRow] = []
    errors: list[RegistryError] = []
    first_row: dict[str, int] = {}
    for number, cells in table.rows:
        row = ContactRow(number, cells["email"].lower(), _values(table, cells))
        row_errors = [*_cell_errors(row, cells), *_resolve_maracs(row, cells, registry)]
        if row.email in first_row:
            row_errors.append(
                RegistryError.make(
                    number,
                    "registry-duplicate-row",
                    column="email",
                    value=row.email,
                    other=first_row[row.email],
                )
            )
        first_row.setdefault(row.email, number)
        errors.extend(row_errors)
        if not row_errors:
            rows.append(row)
    errors.extend(_id_clashes(session, rows))
    return rows, errors


def _values(table: CsvTable, cells: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {"name": cells["name"], "role": cells["role"].lower()}
    for column in ("slack_user_id", "teams_id"):
        if table.has(column):
            values[column] = cells[column] or None
    if table.has("channels"):
        values["channels"] = [c.lower() for c in split_list(cells["channels"])] or ["email"]
    return values


def _cell_errors(row: ContactRow, cells: dict[str, str]) -> Iterator[RegistryError]:
    for column in ("name", "email", "role"):
        if not cells.get(column):
            yield RegistryError.make(row.row, "registry-blank", column=column)
    if cells["email"] and not _EMAIL.fullmatch(row.email):
        yield RegistryError.make(
            row.row, "registry-bad-email", column="email", value=cells["email"]
        )
    role = row.values["role"]
    if role and role not in {r.value for r in Role}:
        yield RegistryError.make(
            row.row,
            "registry-bad-role",
            column="role",
            value=cells["role"],
            roles="|".join(r.value for r in Role),
        )
    for channel in row.values.get("channels", []):
        if channel not in CHANNELS:
            yield RegistryError.make(
                row.row,
                "registry-bad-channel",
                column="channels",
                value=channel,
                channels=";".join(CHANNELS),
            )
        elif channel in CHANNEL_ID_COLUMN and not row.values.get(CHANNEL_ID_COLUMN[channel]):
            yield RegistryError.make(
                row.row,
                "registry-channel-needs-id",
                column="channels",
                value=channel,
                id_column=CHANNEL_ID_COLUMN[channel],
            )


def _resolve_maracs(
    row: ContactRow, cells: dict[str, str], registry: _Registry
) -> Iterator[RegistryError]:
    """Fill ``row.maracs`` and ``row.scopes`` from the cell; yield what does not resolve."""
    role = row.values["role"]
    items = split_list(cells["maracs"])
    if not items and role in (Role.COORDINATOR.value, Role.CHAIR.value, Role.MANAGER.value):
        yield RegistryError.make(row.row, "registry-no-maracs", column="maracs", role=role)
    for item in items:
        marac = registry.marac(item, row.email)
        scope = registry.scope(item, other_spellings=marac is None)
        if role in _SCOPED_ROLES and scope is not None:
            row.scopes.append(scope)
        elif marac is not None:
            if marac not in row.maracs:
                row.maracs.append(marac)
        elif scope is not None:
            yield RegistryError.make(
                row.row, "registry-scope-not-allowed", column="maracs", value=item, role=role
            )
        else:
            code = "registry-unknown-scope" if role in _SCOPED_ROLES else "registry-unknown-marac"
            yield RegistryError.make(
                row.row, code, column="maracs", value=item, suggestion=registry.suggest(item)
            )


def _id_clashes(session: Session, rows: list[ContactRow]) -> Iterator[RegistryError]:
    """A Slack or Teams id names one person: check the registry as it will be after import."""
    stored = {c.email: c for c in session.scalars(select(Contact))}
    for column in CHANNEL_ID_COLUMN.values():
        final = {email: getattr(c, column) for email, c in stored.items()}
        final.update({r.email: r.values[column] for r in rows if column in r.values})
        owners: dict[str, list[str]] = {}
        for email, value in final.items():
            if value:
                owners.setdefault(value, []).append(email)
        for row in rows:
            value = row.values.get(column)
            others = [e for e in owners.get(value or "", []) if e != row.email]
            if value and others:
                yield RegistryError.make(
                    row.row, "registry-taken-id", column=column, value=value, other=others[0]
                )


def apply_contacts(session: Session, rows: list[ContactRow], *, demo: bool) -> tuple[int, int]:
    """Upsert checked rows by email; returns (inserted, updated)."""
    existing = {c.email: c for c in session.scalars(select(Contact))}
    inserted = updated = 0
    # Clear moved ids first so a swap of Slack ids between two people does not trip the
    # unique constraint halfway through the flush.
    for row in rows:
        contact = existing.get(row.email)
        for column in CHANNEL_ID_COLUMN.values():
            if contact is not None and column in row.values:
                setattr(contact, column, None)
    session.flush()
    for row in rows:
        contact = existing.get(row.email)
        if contact is None:
            # A contact is the demo's only if it came with it: one the operator adds while
            # the demo is in use is real, and stays when the demo goes.
            contact = Contact(email=row.email, channels=["email"], scopes=[], is_demo=demo)
            session.add(contact)
            existing[row.email] = contact
            inserted += 1
        else:
            updated += 1
        for column, value in row.values.items():
            setattr(contact, column, value)
        contact.maracs = row.maracs
        contact.scopes = row.scopes
        contact.retired_at = None  # listed again: back in service
    session.flush()
    return inserted, updated
