"""National answers through the dispatcher (issue 13): a question about several Maracs asked by
email gets figures under the national rule, and its reply names who was filled from a previous
quarter and who was left out; a Marac's own figures never are. SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings
from store.db import Store
from tests.dispatch_support import MAILBOX, Mailroom, body_of, compose
from tests.questions_support import load_registry, seed


@pytest.fixture
def mailroom(db_store: Store, tmp_path: Path) -> Mailroom:
    with db_store.sessions() as session:
        load_registry(session)
        seed(session)
    settings = Settings(
        data_dir=tmp_path / "data", mailbox_address=MAILBOX, smtp_listen=None, http_listen=None
    )
    return Mailroom(db_store, settings)


def _answer(mailroom: Mailroom, question: str) -> str:
    handled = mailroom.exchange(
        compose(sender="ada@example.org", subject=question, body=f"{question}\n")
    )
    assert handled.outcome is not None and handled.outcome.startswith("question"), handled
    (reply,) = handled.replies
    return body_of(reply)


def test_a_national_question_by_email_names_who_was_filled_and_left_out(
    mailroom: Mailroom,
) -> None:
    text = _answer(mailroom, "summary Q3 2024/25")
    assert "6 of 9 Maracs sent figures." in text
    assert (
        "National rule: Kirklees missed a quarter, so its previous quarter's figures stand "
        "in; Glasgow and Kingston upon Thames missed two quarters in a row, so are left "
        "out."
    ) in text
    # Kirklees's Q2 figures stand in for its Q3: 21 meetings, not the 18 sent for Q3.
    assert "Cases discussed: 330 at 21 meetings." in text


def test_a_marac_s_own_figures_by_email_are_never_filled(mailroom: Mailroom) -> None:
    text = _answer(mailroom, "how many cases did Kirklees discuss in Q3 2024/25?")
    assert "No figures have been sent for Kirklees" in text and "National rule" not in text


def test_a_year_with_nothing_sent_is_not_0_meetings_0_cases(mailroom: Mailroom) -> None:
    text = _answer(mailroom, "status Glasgow 2024/25")
    assert "The year so far: nothing sent yet." in text and "0 meetings" not in text
