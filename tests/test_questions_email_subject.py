"""A question in an email's subject (interface.md, Email behaviour: "A message whose body or
subject is a question … is answered like `ask`"), under bodies as mail clients and councils
write them: a pleasantry ("Could you let me know?"), a sign-off, a signature block, a
confidentiality notice, an external-mail banner. Each message goes through the real email
converter and dispatcher (tests/conversation_support.py), on SQLite and PostgreSQL.

The body's sentences and the subject are each read by the question engine, and the one it
understands best is answered, the body's first on a tie; boilerplate is never read as a
question ("If you have received it in error" is no place called "error").
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.settings import Settings
from handlers.questions import Understanding, understanding
from store.db import Store
from tests.conversation_support import (
    CROYDON,
    TODAY,
    Said,
    dispatch,
    email,
    prepared_store,
    settings,
)

HAS_CROYDON = "has Croydon uploaded Q3 2024/25?"
IS_SUTTON = "Is Sutton missing Q3 2024/25?"
CROYDON_Q3 = "Croydon has uploaded Q3 2024/25 (1 Oct – 31 Dec 2024)"

DISCLAIMER = (
    "This email and any files transmitted with it are confidential and intended solely for\n"
    "the use of the individual or entity to whom they are addressed. Any views or opinions\n"
    "expressed are those of the author and do not necessarily represent those of Croydon\n"
    "Council. Emails may be monitored. If you have received it in error please notify the\n"
    "sender.\n"
)
SIGNATURE = (
    "Jane Smith | Marac Coordinator\n"
    "Community Safety, Croydon Council\n"
    "Bernard Weatherill House, 8 Mint Walk, Croydon CR0 1EA\n"
    "Tel: 020 8726 6000 | jane.smith@croydon.gov.uk\n"
)
BANNER = (
    "CAUTION: This email originated from outside of the organisation. Do not click links or\n"
    "open attachments unless you recognise the sender and know the content is safe.\n"
)
OUTLOOK_QUOTE = (
    "________________________________\n"
    "From: Marac data <marac@data.example>\n"
    "Sent: 30 May 2025 16:02\n"
    "To: Jane Smith <croydon.coordinator@example.org>\n"
    "Subject: Q3 2024/25 return - Croydon\n\n"
    "Has Lambeth uploaded Q2 2024/25?\n"
)

# Bodies that ask nothing the engine can answer: the subject's question is answered.
PLAIN = "Hi,\n\nCould you let me know?\n\nThanks\nJane\n"
OUTLOOK = f"Hi,\n\nCould you let me know?\n\nThanks\nJane\n\n{SIGNATURE}\n{DISCLAIMER}"
THUNDERBIRD = (
    "Hello,\n\nCould you let me know please?\n\nKind regards,\nJane\n\n-- \n"
    f"{SIGNATURE}"
)
ONLY_A_FOOTER = f"Hi,\n\nThanks\nJane\n\n{SIGNATURE}\n{DISCLAIMER}"
UNSIGNED_FOOTER = f"Could you let me know?\n\n{SIGNATURE}{DISCLAIMER}"
BANNER_ON_TOP = f"{BANNER}\nHi team,\n\nAny news on this?\n\nMany thanks\nJane\n"
REPLY_ABOVE_QUOTE = f"Could you let me know?\n\nThanks\nJane\n\n{OUTLOOK_QUOTE}"
IPHONE = "Could you let me know?\n\nSent from my iPhone\n"


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Store, Settings]]:
    tmp = tmp_path_factory.mktemp("subject")
    pg = request.getfixturevalue("pg_database_url") if request.param == "postgresql" else None
    with prepared_store(request.param, tmp, pg) as store:
        yield store, settings(tmp / "data")


def mail(world: tuple[Store, Settings], body: str, subject: str) -> Said:
    store, settings_ = world
    return dispatch(store, settings_, email(body, sender=CROYDON, subject=subject))


@pytest.mark.parametrize(
    "body",
    [PLAIN, OUTLOOK, THUNDERBIRD, UNSIGNED_FOOTER, BANNER_ON_TOP, REPLY_ABOVE_QUOTE, IPHONE],
    ids=["plain", "outlook", "thunderbird", "unsigned-footer", "banner-on-top",
         "reply-above-quote", "iphone"],
)
@pytest.mark.parametrize("prefix", ["", "RE: "])
def test_the_subjects_question_is_answered_under_a_body_that_asks_nothing_answerable(
    world: tuple[Store, Settings], body: str, prefix: str
) -> None:
    said = mail(world, body, prefix + HAS_CROYDON)
    assert said.outcome == "question-has-uploaded", said.text
    assert said.text.startswith(CROYDON_Q3)
    assert "did not understand" not in said.text and "error" not in said.text


def test_a_signed_thank_you_asks_the_subject_only_in_a_new_message(
    world: tuple[Store, Settings],
) -> None:
    """A new message's subject is its question; a reply's repeats the thread's topic, so a
    thank-you under it is only thanks."""
    said = mail(world, ONLY_A_FOOTER, HAS_CROYDON)
    assert said.outcome == "question-has-uploaded" and said.text.startswith(CROYDON_Q3)
    assert mail(world, ONLY_A_FOOTER, "RE: " + HAS_CROYDON).outcome == "thanks"


@pytest.mark.parametrize("body", [PLAIN, OUTLOOK, THUNDERBIRD],
                         ids=["plain", "outlook", "thunderbird"])
def test_a_question_about_another_marac_in_the_subject_gets_its_refusal(
    world: tuple[Store, Settings], body: str
) -> None:
    """The subject is understood (Croydon's coordinator may not ask about Sutton): the
    answer says so, rather than not understanding the body's pleasantry."""
    said = mail(world, body, IS_SUTTON)
    assert said.outcome == "question-refused"
    assert "Sutton is not one of them" in said.text


def test_a_body_question_that_refers_back_to_the_subject_gets_the_subjects_answer(
    world: tuple[Store, Settings],
) -> None:
    """ "Have you received it?" is a question, but names nothing; the subject names it."""
    said = mail(world, "Hi,\n\nHave you received it yet?\n\nThanks\nJane\n", HAS_CROYDON)
    assert said.text.startswith(CROYDON_Q3)


# --- the body's own question still comes first ----------------------------------------------


def test_an_understood_body_question_is_answered_over_the_subject(
    world: tuple[Store, Settings],
) -> None:
    body = f"Hi,\n\nHas Croydon uploaded Q4 2024/25?\n\nThanks\nJane\n\n{SIGNATURE}\n{DISCLAIMER}"
    said = mail(world, body, HAS_CROYDON)
    assert said.text.startswith("Croydon has uploaded Q4 2024/25 (1 Jan – 31 Mar 2025)")


def test_a_how_to_question_in_the_body_is_answered_over_the_subject(
    world: tuple[Store, Settings],
) -> None:
    said = mail(world, "Hi,\n\nHow do I send you our data?\n\nThanks\nJane\n", HAS_CROYDON)
    assert said.outcome == "question-how-to"


def test_a_body_question_under_an_ordinary_subject_is_answered(
    world: tuple[Store, Settings],
) -> None:
    said = mail(world, f"{BANNER}\nHi,\n\n{IS_SUTTON}\n\nKind regards\nJane\n", "Quick question")
    assert said.outcome == "question-refused" and "Sutton" in said.text


# --- nothing answerable anywhere ------------------------------------------------------------


def test_a_pleasantry_under_a_plain_subject_is_still_not_understood(
    world: tuple[Store, Settings],
) -> None:
    """No candidate is understood: the body's question gets the "did not understand" help,
    as before (it asked something)."""
    said = mail(world, PLAIN, "Hello")
    assert said.outcome == "question-not-understood"
    assert said.text.startswith("Sorry, I did not understand that question.")


@pytest.mark.parametrize(
    ("body", "outcome"),
    # A thank-you under a signature and a disclaimer is only thanks: nothing to answer.
    [(ONLY_A_FOOTER, "thanks"), (f"Hello,\n\nJust saying hello.\n\n{DISCLAIMER}", "help"),
     (f"{BANNER}\nHello from Croydon.\n", "help")],
    ids=["signed-footer", "disclaimer", "banner"],
)
def test_a_disclaimer_or_banner_is_never_read_as_a_question(
    world: tuple[Store, Settings], body: str, outcome: str
) -> None:
    said = mail(world, body, "Hello")
    assert said.outcome == outcome
    assert "error" not in said.text and "I don't know a Marac" not in said.text


# --- how well the engine reads a text -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Could you let me know?", Understanding.NONE),
        ("If you have received it in error please notify the sender.", Understanding.DOUBTFUL),
        ("has Glasgow uploaded Q3 2024/25?", Understanding.DOUBTFUL),
        ("has Croydon uploaded Q3 -1/0", Understanding.DOUBTFUL),
        ("Have you received it?", Understanding.VAGUE),
        (HAS_CROYDON, Understanding.CLEAR),
        ("has Croydn uploaded Q3?", Understanding.CLEAR),  # taken as Croydon
        (IS_SUTTON, Understanding.CLEAR),  # understood; who may ask is not its business
        ("I've recently taken over from Jo as coordinator.", Understanding.CLEAR),
        ("where is the template?", Understanding.CLEAR),
    ],
)
def test_understanding_grades_a_text_as_the_engine_would_answer_it(
    world: tuple[Store, Settings], text: str, expected: Understanding
) -> None:
    store, _ = world
    with store.transaction() as session:
        assert understanding(session, text, today=TODAY) is expected
