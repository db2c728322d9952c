"""Issue 3's "Done when", end to end through ``marac-bot`` itself, on SQLite and PostgreSQL.

Import a registry, submit Croydon's Q3 (all accepted), again (all unchanged), with one meeting
corrected (held, old -> new shown), with ``--confirm`` (replaced, the old version kept and
queryable), a Lambeth file from Croydon's coordinator (not-authorised, nothing recorded) and a
file from an unknown address (nothing recorded but the refused submission).

Every step runs ``bot.cli.main`` with MARAC_DATABASE_URL / MARAC_DATA_DIR pointing at the test's
own database (for PostgreSQL, a fresh schema chosen with ``options=-csearch_path=…``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from bot.cli import main
from kernel import wording
from store.db import Store
from store.history import as_of, meeting_history
from store.models import HeldChange, Marac, Meeting, MeetingVersion, Submission
from store.refusals import REFUSED_UNKNOWN_SENDER
from store.types import utcnow
from tests.fixtures import make_fixtures as mf

FIXTURES = Path(__file__).parent / "fixtures"
DEMO = Path(__file__).resolve().parent.parent / "store" / "demo"
COORDINATOR = "croydon.coordinator@example.org"
STRANGER = "stranger@elsewhere.example"
Q3 = "Q3 2024/25"
CORRECTED_DAY = date(2024, 10, 17)  # the meeting in row 3 of the quarter


@dataclass(frozen=True)
class Run:
    """One ``marac-bot`` invocation: its exit code and what it printed."""

    code: int
    out: str
    err: str

    def json(self) -> list[dict[str, Any]]:
        result = json.loads(self.out)
        assert isinstance(result, list)
        return result


@dataclass
class Bot:
    """The command line, pointed at the test's database, and a way to look inside it."""

    capsys: pytest.CaptureFixture[str]
    store: Store

    def __call__(self, *argv: str) -> Run:
        self.capsys.readouterr()  # drop anything printed before
        code = main(list(argv))
        captured = self.capsys.readouterr()
        return Run(code, captured.out, captured.err)

    def submit(self, name: str, *extra: str, sender: str = COORDINATOR) -> Run:
        return self(
            "submit", str(FIXTURES / name), "--sender", sender, "--quarter", Q3, "--json", *extra
        )

    def count(self, model: type, *where: ColumnElement[bool]) -> int:
        query = select(func.count()).select_from(model).where(*where)
        with self.store.transaction() as session:
            return session.scalar(query) or 0

    def session(self) -> Session:
        return self.store.sessions()


@pytest.fixture
def bot(
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Bot]:
    monkeypatch.setenv("MARAC_DATABASE_URL", db_url)
    monkeypatch.setenv("MARAC_DATA_DIR", str(tmp_path / "marac-data"))
    monkeypatch.chdir(tmp_path)  # a .env file in the repository must not steer the command
    store = Store.open(db_url, upgrade_schema=False)
    try:
        yield Bot(capsys, store)
    finally:
        store.close()


def only(results: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(results) == 1, results
    return results[0]


def codes(result: dict[str, Any]) -> list[str]:
    return [issue["code"] for issue in result["issues"]]


def counts_of(result: dict[str, Any]) -> tuple[str, int, int, int, int, int]:
    return (
        result["status"],
        result["rows_total"],
        result["rows_accepted"],
        result["rows_rejected"],
        result["rows_held"],
        result["rows_unchanged"],
    )


def test_issue_3_scenario_on_the_command_line(bot: Bot) -> None:
    # Import the (demo) registry: the header tells Maracs from contacts.
    for csv_file in ("maracs.csv", "contacts.csv"):
        run = bot("registry", "import", str(DEMO / csv_file))
        assert run.code == 0, run.err
    assert bot.count(Marac, Marac.name.in_(["Croydon", "Lambeth"])) == 2

    # Croydon's Q3: every row accepted, every meeting stored once.
    first = bot.submit("clean_libreoffice.xlsx")
    assert first.code == 0, first.err
    result = only(first.json())
    assert counts_of(result) == ("accepted", 6, 6, 0, 0, 0)
    assert (result["maracs"], result["quarters"]) == (["Croydon"], [Q3])
    assert not [i for i in result["issues"] if i["severity"] != "info"], result["issues"]
    assert bot.count(MeetingVersion) == 6
    assert bot.count(Meeting) == 6
    before_correction = utcnow()

    # The same file again: all unchanged, nothing new stored.
    again = bot.submit("clean_libreoffice.xlsx")
    assert again.code == 0, again.err
    result = only(again.json())
    assert counts_of(result) == ("accepted", 6, 0, 0, 0, 6)
    assert codes(result) == ["unchanged"] * 6
    assert bot.count(MeetingVersion) == 6

    # One meeting corrected: that row held, old -> new shown, the stored figures untouched.
    held = bot.submit("corrected_d3.xlsx")
    assert held.code == 0, held.err
    result = only(held.json())
    assert counts_of(result) == ("held", 6, 0, 0, 1, 5)
    change = [i for i in result["issues"] if i["code"] == "changed-from-previous"]
    assert len(change) == 1
    assert (change[0]["cell"], change[0]["severity"], change[0]["value"]) == (
        mf.CORRECTED_CELL, "soft", mf.CORRECTED_VALUE,
    )
    assert "6 → 7" in change[0]["message"]
    assert bot.count(HeldChange, HeldChange.status == "pending") == 1
    assert bot.count(MeetingVersion) == 6

    # Confirmed: the new figures replace the old, which stay in the history.
    confirmed = bot.submit("corrected_d3.xlsx", "--confirm")
    assert confirmed.code == 0, confirmed.err
    result = only(confirmed.json())
    assert counts_of(result) == ("accepted", 6, 1, 0, 0, 5)
    assert "changed-from-previous" not in codes(result)
    assert bot.count(HeldChange, HeldChange.status == "pending") == 0
    assert bot.count(HeldChange, HeldChange.status == "confirmed") == 1
    assert bot.count(MeetingVersion) == 7
    with bot.session() as session:
        history = meeting_history(session, "Croydon", CORRECTED_DAY)
        assert [(v.version, v.is_current, v.counts["repeat_cases"]) for v in history] == [
            (1, False, 6),
            (2, True, mf.CORRECTED_VALUE),
        ]
        assert [v.filename for v in history] == ["clean_libreoffice.xlsx", "corrected_d3.xlsx"]
        assert [v.sheet_row for v in history] == [3, 3]
        assert {v.sender for v in history} == {COORDINATOR}
        was = as_of(session, "Croydon", CORRECTED_DAY, before_correction)
        now = as_of(session, "Croydon", CORRECTED_DAY, utcnow())
        assert was is not None and now is not None
        assert (was["repeat_cases"], now["repeat_cases"]) == (6, mf.CORRECTED_VALUE)
        assert {k: v for k, v in was.items() if k != "repeat_cases"} == {
            k: v for k, v in now.items() if k != "repeat_cases"
        }

    # Lambeth's file from Croydon's coordinator: every row not-authorised, no meeting stored.
    meetings_before = bot.count(Meeting), bot.count(MeetingVersion)
    lambeth = bot.submit("lambeth_q3.xlsx")
    assert lambeth.code == 1
    result = only(lambeth.json())
    assert counts_of(result) == ("rejected", 6, 0, 6, 0, 0)
    assert codes(result) == ["not-authorised"] * 6
    assert (bot.count(Meeting), bot.count(MeetingVersion)) == meetings_before
    assert bot.count(Meeting, Meeting.marac.has(Marac.name == "Lambeth")) == 0

    # An unknown address: exit 1, one JSON object per file with the refusal as its issue
    # (interface.md; issue 12), and only the refused submission itself is kept.
    submissions_before = bot.count(Submission)
    stranger = bot.submit("clean_libreoffice.xlsx", sender=STRANGER)
    assert stranger.code == 1
    refusal = only(stranger.json())
    assert (refusal["file"], refusal["status"], refusal["rows_total"]) == (
        "clean_libreoffice.xlsx", "rejected", 0)
    assert [(i["code"], i["severity"], i["value"]) for i in refusal["issues"]] == [
        (REFUSED_UNKNOWN_SENDER, "hard", STRANGER)]
    assert refusal["issues"][0]["message"] == wording.unknown_sender_issue("marac@localhost")
    assert wording.unknown_sender_cli(STRANGER) in stranger.err
    assert (bot.count(Meeting), bot.count(MeetingVersion)) == meetings_before
    assert bot.count(Submission) == submissions_before + 1
    with bot.session() as session:
        refused = session.scalars(select(Submission).where(Submission.sender == STRANGER)).one()
        assert refused.status == REFUSED_UNKNOWN_SENDER
        assert refused.raw == (FIXTURES / "clean_libreoffice.xlsx").read_bytes()
        assert refused.rows_accepted == 0 and not refused.issues


def test_a_held_change_on_the_command_line_says_to_submit_again_with_confirm(bot: Bot) -> None:
    for csv_file in ("maracs.csv", "contacts.csv"):
        assert bot("registry", "import", str(DEMO / csv_file)).code == 0
    assert bot.submit("clean_libreoffice.xlsx").code == 0

    held = only(bot.submit("corrected_d3.xlsx").json())
    [change] = [i for i in held["issues"] if i["code"] == "changed-from-previous"]
    assert change["message"].endswith(
        f"right{wording.CLI_HOW_TO_CONFIRM}; until then we keep the figures we had.")
    assert "--confirm" in wording.CLI_HOW_TO_CONFIRM
    others = [i["message"] for i in held["issues"] if i["code"] != "changed-from-previous"]
    assert others and not any("--confirm" in m for m in others)

    path = str(FIXTURES / "corrected_d3.xlsx")
    text = bot("submit", path, "--sender", COORDINATOR, "--quarter", Q3)
    assert text.code == 0, text.err
    [line] = [x for x in text.out.splitlines() if "(changed-from-previous)" in x]
    assert f"{wording.CLI_HOW_TO_CONFIRM};" in line and mf.CORRECTED_CELL in line

    confirmed = bot("submit", path, "--sender", COORDINATOR, "--quarter", Q3, "--confirm")
    assert confirmed.code == 0 and "--confirm" not in confirmed.out
