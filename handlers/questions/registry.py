"""The registry as questions see it: every Marac (one query, about 290 rows) with the regions,
police force areas and nations they make up, and "did you mean" over all of those names."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process, utils
from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from handlers.questions.model import Area
from handlers.questions.places import NATIONAL_PHRASES, known_areas
from store.models import Marac
from store.names import name_key

# A suggestion this close is offered even when a question does not need a name.
STRONG_SUGGESTION = 85.0
# Below this it is noise rather than help (store.names uses the same cut-off).
WEAK_SUGGESTION = 70.0
# A misspelling is taken as the name without asking when it is this close by plain edit
# similarity (not WRatio, which scores "row" inside "Harrow" as a near match)...
TAKE_AS_SIMILARITY = 80.0
# ...and no other name comes within this many points of it.
TAKE_AS_MARGIN = 6.0
_NATIONS_SAID = re.compile(r", | and ")
# "West Yorkshire Police" is also asked about as "West Yorkshire".
_FORCE_SUFFIX = re.compile(r"\s+(?:police(?: service| force)?|constabulary)$")


@dataclass(frozen=True)
class MaracEntry:
    id: int
    name: str
    region: str
    police_force_area: str
    nation: str
    population: int | None

    def in_area(self, area: Area) -> bool:
        if area.kind == "nations":  # "England and Wales": any of the nations named
            return self.nation in _NATIONS_SAID.split(area.name)
        return getattr(self, area.kind) == area.name


@dataclass
class RegistrySnapshot:
    """Maracs by name and the areas they belong to, loaded once per question."""

    maracs: dict[str, MaracEntry] = field(default_factory=dict)
    areas: dict[str, Area] = field(default_factory=dict)  # name key -> area
    _by_key: dict[str, MaracEntry] = field(default_factory=dict)  # name or alias key
    _display: dict[str, str] = field(default_factory=dict)  # any name key -> what to show
    _known_areas: set[Area] = field(default_factory=set)

    @classmethod
    def load(cls, session: Session) -> RegistrySnapshot:
        """The registry as it stands. Read afresh for every question (another process may
        have imported a registry), but built again only when what was read differs from the
        last time: building it cost more than a question's answer (issue 14). The rows
        themselves are the key, so a change anywhere, in any process, is seen at once."""
        global _last
        rows = tuple(tuple(row) for row in session.execute(_REGISTRY_QUERY))
        cached = _last
        if cached is not None and cached[0] == rows:
            return cached[1]
        snapshot = cls._build(rows)
        _last = (rows, snapshot)  # one entry: a registry, not a history of them
        return snapshot

    @classmethod
    def _build(cls, rows: Iterable[tuple[Any, ...]]) -> RegistrySnapshot:
        snapshot = cls()
        for mid, key, name, aliases, region, force, nation, population in rows:
            entry = MaracEntry(mid, name, region, force, nation, population)
            # The stored name_key saves recomputing it for ~290 names on every question.
            snapshot.add(entry, (json.loads(aliases) if aliases else None) or (), key=key)
        return snapshot

    def add(
        self, entry: MaracEntry, aliases: Iterable[str] = (), *, key: str | None = None
    ) -> None:
        """Index a Marac under its name and aliases (the first Marac to claim a key keeps it,
        as in store/names.py), and the areas it belongs to."""
        self.maracs[entry.name] = entry
        keys = [key or name_key(entry.name), *(name_key(a) for a in aliases)]
        for k in filter(None, keys):
            self._by_key.setdefault(k, entry)
            self._display.setdefault(k, entry.name)
        for area in (
            Area("nation", entry.nation),
            Area("region", entry.region),
            Area("police_force_area", entry.police_force_area),
        ):
            if area not in self._known_areas:
                self._add_area(area)

    def _add_area(self, area: Area) -> None:
        self._known_areas.add(area)
        key = name_key(area.name)
        keys = [key]
        if area.kind == "police_force_area":
            keys.append(_FORCE_SUFFIX.sub("", key))  # "West Yorkshire Police" -> "west yorkshire"
        for k in filter(None, keys):
            self.areas.setdefault(k, area)
            self._display.setdefault(k, area.name)

    def marac(self, key: str) -> MaracEntry | None:
        """The Marac whose name or alias has this name key."""
        return self._by_key.get(key)

    def area(self, key: str) -> Area | None:
        return self.areas.get(key)

    def place(self, key: str) -> Area | None:
        """A registered area, else a nation, region or police force area known to have no
        Marac registered (handlers/questions/places.py)."""
        return self.areas.get(key) or known_areas().get(key)

    def is_national(self, key: str) -> bool:
        """ "Great Britain": every Marac, not a place of its own."""
        return key in NATIONAL_PHRASES

    def take_as(self, text: str) -> tuple[MaracEntry | None, Area | None]:
        """The one Marac (or else area) ``text`` is an obvious misspelling of; (None, None)
        when none is close enough or two are about as close ("Lambth" is Lambeth)."""
        key = name_key(text)
        if len(key) < 4 or not self._display:
            return None, None
        best: dict[str, tuple[float, str]] = {}  # name shown -> (score, the key it came from)
        for other, name in self._display.items():
            score = fuzz.ratio(key, other)
            if score > best.get(name, (-1.0, ""))[0]:
                best[name] = (score, other)
        ranked = sorted(best.values(), reverse=True)
        score, found = ranked[0]
        runner_up = ranked[1][0] if len(ranked) > 1 else 0.0
        if score < TAKE_AS_SIMILARITY or score - runner_up < TAKE_AS_MARGIN:
            return None, None
        return self.marac(found), self.area(found)

    def in_area(self, area: Area | None) -> list[MaracEntry]:
        """The Maracs of an area (all of them for None), by name."""
        return [m for m in self.maracs.values() if area is None or m.in_area(area)]

    def suggest(self, text: str, *, strong: bool, limit: int = 3) -> list[str]:
        """Marac and area names close to ``text``, best first. ``strong`` keeps only the very
        close ones: those are worth asking about even when the question needs no name."""
        key = name_key(text)
        if not key or not self._display:
            return []
        matches = process.extract(
            key,
            list(self._display),
            scorer=fuzz.WRatio,
            processor=utils.default_process,
            score_cutoff=STRONG_SUGGESTION if strong else WEAK_SUGGESTION,
            limit=None,
        )
        found: list[str] = []
        for match in matches:
            name = self._display[match[0]]
            if name not in found:
                found.append(name)
        return found[:limit]


# The registry's rows as questions need them; aliases as their JSON text, compared as read
# (PostgreSQL's driver would otherwise decode ~290 JSON values per question).
# Retired Maracs (registry import --replace): their data is kept, they are not asked.
_REGISTRY_QUERY = (
    select(
        Marac.id,
        Marac.name_key,
        Marac.name,
        cast(Marac.aliases, Text),
        Marac.region,
        Marac.police_force_area,
        Marac.nation,
        Marac.adult_female_population,
    )
    .where(Marac.retired_at.is_(None))
    .order_by(Marac.name)
)
# The rows last read and the snapshot built from them. A snapshot is never changed after it
# is built, so threads may share it; replacing the pair is one assignment.
_last: tuple[tuple[tuple[Any, ...], ...], RegistrySnapshot] | None = None
