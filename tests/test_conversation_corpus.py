"""The conversation corpus (tests/conversation_corpus.py) through the real dispatcher, by email,
Teams and Slack, on SQLite and PostgreSQL: every message must come out as its case says (outcome,
key data, words). The share handled right is printed (run with -s to see it) so it can be
quoted; the test asserts all of them, since a miss is fixed in the engine, not the corpus.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.settings import Settings
from store.db import Store
from tests.conversation_corpus import CORPUS, Case
from tests.conversation_support import (
    Said,
    dispatch,
    email,
    prepared_store,
    settings,
    slack,
    teams,
)

MINIMUM_CORPUS = 200
# Part B's hook: the states a case may need first ("held-changes": a held-changes message it
# replies to). A case naming a setup not listed here fails, so none is silently skipped.
SETUPS: dict[str, Callable[[Store, Case], Any]] = {}


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Store, Settings]]:
    tmp = tmp_path_factory.mktemp("corpus")
    pg = request.getfixturevalue("pg_database_url") if request.param == "postgresql" else None
    with prepared_store(request.param, tmp, pg) as store:
        yield store, settings(tmp / "data")


def run(store: Store, settings_: Settings, case: Case, channel: str) -> Said:
    if case.setup is not None:
        SETUPS[case.setup](store, case)
    if channel == "email":
        message = email(case.text, sender=case.sender, subject=case.subject,
                        headers=dict(case.headers), files=case.files)
    elif channel == "teams":
        message = teams(store, case.text, sender=case.sender)
    else:
        message = slack(store, case.text, sender=case.sender)
    return dispatch(store, settings_, message)


def misses(case: Case, said: Said) -> list[str]:
    """What is wrong with the answer to ``case``; empty when it was handled right."""
    wrong = []
    if said.outcome != case.outcome:
        wrong.append(f"outcome {said.outcome!r}, expected {case.outcome!r}")
    for path, expected in case.key.items():
        found = _at(said.data, path)
        if found != expected:
            wrong.append(f"{path} = {found!r}, expected {expected!r}")
    if case.says and not re.search(case.says, said.text):
        wrong.append(f"no {case.says!r} in the reply")
    return wrong


def _at(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            return "<absent>"
        data = data[part]
    return data


def test_the_corpus_is_large_and_covers_every_kind() -> None:
    assert len(CORPUS) >= MINIMUM_CORPUS
    kinds = {case.kind for case in CORPUS}
    assert {
        "has",
        "missing",
        "status",
        "figure",
        "unknown",
        "no-maracs",
        "unclear",
        "typo",
        "how-to",
        "forgot",
        "thanks",
        "out-of-office",
    } <= kinds
    assert len({(c.text, c.sender, c.subject) for c in CORPUS}) == len(CORPUS), "duplicates"


def test_every_message_of_the_corpus_is_handled_right(
    world: tuple[Store, Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    store, settings_ = world
    runs, failures = 0, []
    for case in CORPUS:
        for channel in case.channels:
            runs += 1
            try:
                wrong = misses(case, run(store, settings_, case, channel))
            except Exception as exc:  # one message's crash is a miss to report, among all
                wrong = [f"raised {exc!r}"]
            if wrong:
                failures.append(f"[{channel}] {case.text!r}: {'; '.join(wrong)}")
    right = runs - len(failures)
    with capsys.disabled():
        print(
            f"\nconversation corpus: {len(CORPUS)} messages, {runs} runs (email, Teams, Slack): "
            f"{right}/{runs} handled right ({100 * right / runs:.1f}%)"
        )
    assert not failures, "\n".join(failures)
