"""Questions as people write them (issue 12, part A), through the real dispatcher on SQLite and
PostgreSQL, by email, Teams and Slack: each message is built by its channel's real converter
(tests/conversation_support.py), so what is tested is what a coordinator's message becomes.

Asked on 1 June 2025: Q4 2024/25 (Jan–Mar) ended and is overdue, Q1 2025/26 is running.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

import pytest
from openpyxl import load_workbook

from bot.settings import Settings
from kernel import wording
from store.db import Store
from tests.conversation_support import (
    ADMIN,
    CARDIFF,
    DUAL,
    LAMBETH,
    LONDON_MANAGER,
    MAILBOX,
    NEWCOMER,
    Said,
    dispatch,
    email,
    prepared_store,
    settings,
    slack,
    teams,
)

Ask = Callable[..., Said]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Store, Settings]]:
    """One prepared store per backend for the module: answering a message writes nothing
    (the worker records outcomes), so the conversations can share it."""
    tmp = tmp_path_factory.mktemp("conversation")
    pg = request.getfixturevalue("pg_database_url") if request.param == "postgresql" else None
    with prepared_store(request.param, tmp, pg) as store:
        yield store, settings(tmp / "data")


@pytest.fixture(params=["email", "teams", "slack"])
def ask(request: pytest.FixtureRequest, world: tuple[Store, Settings]) -> Ask:
    """Send one message by the channel of the parameter, from ``sender``; what came back."""
    store, settings_ = world

    def send(text: str, *, sender: str = LAMBETH, subject: str = "Marac data") -> Said:
        if request.param == "email":
            message = email(text, sender=sender, subject=subject)
        elif request.param == "teams":
            message = teams(store, text, sender=sender)
        else:
            message = slack(store, text, sender=sender)
        return dispatch(store, settings_, message)

    return send


# --- 1. never a wider answer than the question ------------------------------------------------


def test_an_unknown_place_is_said_back_never_answered_for_everyone(ask: Ask) -> None:
    said = ask("is Glasgow missing Q2 2024/25?", sender=LONDON_MANAGER)
    assert said.outcome == "question-not-understood"
    assert said.text.startswith("I don't know a Marac or area called Glasgow.")
    assert "Lambeth" not in said.text and "not uploaded" not in said.text


def test_an_unknown_marac_in_a_figures_question_is_not_every_maracs_figure(ask: Ask) -> None:
    said = ask("how many cases did Bradford discuss in 2024/25?", sender=LONDON_MANAGER)
    assert said.data["data"] == {"problem": "unknown-name", "name": "Bradford", "suggestions": []}
    assert "Cases discussed" not in said.text


@pytest.mark.parametrize(
    "question",
    [
        "missing Q2 2024/25 in Northern Ireland",
        "grid Northern Ireland",
        "summary for PSNI Q3 2024/25",
    ],
)
def test_a_real_place_with_no_maracs_says_so(ask: Ask, question: str) -> None:
    said = ask(question, sender="data.team@example.org")
    assert said.data["data"]["problem"] == "no-maracs-in-area"
    assert "There are no Maracs registered in" in said.text


def test_a_nation_with_maracs_is_that_nation_only(ask: Ask) -> None:
    said = ask("missing Q2 2024/25 in Wales", sender="data.team@example.org")
    data = said.data["data"]
    assert data["place"]["area"] == {"kind": "nation", "name": "Wales"}
    assert data["maracs_asked"] == 3 and data["missing"] == ["Swansea", "Wrexham"]


def test_england_and_wales_leaves_scotland_out(ask: Ask) -> None:
    said = ask(
        "who hasn't uploaded Q4 2024/25 in England and Wales?", sender="data.team@example.org"
    )
    data = said.data["data"]
    assert data["place"]["area"] == {"kind": "nations", "name": "England and Wales"}
    assert "Wrexham" in data["missing"] and "Dundee" not in data["missing"]
    assert said.text.startswith("Q4 2024/25 (1 Jan – 31 Mar 2025), England and Wales:")


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("has Lambeth uploaded Q3 -1/0", "-1/0"),
        ("has Lambeth uploaded Q3 2024/26", "2024/26"),
        ("who is missing Q1 2087/88", "2087/88"),
    ],
)
def test_a_year_that_makes_no_sense_is_an_error(ask: Ask, question: str, phrase: str) -> None:
    said = ask(question)
    assert said.data["data"] == {"problem": "unclear-period", "phrase": phrase}
    assert said.outcome == "question-not-understood"


# --- 2. typos -------------------------------------------------------------------------------


def test_a_unique_close_misspelling_is_answered_and_says_what_it_took(ask: Ask) -> None:
    said = ask("has Lambth uploaded Q3 2024/25")
    assert said.outcome == "question-has-uploaded"
    head = said.text.splitlines()[0]
    assert head.startswith("Lambeth has uploaded Q3 2024/25 (1 Oct – 31 Dec 2024)")
    assert head.endswith("(taking 'Lambth' as Lambeth)")
    assert said.data["taken_as"] == [{"said": "Lambth", "taken_as": "Lambeth"}]


def test_two_close_candidates_are_asked_about(ask: Ask) -> None:
    said = ask("has West uploaded Q3 2024/25")
    assert said.data["data"]["problem"] == "unknown-name"
    assert "Did you mean West Yorkshire Police or Westminster?" in said.text


def test_the_first_word_of_one_name_only_is_taken_as_it(ask: Ask) -> None:
    said = ask("has Barking uploaded Q3 2024/25", sender=ADMIN)
    assert said.data["data"]["marac"] == "Barking and Dagenham"
    assert said.data["taken_as"] == [{"said": "Barking", "taken_as": "Barking and Dagenham"}]


@pytest.mark.parametrize(
    "question",
    [
        "who has missed two quarters in a row?",
        "which Maracs have missed 2 quarters running",
        "any maracs missing two consecutive quarters?",
    ],
)
def test_two_quarters_in_a_row_is_a_question_not_a_marac_called_row(
    ask: Ask, question: str
) -> None:
    said = ask(question, sender="data.team@example.org")
    data = said.data["data"]
    assert said.outcome == "question-missing" and data["focus"] == "in-a-row"
    assert data["quarter"] == "Q4 2024/25" and data["previous_quarter"] == "Q3 2024/25"
    # Missing both Q3 and Q4 2024/25: every Marac but those that sent either.
    assert {"Wrexham", "Dundee", "Kirklees", "Harrow"} <= set(data["missing"])
    sent_one = {"Lambeth", "Croydon", "Cardiff", "Swansea", "Leeds", "Edinburgh"}
    assert not sent_one & set(data["missing"])
    assert len(data["missing"]) == data["maracs_asked"] - len(sent_one)
    assert "Did you mean" not in said.text


# --- 3. quarters as people write them ---------------------------------------------------------


@pytest.mark.parametrize(
    "phrase",
    [
        "Oct-Dec",
        "October to December",
        "the December quarter",
        "the quarter ending December",
        "oct - dec",
    ],
)
def test_months_without_a_year_are_the_most_recent_such_quarter(ask: Ask, phrase: str) -> None:
    said = ask(f"did Lambeth send their {phrase} return?")
    assert said.outcome == "question-has-uploaded"
    assert said.data["data"]["quarter"] == "Q3 2024/25"
    assert said.data["data"]["quarter_defaulted"] is False
    assert said.text.count("1 Oct – 31 Dec 2024") == 1  # the range, stated once
    assert "No quarter was named" not in said.text


def test_a_month_range_that_is_no_quarter_is_said_back(ask: Ask) -> None:
    said = ask("did Lambeth send Oct-Nov?")
    assert said.data["data"] == {"problem": "unclear-period", "phrase": "oct-nov"}


# --- 4. how-to and first contact --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["How do I send you our data?", "where is the template", "I'm the new coordinator for Cardiff"],
)
def test_how_to_gets_instructions_the_due_date_and_a_named_template(ask: Ask, text: str) -> None:
    said = ask(text, sender=CARDIFF)
    assert said.outcome == "question-how-to"
    assert said.attachments == ("marac-data-template-cardiff.xlsx",)
    assert MAILBOX in said.text
    assert "Q1 2025/26 (1 Apr – 30 Jun 2025), due by 28 Jul 2025" in said.text
    assert said.data["data"]["welcome"] is ("new coordinator" in text)


def test_first_contact_by_email_gets_the_named_template_with_the_marac_filled_in(
    world: tuple[Store, Settings],
) -> None:
    store, settings_ = world
    message = email(
        "Hello,\n\nI have just taken over as coordinator for Leeds and this is\n"
        "my first time doing the return. What do I need to do?\n\nMany thanks\nSam",
        sender=NEWCOMER,
        subject="New coordinator",
    )
    said = dispatch(store, settings_, message)
    assert said.outcome == "question-how-to"
    assert said.text.startswith(
        "Welcome! I am the Marac data assistant; you are registered for Leeds."
    )
    assert said.attachments == ("marac-data-template-leeds.xlsx",)
    book = load_workbook(io.BytesIO(said.files[0]))
    instructions = book[wording.TEMPLATE_INSTRUCTIONS_TITLE]
    assert any(cell.value == "Leeds" for row in instructions.iter_rows() for cell in row)


def test_a_coordinator_of_two_maracs_gets_a_template_for_each(ask: Ask) -> None:
    said = ask("how do we submit our returns?", sender=DUAL)
    assert said.attachments == (
        "marac-data-template-swansea.xlsx",
        "marac-data-template-wrexham.xlsx",
    )
    assert "Swansea and Wrexham" in said.text


# --- 5. a forgotten attachment ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Please find attached our Q3 return.",
        "Hi, enclosed is the Lambeth data for Jan-Mar. Thanks",
        "Here is our return for the December quarter",
    ],
)
def test_a_forgotten_file_is_named_as_such(ask: Ask, text: str) -> None:
    said = ask(text)
    assert said.outcome == "no-attachment"
    assert said.text.startswith(
        ("Your email had no attachment", "Your message came without a file")
    )
    # interface.md: no attachment and no question gets a blank template with the how-to.
    assert list(said.attachments) == ["marac-data-template.xlsx"]


def test_a_forgotten_file_by_email_says_email(world: tuple[Store, Settings]) -> None:
    store, settings_ = world
    said = dispatch(
        store, settings_, email("Please find attached our Q3 return.", subject="Q3 return")
    )
    assert said.text == wording.no_attachment_text(MAILBOX, by_email=True)


# --- 6. missing lists compact -----------------------------------------------------------------


def test_a_missing_list_says_what_its_lines_share_once(ask: Ask) -> None:
    said = ask("who hasn't uploaded Q4 2024/25 in Wales?", sender="data.team@example.org")
    lines = said.text.splitlines()
    assert lines[0] == ("Q4 2024/25 (1 Jan – 31 Mar 2025), Wales: 2 of 3 Maracs have not uploaded.")
    assert lines[1:3] == [
        f"- Cardiff: Cardiff coordinator <{CARDIFF}>",
        f"- Wrexham: Swansea and Wrexham <{DUAL}> (also missed Q3 2024/25)",
    ]
    assert said.text.count("national figures") == 1
    assert said.text.count("Data was due by") == 1


# --- thanks and out-of-office -----------------------------------------------------------------


def test_thanks_is_recorded_and_not_answered(ask: Ask) -> None:
    said = ask("Thanks so much, that's brilliant!")
    assert (said.outcome, said.text) == ("thanks", "")


def test_an_out_of_office_without_headers_is_not_answered(world: tuple[Store, Settings]) -> None:
    store, settings_ = world
    said = dispatch(
        store,
        settings_,
        email(
            "I am out of the office until Monday 9 June with limited access to email.",
            subject="Out of Office: Marac data",
        ),
    )
    assert (said.outcome, said.text) == ("ignored-auto-reply", "")
