"""The template's columns (spec §3): one field per column, with each edition's header."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import StrEnum


class Edition(StrEnum):
    UK = "uk"
    SCOTLAND = "scotland"


@dataclass(frozen=True)
class Field:
    """A template column: storage key, letter and the header each edition uses."""

    key: str
    letter: str
    uk_header: str
    scotland_header: str

    def header(self, edition: Edition) -> str:
        return self.uk_header if edition is Edition.UK else self.scotland_header

    @property
    def index(self) -> int:
        """Zero-based position in the canonical layout."""
        return FIELD_KEYS.index(self.key)


def _f(key: str, uk: str, scot: str | None = None) -> tuple[str, str, str]:
    return key, uk, scot or uk


_SPEC = [
    _f("marac", "Marac name"),
    _f("meeting_date", "Meeting date"),
    _f("cases", "Cases discussed"),
    _f("repeat_cases", "Number of repeat cases"),
    _f("children", "Number of children in the household"),
    _f("cases_with_children", "Number of cases with children in the household"),
    _f("ref_police", "Police"),
    _f("ref_idva", "IDVA", "IDAA"),
    _f("ref_childrens_social_care", "Children's social care", "Children and Families Social Work"),
    _f("ref_primary_care", "Primary care"),
    _f("ref_secondary_care", "Secondary care"),
    _f("ref_education", "Education"),
    _f("ref_housing", "Housing"),
    _f("ref_mental_health", "Mental health"),
    _f("ref_probation", "Probation", "Justice social work"),
    _f("ref_voluntary_sector", "Voluntary sector"),
    _f("ref_substance_misuse", "Substance misuse"),
    _f("ref_adult_social_care", "Adult social care", "Adult Support and Protection"),
    _f("ref_mash", "MASH"),
    _f("ref_other", "Other"),
    _f("minoritised", "Total Black, Asian and racially minoritised cases"),
    _f("lgbtq", "LGBTQ+ community cases"),
    _f("disabled", "Disabled victim cases"),
    _f("male", "Male victims cases"),
    _f("aged_16_17", "Victims 16 or 17 years old cases"),
    _f("harming_under_18", "Harming others under 18 years old cases"),
    _f("aged_65_plus", "Victims aged 65+ years"),
    _f("eth_asian", "Victims from Asian or Asian British ethnic groups"),
    _f("eth_black", "Victims from Black, Black British, Caribbean or African ethnic groups"),
    _f("eth_mixed", "Victims from mixed or multiple ethnic groups"),
    _f("eth_other_white", "Victims from other White ethnic groups (exclude White British)"),
    _f("eth_any_other", "Victims from any other ethnic group"),
]

def column_letter(number: int) -> str:
    """The spreadsheet letters of a 1-based column number: 1 → A, 28 → AB, 16384 → XFD.

    Written here rather than taken from openpyxl, whose import costs every command a quarter
    of a second when only the letters are wanted. The first ``_NAMED`` are made once: every
    cell reference of a row is named through here.
    """
    if 0 < number <= len(_LETTERS):
        return _LETTERS[number - 1]
    return _letters_of(number)


def _letters_of(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def column_index(letters: str) -> int:
    """The 0-based column of spreadsheet letters: A → 0, AB → 27 (``column_letter`` back)."""
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1


_NAMED = 702  # A to ZZ: every column a template, or a sheet worth reading, uses
_LETTERS: tuple[str, ...] = tuple(_letters_of(n) for n in range(1, _NAMED + 1))


FIELD_KEYS: tuple[str, ...] = tuple(key for key, _, _ in _SPEC)
FIELDS: tuple[Field, ...] = tuple(
    Field(key, column_letter(i + 1), uk, scot) for i, (key, uk, scot) in enumerate(_SPEC)
)
FIELD_BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS}

# The 30 counts, C–AF, in column order.
COUNT_KEYS: tuple[str, ...] = FIELD_KEYS[2:]
REFERRAL_KEYS: tuple[str, ...] = FIELD_KEYS[6:20]  # G–T
# D, F and U–AF may not exceed C; E counts people, so it may.
BOUNDED_BY_CASES: tuple[str, ...] = ("repeat_cases", "cases_with_children", *FIELD_KEYS[20:])
ETHNIC_GROUP_KEYS: tuple[str, ...] = FIELD_KEYS[27:32]  # AB–AF
MINORITISED_GROUP_KEYS: tuple[str, ...] = ("eth_asian", "eth_black", "eth_mixed", "eth_any_other")


def normalise_header(text: object) -> str:
    """Header text reduced to what matters for matching (spec §3 tolerance).

    Case, spaces, "&" vs "and", common punctuation ("+" too), and a trailing " case
    referrals" / " cases" are ignored; "16/17" or "16-17" reads as "16 or 17". Short texts
    are kept once reduced: the same 32 headers come in every file a serving reader child
    reads (issue 14); a long one, which no header is, is not kept, so that what is kept
    stays small.
    """
    raw = str(text if text is not None else "")
    return _kept_normal(raw) if len(raw) <= _KEPT_HEADER_CHARS else _normal(raw)


_KEPT_HEADER_CHARS = 200  # the longest template header has 69 characters


@functools.lru_cache(maxsize=1024)
def _kept_normal(raw: str) -> str:
    return _normal(raw)


_NUMBER_CHOICE = re.compile(r"(\d)\s*[/\-–—]\s*(\d)")  # "16/17", "16 - 17", "16–17"


def _normal(raw: str) -> str:
    s = raw.lower().replace("&", " and ")
    # "16/17" and "16-17" name the same victims as the template's "16 or 17".
    s = _NUMBER_CHOICE.sub(r"\1 or \2", s)
    # Punctuation splits words only long enough to find a trailing " cases"; then it and the
    # spaces go, so that "Children's" and "Childrens", "M.A.S.H" and "MASH" read alike. "+" is
    # punctuation too ("LGBTQ+" as "LGBTQ"), and so is the word that spells it out.
    s = re.sub(r"[^\w\s]|_|\bplus\b", " ", s)
    s = re.sub(r"\s+", " ", s).strip()
    for suffix in (" case referrals", " referrals", " cases"):
        if s.endswith(suffix) and len(s) > len(suffix):
            s = s[: -len(suffix)]
            break
    return s.replace(" ", "")


def _headers_for(edition: Edition) -> dict[str, str]:
    return {normalise_header(f.header(edition)): f.key for f in FIELDS}


HEADER_LOOKUP: dict[Edition, dict[str, str]] = {e: _headers_for(e) for e in Edition}
