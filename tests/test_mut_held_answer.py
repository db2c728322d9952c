"""Boundaries of reading a held-changes reply (handlers/held_answer.py) that a mutation run
found unpinned: curly apostrophes, the edges of a written date, a date without a year, and a
polite phrase between a "not" and a yes word."""

from __future__ import annotations

import pytest

from handlers.held_answer import HeldVerdict, MeetingDay, read_answer


@pytest.mark.parametrize(
    "words",
    [
        "please don\u2019t confirm",  # a phone's right single quote
        "don\u2018t update them",  # an autocorrected left one
    ],
)
def test_a_curly_apostrophe_still_negates(words: str) -> None:
    assert read_answer(words).verdict is HeldVerdict.KEEP


def test_a_polite_phrase_reads_as_if_it_were_not_there() -> None:
    # "do not ... accept" stays a refusal with "no doubt" between the two.
    assert read_answer("we do not no doubt accept these").verdict is HeldVerdict.KEEP


@pytest.mark.parametrize(
    ("words", "days"),
    [
        ("confirm 1/1/2025", (MeetingDay(1, 1, 2025),)),  # the first day and month are dates
        ("confirm 31/12/2024", (MeetingDay(31, 12, 2024),)),  # and the last
        ("confirm 32/12/2024", ()),  # no 32nd day
        ("confirm 0/12/2024", ()),
        ("confirm 5/0/2024", ()),  # no month 0
        ("confirm 3/10", (MeetingDay(3, 10),)),  # no year written: any year
    ],
)
def test_the_edges_of_a_written_date(words: str, days: tuple[MeetingDay, ...]) -> None:
    answer = read_answer(words)
    assert answer.verdict is HeldVerdict.CONFIRM
    assert answer.days == days
