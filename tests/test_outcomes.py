"""Every outcome the bot can record is a member of the Outcome enum (issue 11: types at the
seams): a new intent or automatic-mail reason without one fails here, not in production."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from handlers.questions.matchers import MATCHERS
from handlers.result import Outcome

CHANNELS = Path(__file__).resolve().parents[1] / "bot" / "channels"
# The functions where a channel says why input is automatic (never answered).
REASON_FUNCTIONS = {"automatic_reason", "_not_for_us"}


def _reasons() -> set[str]:
    found: set[str] = set()
    for path in CHANNELS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name in REASON_FUNCTIONS:
                found |= {ret.value.value for ret in ast.walk(node)
                          if isinstance(ret, ast.Return) and isinstance(ret.value, ast.Constant)
                          and isinstance(ret.value.value, str) and ret.value.value}
    return found


def test_every_question_intent_has_an_outcome() -> None:
    intents = {m.intent for m in MATCHERS}
    assert intents, "no matchers found"
    assert {Outcome.question(i) for i in intents} <= set(Outcome)


def test_every_automatic_reason_of_every_channel_has_an_outcome() -> None:
    reasons = _reasons()
    assert {"auto-reply", "bounce", "bot-message"} <= reasons  # the scan finds them
    assert {Outcome.ignored(r) for r in reasons} <= set(Outcome)


def test_an_unknown_intent_is_an_error_not_a_new_string() -> None:
    with pytest.raises(ValueError):
        Outcome.question("no-such-intent")
