"""Name keys are remembered for short names only (store/names.py): the registry's names are
normalised for every file and question, while a cell may hold text of any length."""

from __future__ import annotations

from store import names
from store.names import CACHED_NAME_LENGTH, name_key


def _cached_after(text: str) -> bool:
    names._remembered_key.cache_clear()
    name_key(text)
    before = names._remembered_key.cache_info().hits
    name_key(text)
    return names._remembered_key.cache_info().hits == before + 1


def test_names_up_to_the_limit_are_remembered_and_longer_text_is_not() -> None:
    at_limit = "Barking & Dagenham " + "x" * (CACHED_NAME_LENGTH - 19)
    assert len(at_limit) == CACHED_NAME_LENGTH
    assert _cached_after(at_limit)
    assert not _cached_after(at_limit + "y")
    assert names._remembered_key.cache_info().currsize == 0


def test_a_remembered_key_is_the_key() -> None:
    for text in ("Barking & Dagenham MARAC", "King’s Lynn", "Ynys Môn", "y" * 5000):
        names._remembered_key.cache_clear()
        assert name_key(text) == names._key(text) == name_key(text)
    assert name_key("Barking & Dagenham MARAC") == "barking dagenham"  # as documented
