"""Finding what a question names: Maracs, areas, a quarter or financial year, a figure, and
the words left over (candidates for "did you mean").

Names are found on name keys (store/names.py: case, punctuation, "Marac", "&"/"and" ignored),
longest first, so "West Yorkshire Police" is the force area and not a Marac called "West".
Intents and figures are then matched on the question with those names blanked out, so a
force called "… Police" never reads as a question about police referrals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from handlers.questions.metrics import find_metric
from handlers.questions.model import Area, Entities, Unknown
from handlers.questions.registry import RegistrySnapshot
from handlers.questions.words import PLACE_WORDS, is_filler
from kernel.quarters import FinancialYear, Quarter
from store.names import name_key

_LONGEST_NAME = 6  # words; "Kingston upon Hull" is 3, "Bath and North East Somerset" 5
_CHUNK = re.compile(r"\S+")
_POSSESSIVE = re.compile(r"\w's\W*$")
_REPLY_PREFIX = re.compile(r"^(?:\s*(?:re|fw|fwd|aw|sv)\s*:)+", re.IGNORECASE)
_QUARTERISH = re.compile(r"\bq(?:tr)?\s?[1-4]\b|\bquarter\b|\b(?:19|20)\d\d[/-]\d\d")
_NATIONAL = re.compile(
    r"\bnational(?:ly)?\b|\bnationwide\b|\ball (?:the )?maracs\b|\bevery marac\b"
    r"|\b(?:across|in) the (?:whole )?(?:country|uk)\b|\buk[- ]wide\b|\bcountry[- ]wide\b"
)
_MINE = re.compile(r"\b(?:my|our) (?:own )?(?:maracs?|areas?|regions?|scope|patch|force)\b")


@dataclass(frozen=True)
class _Token:
    key: str
    alt: str | None  # "croydon" for "croydon's"
    span: tuple[int, int]  # of the whitespace-separated chunk it came from


# No question is longer; the rest of a longer text is not read (parsing costs time in its
# length, and a 1 MB chat message must not hold a worker for seconds).
MAX_QUESTION_CHARS = 2000


def normalise(text: str) -> str:
    """Lower case, straight apostrophes, one space between words, no "Re:" in front; at most
    the first ``MAX_QUESTION_CHARS`` characters."""
    text = _cut(text)
    text = _REPLY_PREFIX.sub("", text.replace("’", "'").replace("‘", "'"))
    return re.sub(r"\s+", " ", text.lower()).strip()


def _cut(text: str) -> str:
    """The first ``MAX_QUESTION_CHARS`` characters, ending between words, not inside one."""
    if len(text) <= MAX_QUESTION_CHARS:
        return text
    cut = text[:MAX_QUESTION_CHARS]
    if not text[MAX_QUESTION_CHARS].isspace():
        cut = cut[: max(cut.rfind(" "), 0)]
    return cut


def extract(text: str, registry: RegistrySnapshot, *, today: date) -> Entities:
    """Everything ``text`` names, found against the registry; ``today`` anchors "last quarter"."""
    lowered = normalise(text)
    tokens = _tokenise(lowered)
    maracs, areas, used = _names(tokens, registry)
    residual = _blank(lowered, [tokens[i].span for i in used])
    quarter = Quarter.find_in(residual, today=today)
    year = FinancialYear.find_in(residual, today=today) if quarter is None else None
    unclear = _unclear_period(residual) if quarter is None and year is None else None
    return Entities(
        maracs=tuple(maracs),
        area=areas[0] if areas else None,
        quarter=quarter,
        year=year,
        period_unclear=unclear,
        national=bool(_NATIONAL.search(residual)),
        mine=bool(_MINE.search(residual)),
        metric=find_metric(residual),
        unknown=_leftovers(tokens, used),
        residual=residual,
        extra_areas=tuple(areas[1:]),
    )


def _tokenise(text: str) -> list[_Token]:
    tokens = []
    for chunk in _CHUNK.finditer(text):
        keys = name_key(chunk.group()).split()
        possessive = bool(_POSSESSIVE.search(chunk.group()))
        for i, key in enumerate(keys):
            last = i == len(keys) - 1
            alt = key[:-1] if possessive and last and key.endswith("s") else None
            tokens.append(_Token(key, alt, chunk.span()))
    return tokens


def _names(
    tokens: list[_Token], registry: RegistrySnapshot
) -> tuple[list[str], list[Area], set[int]]:
    """Maracs and areas named, longest match first at each position; a Marac beats an area
    of the same name ("Kent" the Marac over "Kent Police" the force, when both exist)."""
    maracs: list[str] = []
    areas: list[Area] = []
    used: set[int] = set()
    i = 0
    while i < len(tokens):
        found = _longest_at(tokens, i, registry)
        if found is None:
            i += 1
            continue
        length, marac, area = found
        if marac is not None and marac not in maracs:
            maracs.append(marac)
        if area is not None and area not in areas:
            areas.append(area)
        used.update(range(i, i + length))
        i += length
    return maracs, areas, used


def _longest_at(
    tokens: list[_Token], i: int, registry: RegistrySnapshot
) -> tuple[int, str | None, Area | None] | None:
    for length in range(min(_LONGEST_NAME, len(tokens) - i), 0, -1):
        window = tokens[i : i + length]
        keys = [" ".join(t.key for t in window)]
        if window[-1].alt:
            keys.append(" ".join([*(t.key for t in window[:-1]), window[-1].alt]))
        for key in keys:
            if (entry := registry.marac(key)) is not None:
                return length, entry.name, None
            if (area := registry.area(key)) is not None:
                return length, None, area
    return None


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with the named chunks replaced by a placeholder word."""
    out, last = [], 0
    for start, end in sorted(set(spans)):
        if start < last:
            continue
        out.append(text[last:start])
        out.append("<name>")
        last = end
    out.append(text[last:])
    return re.sub(r"(?:<name>\s*)+", "<name> ", "".join(out)).strip()


def _unclear_period(text: str) -> str | None:
    """A quarter-like phrase that named no single quarter ("Q3 2024", "Q5"), or None."""
    match = _QUARTERISH.search(text)
    return match.group() if match else None


def _leftovers(tokens: list[_Token], used: set[int]) -> tuple[Unknown, ...]:
    """Runs of words that are neither names nor ordinary question words."""
    found: list[Unknown] = []
    run: list[str] = []
    after_place = False
    for i, token in enumerate(tokens):
        word = token.alt or token.key
        if i not in used and not is_filler(token.key) and not is_filler(word):
            if not run:
                after_place = i > 0 and tokens[i - 1].key in PLACE_WORDS
            run.append(word)
            continue
        if run:
            found.append(Unknown(" ".join(run), after_place))
            run = []
    if run:
        found.append(Unknown(" ".join(run), after_place))
    return tuple(found)
