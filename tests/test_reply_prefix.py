"""A subject's reply and forward marks come off before it is read (a question, CONFIRM, a
withdrawal), in the languages coordinators' mail clients write them."""

from __future__ import annotations

import pytest

from handlers.confirmation import is_confirmation, strip_reply_prefix


@pytest.mark.parametrize(("subject", "left"), [
    ("Re: Q3 return", "Q3 return"),
    ("RE: FW: Q3 return", "Q3 return"),
    ("AW: has Croydon uploaded Q3?", "has Croydon uploaded Q3?"),
    ("SV: Antw: Q3 return", "Q3 return"),
    ("WG: VS: Doorst: TR: RV: Fwd: Q3 return", "Q3 return"),
    ("Re[2]: Q3 return", "Q3 return"),
    ("  re :  Q3 return", "Q3 return"),
    ("Q3 return", "Q3 return"),
    ("Reminder: Q3 return", "Reminder: Q3 return"),  # a word, not a mark
    ("Tr Q3 return", "Tr Q3 return"),  # no colon: not a mark
    ("Re[1234]: Q3", "Re[1234]: Q3"),  # numbered past any client's count
    ("Sverige: Q3", "Sverige: Q3"),
])
def test_marks_come_off_and_words_stay(subject: str, left: str) -> None:
    assert strip_reply_prefix(subject) == left


def test_a_german_reply_saying_confirm_in_its_subject_confirms() -> None:
    assert is_confirmation("", "AW: CONFIRM")
    assert not is_confirmation("", "AW: Croydon Q3 figures")
