"""What a reply to a held-changes message says: confirm, keep, or something we must ask about.

Pure reading of the reply's own words (quoted text already cut by the channel), so it can be
tested on its own and reused by every channel. People write "yes please confirm", "confirmed,
thanks", "that's right, go ahead", "no, keep the old figures"; a reply that says both, or
neither, is asked back rather than guessed (interface.md: anything unclear is asked back).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

# Commands other steps answer (issue 13: EXPLAIN D7: reason, WITHDRAW): never read as a yes/no.
OTHER_COMMANDS = ("explain", "withdraw")
# A reply is read up to this many characters: a confirmation is a line, not a letter, and
# anything past a signature rarely says more.
READ_CHARS = 400

_YES = re.compile(
    r"\b(confirm(?:ed|s|ing)?|yes|yeah|yep|yup|aye|correct|right|go ahead|agreed?|approved?|"
    r"ok|okay|fine|accept(?:ed)?|please (?:update|apply|replace|use)|update (?:it|them)|"
    r"use the new|new figures are (?:right|correct)|happy (?:with|for))\b"
)
_NO = re.compile(
    r"\b(no|nope|keep|cancel|reject|discard|leave (?:it|them|the)|wrong|incorrect|mistake|"
    r"old figures|ignore)\b"
)
# "don't confirm", "not right", "do not update": a negated yes is a no.
_NEGATED_YES = re.compile(
    r"\b(?:don'?t|do not|not|never|please don'?t)\s+(?:\w+\s+)?"
    r"(confirm|update|apply|replace|use|right|correct|accept)\b"
)
# A negation left over once the negated yeses are read ("I do not, no problem, update them"):
# it may turn a yes round, so such a yes is asked back rather than acted on.
_STRAY_NEGATION = re.compile(r"\b(?:not|don'?t|never|won'?t|shouldn'?t|can'?t)\b")
# "no problem", "no worries", "not a problem": polite, not a refusal.
_POLITE_NO = re.compile(r"\b(no (?:problem|worries|bother)|not a problem|no doubt)\b")

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_DAY_MONTH = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?"
    r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?(?:\s+(\d{4}))?\b"
)
_NUMERIC = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2}|\d{4}))?\b")


class HeldVerdict(StrEnum):
    CONFIRM = "confirm"
    KEEP = "keep"
    UNCLEAR = "unclear"


@dataclass(frozen=True)
class MeetingDay:
    """A meeting date as written: the year only when given ("3 Oct", "3 Oct 2024")."""

    day: int
    month: int
    year: int | None = None

    def matches(self, meeting: date) -> bool:
        return (meeting.day, meeting.month) == (self.day, self.month) and (
            self.year is None or self.year == meeting.year
        )


@dataclass(frozen=True)
class HeldAnswer:
    verdict: HeldVerdict
    # The meetings named ("confirm 3 Oct only"): none means every held change.
    days: tuple[MeetingDay, ...] = ()


_OTHER = re.compile(rf"\b({'|'.join(OTHER_COMMANDS)})\b")


def is_other_command(text: str) -> bool:
    """Words another step answers ("EXPLAIN D7: …", "please withdraw submission 3"), even in
    a thread on held changes: those steps sit beside this one in the dispatcher."""
    return bool(_OTHER.search(_first_words(text)))


def read_answer(text: str) -> HeldAnswer:
    """The verdict of a reply in a thread on held changes, and the meetings it names."""
    words = _first_words(text)
    if "?" in words:  # "is that right?" asks something: ask back rather than act
        return HeldAnswer(HeldVerdict.UNCLEAR)
    polite = _POLITE_NO.sub(" ", words)
    negated = bool(_NEGATED_YES.search(polite))
    rest = _NEGATED_YES.sub(" ", polite)
    yes = bool(_YES.search(rest))
    no = negated or bool(_NO.search(polite))
    if yes == no or (yes and _STRAY_NEGATION.search(rest)):  # both, neither, or unsure: ask
        return HeldAnswer(HeldVerdict.UNCLEAR)
    verdict = HeldVerdict.CONFIRM if yes else HeldVerdict.KEEP
    return HeldAnswer(verdict, meeting_days(words))


def meeting_days(words: str) -> tuple[MeetingDay, ...]:
    """Meeting dates named in a reply: "3 Oct", "3rd of October 2024", "03/10/2024"."""
    found = [
        MeetingDay(int(d), _MONTHS[m], int(y) if y else None)
        for d, m, y in _DAY_MONTH.findall(words)
    ]
    for d, m, y in _NUMERIC.findall(words):
        if 1 <= int(m) <= 12 and 1 <= int(d) <= 31:
            year = (2000 + int(y) if len(y) == 2 else int(y)) if y else None
            found.append(MeetingDay(int(d), int(m), year))
    return tuple(dict.fromkeys(found))


def _first_words(text: str) -> str:
    """The reply's own words, lower case, curly quotes straightened, at most READ_CHARS."""
    cleaned = text[:READ_CHARS].lower().replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(cleaned.split())
