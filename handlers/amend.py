"""Amendments in words, in chat and by email (issue 16): "change Croydon 3 Oct 2024 repeat
cases to 9", "Lambeth 14 Nov: police referrals should be 12".

The sentence names a Marac, a meeting date, one figure and its new value. The meeting's
recorded figures with that one changed become a ``MeetingEntry`` of kind "sentence", which
goes the way every hand-entered meeting goes (handlers/form_entry.py): checked as a file row,
held as a change shown old → new, confirmed as usual. A sentence that leaves any of the four
open, or could mean two figures, is asked back; nothing is guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers import form_entry
from handlers.result import HandlerResult, Outcome
from kernel import wording
from kernel.config import Policy
from kernel.entry import EntryKind, MeetingEntry
from kernel.messages import InboundMessage, Reply
from store.models import Marac
from validation.columns import COUNT_KEYS, FIELD_BY_KEY, REFERRAL_KEYS

# What makes a sentence an amendment rather than a question: a change verb first, or "should
# be" / "should read", and a new value (a whole number, or "blank") at the end.
_VALUE = re.compile(
    r"(?:\bto|\bshould\s+(?:be|read|have\s+been)|\bis\s+actually|=)\s*"
    r"(\d{1,9}|blank|not\s+collected)\s*[.!]?\s*$",
    re.IGNORECASE,
)
_VERB = re.compile(r"^\s*(?:please\s+)?(?:change|correct|amend|update|set|fix)\b", re.IGNORECASE)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAY_MONTH = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(" + "|".join(_MONTHS) + r")[a-z]*\.?(?:\s+(\d{4}))?\b",
    re.IGNORECASE,
)
_NUMERIC = re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?\b")
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
# An amendment is looked for in the first few lines of a message (after a greeting).
SENTENCE_LINES = 4
# Words people use for a figure besides the template's headers (matched as whole words).
_ALIASES: dict[str, tuple[str, ...]] = {
    "cases": ("cases", "cases discussed", "number of cases"),
    "repeat_cases": ("repeat cases", "repeats", "repeat"),
    "children": ("children", "number of children"),
    "cases_with_children": ("cases with children",),
    "minoritised": ("racially minoritised", "minoritised"),
    "lgbtq": ("lgbtq", "lgbt", "lgbtq plus"),
    "disabled": ("disabled", "disabled victims"),
    "male": ("male", "male victims", "men"),
    "aged_16_17": ("16 or 17", "16 17 year olds", "aged 16 17"),
    "harming_under_18": ("harming others under 18", "under 18s harming"),
    "aged_65_plus": ("65", "aged 65", "65 plus", "over 65s"),
    "eth_asian": ("asian",),
    "eth_black": ("black",),
    "eth_mixed": ("mixed", "mixed ethnic"),
    "eth_other_white": ("other white",),
    "eth_any_other": ("any other ethnic group",),
    "ref_other": ("other referrals", "other agency", "referrals from other"),
}


@dataclass(frozen=True)
class Amendment:
    """What a sentence asks to change; ``problem`` says what is missing instead."""

    marac: str | None = None
    day: date | None = None
    key: str | None = None
    value: int | None = None
    problem: str | None = None


def sentence_of(message: InboundMessage) -> str | None:
    """The amendment a message asks for, in words: one of its first lines (past "Hi," and
    the like; quoted text is never read) or its subject, or None when none is an amendment."""
    lines = [line.strip() for line in (message.text or "").splitlines()]
    lines = [line for line in lines if line and not line.startswith(">")][:SENTENCE_LINES]
    for candidate in (*lines, message.subject or ""):
        found = _VALUE.search(candidate)
        lowered = candidate.lower()
        if found and (_VERB.match(candidate) or "should" in lowered or "is actually" in lowered):
            return candidate
    return None


def handle(
    session: Session,
    message: InboundMessage,
    sentence: str,
    *,
    sender: str,
    settings: Policy,
    today: date,
    now: datetime,
) -> HandlerResult:
    """Read the amendment and hold it (old → new), or ask back what it leaves open."""
    wanted = read_amendment(session, sentence, today=today)
    if (
        wanted.problem is not None
        or wanted.marac is None
        or wanted.day is None
        or wanted.key is None
    ):
        text = wording.amend_ask_back(wanted.problem or wording.AMEND_NO_FIELD)
        return HandlerResult(Outcome.AMEND_ASKED_BACK, Reply(message.thread, text))
    if not any(c.name == wanted.marac for c in form_entry.form_choices(session, sender)):
        # Checked as any entry would be: refused for that Marac, and nothing said about
        # whether it has such a meeting, or its figures.
        refused = MeetingEntry(
            wanted.marac, wanted.day, {wanted.key: wanted.value}, EntryKind.SENTENCE
        )
        return form_entry.record_entry(
            session, message, refused, sender=sender, settings=settings, today=today, now=now
        )
    recorded = form_entry.recorded_counts(session, wanted.marac, wanted.day)
    if recorded is None:
        return HandlerResult(
            Outcome.AMEND_NOTHING_RECORDED,
            Reply(message.thread, wording.amend_not_recorded(wanted.marac, wanted.day)),
        )
    entry = MeetingEntry(
        wanted.marac, wanted.day, {**recorded, wanted.key: wanted.value}, EntryKind.SENTENCE
    )
    return form_entry.record_entry(
        session, message, entry, sender=sender, settings=settings, today=today, now=now
    )


def read_amendment(session: Session, text: str, *, today: date) -> Amendment:
    """The Marac, date, figure and value a sentence names, or what it leaves open."""
    found = _VALUE.search(text)
    if found is None:
        return Amendment(problem=wording.AMEND_NO_VALUE)
    raw_value = found.group(1).lower()
    value = int(raw_value) if raw_value.isdigit() else None
    rest = _words(text[: found.start()])
    maracs = _maracs_in(session, rest)
    if len(maracs) != 1:
        return Amendment(problem=wording.AMEND_NO_MARAC)
    [(marac, phrase)] = maracs.items()
    rest = re.sub(rf"\b{re.escape(phrase)}\b", " ", rest)
    days = _dates_in(text[: found.start()], today=today)
    if len(days) != 1:
        return Amendment(marac, problem=wording.AMEND_NO_DATE)
    rest = _strip_dates(rest)
    keys = _fields_in(rest)
    if not keys:
        return Amendment(marac, days[0], problem=wording.AMEND_NO_FIELD)
    if len(keys) > 1:
        headers = [FIELD_BY_KEY[k].uk_header for k in keys]
        return Amendment(marac, days[0], problem=wording.amend_many_fields(headers))
    return Amendment(marac, days[0], keys[0], value)


def _words(text: str) -> str:
    """Lower case, "&" as "and", punctuation as spaces: what names and phrases are matched in."""
    text = text.lower().replace("&", " and ").replace("’", "'").replace("+", " plus ")
    return " " + re.sub(r"\s+", " ", re.sub(r"[^\w/-]", " ", text)).strip() + " "


def _maracs_in(session: Session, text: str) -> dict[str, str]:
    """Registered Maracs named in the text (by name or alias), with the phrase that named them;
    where one name is part of another ("Leeds" in "Leeds North"), the longer is meant."""
    found: dict[str, str] = {}
    for name, aliases in session.execute(
        select(Marac.name, Marac.aliases).where(Marac.retired_at.is_(None))
    ):
        for phrase in sorted(
            {_words(n).strip() for n in (name, *(aliases or []))}, key=len, reverse=True
        ):
            if phrase and re.search(rf"\b{re.escape(phrase)}\b", text):
                found[name] = phrase
                break
    return {
        n: p
        for n, p in found.items()
        if not any(p != q and re.search(rf"\b{re.escape(p)}\b", q) for q in found.values())
    }


def _dates_in(text: str, *, today: date) -> list[date]:
    days: set[date] = set()
    for day, month, year in _DAY_MONTH.findall(text):
        _add(days, int(day), _MONTHS.index(month[:3].lower()) + 1, year, today)
    for day, month, year in _NUMERIC.findall(text):
        _add(days, int(day), int(month), year, today)
    for year, month, day in _ISO.findall(text):
        _add(days, int(day), int(month), year, today)
    return sorted(days)


def _add(days: set[date], day: int, month: int, year: str, today: date) -> None:
    """A date without a year is the latest one not after today (meetings are in the past)."""
    try:
        if year:
            days.add(date(int(year) + (2000 if len(year) == 2 else 0), month, day))
            return
        guess = date(today.year, month, day)
        days.add(guess if guess <= today else date(today.year - 1, month, day))
    except ValueError:
        return


def _strip_dates(text: str) -> str:
    for pattern in (_DAY_MONTH, _NUMERIC, _ISO):
        text = pattern.sub(" ", text)
    return text


def _fields_in(text: str) -> list[str]:
    """The figures the words name; a phrase inside a longer one ("cases" in "repeat cases")
    is not counted on its own."""
    spans: list[tuple[int, int, str]] = []
    for key, phrases in _phrases().items():
        for phrase in phrases:
            spans += [
                (m.start(), m.end(), key) for m in re.finditer(rf"\b{re.escape(phrase)}\b", text)
            ]
    kept = {
        key
        for start, end, key in spans
        if not any(s <= start and end <= e and (e - s) > (end - start) for s, e, _ in spans)
    }
    return [key for key in COUNT_KEYS if key in kept]


def _phrases() -> dict[str, set[str]]:
    phrases: dict[str, set[str]] = {}
    for key in COUNT_KEYS:
        field = FIELD_BY_KEY[key]
        names = {field.uk_header, field.scotland_header, *_ALIASES.get(key, ())}
        if key in REFERRAL_KEYS and key != "ref_other":
            names |= {f"{n} referrals" for n in (field.uk_header, field.scotland_header)}
            names |= {f"referrals from {n}" for n in (field.uk_header, field.scotland_header)}
        phrases[key] = {_words(n).strip() for n in names} - {"other"}
    return phrases
