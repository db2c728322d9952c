"""An obvious misspelling taken as the one name it is close to (``RegistrySnapshot.take_as``):
scored by rapidfuzz over every key at once, keeping only the keys close enough to decide. It
must decide exactly as scoring every key one by one did, margins and ties included."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from handlers.questions.model import Area
from handlers.questions.registry import (
    TAKE_AS_MARGIN,
    TAKE_AS_SIMILARITY,
    MaracEntry,
    RegistrySnapshot,
)
from store.names import name_key
from tests.questions_support import snapshot

REGISTRY = snapshot()
KEYS = sorted(REGISTRY._display)


def every_key_scored(registry: RegistrySnapshot, text: str
                     ) -> tuple[MaracEntry | None, Area | None]:
    """``take_as`` as it was: every key scored, each name shown by its best key (the first
    added of equals), taken when it is close enough and every other name far enough below."""
    key = name_key(text)
    if len(key) < 4 or not registry._display:
        return None, None
    scored = [(fuzz.ratio(key, other), -at, other) for at, other in enumerate(registry._display)]
    by_name: dict[str, tuple[float, str]] = {}
    for score, _, other in sorted(scored, reverse=True):
        by_name.setdefault(registry._display[other], (score, other))
    (top, found), *others = sorted(by_name.values(), reverse=True)
    if top >= TAKE_AS_SIMILARITY and all(top - score >= TAKE_AS_MARGIN for score, _ in others):
        return registry.marac(found), registry.area(found)
    return None, None


def _registry(*keys: str, aliases: tuple[str, ...] = ()) -> RegistrySnapshot:
    """Maracs named by these keys, all in one place (one area key besides); the first has
    ``aliases``."""
    registry = RegistrySnapshot()
    for i, key in enumerate(keys, 1):
        registry.add(MaracEntry(i, key.title(), "Qq", "Qq", "Qq", None),
                     aliases if i == 1 else (), key=key)
    return registry


def _misspelt(draw: st.DrawFn) -> str:
    word = list(draw(st.sampled_from(KEYS)))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(word)))
        match draw(st.sampled_from(("drop", "add", "swap"))):
            case "drop" if word:
                del word[min(at, len(word) - 1)]
            case "add":
                word.insert(at, draw(st.sampled_from("aeinorstxz ")))
            case "swap" if at + 1 < len(word):
                word[at], word[at + 1] = word[at + 1], word[at]
    return "".join(word)


@settings(max_examples=400, deadline=None)
@given(st.composite(_misspelt)())
def test_it_takes_what_scoring_every_key_took(text: str) -> None:
    assert REGISTRY.take_as(text) == every_key_scored(REGISTRY, text)


def test_the_test_registry_gives_both_answers() -> None:
    """The comparison above means something: misspellings of it are taken, and not taken."""
    assert REGISTRY.take_as("Croydn")[0] is REGISTRY.maracs["Croydon"]
    assert REGISTRY.take_as("Xqzvwt") == (None, None)


def test_a_runner_up_just_inside_the_margin_stops_the_best_at_the_threshold() -> None:
    # "abcdefghxy" scores 80.0 against "abcdefghij"; "abcdefghijklmnopq" 74.07: 5.93 apart.
    key, best, close = "abcdefghij", "abcdefghxy", "abcdefghijklmnopq"
    assert fuzz.ratio(key, best) == TAKE_AS_SIMILARITY
    assert TAKE_AS_SIMILARITY - TAKE_AS_MARGIN < fuzz.ratio(key, close) < 75
    assert _registry(best, close).take_as(key) == (None, None)
    alone = _registry(best)
    assert alone.take_as(key) == (alone.maracs["Abcdefghxy"], None)


def test_a_runner_up_just_outside_the_margin_leaves_the_best_taken() -> None:
    # "abcdefghijklmnopqr" scores 71.4 against "abcdefghij": more than 6 below 80.
    key, best, far = "abcdefghij", "abcdefghxy", "abcdefghijklmnopqr"
    assert fuzz.ratio(key, far) < TAKE_AS_SIMILARITY - TAKE_AS_MARGIN
    registry = _registry(best, far)
    assert registry.take_as(key) == (registry.maracs["Abcdefghxy"], None)


def test_nothing_close_is_nothing_taken() -> None:
    assert _registry("abcdefghxy").take_as("zzzzzzzz") == (None, None)
    assert RegistrySnapshot().take_as("croydon") == (None, None)
    assert REGISTRY.take_as("cro") == (None, None)  # under four letters: never a guess


def test_a_margin_of_exactly_six_is_enough() -> None:
    # 90.0 and 84.0 against a 21-letter key: six points apart, to the last bit.
    key = "abcdefghijklmnopqrstu"
    best, next_best = "abcdefghijklmnopqrz", "abcdefghijklmnopqrstuzzzzzzzz"
    assert fuzz.ratio(key, best) - fuzz.ratio(key, next_best) == TAKE_AS_MARGIN
    registry = _registry(best, next_best)
    assert registry.take_as(key) == (registry.maracs[best.title()], None)


def test_under_four_letters_nothing_is_taken_however_close() -> None:
    assert fuzz.ratio("abc", "abcd") > TAKE_AS_SIMILARITY
    assert _registry("abcd").take_as("abc") == (None, None)


def test_a_name_with_many_close_aliases_does_not_hide_another_as_close() -> None:
    # Five keys of one Marac score 100 and 95.2; another Marac's key 95.2 too: 4.8 apart.
    aliases = ("abcdefghijz", "abcdefghijy", "zabcdefghij", "abcdefghijx")
    registry = _registry("abcdefghij", "abcdefghijk", aliases=aliases)
    assert registry.take_as("abcdefghij") == (None, None)
    assert _registry("abcdefghij", aliases=aliases).take_as("abcdefghij")[0] is not None


def test_of_one_name_s_keys_as_close_as_each_other_the_first_added_decides() -> None:
    """"abcde" is as close to the Marac's name "bcde" as to its alias "abcd". The name came
    first, so the force named after it is found too: the alias alone names no area."""
    registry = RegistrySnapshot()
    marac = MaracEntry(1, "Bcde", "Qq", "Bcde Police", "Qq", None)
    registry.add(marac, ("abcd",))
    assert fuzz.ratio("abcde", "bcde") == fuzz.ratio("abcde", "abcd")
    assert registry.take_as("abcde") == (marac, Area("police_force_area", "Bcde Police"))


def test_the_leading_words_of_one_name_only_are_that_name() -> None:
    registry = _registry("barking dagenham", "kingston upon thames",
                         aliases=("lb barking dagenham",))
    barking, kingston = registry.maracs["Barking Dagenham"], registry.maracs["Kingston Upon Thames"]
    assert registry.led_by("Barking") == barking
    assert registry.led_by("LB Barking") == barking  # an alias's leading words
    assert registry.led_by("kingston upon") == kingston
    assert registry.led_by("kingst") is None  # whole words only
    assert registry.led_by("barking dagenham") is None  # the whole name is no leading word
    assert registry.led_by("dagenham") is None


def test_leading_words_of_two_names_are_neither() -> None:
    assert _registry("barking dagenham", "barking riverside").led_by("barking") is None
    # "North" begins North Tyneside, and also the regions North East and North West, which
    # have no Marac here: still two names, so not taken.
    assert _registry("north tyneside").led_by("north") is None
    assert _registry("tyneside north").led_by("tyneside") is not None

