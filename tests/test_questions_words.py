"""The pieces that read people's words (issue 12), pinned at their boundaries with no
database: yearless months (handlers/questions/when.py), misspellings taken or asked about
(registry ``take_as``), and places the registry lacks (handlers/questions/places.py)."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.questions.entities import extract
from handlers.questions.registry import TAKE_AS_SIMILARITY, MaracEntry, RegistrySnapshot
from handlers.questions.typos import take_misspellings
from handlers.questions.when import quarter_without_year, senseless_year
from kernel.answers import Area
from kernel.quarters import Quarter
from tests.questions_support import snapshot


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2024, 9, 30), "Q3 2023/24"),  # Oct 2024 has not started: the one before
        (date(2024, 10, 1), "Q3 2024/25"),  # the first day of Oct: it has started
        (date(2025, 6, 1), "Q3 2024/25"),
    ],
)
def test_oct_dec_is_the_most_recent_that_has_started(today: date, expected: str) -> None:
    assert quarter_without_year("did we send oct-dec", today=today) == Quarter.from_label(expected)


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("the december quarter", "Q3 2024/25"),
        ("quarter ending march", "Q4 2024/25"),
        ("january to march", "Q4 2024/25"),
        ("jul - sep", "Q2 2024/25"),
        ("apr-jun", "Q1 2025/26"),  # started 1 April 2025
        ("the april-june quarter 2024", "Q1 2024/25"),  # a calendar year given
        ("oct–dec", "Q3 2024/25"),  # an en dash
    ],
)
def test_month_phrases_without_a_year(phrase: str, expected: str) -> None:
    found = quarter_without_year(phrase, today=date(2025, 6, 1))
    assert found == Quarter.from_label(expected)


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("oct-nov", "oct-nov"),
        ("the november quarter", "november quarter"),
        ("quarter ending may", "quarter ending may"),
    ],
)
def test_months_that_are_no_quarter_are_said_back(text: str, phrase: str) -> None:
    assert quarter_without_year(text, today=date(2025, 6, 1)) == phrase


def test_no_month_phrase_is_none() -> None:
    assert quarter_without_year("has croydon uploaded", today=date(2025, 6, 1)) is None


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("q3 -1/0", "-1/0"),
        ("q3 2024/26", "2024/26"),
        ("q1 1989/90", "1989/90"),
        ("q1 2027/28", "2027/28"),  # more than a year ahead of 2025
    ],
)
def test_years_that_make_no_sense(text: str, said: str) -> None:
    assert senseless_year(text, today=date(2025, 6, 1)) == said


@pytest.mark.parametrize(
    "text", ["q3 2024/25", "fy24/25", "q1 1990/91", "q1 2026/27", "meeting of 3/10"]
)
def test_years_that_make_sense_or_are_days(text: str) -> None:
    assert senseless_year(text, today=date(2025, 6, 1)) is None


def _registry(*names: str) -> RegistrySnapshot:
    registry = RegistrySnapshot()
    for i, name in enumerate(names, 1):
        registry.add(MaracEntry(i, name, "London", "Metropolitan Police", "England", None))
    return registry


def test_a_unique_close_misspelling_is_taken() -> None:
    registry = _registry("Lambeth", "Lewisham", "Bexley")
    marac, area = registry.take_as("Lambth")
    assert marac is not None and marac.name == "Lambeth" and area is None


def test_two_names_about_as_close_are_not_taken() -> None:
    registry = _registry("Sutton", "Dutton")
    assert registry.take_as("Hutton") == (None, None)  # 83 for both: ask, never guess


def test_a_short_word_is_never_taken_for_a_name() -> None:
    assert _registry("Harrow").take_as("row") == (None, None)


def test_the_similarity_needed_is_pinned() -> None:
    registry = _registry("Abcdefghij")
    assert TAKE_AS_SIMILARITY == 80.0
    assert registry.take_as("Abcdefghxx")[0] is not None  # ratio 80: just enough
    assert registry.take_as("Abcdefgxxx") == (None, None)  # ratio 70: asked about instead


def test_taking_a_misspelling_records_what_was_said() -> None:
    entities = take_misspellings(
        extract("has Croydn uploaded q3", snapshot(), today=date(2025, 2, 3)), snapshot()
    )
    assert entities.maracs == ("Croydon",) and entities.unknown == ()
    assert [(t.said, t.name) for t in entities.taken] == [("Croydn", "Croydon")]


@pytest.mark.parametrize(
    ("question", "area"),
    [
        ("missing in Northern Ireland", Area("nation", "Northern Ireland")),
        ("grid for the North East", Area("region", "North East")),
        ("missing in Dyfed-Powys", Area("police_force_area", "Dyfed-Powys Police")),
        ("who is missing among the Welsh maracs", Area("nation", "Wales")),
    ],
)
def test_places_the_registry_lacks_are_still_places(question: str, area: Area) -> None:
    entities = extract(question, snapshot(), today=date(2025, 2, 3))
    assert entities.area == area and entities.unknown == ()


def test_england_and_wales_is_both_nations_never_every_nation() -> None:
    registry = snapshot()
    entities = extract("missing in England and Wales", registry, today=date(2025, 2, 3))
    assert entities.area == Area("nations", "England and Wales") and not entities.national
    assert "Glasgow" in registry.maracs
    named = {m.name for m in registry.in_area(entities.area)}
    assert "Glasgow" not in named and {"Croydon", "Cardiff"} <= named


def test_great_britain_is_every_marac() -> None:
    entities = extract("missing in Great Britain", snapshot(), today=date(2025, 2, 3))
    assert entities.national and entities.area is None


def test_an_unknown_place_keeps_its_capitals_to_be_said_back() -> None:
    entities = extract("is Glasgow's return in?", _registry("Croydon"), today=date(2025, 2, 3))
    assert [(u.text, u.said) for u in entities.unknown] == [("glasgow", "Glasgow")]
