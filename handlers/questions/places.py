"""Places people ask about that the registry may not hold: the UK's nations, England's regions
and the police force areas. "missing Q2 in Wales" with no Welsh Marac registered must say so,
never answer for every Marac; a word that is none of these (nor a Marac) is an unknown name.

The registry's own areas are found first (handlers/questions/registry.py); these are the
fallback, so a region the registry spells differently still resolves to the registry's name.
"""

from __future__ import annotations

from functools import cache

from kernel.answers import Area
from store.names import name_key

NATIONS = ("England", "Wales", "Scotland", "Northern Ireland")
REGIONS = (
    "North East", "North West", "Yorkshire and the Humber", "East Midlands", "West Midlands",
    "East of England", "London", "South East", "South West",
)  # fmt: skip
POLICE_FORCE_AREAS = (
    "Avon and Somerset Police", "Bedfordshire Police", "Cambridgeshire Constabulary",
    "Cheshire Constabulary", "City of London Police", "Cleveland Police", "Cumbria Constabulary",
    "Derbyshire Constabulary", "Devon and Cornwall Police", "Dorset Police", "Durham Constabulary",
    "Dyfed-Powys Police", "Essex Police", "Gloucestershire Constabulary",
    "Greater Manchester Police", "Gwent Police", "Hampshire Constabulary",
    "Hertfordshire Constabulary", "Humberside Police", "Kent Police", "Lancashire Constabulary",
    "Leicestershire Police", "Lincolnshire Police", "Merseyside Police", "Metropolitan Police",
    "Norfolk Constabulary", "North Wales Police", "North Yorkshire Police",
    "Northamptonshire Police", "Northumbria Police", "Nottinghamshire Police",
    "South Wales Police", "South Yorkshire Police", "Staffordshire Police", "Suffolk Constabulary",
    "Surrey Police", "Sussex Police", "Thames Valley Police", "Warwickshire Police",
    "West Mercia Police", "West Midlands Police", "West Yorkshire Police", "Wiltshire Police",
    "Police Scotland", "Police Service of Northern Ireland",
)  # fmt: skip

# Said for the whole of Great Britain: every Marac.
NATIONAL_PHRASES = frozenset({"great britain", "britain"})  # name keys
# Said together, meant together: the Maracs of both nations, not of every nation.
ENGLAND_AND_WALES = Area("nations", "England and Wales")


@cache  # a constant: built once, on the first question that needs it
def known_areas() -> dict[str, Area]:
    """Every place above by its name key (and a force by its name without "Police")."""
    found: dict[str, Area] = {}
    for kind, names in (
        ("nation", NATIONS),
        ("region", REGIONS),
        ("police_force_area", POLICE_FORCE_AREAS),
    ):
        for name in names:
            area = Area(kind, name)
            key = name_key(name)
            found.setdefault(key, area)
            short = _without_force_word(key)
            if short and short != key:
                found.setdefault(short, area)
    found.setdefault("psni", Area("police_force_area", "Police Service of Northern Ireland"))
    found.setdefault(name_key(ENGLAND_AND_WALES.name), ENGLAND_AND_WALES)
    # As people say them: "Welsh Maracs", "the Met".
    for said, nation in (
        ("welsh", "Wales"),
        ("scottish", "Scotland"),
        ("english", "England"),
        ("northern irish", "Northern Ireland"),
    ):
        found.setdefault(said, Area("nation", nation))
    for said in ("the met", "met police"):
        found.setdefault(said, Area("police_force_area", "Metropolitan Police"))
    return found


def _without_force_word(key: str) -> str:
    for suffix in (" police", " constabulary"):
        if key.endswith(suffix):
            return key.removesuffix(suffix)
    return key
