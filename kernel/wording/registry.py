"""Registry import and export, for the operator and the data team."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from kernel.wording.common import and_list, fill, plural

# ---------------------------------------------------------------------------------------------
# Registry import and export (store/registry*.py; `marac-bot registry import`): row-numbered
# problems in a Maracs or contacts CSV file, and the one-line outcome. Row 1 is the header.
# ---------------------------------------------------------------------------------------------

REGISTRY_ERRORS: dict[str, str] = {
    "registry-header": "the header is neither a Maracs file ({maracs}) nor a contacts file "
    "({contacts}).",
    "registry-duplicate-column": "the column {column} appears more than once.",
    "registry-unknown-column": "{column!r} is not a column of a {kind} file.",
    "registry-missing-column": "a {kind} file needs a {column} column.",
    "registry-extra-cells": "this row has more cells than the header has columns.",
    "registry-blank": "{column} is blank.",
    "registry-semicolon": "the name {value!r} contains ';', which separates names in lists.",
    "registry-empty-name": "the name {value!r} has no letters or digits.",
    "registry-bad-number": "{column} must be a whole number, not {value!r}.",
    "registry-duplicate-row": "{value!r} is already in row {other} of this file.",
    "registry-name-clash": "{value!r} is already a name or alias of {other}.",
    "registry-bad-email": "{value!r} is not an email address.",
    "registry-bad-role": "role must be one of {roles}, not {value!r}.",
    "registry-bad-channel": "channels may be {channels}, not {value!r}.",
    "registry-channel-needs-id": "the {value} channel needs a {id_column}.",
    "registry-no-maracs": "a {role} must list at least one Marac in maracs.",
    "registry-scope-not-allowed": "{value!r} is a region, a police force area or '*'; only a "
    "manager or admin may list one. List this {role}'s Maracs by name.",
    "registry-unknown-marac": "{value!r} is not a Marac in the registry.{suggestion}",
    "registry-unknown-scope": "{value!r} is not a Marac, region or police force area in the "
    "registry.{suggestion}",
    "registry-taken-id": "{column} {value!r} already belongs to {other}.",
    "registry-unknown-nation": "{value!r} is not a nation: use England, Wales, Scotland or "
    "Northern Ireland.{suggestion}",
    "registry-unknown-region": "{value!r} is not a region: use an English region (North East, "
    "North West, Yorkshire and the Humber, East Midlands, West Midlands, East of England, "
    "London, South East, South West) or Wales, Scotland or Northern Ireland.{suggestion}",
    "registry-unknown-police-force-area": "{value!r} is not a police force area: use one of the "
    "43 forces of England and Wales, Police Scotland, the Police Service of Northern Ireland "
    "or British Transport Police.{suggestion}",
    "registry-region-nation": "the region {value} is in {where}, not {nation}.",
    "registry-force-nation": "{value} does not police {nation}.",
}


def registry_error(code: str, **params: Any) -> str:
    """The message of a registry import problem; missing parameters render blank."""
    return fill(REGISTRY_ERRORS[code], params)


def registry_error_line(row: int, message: str) -> str:
    return f"Row {row}: {message}"


def registry_import_summary(kind: str, inserted: int, updated: int) -> str:
    """ "Imported 33 Maracs: 30 new, 3 updated." """
    noun = "Marac" if kind == "maracs" else "contact"
    return f"Imported {plural(inserted + updated, noun)}: {inserted} new, {updated} updated."


def registry_import_failed(lines: Sequence[str]) -> str:
    """The problems of a refused import, one per line, after a line saying nothing changed."""
    head = f"Nothing was imported: {plural(len(lines), 'problem')} to fix first."
    return "\n".join([head, *lines])


def demo_replaced(
    maracs: int, contacts: int, submissions: int, meetings: int, unsent: int = 0
) -> str:
    """The line saying a real registry replaced the demo one, and what went with it."""
    data = (
        f", and their {plural(submissions, 'demo submission')} ({plural(meetings, 'meeting')})"
        if submissions or meetings
        else ""
    )
    return (
        f"Demo mode is over: removed the DEMO registry's {plural(maracs, 'Marac')} and "
        f"{plural(contacts, 'contact')}{data}."
        + (
            f" {plural(unsent, 'message')} queued for demo contacts will not be sent."
            if unsent
            else ""
        )
    )


def demo_contacts_kept(contacts: int, unlinked: Sequence[tuple[str, str]]) -> str:
    """The contacts imported while the demo was in use, kept when it went."""
    kept = (f"Kept {plural(contacts, 'contact')} imported while the demo was in use, linked "
            "to the new Maracs of the names they had.")
    if not unlinked:
        return kept
    lost = and_list([f"{email} ({name})" for email, name in unlinked])
    return f"{kept} No Marac of that name in this file, so no longer linked: {lost}."


def registry_retired(kind: str, names: Sequence[str]) -> str:
    """ "Retired 2 Maracs no longer listed (their data is kept): Barnet, Brent." """
    noun = "Marac" if kind == "maracs" else "contact"
    return (
        f"Retired {plural(len(names), noun)} no longer listed (their data is kept): "
        f"{and_list(list(names))}."
    )


DEMO_IN_USE = (
    "DEMO registry in use: the Maracs and contacts (at example.org) are made up, and any "
    "figures are demo figures. Start for real with `marac-bot registry import maracs.csv` "
    "(it replaces the demo registry and its data), then import your contacts."
)


def tracking_from(quarter: str, range_text: str, created_on: date | None) -> str:
    """What `marac-bot run` says at start about the first quarter it chases."""
    if created_on is None:
        return f"Chasing uploads from {quarter} ({range_text}) on, as MARAC_TRACK_FROM says."
    return (
        f"Chasing uploads from {quarter} ({range_text}) on: the first quarter ending after this "
        f"store was created ({created_on.day} {created_on:%b %Y}). Earlier quarters were "
        "collected before the bot and are never chased; set MARAC_TRACK_FROM to start "
        "elsewhere."
    )


DEMO_MARACS_FIRST = (
    "The DEMO registry is still in use: import your Maracs file first (it replaces the demo "
    "registry), then this contacts file."
)
