""""I sent the wrong file, please delete it" with no submission number (issue 13's withdrawing
by message): told how to withdraw or correct, with the sender's latest files; nothing is
withdrawn until they name one. Through the stored inbox, the Worker and the dispatcher.
"""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest

from handlers.withdraw import RECENT_SHOWN
from store.db import Store
from store.models import MeetingVersion, Submission
from tests.dispatch_support import File, Mailroom, body_of, compose, registered_mailroom
from tests.fixtures import make_fixtures as mf


@pytest.fixture
def mailroom(db_store: Store, tmp_path: Path) -> Mailroom:
    return registered_mailroom(db_store, tmp_path)


def _send_file(mailroom: Mailroom, name: str, days_later: int, *, cases: int | None = None,
               outcome: str = "submission-accepted") -> None:
    """A return of six meetings, each ``days_later`` than the template's (all in Q3); with
    ``cases``, the first meeting's cases changed to it."""
    grid = mf.baseline_grid()
    for row in grid[1:]:
        row[1] = row[1] + timedelta(days=days_later)  # type: ignore[operator]
    if cases is not None:
        mf.put(grid, "C2", cases)
    out = io.BytesIO()
    mf.to_workbook({mf.DATA_SHEET: grid}).save(out)
    handled = mailroom.exchange(compose(subject="Croydon return",
                                        files=[File(name, out.getvalue())]))
    assert handled.outcome == outcome, handled.outcome


@pytest.mark.parametrize("words", [
    "Hi, I attached the wrong file earlier, please can you delete it?",
    "Sorry, I sent that in error.",
    "Please withdraw the return I sent this morning.",
])
def test_asking_to_undo_a_file_without_its_number_says_how_and_lists_the_latest(
    mailroom: Mailroom, words: str
) -> None:
    names = [f"croydon-q3-v{n}.xlsx" for n in range(1, RECENT_SHOWN + 2)]
    for n, name in enumerate(names):
        _send_file(mailroom, name, days_later=n)
    current = mailroom.count(MeetingVersion, MeetingVersion.is_current.is_(True))
    handled = mailroom.exchange(compose(subject="Oops", body=f"{words}\n\nJane\n"))
    assert handled.outcome == "withdraw-how"
    body = body_of(handled.reply)
    newest_first = list(reversed(names))[:RECENT_SHOWN]
    listed = [line for line in body.splitlines() if line.startswith("- ")]
    assert [line.split(": ")[1].split(",")[0] for line in listed] == newest_first
    assert f'"withdraw {len(names)}"' in body  # the newest's number, as the example
    # Nothing was withdrawn: that waits for a number.
    assert mailroom.count(Submission, Submission.withdrawn_at.is_not(None)) == 0
    assert mailroom.count(MeetingVersion, MeetingVersion.is_current.is_(True)) == current


def test_a_file_that_recorded_nothing_is_not_listed_and_one_held_is(mailroom: Mailroom) -> None:
    _send_file(mailroom, "first.xlsx", 0)
    _send_file(mailroom, "again.xlsx", 0)  # accepted, but nothing new recorded
    _send_file(mailroom, "changed.xlsx", 0, cases=30, outcome="submission-held")
    handled = mailroom.exchange(compose(subject="Oops", body="Wrong file, please delete it\n"))
    listed = [line for line in body_of(handled.reply).splitlines() if line.startswith("- ")]
    assert [line.split(": ")[1].split(",")[0] for line in listed] == ["changed.xlsx",
                                                                        "first.xlsx"]


def test_with_no_file_recorded_it_says_so(mailroom: Mailroom) -> None:
    handled = mailroom.exchange(compose(subject="Oops", body="I sent the wrong file, sorry!\n"))
    assert handled.outcome == "withdraw-how"
    assert "You have no file recorded that could be withdrawn." in body_of(handled.reply)


@pytest.mark.parametrize("words", [
    "Please ignore my last email: has Croydon uploaded Q3 2024/25?",  # a question, answered
    "Please ignore my last email, I will call you instead.",  # no file named
])
def test_other_words_about_ignoring_are_not_a_withdrawal(mailroom: Mailroom, words: str) -> None:
    handled = mailroom.exchange(compose(subject="Hello", body=f"{words}\n"))
    assert handled.outcome != "withdraw-how"
