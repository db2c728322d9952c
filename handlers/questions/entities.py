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
from handlers.questions.when import quarter_without_year, senseless_year
from handlers.questions.words import PLACE_WORDS, is_filler
from kernel.quarters import FinancialYear, Quarter
from store.names import name_key

_LONGEST_NAME = 6  # words; "Kingston upon Hull" is 3, "Bath and North East Somerset" 5
_CHUNK = re.compile(r"\S+")
_POSSESSIVE = re.compile(r"\w's\W*$")
_REPLY_PREFIX = re.compile(r"^(?:\s*(?:re|fw|fwd|aw|sv)\s*:)+", re.IGNORECASE)
_QUARTERISH = re.compile(
    r"\bq(?:tr)?\s?\d+(?: (?:fy ?)?\d{4}\b)?|\bquarter\b|\b(?:19|20)\d\d[/-]\d\d"
)
# A span of several quarters or months ending now: answers are for one quarter or one
# financial year, so it is said back rather than answered for the last quarter alone. "The
# last two quarters" is left to mean two in a row ("who missed the last two quarters?").
_ROLLING = re.compile(
    r"\b(?:last|past|previous|prior|latest)\s+(?:(?:[3-9]|1[0-9]|three|four|five|six|seven|eight"
    r"|nine|ten|eleven|twelve)\s+quarters|(?:\d{1,2}|three|six|nine|twelve|eighteen)\s+months)\b"
    r"|\brolling\s+(?:year|12\s+months|twelve\s+months|quarters)\b"
)
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
    return _tidy(text).lower()


def _tidy(text: str) -> str:
    """``normalise`` without the lower case: to quote names back as they were written."""
    text = _cut(text)
    text = _REPLY_PREFIX.sub("", text.replace("’", "'").replace("‘", "'"))
    return re.sub(r"\s+", " ", text).strip()


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
    written = _tidy(text)
    lowered = written.lower()
    if len(lowered) != len(written):  # a rare letter whose lower case is longer: no capitals
        written = lowered
    tokens = _tokenise(lowered)
    maracs, areas, used, national = _names(tokens, registry)
    residual = _blank(lowered, [tokens[i].span for i in used])
    quarter, year, unclear = _period(residual, today)
    return Entities(
        maracs=tuple(maracs),
        area=areas[0] if areas else None,
        quarter=quarter,
        year=year,
        period_unclear=unclear,
        national=national or bool(_NATIONAL.search(residual)),
        mine=bool(_MINE.search(residual)),
        metric=find_metric(residual),
        unknown=_leftovers(tokens, used, written),
        residual=residual,
        extra_areas=tuple(areas[1:]),
    )


def _period(
    text: str, today: date
) -> tuple[Quarter | None, FinancialYear | None, str | None]:
    """The quarter or year named, or the phrase that names none clearly: an impossible year
    is said back, never ignored for a default quarter."""
    if (senseless := senseless_year(text, today=today)) is not None:
        return None, None, senseless
    quarter = Quarter.find_in(text, today=today)
    if quarter is None:
        yearless = quarter_without_year(text, today=today)
        if isinstance(yearless, str):
            return None, None, yearless
        quarter = yearless
    year = FinancialYear.find_in(text, today=today) if quarter is None else None
    unclear = _unclear_period(text) if quarter is None and year is None else None
    return quarter, year, unclear


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
) -> tuple[list[str], list[Area], set[int], bool]:
    """Maracs and areas named, longest match first at each position; a Marac beats an area
    of the same name ("Kent" the Marac over "Kent Police" the force, when both exist).
    The last value: "Great Britain" (or the like) was said, meaning every Marac."""
    maracs: list[str] = []
    areas: list[Area] = []
    used: set[int] = set()
    national = False
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
        national = national or (marac is None and area is None)
        used.update(range(i, i + length))
        i += length
    return maracs, areas, used, national


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
            if registry.is_national(key):
                return length, None, None
            if (area := registry.place(key)) is not None:
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


# "Q2 and Q3": several quarters named, none with a year that would single one out.
_BARE_QUARTER = re.compile(r"\bq(?:tr)?\s?([1-4])\b")


def _unclear_period(text: str) -> str | None:
    """A quarter-like phrase that named no single quarter ("Q3 2024", "Q5", "the last four
    quarters", "Q2 and Q3"), or None."""
    named = sorted({m[1] for m in _BARE_QUARTER.finditer(text)})
    if len(named) > 1:
        return " and ".join(f"Q{n}" for n in named)
    match = _ROLLING.search(text) or _QUARTERISH.search(text)
    return match.group() if match else None


def _leftovers(tokens: list[_Token], used: set[int], written: str) -> tuple[Unknown, ...]:
    """Runs of words that are neither names nor ordinary question words, with how they were
    written (``written`` is the question as ``tokens`` were cut from, before lower case)."""
    found: list[Unknown] = []
    run: list[int] = []
    for i, token in enumerate(tokens):
        word = token.alt or token.key
        if i not in used and not is_filler(token.key) and not is_filler(word):
            run.append(i)
            continue
        if run:
            found.append(_unknown(tokens, run, used, written))
            run = []
    if run:
        found.append(_unknown(tokens, run, used, written))
    return tuple(found)


def _unknown(tokens: list[_Token], run: list[int], used: set[int], written: str) -> Unknown:
    first, last = tokens[run[0]], tokens[run[-1]]
    said = _SAID_EDGES.sub("", written[first.span[0] : last.span[1]])
    after_place = run[0] > 0 and tokens[run[0] - 1].key in PLACE_WORDS
    beside = _listed_with_name(tokens, used, written, run[0], -1) or _listed_with_name(
        tokens, used, written, run[-1], 1
    )
    return Unknown(" ".join(tokens[i].alt or tokens[i].key for i in run), after_place, said,
                   beside)


_SAID_EDGES = re.compile(r"^\W+|(?:'s)?\W*$")
# What joins places in a list: "Croydon and Narnia", "Leeds, Narnia", "Croydon or Gotham".
# A name beside a word with only a space between ("Croydon Narnia") is not a list.
_JOINER = re.compile(r"\W*(?:[,;&+/]\W*|\b(?:and|or|nor|plus)\b\W*)", re.IGNORECASE)
# The joining words left as tokens ("and" is not one: name keys drop it, as they drop "&").
_JOIN_WORDS = frozenset({"or", "nor", "plus"})


def _listed_with_name(
    tokens: list[_Token], used: set[int], written: str, edge: int, step: int
) -> bool:
    """Whether the token at ``edge`` is joined to a name on one side (``step`` -1: before
    it, 1: after it) by "and", "or" or a comma: there it stands where a place is expected,
    so it is an unknown place, not an ordinary word of the question."""
    i = edge + step
    if 0 <= i < len(tokens) and i not in used and tokens[i].key in _JOIN_WORDS:
        i += step
    if not (0 <= i < len(tokens) and i in used):
        return False
    left, right = sorted((tokens[i].span, tokens[edge].span))
    if left == right:  # one chunk ("croydon/narnia"): not a list as people write one
        return False
    tail = re.search(r"\W*$", written[left[0] : left[1]])
    between = (tail.group() if tail else "") + written[left[1] : right[0]]
    return bool(_JOINER.fullmatch(between))
