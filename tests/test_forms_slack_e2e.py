"""Recording a meeting with the Slack form, end to end (issue 16): ``python -m bot run`` as a
subprocess, a fake Slack Web API on loopback (``views.open`` / ``views.update`` recorded),
signed slash-command, block-action and ``view_submission`` requests to ``/slack/events``.

Waits are on what the fake records or on database rows, each with a timeout; never a sleep.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType, web

from bot.channels.slack import form_view
from kernel import wording
from tests.chat_e2e_support import CROYDON, CROYDON_SLACK, WAIT, post, prepare_registry
from tests.run_e2e_support import MAILBOX, BotDb, BotProcess, wait_until
from tests.slack_fake_support import (
    APP_TOKEN,
    BOT_TOKEN,
    SIGNING_SECRET,
    TEAM,
    FakeSlack,
    _Socket,
    signed_headers,
)
from tests.smtp_support import HOST
from validation.columns import COUNT_KEYS, FIELD_BY_KEY

DAY = "2024-10-03"
CLEAN = {
    "cases": 12,
    "repeat_cases": 4,
    "children": 9,
    "cases_with_children": 5,
    "ref_police": 6,
    "ref_housing": 0,
}


class FormsSlack(FakeSlack):
    """The fake Slack, also answering the views methods as Slack does."""

    def __init__(self) -> None:
        super().__init__()
        self.acked: dict[str, dict[str, Any]] = {}  # envelope id -> the payload sent with it

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        return {"ok": True, "view": {**_view(args), "id": "VFORM", "hash": "h-open"}}

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "view": {**_view(args), "id": args.get("view_id"), "hash": "h-next"}}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "view": {**_view(args), "id": "VHOME"}}

    # -- Socket Mode: slash commands and modals arrive as their own envelope types, and the
    # answer to a submission (its errors) rides back on the envelope's acknowledgement.

    def push(self, kind: str, payload: dict[str, Any], *, envelope_id: str) -> None:
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": True,
            "retry_attempt": 0,
        }
        socket = self.sockets[-1]
        asyncio.run_coroutine_threadsafe(
            socket.ws.send_str(json.dumps(envelope)), self._loop
        ).result(10)

    def ack_payload(self, envelope_id: str, *, timeout: float) -> dict[str, Any]:
        """What the bot sent back with its acknowledgement of an envelope."""
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self.acked, timeout):
                raise AssertionError(f"envelope {envelope_id} was never acknowledged")
            return self.acked[envelope_id]

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        socket = _Socket(ws, answers_pings=True)
        with self._cond:
            self.sockets.append(socket)
            self._cond.notify_all()
        await ws.send_str(json.dumps({"type": "hello", "num_connections": len(self.sockets)}))
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                ack = json.loads(message.data)
                with self._cond:
                    self.acked[str(ack.get("envelope_id"))] = dict(ack.get("payload") or {})
                    self._cond.notify_all()
        return ws


def _view(args: dict[str, Any]) -> dict[str, Any]:
    view = args.get("view")
    return json.loads(view) if isinstance(view, str) else dict(view or {})


@pytest.fixture
def slack() -> Iterator[FormsSlack]:
    fake = FormsSlack()
    with fake:
        yield fake


def bot_env(data_dir: Path, slack: FakeSlack) -> dict[str, str]:
    return {
        "MARAC_DATA_DIR": str(data_dir),
        "MARAC_MAILBOX_ADDRESS": MAILBOX,
        "MARAC_SMTP_LISTEN": f"{HOST}:0",
        "MARAC_HTTP_LISTEN": f"{HOST}:0",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": slack.api_url,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
    }


def signed_post(bot: BotProcess, fields: dict[str, str]) -> tuple[int, bytes]:
    raw = urllib.parse.urlencode(fields).encode()
    headers = {**signed_headers(raw), "Content-Type": "application/x-www-form-urlencoded"}
    return post(bot.http_port, "/slack/events", raw, headers)


def slash_command(bot: BotProcess, text: str = "record") -> int:
    status, _ = signed_post(
        bot,
        {
            "token": "unused",
            "team_id": TEAM,
            "user_id": CROYDON_SLACK,
            "command": "/marac",
            "text": text,
            "trigger_id": f"trigger-{time.time()}",
            "channel_id": "DCROYDON",
            "api_app_id": "AMARAC",
            "response_url": "https://hooks.slack.test/commands/1",
        },
    )
    return status


def with_state(
    view: dict[str, Any], counts: Mapping[str, int | None], *, day: str = DAY
) -> dict[str, Any]:
    """The view as Slack holds it once the boxes are filled in."""
    values: dict[str, Any] = {
        "marac": {
            form_view.MARAC_ACTION: {
                "type": "static_select",
                "selected_option": {"value": "Croydon"},
            }
        },
        "meeting_date": {form_view.DATE_ACTION: {"type": "datepicker", "selected_date": day}},
    }
    for key in COUNT_KEYS:
        value = counts.get(key)
        values[key] = {
            "value": {"type": "number_input", "value": None if value is None else str(value)}
        }
    return {**view, "state": {"values": values}}


def submit(bot: BotProcess, view: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM},
        "user": {"id": CROYDON_SLACK, "team_id": TEAM},
        "api_app_id": "AMARAC",
        "trigger_id": "trigger-submit",
        "view": view,
    }
    status, body = signed_post(bot, {"payload": json.dumps(payload)})
    return status, json.loads(body) if body.strip() else {}


def choose_date(bot: BotProcess, view: dict[str, Any]) -> int:
    """The date picked in the open modal: a block action carrying the view's state."""
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM},
        "user": {"id": CROYDON_SLACK},
        "api_app_id": "AMARAC",
        "trigger_id": "trigger-date",
        "container": {"type": "view", "view_id": view["id"]},
        "view": view,
        "actions": [
            {
                "type": "datepicker",
                "action_id": form_view.DATE_ACTION,
                "block_id": form_view.DATE_BLOCK,
                "selected_date": DAY,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    status, _ = signed_post(bot, {"payload": json.dumps(payload)})
    return status


def press(bot: BotProcess, reply: dict[str, Any], action_id: str) -> int:
    button = next(
        e
        for b in reply["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == action_id
    )
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM},
        "user": {"id": CROYDON_SLACK},
        "api_app_id": "AMARAC",
        "channel": {"id": reply["channel"]},
        "container": {"type": "message", "channel_id": reply["channel"]},
        "trigger_id": "trigger-press",
        "message": {"ts": "1737379999.000001"},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "marac_held",
                "value": button["value"],
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    status, _ = signed_post(bot, {"payload": json.dumps(payload)})
    return status


def text_of(call: dict[str, Any]) -> str:
    sections = [b["text"]["text"] for b in call["blocks"] if b["type"] == "section"]
    return "\n\n".join(sections).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def to_croydon(call: dict[str, Any]) -> bool:
    return call.get("channel") == CROYDON_SLACK


def opened_view(slack: FakeSlack) -> dict[str, Any]:
    return {**_view(slack.wait_for("views.open", timeout=WAIT)), "id": "VFORM", "hash": "h-open"}


# -- the tests ---------------------------------------------------------------------------------


def test_marac_opens_the_form_and_a_clean_meeting_is_recorded_and_answered_in_the_dm(
    tmp_path: Path, slack: FormsSlack
) -> None:
    db = BotDb(prepare_registry(tmp_path / "data"))
    with BotProcess(tmp_path / "work", bot_env(tmp_path / "data", slack)).start() as bot:
        assert slash_command(bot) == 200
        view = opened_view(slack)
        status, answer = submit(bot, with_state(view, CLEAN))
        reply = slack.wait_for("chat.postMessage", to_croydon, timeout=WAIT)

    assert view["callback_id"] == form_view.CALLBACK_ID
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    marac = inputs["marac"]["element"]
    assert [o["value"] for o in marac["options"]] == ["Croydon"], "only their own Marac"
    assert marac["initial_option"]["value"] == "Croydon"
    assert inputs["meeting_date"]["element"]["type"] == "datepicker"
    assert [k for k in inputs if k in COUNT_KEYS] == list(COUNT_KEYS)
    assert all(inputs[k]["label"]["text"] == FIELD_BY_KEY[k].uk_header for k in COUNT_KEYS)
    headers = [b["text"]["text"] for b in view["blocks"] if b["type"] == "header"]
    assert headers == list(wording.FORM_GROUPS.values())

    assert (status, answer) == (200, {}), "accepted: the modal closes"
    assert text_of(reply).startswith("*Croydon's meeting of 3 Oct 2024 was recorded.*")
    assert db.rows("SELECT kind, channel, sender, status FROM submissions") == [
        ("form", "slack", CROYDON, "accepted")
    ]
    assert db.rows(
        "SELECT cases, repeat_cases, ref_housing, minoritised FROM meeting_versions "
        "WHERE is_current"
    ) == [(12, 4, 0, None)], "blank stays blank, 0 stays 0"


def test_a_hard_issue_is_shown_beside_its_box_and_nothing_is_recorded(
    tmp_path: Path, slack: FormsSlack
) -> None:
    db = BotDb(prepare_registry(tmp_path / "data"))
    with BotProcess(tmp_path / "work", bot_env(tmp_path / "data", slack)).start() as bot:
        assert slash_command(bot, "") == 200
        view = opened_view(slack)
        status, answer = submit(
            bot, with_state(view, {**CLEAN, "repeat_cases": 13, "children": -2})
        )

    assert status == 200
    assert answer == {
        "response_action": "errors",
        "errors": {
            "repeat_cases": "13 is more than the 12 cases discussed.",
            "children": "Must be a whole number of 0 or more, not '-2'; leave it blank if not "
            "collected.",
        },
    }
    assert db.count("SELECT count(*) FROM inbound_queue") == 0
    assert db.count("SELECT count(*) FROM submissions") == 0
    assert slack.calls_to("chat.postMessage") == []


def test_choosing_a_recorded_meeting_fills_the_form_and_a_change_is_held_then_confirmed(
    tmp_path: Path, slack: FormsSlack
) -> None:
    db = BotDb(prepare_registry(tmp_path / "data"))
    with BotProcess(tmp_path / "work", bot_env(tmp_path / "data", slack)).start() as bot:
        assert slash_command(bot) == 200
        first = opened_view(slack)
        assert submit(bot, with_state(first, CLEAN))[0] == 200
        slack.wait_for("chat.postMessage", to_croydon, timeout=WAIT)

        assert slash_command(bot) == 200
        again = {
            **_view(slack.wait_for("views.open", count=2, timeout=WAIT)),
            "id": "VFORM2",
            "hash": "h-open",
        }
        assert choose_date(bot, with_state(again, {}, day=DAY)) == 200
        update = slack.wait_for("views.update", timeout=WAIT)
        filled = _view(update)
        boxes = {
            b["block_id"]: b["element"].get("initial_value")
            for b in filled["blocks"]
            if b["type"] == "input" and b["block_id"] in COUNT_KEYS
        }
        assert boxes["cases"] == "12" and boxes["ref_housing"] == "0"
        assert boxes["minoritised"] is None, "blank stays blank"

        amended = {**CLEAN, "repeat_cases": 9}
        assert (
            submit(bot, with_state({**filled, "id": "VFORM2", "hash": "h-next"}, amended))[0] == 200
        )
        held = slack.wait_for("chat.postMessage", to_croydon, timeout=WAIT, count=2)
        assert press(bot, held, "marac_confirm_held") == 200
        confirmed = slack.wait_for("chat.postMessage", to_croydon, timeout=WAIT, count=3)
        wait_until(
            lambda: db.count("SELECT count(*) FROM meeting_versions") == 2,
            timeout=WAIT,
            what="the confirmed version",
        )

    assert update["view_id"] == "VFORM2" and update["hash"] == "h-open"
    assert wording.form_prefilled_note("Croydon", _date(DAY)) in json.dumps(filled)
    held_text = text_of(held)
    assert held_text.startswith(
        "*1 changed figure waits for your confirmation (Croydon's meeting of 3 Oct 2024).*"
    ), "the headline, in bold"
    assert "• Number of repeat cases: 4 → 9" in held_text, "old → new, no column letters"
    assert held_text.count("4 → 9") == 1 and "already sent" not in held_text, "said once"
    assert wording.chat_form_held_note(None).split(".")[0] in held_text, "beside the buttons"
    assert text_of(confirmed) == wording.confirmed_text(1)
    assert db.rows("SELECT version, repeat_cases FROM meeting_versions WHERE is_current") == [
        (2, 9)
    ]


def _date(text: str) -> date:
    return date.fromisoformat(text)


def test_app_home_and_a_reminder_offer_the_button_that_opens_the_form(
    tmp_path: Path, slack: FormsSlack
) -> None:
    prepare_registry(tmp_path / "data")
    home = {
        "token": "unused",
        "team_id": TEAM,
        "api_app_id": "AMARAC",
        "type": "event_callback",
        "event_id": "EvHome",
        "event_time": int(time.time()),
        "event": {
            "type": "app_home_opened",
            "user": CROYDON_SLACK,
            "tab": "home",
            "channel": "DCROYDON",
            "event_ts": "1737370000.000001",
        },
    }
    raw = json.dumps(home).encode()
    with BotProcess(tmp_path / "work", bot_env(tmp_path / "data", slack)).start() as bot:
        assert post(bot.http_port, "/slack/events", raw, signed_headers(raw))[0] == 200
        published = slack.wait_for("views.publish", timeout=WAIT)
        [button] = [
            e for b in _view(published)["blocks"] if b["type"] == "actions" for e in b["elements"]
        ]
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM},
            "user": {"id": CROYDON_SLACK},
            "api_app_id": "AMARAC",
            "trigger_id": "trigger-home",
            "container": {"type": "view"},
            "actions": [
                {
                    "type": "button",
                    "action_id": button["action_id"],
                    "block_id": "marac_open",
                    "value": button["value"],
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        assert signed_post(bot, {"payload": json.dumps(payload)})[0] == 200
        opened = slack.wait_for("views.open", timeout=WAIT)

    assert published["user_id"] == CROYDON_SLACK
    assert button["text"]["text"] == wording.FORM_OPEN_BUTTON
    assert opened["trigger_id"] == "trigger-home"
    assert _view(opened)["callback_id"] == form_view.CALLBACK_ID


def test_a_slack_reminder_to_a_coordinator_carries_the_button(slack: FormsSlack) -> None:
    from slack_sdk import WebClient

    from bot.channels.slack.send import SlackSender
    from store.queue import OutboundItem

    item = OutboundItem(
        key="reminder:x",
        channel="slack",
        recipient=CROYDON_SLACK,
        payload=json.dumps(
            {"text": "Please send Q3 2024/25.", "user": CROYDON_SLACK, "offer_form": True}
        ).encode(),
    )
    sender = SlackSender(WebClient(token=BOT_TOKEN, base_url=slack.api_url))
    sender(None, item, lambda: None)  # type: ignore[arg-type]  # the session is not used

    posted = slack.wait_for("chat.postMessage", timeout=WAIT)
    blocks = (
        posted["blocks"] if isinstance(posted["blocks"], list) else json.loads(posted["blocks"])
    )
    assert blocks[0]["text"]["text"] == "Please send Q3 2024/25."
    assert blocks[-1]["elements"][0]["action_id"] == form_view.OPEN_ACTION


def test_an_amendment_in_words_in_a_dm_is_held_old_to_new_and_confirmed_with_the_button(
    tmp_path: Path, slack: FormsSlack
) -> None:
    db = BotDb(prepare_registry(tmp_path / "data"))
    ts = "1737370000.000042"
    event = {
        "token": "unused",
        "team_id": TEAM,
        "api_app_id": "AMARAC",
        "type": "event_callback",
        "event_id": "EvAmend",
        "event_time": int(time.time()),
        "event": {
            "type": "message",
            "channel": "DCROYDON",
            "channel_type": "im",
            "user": CROYDON_SLACK,
            "text": "change Croydon 3 Oct 2024 repeat cases to 9",
            "ts": ts,
            "event_ts": ts,
        },
    }
    raw = json.dumps(event).encode()
    with BotProcess(tmp_path / "work", bot_env(tmp_path / "data", slack)).start() as bot:
        assert slash_command(bot) == 200
        assert submit(bot, with_state(opened_view(slack), CLEAN))[0] == 200
        slack.wait_for("chat.postMessage", to_croydon, timeout=WAIT)
        assert post(bot.http_port, "/slack/events", raw, signed_headers(raw))[0] == 200
        held = slack.wait_for("chat.postMessage", lambda c: c.get("thread_ts") == ts, timeout=WAIT)
        assert press(bot, held, "marac_confirm_held") == 200
        wait_until(
            lambda: db.count("SELECT count(*) FROM meeting_versions") == 2,
            timeout=WAIT,
            what="the confirmed version",
        )

    held_text = text_of(held)
    assert held_text.startswith(
        "*1 changed figure waits for your confirmation (Croydon's meeting of 3 Oct 2024).*"
    ), "the headline, in bold"
    assert "• Number of repeat cases: 4 → 9" in held_text, "old → new, no column letters"
    assert held_text.count("4 → 9") == 1 and "already sent" not in held_text, "said once"
    assert wording.chat_form_held_note(None).split(".")[0] in held_text, "beside the buttons"
    assert db.rows("SELECT version, repeat_cases FROM meeting_versions WHERE is_current") == [
        (2, 9)
    ]
    assert db.rows("SELECT kind FROM submissions ORDER BY id") == [("form",), ("sentence",)]


def test_in_socket_mode_the_form_opens_and_a_hard_issue_comes_back_on_the_acknowledgement(
    tmp_path: Path, slack: FormsSlack
) -> None:
    db = BotDb(prepare_registry(tmp_path / "data"))
    env = {**bot_env(tmp_path / "data", slack), "SLACK_APP_TOKEN": APP_TOKEN}
    del env["SLACK_SIGNING_SECRET"]
    command = {
        "team_id": TEAM,
        "user_id": CROYDON_SLACK,
        "command": "/marac",
        "text": "record",
        "trigger_id": "trigger-socket",
        "channel_id": "DCROYDON",
        "api_app_id": "AMARAC",
    }
    with BotProcess(tmp_path / "work", env).start() as bot:
        slack.wait_for_sockets(1, timeout=WAIT)
        slack.push("slash_commands", command, envelope_id="env-command")
        view = opened_view(slack)
        bad = with_state(view, {**CLEAN, "repeat_cases": 13})
        submission = {
            "type": "view_submission",
            "team": {"id": TEAM},
            "user": {"id": CROYDON_SLACK},
            "api_app_id": "AMARAC",
            "view": bad,
        }
        slack.push("interactive", submission, envelope_id="env-bad")
        answer = slack.ack_payload("env-bad", timeout=WAIT)
        good = {**submission, "view": with_state(view, CLEAN)}
        slack.push("interactive", good, envelope_id="env-good")
        slack.wait_for("chat.postMessage", to_croydon, timeout=WAIT)

    assert bot.start_line is not None and "Socket Mode" in bot.start_line
    assert answer == {
        "response_action": "errors",
        "errors": {"repeat_cases": "13 is more than the 12 cases discussed."},
    }
    assert db.rows("SELECT kind, status FROM submissions") == [("form", "accepted")]
