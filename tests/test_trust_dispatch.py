"""Issue 13 through the dispatcher, as an email or chat message arrives: history questions, the
export sent as a file to those allowed it, and withdrawing a submission by message. On SQLite
and PostgreSQL; answers come from the real question engine and store."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.dispatch import Dispatcher
from bot.settings import Settings
from kernel.messages import InboundMessage, ThreadRef
from store.db import Store
from store.history import meeting_history
from store.queue import OutboundItem
from tests.history_support import OCT3, Story, tell

NOW = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)  # before Q3 2024/25 is due (28 Jan)
AFTER_DUE = datetime(2025, 2, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def story(db_url: str) -> Story:
    return tell(db_url)


def _settings(tmp_path: Path, url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", mailbox_address="marac@localhost",
                    smtp_listen=None, http_listen=None, database_url=url)


def _send(story: Story, tmp_path: Path, sender: str, text: str, *, channel: str = "email",
          now: datetime = NOW, subject: str = "") -> tuple[str, str, dict[str, bytes]]:
    """Dispatch one message in one transaction; (outcome, reply text, attachments)."""
    message = InboundMessage(channel=channel, sender=sender,
                             thread=ThreadRef(channel, sender), subject=subject, text=text,
                             received_at=now)
    store = Store.open(story.url)
    try:
        with store.transaction() as session:
            result = Dispatcher(_settings(tmp_path, story.url)).dispatch(session, message,
                                                                         now=now)
    finally:
        store.close()
    assert result.reply is not None
    files = {a.filename: a.data for a in result.reply.attachments}
    return result.outcome.value, result.reply.text, files


def test_a_coordinator_asks_where_their_figures_came_from(story: Story, tmp_path: Path) -> None:
    outcome, text, _ = _send(story, tmp_path, "cara@example.org",
                             "Where did Croydon's 3 Oct figures come from?")
    assert outcome == "question-history"
    assert text.splitlines()[0] == "Croydon, meeting of 3 Oct 2024 (Q3 2024/25): 2 versions."
    assert "a change confirmed by cara@example.org on 6 Nov 2024 14:30" in text
    # Their only Marac is understood without naming it; another Marac is refused.
    outcome, text, _ = _send(story, tmp_path, "cara@example.org", "history of 3 Oct 2024",
                             channel="slack")
    assert outcome == "question-history" and "Croydon, meeting of 3 Oct 2024" in text
    outcome, text, _ = _send(story, tmp_path, "dana@example.org", "history of Croydon 3 Oct")
    assert outcome == "question-refused" and "Croydon is not one of them" in text


def test_what_changed_in_a_quarter_lists_each_meeting(story: Story, tmp_path: Path) -> None:
    outcome, text, _ = _send(story, tmp_path, "ada@example.org",
                             "what changed in Croydon's Q3 2024/25?")
    assert outcome == "question-history"
    assert "meeting of 3 Oct 2024" in text and "meeting of 17 Oct 2024" in text
    assert "Changed: C Cases discussed 12 → 14." in text


def test_the_data_team_gets_the_export_as_a_file(story: Story, tmp_path: Path) -> None:
    outcome, text, files = _send(story, tmp_path, "ada@example.org",
                                 "send me the Q3 2024/25 data for London as csv")
    assert outcome == "question-export"
    assert "Here are the 2 meetings of London for Q3 2024/25" in text
    (name, data), = files.items()
    assert name == "meetings-London-Q3-2024-25.csv"
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert [r["Cases discussed"] for r in rows] == ["14", "12"] and rows[1]["IDVA"] == ""


def test_a_manager_gets_only_their_scope_and_a_coordinator_no_file(
    story: Story, tmp_path: Path
) -> None:
    outcome, text, files = _send(story, tmp_path, "lena@example.org",
                                 "send me the Q3 2024/25 data")
    assert outcome == "question-export" and list(files) == ["meetings-your-Maracs-Q3-2024-25.xlsx"]
    outcome, text, files = _send(story, tmp_path, "mo@example.org",
                                 "send me the Q3 2024/25 data for Croydon")
    assert outcome == "question-refused" and not files  # West Yorkshire's manager
    outcome, text, files = _send(story, tmp_path, "cara@example.org",
                                 "send me the Q3 2024/25 data for Croydon")
    assert outcome == "question-refused" and not files
    assert text.startswith("Only the data team (admins) and managers")


def test_a_coordinator_withdraws_their_latest_file_by_email(story: Story, tmp_path: Path) -> None:
    outcome, text, _ = _send(story, tmp_path, "cara@example.org",
                             f"withdraw submission {story.corrected}\n\nSent from my phone")
    assert outcome == "withdrawn"
    assert text.startswith(f"Submission {story.corrected} (croydon-q3-fixed.xlsx")
    assert f"- Croydon, 3 Oct 2024: back to the figures of submission {story.first}." in text
    store = Store.open(story.url)
    with store.sessions() as session:
        assert [v.counts["cases"] for v in meeting_history(session, "Croydon", OCT3)] == [
            12, 14, 12]
        # She withdrew it herself: no second message tells her what she just did.
        assert session.scalars(select(OutboundItem)).all() == []
    store.close()


def test_after_the_due_date_only_the_data_team_withdraws(story: Story, tmp_path: Path) -> None:
    outcome, text, _ = _send(story, tmp_path, "cara@example.org",
                             f"WITHDRAW {story.corrected}", now=AFTER_DUE)
    assert outcome == "withdraw-refused" and "which was due on 28 Jan 2025" in text
    outcome, text, _ = _send(story, tmp_path, "ada@example.org", "",
                             subject=f"Re: withdraw submission {story.corrected}",
                             now=AFTER_DUE)
    assert outcome == "withdrawn"
    store = Store.open(story.url)
    with store.sessions() as session:
        (notice,) = session.scalars(select(OutboundItem)).all()
        assert notice.recipient == "cara@example.org"
        mail = message_from_bytes(notice.payload, policy=policy.default)
        body = mail.get_body(("plain",))
        assert body is not None and "was withdrawn by ada@example.org" in body.get_content()
    store.close()
