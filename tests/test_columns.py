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
