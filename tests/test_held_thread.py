"""Replies to our held-changes message, read in their context (issue 12), through the stored
inbox, the Worker and the real dispatcher on SQLite and PostgreSQL.

A coordinator sends a clean return, then a file that changes two meetings (3 Oct and 5 Dec
2024: rows 2 and 6 of several_issues.xlsx), and answers our reply in its thread in their own
words.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from kernel import wording
from store.db import Store
from store.history import meeting_history
from store.models import HeldChange
from tests.dispatch_support import (
    MAILBOX,
    Handled,
    Mailroom,
    body_of,
    compose,
    fixture,
    registered_mailroom,
)

PENDING = HeldChange.status == "pending"
HELD_DAYS = [("Croydon", "3 Oct 2024"), ("Croydon", "5 Dec 2024")]


@pytest.fixture
def mailroom(db_store: Store, tmp_path: Path) -> Mailroom:
    return registered_mailroom(db_store, tmp_path)


@pytest.fixture
def held(mailroom: Mailroom) -> Handled:
    """Our reply holding two changed meetings, after a first clean return."""
    assert mailroom.exchange(compose(files=[fixture("clean_libreoffice.xlsx")])).outcome == (
        "submission-accepted")
    handled = mailroom.exchange(compose(files=[fixture("several_issues.xlsx")]))
    assert handled.outcome == "submission-held"
    assert mailroom.count(HeldChange, PENDING) == 2
    return handled


def answer_to(handled: Handled, words: str) -> bytes:
    """The coordinator's answer in our reply's thread, quoting it as mail clients do."""
    ours = handled.reply
    quoted = "\n".join(f"> {line}" for line in body_of(ours).splitlines())
    return compose(
        subject=str(ours["Subject"]),
        body=f"{words}\n\nOn Mon, 3 Feb 2025 at 10:12, Marac data <{MAILBOX}> wrote:\n{quoted}\n",
        in_reply_to=str(ours["Message-ID"]),
        references=[*str(ours["References"]).split(), str(ours["Message-ID"])],
    )


def figures(mailroom: Mailroom, day: date) -> dict[str, int | None]:
    """The current figures of Croydon's meeting on ``day``."""
    with mailroom.store.transaction() as session:
        current = [v for v in meeting_history(session, "Croydon", day) if v.is_current]
        return dict(current[0].counts)


@pytest.mark.parametrize("words", [
    "yes",
    "Yes please confirm, those are the right figures",
    "confirmed, thanks",
    "That's right, go ahead",
    "CONFIRM",
])
def test_a_natural_confirmation_confirms_the_held_changes(
    mailroom: Mailroom, held: Handled, words: str,
) -> None:
    before = figures(mailroom, date(2024, 10, 3))
    answered = mailroom.exchange(answer_to(held, words))
    assert answered.outcome == "confirmed"
    assert body_of(answered.reply).strip() == wording.confirmed_text(2)
    assert mailroom.count(HeldChange, PENDING) == 0
    assert figures(mailroom, date(2024, 10, 3)) != before


@pytest.mark.parametrize("words", ["no", "No, keep the old figures", "KEEP",
                                   "please don't confirm, those were wrong"])
def test_a_plain_no_keeps_the_figures_we_had(
    mailroom: Mailroom, held: Handled, words: str,
) -> None:
    before = figures(mailroom, date(2024, 10, 3))
    answered = mailroom.exchange(answer_to(held, words))
    assert answered.outcome == "kept"
    assert body_of(answered.reply).strip() == wording.kept_text(2)
    assert mailroom.count(HeldChange, PENDING) == 0
    assert figures(mailroom, date(2024, 10, 3)) == before


@pytest.mark.parametrize("words", [
    "thanks",
    "Q2 2026/27",  # once read as a question about that quarter
    "has Croydon uploaded Q3 2024/25?",
    "Yes, but 5 Dec is wrong",
])
def test_anything_unclear_is_asked_back_and_nothing_changes(
    mailroom: Mailroom, held: Handled, words: str,
) -> None:
    answered = mailroom.exchange(answer_to(held, words))
    assert answered.outcome == "held-reply-unclear"
    assert body_of(answered.reply).strip() == wording.held_unclear_text(HELD_DAYS)
    assert body_of(answered.reply).startswith(
        "Did you mean to confirm the 2 held changes (Croydon: 3 Oct 2024 and 5 Dec 2024)? "
        "Reply CONFIRM")
    assert mailroom.count(HeldChange, PENDING) == 2


def test_confirming_one_meeting_by_its_date_leaves_the_other_waiting(
    mailroom: Mailroom, held: Handled,
) -> None:
    kept = figures(mailroom, date(2024, 12, 5))
    answered = mailroom.exchange(answer_to(held, "confirm 3 Oct only please"))
    assert answered.outcome == "confirmed"
    assert body_of(answered.reply).strip() == (
        wording.confirmed_text(1) + "\n\n" + wording.held_still_waiting([HELD_DAYS[1]]))
    assert mailroom.count(HeldChange, PENDING) == 1
    assert figures(mailroom, date(2024, 12, 5)) == kept
    # The rest is settled by a later answer in the same thread.
    assert mailroom.exchange(answer_to(held, "keep the rest")).outcome == "kept"
    assert mailroom.count(HeldChange, PENDING) == 0
    assert figures(mailroom, date(2024, 12, 5)) == kept


def test_a_date_that_names_no_held_meeting_is_asked_back(
    mailroom: Mailroom, held: Handled,
) -> None:
    answered = mailroom.exchange(answer_to(held, "confirm 4 Oct"))
    assert answered.outcome == "held-reply-unclear"
    assert body_of(answered.reply).strip() == wording.held_unclear_text(HELD_DAYS,
                                                                      unmatched=["4 Oct"])
    assert mailroom.count(HeldChange, PENDING) == 2


def test_once_settled_a_yes_in_the_thread_says_nothing_is_waiting(
    mailroom: Mailroom, held: Handled,
) -> None:
    assert mailroom.exchange(answer_to(held, "yes")).outcome == "confirmed"
    again = mailroom.exchange(answer_to(held, "yes please"))
    assert again.outcome == "confirm-nothing-pending"
    assert body_of(again.reply).strip() == wording.confirmed_text(0)


def test_a_yes_outside_any_thread_is_not_a_confirmation(
    mailroom: Mailroom, held: Handled,
) -> None:
    # No In-Reply-To: "yes" answers nothing we asked, so nothing is confirmed.
    answered = mailroom.exchange(compose(subject="hello", body="yes\n"))
    assert answered.outcome not in ("confirmed", "kept", "held-reply-unclear")
    assert mailroom.count(HeldChange, PENDING) == 2


def test_over_smtp_a_yes_in_the_thread_confirms(tmp_path: Path) -> None:
    """The same conversation through ``marac-bot run``: its SMTP listener in, the relay out."""
    from email.message import EmailMessage
    from email.utils import make_msgid

    from tests.run_e2e_support import COORDINATOR, SMTP_POLICY, BotProcess, read_reply, submission
    from tests.smtp_support import SmtpSink
    from tests.test_run_e2e import WAIT, bot_env, send

    with SmtpSink() as sink, BotProcess(tmp_path / "work",
                                        bot_env(tmp_path / "data", relay=sink)).start() as bot:
        send(bot, submission("clean_libreoffice.xlsx"))
        sink.wait_for(1, timeout=WAIT)
        send(bot, submission("several_issues.xlsx"))
        held = read_reply(sink.wait_for(2, timeout=WAIT)[1].data)
        assert "2 meetings with changed figures wait for your confirmation" in held.text
        answer = EmailMessage()
        answer["From"], answer["To"] = COORDINATOR, MAILBOX
        answer["Subject"] = held.subject
        answer["Message-ID"] = make_msgid(domain="croydon.example.org")
        answer["In-Reply-To"] = held.message_id
        answer["References"] = f"{held.references} {held.message_id}"
        answer.set_content("Yes please confirm, those are the right figures\n\n"
                           "> " + held.text.replace("\n", "\n> "))
        send(bot, answer.as_bytes(policy=SMTP_POLICY))
        confirmed = read_reply(sink.wait_for(3, timeout=WAIT)[2].data)
    assert confirmed.in_reply_to == answer["Message-ID"]
    assert confirmed.text.strip() == wording.confirmed_text(2)
