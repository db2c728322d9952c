"""Explaining a soft issue instead of changing the figure (issue 13): 'EXPLAIN E5: …' by email
or chat is stored with the meeting and the issue, listed in the meeting's history, shown to
analysts in the overview, and the same check on the same meeting counts as answered in later
replies. On SQLite and PostgreSQL, through the dispatcher and the command line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.dispatch import Dispatcher
from bot.settings import Settings
from handlers.explain import Request, requested
from kernel.messages import XLSX_TYPE, Attachment, InboundMessage, ThreadRef
from store.db import Store
from store.models import Explanation
from tests.store_support import load_registry

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)
CARA = "cara@example.org"
REASON = "twins and a half-sibling counted once each in a shared household"


@pytest.fixture
def url(db_url: str, tmp_path_factory: pytest.TempPathFactory,
        monkeypatch: pytest.MonkeyPatch) -> str:
    store = Store.open(db_url)
    with store.sessions() as session:
        load_registry(session)
    store.close()
    monkeypatch.setenv("MARAC_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    return db_url


def _send(url: str, tmp_path: Path, text: str, *, files: tuple[str, ...] = (),
          now: datetime = NOW, key: str | None = None, channel: str = "email") -> tuple[str, str]:
    attachments = tuple(Attachment(f, (FIXTURES / f).read_bytes(), XLSX_TYPE) for f in files)
    message = InboundMessage(channel=channel, sender=CARA, thread=ThreadRef(channel, CARA),
                             text=text, attachments=attachments, received_at=now,
                             dedupe_key=key)
    settings = Settings(data_dir=tmp_path / "data", mailbox_address="marac@localhost",
                        smtp_listen=None, http_listen=None, database_url=url)
    store = Store.open(url)
    try:
        with store.transaction() as session:
            result = Dispatcher(settings).dispatch(session, message, now=now)
    finally:
        store.close()
    assert result.reply is not None
    return result.outcome.value, result.reply.text


def test_a_soft_issue_is_explained_and_the_explanation_shows_where_analysts_look(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outcome, text = _send(url, tmp_path, "Our Q3 return",
                          files=("children_inconsistent.xlsx",), key="<first@example.org>")
    assert outcome.startswith("submission-")
    # The reply names the submission's number, and how to withdraw it or explain a check.
    assert ("Recorded as submission 1 (children_inconsistent.xlsx). Sent in error? Reply "
            "WITHDRAW 1 by 28 Jan 2025, when the quarter is due. If a checked figure is right, "
            "reply EXPLAIN, its cell and why, e.g. EXPLAIN D7:") in " ".join(text.split())
    outcome, text = _send(url, tmp_path, f"EXPLAIN E5: {REASON}\n\nCara",
                          now=NOW + timedelta(hours=1))
    assert outcome == "explained"
    assert text.startswith("Thank you. Your explanation for E5 is recorded with Croydon's "
                           "meeting of 21 Nov 2024 (children_inconsistent.xlsx, submission 1)")
    assert f"“{REASON}”" in text
    store = Store.open(url)
    with store.sessions() as session:
        (stored,) = session.scalars(select(Explanation)).all()
        assert (stored.code, stored.cell, stored.explained_by) == (
            "children-inconsistent", "E5", CARA)
        assert stored.meeting_id is not None and stored.text == REASON
    store.close()
    # In the meeting's history …
    assert main(["history", "Croydon", "2024-11-21"]) == 0
    column = "Number of children in the household"  # the column, not the check's code
    assert (f"Explained at E5 ({column}) by {CARA} on 10 Jan 2025 13:00: “{REASON}”"
            in capsys.readouterr().out)
    # … and in the analysts' overview (text and workbook notes), from the day it was given.
    assert main(["report", "overview", "--year", "2024/25", "--today", "2025-02-03"]) == 0
    note = f"Explained: Croydon 21 Nov 2024, E5 ({column}) by {CARA}: “{REASON}”"
    assert note in capsys.readouterr().out
    assert main(["report", "overview", "--year", "2024/25", "--as-of", "2025-01-09"]) == 0
    assert "Explained:" not in capsys.readouterr().out
    # The same figure sent again: the check is answered, not asked again.
    outcome, text = _send(url, tmp_path, "Sending again", files=("children_inconsistent.xlsx",),
                          key="<second@example.org>", now=NOW + timedelta(days=1))
    assert ("E5: already explained for Croydon's meeting of 21 Nov 2024 by cara@example.org on "
            "10 Jan 2025 13:00") in text


def test_an_explanation_needs_a_check_to_answer_and_a_reason(url: str, tmp_path: Path) -> None:
    outcome, text = _send(url, tmp_path, "EXPLAIN E5: because")
    assert outcome == "explain-nothing" and text.startswith("There is no file from you")
    _send(url, tmp_path, "Q3", files=("children_inconsistent.xlsx",), key="<a@example.org>")
    outcome, text = _send(url, tmp_path, "explain D9: it is right", channel="slack")
    assert outcome == "explain-nothing"
    assert "has no check at D9 to explain. Checks you can explain there: E5." in text
    outcome, text = _send(url, tmp_path, "EXPLAIN E5")
    assert outcome == "explain-nothing" and text.startswith("Please say why the figure at E5")


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("EXPLAIN D7: a new police referral pathway started in October",
         Request("D7", "a new police referral pathway started in October")),
        ("explain d7 - a new pathway\nstarted in October\n\nRegards, Cara",
         Request("D7", "a new pathway started in October")),
        ("Explain AB12 — lots of   spaces", Request("AB12", "lots of spaces")),
        ("EXPLAIN D7", Request("D7", "")),
        ("EXPLAIN D7: a busy\x00 month \u202eht\x1b[31m", Request("D7", "a busy month ht[31m")),
        pytest.param("EXPLAIN D7: " + "why " * 600, Request("D7", ("why " * 500).rstrip()),
                     id="cut-at-2000"),
        ("Can you explain D7?", None),
        ("explain why", None),
    ],
)
def test_an_explanation_is_read_from_the_start_of_a_message(
    text: str, found: Request | None
) -> None:
    assert requested(text) == found



def test_an_explanation_with_control_characters_is_stored_without_them(
    url: str, tmp_path: Path
) -> None:
    """A NUL in a chat message or an email's text (PostgreSQL's text cannot hold one) once
    failed the whole message there, with an apology for an answer."""
    _send(url, tmp_path, "Q3", files=("children_inconsistent.xlsx",), key="<nul@example.org>")
    outcome, text = _send(url, tmp_path, "EXPLAIN E5: twins\x00 counted \u202eonce",
                          channel="slack")
    assert outcome == "explained" and "“twins counted once”" in text
    store = Store.open(url)
    with store.sessions() as session:
        assert session.scalars(select(Explanation.text)).all() == ["twins counted once"]
    store.close()


def test_a_check_on_an_unchanged_row_is_explained_for_its_meeting(
    url: str, tmp_path: Path
) -> None:
    _send(url, tmp_path, "Q3", files=("children_inconsistent.xlsx",), key="<one@example.org>")
    # The same file again: every row unchanged, so no version of this file names row 5.
    _send(url, tmp_path, "Q3 again", files=("children_inconsistent.xlsx",),
          key="<two@example.org>", now=NOW + timedelta(minutes=5))
    outcome, text = _send(url, tmp_path, f"EXPLAIN E5: {REASON}", now=NOW + timedelta(hours=1))
    assert outcome == "explained"
    assert "recorded with Croydon's meeting of 21 Nov 2024 (children_inconsistent.xlsx, " \
           "submission 2)" in text
