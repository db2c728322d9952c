"""Submission replies written for chat (issue 12): the headline first and in bold (Block Kit
in Slack, markdown in Teams), no letter courtesies, list items as bullets; pure converters
from a reply built by the real report code."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from bot.channels.slack.outbound import to_slack_payload
from bot.channels.teams.outbound import to_teams_payload
from kernel import wording
from kernel.messages import Reply, ThreadRef
from reports.reply import ReceivedFile, headline, submission_text
from validation.context import ValidationContext
from validation.validate import validate_bytes

FIXTURES = Path(__file__).parent / "fixtures"
MAILBOX = "marac@localhost"


def submission_reply(channel: str) -> Reply:
    data = (FIXTURES / "several_issues.xlsx").read_bytes()
    report = validate_bytes(data, "several_issues.xlsx", ValidationContext(today=date(2025, 2, 1)))
    files = [ReceivedFile("several_issues.xlsx", data, report)]
    thread = ThreadRef(channel, "D1", "1.1", extra={"thread_ts": "1.0"})
    return Reply(thread, submission_text(files, held_until=None),
                 data={"kind": "submission", "headline": headline(files)})


def test_slack_shows_the_headline_in_bold_first_and_no_letter_courtesies() -> None:
    payload = json.loads(to_slack_payload(submission_reply("slack"), offer=None))
    sections = [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section"]
    assert sections[0] == "*3 of 6 meetings recorded; 3 need fixing (see below).*"
    assert payload["text"] == "3 of 6 meetings recorded; 3 need fixing (see below)."
    everything = "\n".join(sections)
    assert wording.SUBMISSION_THANKS not in everything
    assert "\n• Cases discussed (C5) is blank." in everything
    assert "  - " not in everything and "\n\n\n" not in everything


def test_teams_shows_the_headline_in_markdown_bold() -> None:
    payload = json.loads(to_teams_payload(submission_reply("teams"), offer=None,
                                          files_emailed=True))
    assert payload["text"].startswith("**3 of 6 meetings recorded; 3 need fixing (see below).**")
    assert wording.SUBMISSION_THANKS not in payload["text"]
    assert payload["text"].endswith(wording.TEAMS_FILES_BY_EMAIL_NOTE)


def test_a_reply_that_is_not_a_submission_is_left_as_written() -> None:
    thread = ThreadRef("slack", "D1", "1.1", extra={"thread_ts": "1.0"})
    payload = json.loads(to_slack_payload(Reply(thread, "All 6 meetings recorded."), offer=None))
    assert payload["blocks"][0]["text"]["text"] == "All 6 meetings recorded."


def test_help_in_chat_says_to_drop_the_file_here_not_to_email_it() -> None:
    thread = ThreadRef("slack", "D1", "1.1", extra={"thread_ts": "1.0"})
    payload = json.loads(to_slack_payload(Reply(thread, wording.help_text(MAILBOX)), offer=None))
    text = "\n".join(b["text"]["text"] for b in payload["blocks"] if b["type"] == "section")
    assert wording.CHAT_HOW_TO_SEND in text
    assert "email the filled template" not in text and MAILBOX not in text


def test_a_reply_in_a_teams_channel_thread_answers_its_first_post() -> None:
    from bot.channels.teams.inbound import thread_root

    assert thread_root("19:abc@thread.tacv2;messageid=1700000000001", "1700000000009") == (
        "1700000000001",)
    assert thread_root("19:abc@thread.tacv2;messageid=1700000000001", "1700000000001") == ()
    assert thread_root("a:1on1-conversation", "m1") == ()  # a personal chat has no threads
