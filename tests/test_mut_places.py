"""Places the registry may lack (handlers/questions/places.py), each way of saying one that the
module adds pinned: mutmut leaves ``known_areas`` alone (it is cached, so decorated), so these
name every alias and a force without its "Police" or "Constabulary"."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.questions.entities import extract
from kernel.answers import Area
from tests.questions_support import snapshot

FORCE, NATION = "police_force_area", "nation"


@pytest.mark.parametrize(
    ("question", "area"),
    [
        ("missing in psni", Area(FORCE, "Police Service of Northern Ireland")),
        ("who is missing among the Scottish maracs", Area(NATION, "Scotland")),
        ("missing among English maracs", Area(NATION, "England")),
        ("missing among Northern Irish maracs", Area(NATION, "Northern Ireland")),
        ("missing in the Met", Area(FORCE, "Metropolitan Police")),
        ("grid for Met Police", Area(FORCE, "Metropolitan Police")),
        ("missing in Gwent", Area(FORCE, "Gwent Police")),  # without "Police"
        ("missing in Cambridgeshire", Area(FORCE, "Cambridgeshire Constabulary")),
        ("missing in Police Scotland", Area(FORCE, "Police Scotland")),  # no suffix to drop
        ("missing in City of London", Area(FORCE, "City of London Police")),
    ],
)
def test_every_way_of_saying_a_place(question: str, area: Area) -> None:
    entities = extract(question, snapshot(), today=date(2025, 2, 3))
    assert (entities.area, entities.unknown, entities.national) == (area, (), False)
