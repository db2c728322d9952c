"""Column letters and header matching (validation/columns.py), at their boundaries."""

from __future__ import annotations

import pytest

from validation import columns
from validation.columns import FIELDS, HEADER_LOOKUP, Edition, column_letter, normalise_header


@pytest.mark.parametrize(("number", "letters"), [
    (1, "A"), (26, "Z"), (27, "AA"), (52, "AZ"), (53, "BA"), (701, "ZY"), (702, "ZZ"),
    (703, "AAA"), (728, "AAZ"), (16384, "XFD"),
])
def test_column_letters(number: int, letters: str) -> None:
    assert column_letter(number) == letters


def test_the_letters_made_once_are_the_letters_worked_out() -> None:
    assert len(columns._LETTERS) == columns._NAMED == 702
    assert all(column_letter(n) == columns._letters_of(n) for n in range(1, 2000))
    assert column_letter(0) == "" == column_letter(-3)


@pytest.mark.parametrize("text", [
    "Number of cases discussed", "  NUMBER of Cases  Discussed ", "Police referrals",
    "Victims aged 65+ years", "Referrals from IDVA & other", "x" * 200, "x" * 201,
    "Number of cases discussed" + " " * 180, None, 12,
])
def test_a_header_kept_once_reduced_reads_as_it_did(text: object) -> None:
    columns._kept_normal.cache_clear()
    first = normalise_header(text)
    assert first == columns._normal(str(text if text is not None else ""))
    assert normalise_header(text) == first  # from what was kept, when it was short


def test_only_short_headers_are_kept() -> None:
    columns._kept_normal.cache_clear()
    normalise_header("a" * columns._KEPT_HEADER_CHARS)
    normalise_header("b" * (columns._KEPT_HEADER_CHARS + 1))
    assert columns._kept_normal.cache_info().currsize == 1
    assert max(len(f.header(e)) for f in FIELDS for e in Edition) <= columns._KEPT_HEADER_CHARS


def test_every_template_header_matches_its_field() -> None:
    for edition in Edition:
        for field in FIELDS:
            assert HEADER_LOOKUP[edition][normalise_header(field.header(edition))] == field.key
            assert HEADER_LOOKUP[edition][normalise_header(
                f"  {field.header(edition).upper()} ")] == field.key


@pytest.mark.parametrize(("written", "key"), [
    ("Childrens social care", "ref_childrens_social_care"),
    ("Children s social care", "ref_childrens_social_care"),
    ("M.A.S.H", "ref_mash"),
    ("M. A. S. H.", "ref_mash"),
    ("LGBTQ community cases", "lgbtq"),
    ("LGBTQ+ community cases", "lgbtq"),
    ("LGBTQ + community", "lgbtq"),
    ("LGBTQ plus community cases", "lgbtq"),
    ("Victims 16/17 years old cases", "aged_16_17"),
    ("Victims 16 - 17 years old", "aged_16_17"),
    ("Victims 16–17 years old cases", "aged_16_17"),
    ("Victims aged 65 years", "aged_65_plus"),
    ("Victims from Black/Black British, Caribbean or African ethnic groups", "eth_black"),
    ("Total Black,Asian & racially minoritised", "minoritised"),
    ("Cases_discussed", "cases"),
])
def test_punctuation_is_ignored_not_read_as_a_word_break(written: str, key: str) -> None:
    assert HEADER_LOOKUP[Edition.UK][normalise_header(written)] == key


@pytest.mark.parametrize("written", [
    "Victims 1617 years old", "Victims 16 and 17 years old", "LGBTQIA community", "MAS",
    "Children social care", "Cases",
])
def test_a_header_still_has_to_say_the_same_words(written: str) -> None:
    norm = normalise_header(written)
    assert norm not in HEADER_LOOKUP[Edition.UK] and norm not in HEADER_LOOKUP[Edition.SCOTLAND]


@pytest.mark.parametrize("edition", list(Edition))
def test_no_two_template_headers_of_an_edition_read_alike(edition: Edition) -> None:
    norms = [normalise_header(f.header(edition)) for f in FIELDS]
    assert all(norms)
    assert len(set(norms)) == len(FIELDS)
    assert len(HEADER_LOOKUP[edition]) == len(FIELDS)


def test_a_header_of_one_edition_is_never_another_field_in_the_other() -> None:
    # The layout looks a header up in both editions: they may share a header, for one field.
    for field in FIELDS:
        for edition in Edition:
            norm = normalise_header(field.header(edition))
            assert {HEADER_LOOKUP[e].get(norm, field.key) for e in Edition} == {field.key}
