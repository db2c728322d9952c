"""'help' says what the bot does, not only what it answers (issues 13, 15, 16): through the real
dispatcher by email, Slack and Teams, on SQLite and PostgreSQL, grouped for who asks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.settings import Settings
from kernel import wording
from store.db import Store
from tests.conversation_support import (
    ADMIN,
    LAMBETH,
    LONDON_MANAGER,
    Said,
    dispatch,
    email,
    prepared_store,
    settings,
    slack,
    teams,
)

RECORD_SLACK = '"/marac" or "record a meeting"'
AMEND = '"change Croydon 3 Oct 2024 repeat cases to 9"'
WITHDRAW = '"WITHDRAW 12"'
EXPLAIN = '"EXPLAIN D7:'
DASHBOARD = '"dashboard"'
HISTORY = '"where did Croydon\'s 3 Oct figures come from?"'
EXPORT = '"send me the Q3 data for London"'


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Store, Settings]]:
    tmp = tmp_path_factory.mktemp("help")
    pg = request.getfixturevalue("pg_database_url") if request.param == "postgresql" else None
    with prepared_store(request.param, tmp, pg) as store:
        yield store, settings(tmp / "data")


def test_a_coordinator_in_slack_is_told_the_form_amendments_withdraw_explain_and_dashboard(
    world: tuple[Store, Settings],
) -> None:
    store, settings_ = world
    said = dispatch(store, settings_, slack(store, "help", sender=LAMBETH))
    assert said.outcome == "question-help"
    for shown in (RECORD_SLACK, AMEND, WITHDRAW, EXPLAIN, DASHBOARD, HISTORY):
        assert shown in said.text
    assert EXPORT not in said.text  # coordinators cannot export
    assert wording.HELP_DO_MANAGERS not in said.text  # one reader: no group headings
    # What can be done comes before what can be asked, and is not said twice.
    assert said.text.index(wording.HELP_DO_HEAD) < said.text.index(wording.QUESTION_HELP_INTRO)
    assert wording.QUESTION_HELP_TOPICS["history"] not in said.text


def test_teams_has_no_slash_command_and_email_says_where_the_form_is(
    world: tuple[Store, Settings],
) -> None:
    store, settings_ = world
    in_teams = dispatch(store, settings_, teams(store, "help", sender=LAMBETH)).text
    assert '- "record a meeting": a form' in in_teams
    assert "/marac" not in in_teams
    assert "(in a direct message)" in in_teams
    by_email = dispatch(store, settings_, email("help", sender=LAMBETH)).text
    assert '"record a meeting", in Slack or Teams' in by_email
    assert "/marac" not in by_email and "(in a direct message)" not in by_email


def test_a_manager_is_told_export_history_and_dashboard_but_not_what_submitters_do(
    world: tuple[Store, Settings],
) -> None:
    store, settings_ = world
    said = dispatch(store, settings_, email("help", sender=LONDON_MANAGER))
    assert said.outcome == "question-help"
    for shown in (EXPORT, DASHBOARD, HISTORY):
        assert shown in said.text
    for hidden in (AMEND, WITHDRAW, EXPLAIN, "record a meeting"):
        assert hidden not in said.text


def test_an_admin_is_told_everything(world: tuple[Store, Settings]) -> None:
    store, settings_ = world
    said = dispatch(store, settings_, slack(store, "help", sender=ADMIN))
    for shown in (RECORD_SLACK, AMEND, WITHDRAW, EXPLAIN, DASHBOARD, HISTORY, EXPORT):
        assert shown in said.text


def test_an_email_with_nothing_to_read_gets_the_actions_after_how_to_send(
    world: tuple[Store, Settings],
) -> None:
    store, settings_ = world
    said: Said = dispatch(
        store, settings_, email("Just saying hello from Lambeth.", sender=LAMBETH, subject="Hello")
    )
    assert said.outcome == "help"
    assert said.text.startswith(wording.help_text(settings_.mailbox_address))
    assert AMEND in said.text and WITHDRAW in said.text and EXPORT not in said.text


def test_without_a_role_both_groups_are_headed_for_their_readers() -> None:
    text = wording.help_actions(chat=False, slack=False, role=None)
    lines = text.splitlines()
    assert lines[0] == wording.HELP_DO_HEAD
    coordinators = lines.index(wording.HELP_DO_COORDINATORS)
    managers = lines.index(wording.HELP_DO_MANAGERS)
    assert coordinators < lines.index(next(x for x in lines if WITHDRAW in x)) < managers
    assert managers < lines.index(next(x for x in lines if EXPORT in x))
    assert lines.index(wording.HELP_DO_EVERYONE) < lines.index(
        next(x for x in lines if DASHBOARD in x)
    )
