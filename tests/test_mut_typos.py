"""Misspellings taken as names (handlers/questions/typos.py), pinned where a mutation run
found them loose: names already in the question are kept and never doubled, areas go after
the area already named, and a word that is no name stays to be asked about."""

from __future__ import annotations

from handlers.questions.model import Area, Entities, Unknown
from handlers.questions.typos import take_misspellings
from tests.questions_support import snapshot

SCOTLAND = Area("nation", "Scotland")
KENT = Area("police_force_area", "Kent Police")
LONDON = Area("region", "London")


def _unknown(said: str) -> Unknown:
    return Unknown(said.lower(), after_place_word=True, said=said)


def test_a_misspelt_marac_joins_the_ones_named_once() -> None:
    entities = Entities(maracs=("Leeds",), unknown=(_unknown("Croydn"), _unknown("Croydon's")))
    taken = take_misspellings(entities, snapshot())
    assert taken.maracs == ("Leeds", "Croydon")
    assert [(t.said, t.name) for t in taken.taken] == [
        ("Croydn", "Croydon"),
        ("Croydon's", "Croydon"),
    ]


def test_misspelt_areas_follow_the_area_named_each_once_and_the_rest_is_left() -> None:
    nonsense = _unknown("Xqzvwt")
    entities = Entities(
        area=LONDON,
        unknown=(_unknown("Scotlnd"), nonsense, _unknown("Kent polce"), _unknown("scotlnd")),
    )
    taken = take_misspellings(entities, snapshot())
    assert (taken.area, taken.extra_areas) == (LONDON, (SCOTLAND, KENT))
    assert taken.unknown == (nonsense,)
    assert [(t.said, t.name) for t in taken.taken] == [
        ("Scotlnd", "Scotland"),
        ("Kent polce", "Kent Police"),
        ("scotlnd", "Scotland"),
    ]


def test_a_misspelt_area_is_the_area_when_none_was_named() -> None:
    taken = take_misspellings(Entities(unknown=(_unknown("Scotlnd"),)), snapshot())
    assert (taken.area, taken.extra_areas, taken.unknown) == (SCOTLAND, (), ())


def test_nothing_taken_leaves_the_question_as_it_was() -> None:
    entities = Entities(area=LONDON, unknown=(_unknown("Xqzvwt"),))
    assert take_misspellings(entities, snapshot()) is entities
