"""Recording a meeting with the Teams card, end to end (issue 16): ``python -m bot run`` as a
subprocess in anonymous mode, activities posted to ``/api/messages`` as the Bot Connector
posts them (a card's ``Action.Submit`` is a message whose ``value`` holds the inputs), replies
received by the fake Bot Connector on loopback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kernel import wording
from tests.chat_e2e_support import LAMBETH, LAMBETH_AAD, WAIT, post, prepare_registry
from tests.run_e2e_support import MAILBOX, BotDb, BotProcess, wait_until
from tests.smtp_support import HOST
from tests.teams_fake_support import FakeConnector, message_activity
from validation.columns import COUNT_KEYS, FIELD_BY_KEY

CONVERSATION = "a:1on1-lambeth"
DAY = "2024-11-14"
CLEAN = {"cases": 10, "repeat_cases": 3, "ref_police": 7, "ref_housing": 0}


@pytest.fixture
def connector() -> Iterator[FakeConnector]:
    with FakeConnector() as fake:
        yield fake


def bot_env(data_dir: Path) -> dict[str, str]:
    return {
        "MARAC_DATA_DIR": str(data_dir),
        "MARAC_MAILBOX_ADDRESS": MAILBOX,
        "MARAC_SMTP_LISTEN": f"{HOST}:0",
        "MARAC_HTTP_LISTEN": f"{HOST}:0",
        "MARAC_TEAMS_ANONYMOUS": "1",
    }


def send(bot: BotProcess, activity: dict[str, Any]) -> int:
    status, _ = post(
        bot.http_port,
        "/api/messages",
        json.dumps(activity).encode(),
        {"Content-Type": "application/json"},
    )
    return status


def card_submit(
    connector: FakeConnector, activity_id: str, value: dict[str, Any]
) -> dict[str, Any]:
    """A press of a card's Action.Submit: a message with no text and the inputs as value."""
    return {
        **message_activity(connector, activity_id=activity_id, aad_id=LAMBETH_AAD),
        "value": value,
    }


def form_value(counts: dict[str, int], *, action: str = "record") -> dict[str, Any]:
    value: dict[str, Any] = {"marac_form": action, "marac": "Lambeth", "meeting_date": DAY}
    value.update({k: str(counts[k]) if k in counts else "" for k in COUNT_KEYS})
    return value


def replying_to(activity_id: str) -> Any:
    return lambda a: a["conversation"] == CONVERSATION and a["reply_to"] == activity_id


def card_of(activity: dict[str, Any]) -> dict[str, Any]:
    [attachment] = activity["body"]["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    return dict(attachment["content"])


def boxes(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["id"]: b for b in card["body"] if b["type"].startswith("Input.")}


def test_record_a_meeting_in_teams_then_amend_it_from_the_card_and_confirm(
    tmp_path: Path, connector: FakeConnector
) -> None:
    db = BotDb(prepare_registry(tmp_path / "data"))
    ask = message_activity(
        connector, activity_id="act-form", aad_id=LAMBETH_AAD, text="record a meeting"
    )
    with BotProcess(tmp_path / "work", bot_env(tmp_path / "data")).start() as bot:
        assert send(bot, ask) == 202
        offered = connector.wait_for(replying_to("act-form"), timeout=WAIT)
        assert send(bot, card_submit(connector, "act-rec", form_value(CLEAN))) == 202
        recorded = connector.wait_for(replying_to("act-rec"), timeout=WAIT)
        refresh = form_value({}, action="refresh")
        assert send(bot, card_submit(connector, "act-refresh", refresh)) == 202
        refilled = connector.wait_for(replying_to("act-refresh"), timeout=WAIT)
        assert (
            send(bot, card_submit(connector, "act-amend", form_value({**CLEAN, "ref_police": 12})))
            == 202
        )
        held = connector.wait_for(replying_to("act-amend"), timeout=WAIT)
        press = card_of(held)["actions"][0]["data"]
        assert send(bot, card_submit(connector, "act-confirm", press)) == 202
        confirmed = connector.wait_for(replying_to("act-confirm"), timeout=WAIT)
        wait_until(
            lambda: db.count("SELECT count(*) FROM meeting_versions") == 2,
            timeout=WAIT,
            what="the confirmed version",
        )

    card = card_of(offered)
    inputs = boxes(card)
    assert [c["value"] for c in inputs["marac"]["choices"]] == ["Lambeth"]
    assert inputs["meeting_date"]["type"] == "Input.Date"
    assert all(inputs[k]["label"] == FIELD_BY_KEY[k].uk_header for k in COUNT_KEYS)
    assert [a["data"] for a in card["actions"]] == [
        {"marac_form": "record"},
        {"marac_form": "refresh"},
    ]

    assert recorded["body"]["text"].startswith("**Lambeth's meeting of 14 Nov 2024 was recorded.**")
    filled = boxes(card_of(refilled))
    assert filled["cases"]["value"] == 10 and filled["ref_housing"]["value"] == 0
    assert "value" not in filled["minoritised"], "blank stays blank"
    assert held["body"]["text"].startswith(
        "**1 changed figure waits for your confirmation (Lambeth's meeting of 14 Nov 2024).**"
    )
    assert held["body"]["text"].count("Police: 7 → 12") == 1, "the change said once"
    assert confirmed["body"]["text"] == wording.confirmed_text(1)
    assert db.rows("SELECT version, ref_police FROM meeting_versions WHERE is_current") == [(2, 12)]
    assert db.rows("SELECT kind, channel, sender FROM submissions ORDER BY id") == [
        ("form", "teams", LAMBETH),
        ("form", "teams", LAMBETH),
    ]


def test_a_hard_issue_in_the_card_is_answered_by_its_box_and_nothing_is_recorded(
    tmp_path: Path, connector: FakeConnector
) -> None:
    db = BotDb(prepare_registry(tmp_path / "data"))
    bad = card_submit(connector, "act-bad", form_value({**CLEAN, "repeat_cases": 11}))
    with BotProcess(tmp_path / "work", bot_env(tmp_path / "data")).start() as bot:
        assert send(bot, bad) == 202
        answer = connector.wait_for(replying_to("act-bad"), timeout=WAIT)

    assert answer["body"]["text"].splitlines() == [
        "**The meeting was not recorded: please fix what is below.**",
        "",
        "Must fix",
        "  Number of repeat cases: 11 is more than the 10 cases discussed.",
    ]
    again = boxes(card_of(answer))
    assert again["repeat_cases"]["value"] == 11 and again["cases"]["value"] == 10, (
        "the card comes back with what was typed: nothing is lost"
    )
    assert again["meeting_date"]["value"] == DAY and again["marac"]["value"] == "Lambeth"
    assert db.count("SELECT count(*) FROM meeting_versions") == 0
