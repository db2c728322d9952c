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
from store.registry_version import kept_read

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
    """Maracs by name and the areas they belong to. Never changed once built: the threads of a
    process share one until the registry changes."""

    maracs: dict[str, MaracEntry] = field(default_factory=dict)
    areas: dict[str, Area] = field(default_factory=dict)  # name key -> area
    _by_key: dict[str, MaracEntry] = field(default_factory=dict)  # name or alias key
    _display: dict[str, str] = field(default_factory=dict)  # any name key -> what to show
    _known_areas: set[Area] = field(default_factory=set)

    @classmethod
    def load(cls, session: Session) -> RegistrySnapshot:
        """The registry as it stands, built again only when it has changed
        (``store.registry_version``: one row read per question, where reading ~290 Maracs to
        compare them with the last read cost a tenth of a question's answer, issue 14). Any
        change, in any process or earlier in this transaction, is seen at once."""
        return kept_read(session, "questions", lambda: cls._build(session.execute(_REGISTRY_QUERY)))

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
        # Only keys within TAKE_AS_MARGIN of the lowest score taken can decide: a runner-up
        # further below leaves the margin met whatever its score. rapidfuzz scores all ~400
        # keys in one call; the loop below sees the few close ones, in the registry's order.
        close = process.extract(
            key,
            list(self._display),
            scorer=fuzz.ratio,
            limit=None,
            score_cutoff=TAKE_AS_SIMILARITY - TAKE_AS_MARGIN,
        )
        best: dict[str, tuple[float, str]] = {}  # name shown -> (score, the key it came from)
        for other, score, _ in sorted(close, key=lambda match: match[2]):
            name = self._display[other]
            if score > best.get(name, (-1.0, ""))[0]:
                best[name] = (score, other)
        if not best:
            return None, None
        ranked = sorted(best.values(), reverse=True)
        score, found = ranked[0]
        runner_up = ranked[1][0] if len(ranked) > 1 else 0.0
        if score < TAKE_AS_SIMILARITY or score - runner_up < TAKE_AS_MARGIN:
            return None, None
        return self.marac(found), self.area(found)

    def led_by(self, text: str) -> MaracEntry | None:
        """The one Marac whose name (or an alias) begins with the whole words of ``text``
        ("Barking" for Barking and Dagenham); None when any other name, of a Marac or of an
        area (registered or not), begins with them too ("West", "North")."""
        key = name_key(text)
        if not key:
            return None
        start = key + " "
        led = {k for k in self._display if k.startswith(start)}
        names = {self._display[k] for k in led}
        names |= {area.name for k, area in known_areas().items() if k.startswith(start)}
        if len(names) != 1:
            return None
        return next((m for k in sorted(led) if (m := self.marac(k)) is not None), None)

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


# The registry's rows as questions need them; aliases as their JSON text, decoded by
# ``_build`` only for the Maracs that have some.
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
