"""Matching Marac names as people write them (spec §6).

Names match ignoring case, accents, punctuation, the word "Marac", and "&" versus "and", and
through each Marac's aliases. What does not match gets typo-tolerant suggestions (rapidfuzz).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Generic, TypeVar

from rapidfuzz import fuzz, process, utils

T = TypeVar("T")

# Words that carry no identity in a Marac name. "and" goes too, so "Barking & Dagenham",
# "Barking and Dagenham" and "Barking Dagenham" are one name.
_NOISE_WORDS = frozenset({"marac", "maracs", "and"})
# Suggestions below this similarity (0-100) are noise rather than help.
SUGGESTION_CUTOFF = 70.0


# Names are normalised again for every file and question (the registry's ~290 names and
# aliases, a file's Marac column): short ones are remembered. Longer text (a cell can hold
# anything) is not, so the cache stays under a few MB whatever is sent.
CACHED_NAME_LENGTH = 200
CACHED_NAMES = 8192


def name_key(text: str) -> str:
    """The form names are compared in: "Barking & Dagenham MARAC" -> "barking dagenham"."""
    return _remembered_key(text) if len(text) <= CACHED_NAME_LENGTH else _key(text)


@lru_cache(maxsize=CACHED_NAMES)
def _remembered_key(text: str) -> str:
    return _key(text)


def _key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    plain = plain.replace("&", " and ")
    plain = re.sub(r"['’‘`]", "", plain)  # "King's Lynn" = "Kings Lynn"
    words = re.sub(r"[^\w]+|_", " ", plain).split()
    return " ".join(w for w in words if w not in _NOISE_WORDS)


@dataclass
class NameIndex(Generic[T]):
    """Names and aliases → an item (a Marac), with "did you mean" suggestions."""

    _by_key: dict[str, T] = field(default_factory=dict)
    _display: dict[str, str] = field(default_factory=dict)  # key -> the canonical name

    def add(self, name: str, item: T, aliases: Iterable[str] = ()) -> list[str]:
        """Index an item under its name and aliases; returns those another name already has."""
        clashes = []
        for text in (name, *aliases):
            key = name_key(text)
            if not key:
                continue
            if key in self._by_key and self._display[key] != name:
                clashes.append(text)
                continue
            self._by_key[key] = item
            self._display[key] = name
        return clashes

    def __len__(self) -> int:
        return len(set(self._display.values()))

    def get(self, text: str) -> T | None:
        """The item a name or alias means, or None."""
        return self._by_key.get(name_key(text))

    def owner(self, text: str) -> str | None:
        """The canonical name that a name or alias belongs to, or None."""
        return self._display.get(name_key(text))

    def suggest(self, text: str, limit: int = 3) -> list[str]:
        """The closest canonical names, best first, without repeats."""
        key = name_key(text)
        if not key or not self._by_key:
            return []
        matches = process.extract(
            key,
            list(self._by_key),
            scorer=fuzz.WRatio,
            processor=utils.default_process,
            score_cutoff=SUGGESTION_CUTOFF,
            limit=None,
        )
        return _distinct((self._display[m[0]] for m in matches), limit)


def _distinct(names: Iterable[str], limit: int) -> list[str]:
    found: list[str] = []
    for name in names:
        if name not in found:
            found.append(name)
        if len(found) == limit:
            break
    return found


def split_list(cell: str | None) -> list[str]:
    """A ``;``-separated cell as a list, blanks dropped ("a; b;" -> ["a", "b"])."""
    return [part.strip() for part in (cell or "").split(";") if part.strip()]


def join_list(items: Sequence[str]) -> str:
    return ";".join(items)
