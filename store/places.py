"""The shipped reference lists a registry is checked against (issue 13): the four nations, the
police force areas and the regions, each with the spellings people use.

Police force areas: the 43 territorial forces of England and Wales, Police Scotland, the
Police Service of Northern Ireland and British Transport Police. Regions: the nine English
regions (ONS) plus Wales, Scotland and Northern Ireland, which stand as their own regions.
A match is stored in the list's spelling, so "West Yorkshire" and "West Yorkshire Police" are
one area in every report; what does not match gets "did you mean" suggestions.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from store.names import NameIndex


class Nation(StrEnum):
    """The nation decides bank holidays (reminders) and which regions a Marac may be in."""

    ENGLAND = "England"
    WALES = "Wales"
    SCOTLAND = "Scotland"
    NORTHERN_IRELAND = "Northern Ireland"


@dataclass(frozen=True)
class Force:
    name: str  # the spelling stored
    nations: frozenset[Nation]  # where its Maracs may be
    aliases: tuple[str, ...] = ()


_ENGLAND = frozenset({Nation.ENGLAND})
_WALES = frozenset({Nation.WALES})

# "<stem> Police" or "<stem> Constabulary": the stem alone and either suffix also match.
_ENGLISH_FORCES = (
    "Avon and Somerset Police",
    "Bedfordshire Police",
    "Cambridgeshire Constabulary",
    "Cheshire Constabulary",
    "City of London Police",
    "Cleveland Police",
    "Cumbria Constabulary",
    "Derbyshire Constabulary",
    "Devon and Cornwall Police",
    "Dorset Police",
    "Durham Constabulary",
    "Essex Police",
    "Gloucestershire Constabulary",
    "Greater Manchester Police",
    "Hampshire and Isle of Wight Constabulary",
    "Hertfordshire Constabulary",
    "Humberside Police",
    "Kent Police",
    "Lancashire Constabulary",
    "Leicestershire Police",
    "Lincolnshire Police",
    "Merseyside Police",
    "Metropolitan Police",
    "Norfolk Constabulary",
    "North Yorkshire Police",
    "Northamptonshire Police",
    "Northumbria Police",
    "Nottinghamshire Police",
    "South Yorkshire Police",
    "Staffordshire Police",
    "Suffolk Constabulary",
    "Surrey Police",
    "Sussex Police",
    "Thames Valley Police",
    "Warwickshire Police",
    "West Mercia Police",
    "West Midlands Police",
    "West Yorkshire Police",
    "Wiltshire Police",
)
_WELSH_FORCES = ("Dyfed-Powys Police", "Gwent Police", "North Wales Police", "South Wales Police")
_EXTRA_ALIASES = {
    "Metropolitan Police": ("Met", "Met Police", "MPS", "Metropolitan Police Service"),
    "Hampshire and Isle of Wight Constabulary": ("Hampshire", "Hampshire Constabulary"),
    "Greater Manchester Police": ("GMP",),
}
FORCES: tuple[Force, ...] = (
    *(Force(n, _ENGLAND, _EXTRA_ALIASES.get(n, ())) for n in _ENGLISH_FORCES),
    *(Force(n, _WALES) for n in _WELSH_FORCES),
    Force("Police Scotland", frozenset({Nation.SCOTLAND}), ("Scotland",)),
    Force(
        "Police Service of Northern Ireland",
        frozenset({Nation.NORTHERN_IRELAND}),
        ("PSNI", "Northern Ireland"),
    ),
    # British Transport Police covers the railways of England, Wales and Scotland.
    Force(
        "British Transport Police",
        frozenset({Nation.ENGLAND, Nation.WALES, Nation.SCOTLAND}),
        ("BTP",),
    ),
)

ENGLISH_REGIONS = (
    "North East",
    "North West",
    "Yorkshire and the Humber",
    "East Midlands",
    "West Midlands",
    "East of England",
    "London",
    "South East",
    "South West",
)
_REGION_ALIASES = {
    "Yorkshire and the Humber": ("Yorkshire and Humber", "Yorkshire and Humberside", "Yorkshire"),
    "East of England": ("East", "Eastern"),
    "Northern Ireland": ("NI",),
}
# A nation other than England is its own region.
REGIONS: dict[str, Nation] = {
    **dict.fromkeys(ENGLISH_REGIONS, Nation.ENGLAND),
    **{n.value: n for n in Nation if n is not Nation.ENGLAND},
}


def _stem_aliases(name: str) -> tuple[str, ...]:
    for suffix in (" Constabulary", " Police"):
        if name.endswith(suffix):
            stem = name.removesuffix(suffix)
            return (stem, f"{stem} Police", f"{stem} Constabulary", f"{stem} Police Service")
    return ()


def _index_forces() -> NameIndex[Force]:
    index: NameIndex[Force] = NameIndex()
    for force in FORCES:
        index.add(force.name, force, (*_stem_aliases(force.name), *force.aliases))
    return index


def _index_regions() -> NameIndex[str]:
    index: NameIndex[str] = NameIndex()
    for region in REGIONS:
        index.add(region, region, _REGION_ALIASES.get(region, ()))
    return index


def _index_nations() -> NameIndex[Nation]:
    index: NameIndex[Nation] = NameIndex()
    for nation in Nation:
        index.add(nation.value, nation, ("NI",) if nation is Nation.NORTHERN_IRELAND else ())
    return index


@dataclass(frozen=True)
class Places:
    """The reference lists, indexed for matching; build once per import (``Places.load()``)."""

    forces: NameIndex[Force]
    regions: NameIndex[str]
    nations: NameIndex[Nation]

    @classmethod
    def load(cls) -> Places:
        return cls(_index_forces(), _index_regions(), _index_nations())

    def force(self, text: str) -> Force | None:
        return self.forces.get(text)

    def region(self, text: str) -> str | None:
        return self.regions.get(text)

    def nation(self, text: str) -> Nation | None:
        return self.nations.get(text)

    def nation_of_region(self, region: str) -> Nation:
        """The nation a region (in the list's spelling) is in."""
        return REGIONS[region]
