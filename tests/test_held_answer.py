"""How a reply in a thread on held changes is read (handlers/held_answer.py): confirm, keep or
ask back, and the meeting dates it names. The conversations are in test_held_thread.py."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.held_answer import HeldVerdict, MeetingDay, is_other_command, read_answer

CONFIRM, KEEP, UNCLEAR = HeldVerdict.CONFIRM, HeldVerdict.KEEP, HeldVerdict.UNCLEAR


@pytest.mark.parametrize(("words", "verdict"), [
    ("yes", CONFIRM),
    ("Yes please confirm, those are the right figures", CONFIRM),
    ("confirmed, thanks", CONFIRM),
    ("That\u2019s right, go ahead", CONFIRM),
    ("CONFIRM", CONFIRM),
    ("ok", CONFIRM),
    ("no problem, go ahead", CONFIRM),  # polite, not a refusal
    ("no", KEEP),
    ("No, keep the old figures", KEEP),
    ("KEEP", KEEP),
    ("please don't confirm", KEEP),  # a negated yes
    ("do not update them", KEEP),
    ("thanks", UNCLEAR),
    ("Q2 2026/27", UNCLEAR),
    ("is that right?", UNCLEAR),  # a question acts on nothing
    ("yes, but 5 Dec is wrong", UNCLEAR),  # both
    # A negation the negated-yes pattern cannot tie to its verb may turn the yes round: ask.
    ("I do not, no problem, update them", UNCLEAR),
    ("we do not, no doubt, accept these", UNCLEAR),
    ("not sure, go ahead I suppose", UNCLEAR),
    ("Thanks, no problem, please update them", CONFIRM),
    ("", UNCLEAR),
])
def test_a_reply_is_read_as_confirm_keep_or_unclear(words: str, verdict: HeldVerdict) -> None:
    assert read_answer(words).verdict is verdict


def test_only_the_start_of_a_long_reply_is_read() -> None:
    assert read_answer("thanks " + "x " * 300 + "confirm").verdict is UNCLEAR


@pytest.mark.parametrize(("words", "days"), [
    ("confirm 3 Oct only", (MeetingDay(3, 10),)),
    ("confirm the 3rd of October 2024", (MeetingDay(3, 10, 2024),)),
    ("keep 03/10/2024 and 5/12/24", (MeetingDay(3, 10, 2024), MeetingDay(5, 12, 2024))),
    ("confirm", ()),
    ("confirm 31/13/2024", ()),  # no 13th month: not a date
])
def test_meeting_dates_named_in_a_reply(words: str, days: tuple[MeetingDay, ...]) -> None:
    assert read_answer(words).days == days


def test_a_day_without_a_year_matches_that_day_in_any_year() -> None:
    assert MeetingDay(3, 10).matches(date(2024, 10, 3))
    assert not MeetingDay(3, 10, 2023).matches(date(2024, 10, 3))
    assert not MeetingDay(4, 10).matches(date(2024, 10, 3))


def test_other_steps_commands_are_left_to_them() -> None:
    assert is_other_command("EXPLAIN D7: a new refuge opened")
    assert is_other_command("Please withdraw submission 3, it was the wrong file")
    assert not is_other_command("yes, the explanation is in the file")  # a word, not the verb
    assert not is_other_command("yes please confirm")
