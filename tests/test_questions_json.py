"""``marac-bot ask --json`` pinned byte for byte: every intent, every way a question goes
unanswered, several roles, over the seeded store of tests/questions_support.py.

The expected output (tests/fixtures/questions_ask_json.json) was captured from the command line
before answers became typed values (issue 11), so the types at the seams change no JSON. Each
case's printed output is compared as text with the expected object printed the same way: the
object keeps key order, true against 1 and 1.0 against 1, so equal text is equal output.

Run with MARAC_WRITE_ASK_JSON=1 to write the expectations afresh (then read the diff).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from store.db import Store
from tests.questions_support import load_registry, seed

EXPECTED = Path(__file__).resolve().parent / "fixtures" / "questions_ask_json.json"
ON = ["--today", "2025-02-03"]
WRITE = os.environ.get("MARAC_WRITE_ASK_JSON") == "1"

# name -> (question, --as email or None for the operator, --save: attach the grid's PNG)
CASES: dict[str, tuple[str, str | None, bool]] = {
    "has-uploaded-held": ("has Croydon uploaded Q3?", None, False),
    "has-uploaded-overdue": ("has Kirklees uploaded Q3?", None, False),
    "has-uploaded-defaulted": ("has Leeds uploaded?", None, False),
    "has-uploaded-running": ("has Croydon uploaded Q4 2024/25?", None, False),
    "has-uploaded-not-started": ("has Croydon uploaded Q1 2025/26?", None, False),
    "has-uploaded-coordinator": ("has Croydon uploaded Q3?", "cara@example.org", False),
    "has-uploaded-mine-many": ("has my Marac sent Q3?", "dana@example.org", False),
    "missing-everyone": ("who hasn't uploaded Q3 2024/25?", None, False),
    "missing-london-manager": ("who hasn't uploaded Q3 2024/25 in London",
                               "lena@example.org", False),
    "missing-focus-uploaded": ("has London uploaded Q2 2024/25?", None, False),
    "missing-restricted": ("who hasn't uploaded Q2 2024/25?", "dana@example.org", False),
    "missing-one-in-area": ("missing Q3 in West Yorkshire", "dana@example.org", False),
    "missing-q1-after-q4": ("who hasn't uploaded Q1 2024/25?", None, False),
    "missing-defaulted": ("who is overdue", None, False),
    "status-year": ("status Croydon 2024/25", None, False),
    "status-bare": ("Kirklees 2024/25", None, False),
    "status-own": ("status", "cara@example.org", False),
    "status-this-year": ("Leeds this year", None, False),
    "figure-children": ("how many children in Croydon Q3 2024/25", None, False),
    "figure-cases-with-children": ("cases with children in Leeds 2024/25", None, False),
    "figure-repeat": ("repeat rate for Leeds Q1 2024/25", None, False),
    "figure-police": ("police referrals in London Q3 2024/25", None, False),
    "figure-male": ("male victims in West Yorkshire Q2 2024/25", None, False),
    "figure-partner": ("partner agency referrals in London Q3 2024/25", None, False),
    "figure-per-10k": ("cases per 10,000 in Kent 2024/25", None, False),
    "figure-idva": ("idva capacity in London 2024/25", None, False),
    "figure-admin": ("administrator capacity for Croydon 2024/25", None, False),
    "figure-older": ("victims aged 65 or over in Croydon 2024/25", None, False),
    "figure-meetings": ("how many meetings did Croydon have in Q3 2024/25", None, False),
    "meaning-repeat": ("what does repeat rate mean?", None, False),
    "figure-none-sent": ("how many cases in Glasgow Q3 2024/25", None, False),
    "figure-manager-cut": ("how many cases in England Q3 2024/25", "lena@example.org", False),
    "figure-all": ("Leeds figures Q2 2024/25", None, False),
    "figure-defaulted": ("how many cases", None, False),
    "summary-national": ("national picture 2024/25", None, False),
    "summary-quarter": ("summary Q3", None, False),
    "summary-manager": ("summary Q3 2024/25", "lena@example.org", False),
    "grid-london": ("grid London 2024/25", None, False),
    "grid-london-png": ("grid London 2024/25", None, True),
    "grid-everyone": ("grid 2024/25", None, False),
    "grid-own": ("grid", "dana@example.org", False),
    "template-operator": ("template", None, False),
    "template-coordinator": ("template", "cara@example.org", False),
    "template-scotland": ("can I have a blank template", "gus@example.org", False),
    "help": ("help", None, False),
    "not-understood": ("what is the meaning of life", None, False),
    "unknown-name-close": ("has croydn uploaded q3", None, False),
    "unknown-name-far": ("how many cases in Narnia q3", None, False),
    "unknown-name-long": ("has " + "Zorblax" * 270 + " uploaded Q3 2024/25?", None, False),
    "unclear-period": ("has Croydon uploaded Q3 2024?", None, False),
    "several-maracs": ("has Croydon and Leeds uploaded Q3", None, False),
    "several-areas": ("missing Q3 in London and Wales", None, False),
    "need-marac": ("status", None, False),
    "refused-marac": ("has Leeds uploaded Q3?", "cara@example.org", False),
    "refused-marac-manager": ("has Croydon uploaded Q3?", "mo@example.org", False),
    "refused-area": ("missing Q3 in Kent", "lena@example.org", False),
    "refused-not-registered": ("has Croydon uploaded Q3?", "stranger@example.org", False),
}


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('ask-json') / 'marac.db'}"
    store = Store.open(url)
    with store.sessions() as session:
        load_registry(session)
        seed(session)
    store.close()
    return url


@pytest.fixture(scope="module")
def expected() -> dict[str, Any]:
    if WRITE:
        return {}
    loaded: dict[str, Any] = json.loads(EXPECTED.read_text("utf-8"))
    return loaded


@pytest.fixture(scope="module")
def written() -> Any:
    """With MARAC_WRITE_ASK_JSON=1: what each case printed, written out once all have run."""
    found: dict[str, Any] = {}
    yield found
    if WRITE:
        text = json.dumps(dict(sorted(found.items())), indent=2, ensure_ascii=False)
        EXPECTED.write_text(text + "\n", "utf-8")


def _ask(question: str, as_email: str | None, save: Path | None) -> list[str]:
    argv = ["ask", question, "--json", *ON]
    if as_email:
        argv += ["--as", as_email]
    if save:
        argv += ["--save", str(save)]
    return argv


def _printed(value: Any) -> str:
    """What ``marac-bot ask --json`` prints for this object (bot/commands/ask_cmd.py)."""
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def test_every_case_is_pinned(expected: dict[str, Any]) -> None:
    assert WRITE or sorted(expected) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_ask_json_is_unchanged(name: str, database: str, expected: dict[str, Any],
                               written: dict[str, Any], tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MARAC_DATABASE_URL", database)
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    question, as_email, save = CASES[name]
    code = main(_ask(question, as_email, tmp_path / "out" if save else None))
    out = capsys.readouterr().out
    printed = json.loads(out)
    assert code == (0 if printed["answered"] else 1)
    if WRITE:
        written[name] = printed
        return
    assert out == _printed(expected[name])
