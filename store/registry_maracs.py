"""Importing Maracs: check every row against the file and the registry, then upsert by name.

A row updates the Marac whose name matches it (ignoring case, punctuation, "&"/"and"), or adds
one. Columns left out of the header keep their stored values; a blank cell clears the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel import wording
from store.models import Marac
from store.names import NameIndex, name_key, split_list
from store.places import Places
from store.registry_csv import CsvTable, RegistryError

_NUMBER = re.compile(r"\d{1,3}(?:[, ]\d{3})+|\d+")


@dataclass(frozen=True)
class MaracRow:
    row: int
    name: str
    values: dict[str, Any]  # only the columns present in the file


def check_maracs(session: Session, table: CsvTable) -> tuple[list[MaracRow], list[RegistryError]]:
    """Every row parsed and checked; nothing is written."""
    rows: list[MaracRow] = []
    errors: list[RegistryError] = []
    places = Places.load()
    for number, cells in table.rows:
        row_errors = [*_cell_errors(number, cells), *_place_errors(number, cells, places)]
        errors.extend(row_errors)
        if not row_errors:
            rows.append(MaracRow(number, cells["name"], _values(table, cells)))
    errors.extend(_name_clashes(session, rows))
    return rows, errors


def _cell_errors(number: int, cells: dict[str, str]) -> Iterator[RegistryError]:
    for column in ("name", "police_force_area", "region", "nation"):
        if not cells.get(column):
            yield RegistryError.make(number, "registry-blank", column=column)
    if ";" in cells.get("name", ""):
        yield RegistryError.make(number, "registry-semicolon", column="name", value=cells["name"])
    elif cells.get("name") and not name_key(cells["name"]):
        yield RegistryError.make(number, "registry-empty-name", column="name", value=cells["name"])
    population = cells.get("adult_female_population", "")
    if population and not _NUMBER.fullmatch(population):
        yield RegistryError.make(
            number, "registry-bad-number", column="adult_female_population", value=population
        )


def _place_errors(number: int, cells: dict[str, str], places: Places) -> Iterator[RegistryError]:
    """Nation, region and police force area against the shipped lists (store/places.py);
    a match is written back in the list's spelling, so one area is one name everywhere."""
    given = {c: cells.get(c, "") for c in ("nation", "region", "police_force_area")}
    nation = places.nation(given["nation"]) if given["nation"] else None
    region = places.region(given["region"]) if given["region"] else None
    force = places.force(given["police_force_area"]) if given["police_force_area"] else None
    lists = (
        ("nation", nation, places.nations),
        ("region", region, places.regions),
        ("police_force_area", force, places.forces),
    )
    for column, found, index in lists:
        if given[column] and found is None:
            yield RegistryError.make(
                number,
                f"registry-unknown-{column.replace('_', '-')}",
                column=column,
                value=given[column],
                suggestion=wording.did_you_mean(index.suggest(given[column])),
            )
    if nation is None:
        return
    cells["nation"] = nation.value
    if region is not None:
        cells["region"] = region
        if places.nation_of_region(region) is not nation:
            yield RegistryError.make(
                number,
                "registry-region-nation",
                column="region",
                value=region,
                nation=nation.value,
                where=places.nation_of_region(region).value,
            )
    if force is not None:
        cells["police_force_area"] = force.name
        if nation not in force.nations:
            yield RegistryError.make(
                number,
                "registry-force-nation",
                column="police_force_area",
                value=force.name,
                nation=nation.value,
            )


def _values(table: CsvTable, cells: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": cells["name"],
        "police_force_area": cells["police_force_area"],
        "region": cells["region"],
        "nation": cells["nation"],
    }
    for column in ("aliases", "local_authorities"):
        if table.has(column):
            values[column] = split_list(cells[column])
    if table.has("adult_female_population"):
        raw = re.sub(r"[, ]", "", cells["adult_female_population"])
        values["adult_female_population"] = int(raw) if raw else None
    return values


def _name_clashes(session: Session, rows: list[MaracRow]) -> list[RegistryError]:
    """Names and aliases must mean one Marac each, after the import as before it."""
    updated = {name_key(r.name) for r in rows}
    index: NameIndex[int] = NameIndex()
    for marac in session.scalars(select(Marac).order_by(Marac.name)):
        if marac.name_key not in updated:
            index.add(marac.name, 0, marac.aliases)
    errors: list[RegistryError] = []
    first_row: dict[str, int] = {}
    stored_aliases = _stored_aliases(session)
    for row in rows:
        key = name_key(row.name)
        if key in first_row:
            errors.append(
                RegistryError.make(
                    row.row,
                    "registry-duplicate-row",
                    column="name",
                    value=row.name,
                    other=first_row[key],
                )
            )
            continue
        first_row[key] = row.row
        aliases = row.values.get("aliases", stored_aliases.get(key, []))
        for clash in index.add(row.name, row.row, aliases):
            errors.append(
                RegistryError.make(
                    row.row,
                    "registry-name-clash",
                    column="name" if name_key(clash) == key else "aliases",
                    value=clash,
                    other=index.owner(clash),
                )
            )
    return errors


def _stored_aliases(session: Session) -> dict[str, list[str]]:
    return {m.name_key: list(m.aliases) for m in session.scalars(select(Marac))}


def apply_maracs(session: Session, rows: list[MaracRow], *, demo: bool) -> tuple[int, int]:
    """Upsert checked rows; returns (inserted, updated)."""
    existing = {m.name_key: m for m in session.scalars(select(Marac))}
    inserted = updated = 0
    for row in rows:
        key = name_key(row.name)
        marac = existing.get(key)
        if marac is None:
            marac = Marac(name_key=key, aliases=[], local_authorities=[])
            session.add(marac)
            existing[key] = marac
            inserted += 1
        else:
            updated += 1
        for column, value in row.values.items():
            setattr(marac, column, value)
        marac.is_demo = demo
        marac.retired_at = None  # listed again: back in service
    session.flush()
    return inserted, updated
