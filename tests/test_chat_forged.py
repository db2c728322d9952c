"""Forged and malformed requests at both chat endpoints (issue 10, findings 7 and 8).

Each case is posted to the real aiohttp server on a free loopback port, mounted as the running
bot mounts it (``ChatEndpoints``), with a real SQLite store. Slack requests are signed with
HMAC-SHA256 as Slack signs them (tests/slack_fake_support.py, whose fake Slack answers Bolt's
``auth.test``); Teams tokens are real JWTs checked by the Agents SDK against a JWKS served on
loopback (tests/teams_fake_support.py). Requests go out through ``http.client``, byte for byte:
repeated headers and non-ASCII header values reach the server as written.

For every case: never 500; the expected status; nothing stored when refused; and the log holds
one warning from the endpoint and nothing at error level (a sender's fault is not a traceback).
"""

from __future__ import annotations

import asyncio
import functools
import http.client
import json
import logging
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlalchemy import func, select

from bot.channels.chat.endpoints import ChatEndpoints
from bot.channels.slack.inbound import to_inbound as slack_to_inbound
from bot.channels.teams.inbound import to_inbound as teams_to_inbound
from bot.settings import Settings
from store.db import Store
from store.queue import InboundItem
from tests.slack_fake_support import BOT_TOKEN, BOT_USER, SIGNING_SECRET, TEAM, FakeSlack
from tests.slack_fake_support import signed_headers as slack_signed_headers
from tests.teams_fake_support import BOT_ID, BotFrameworkKeys

HOST = "127.0.0.1"
APP_ID = "00000000-0000-0000-0000-0000000f0a9e"
APP_PASSWORD = "teams-app-password"
Headers = list[tuple[str, str]]
Signer = Callable[[bytes], Headers]
DEEP = b"[" * 100_000 + b"]" * 100_000  # over the JSON parser's recursion limit
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Sent:
    status: int
    body: bytes
    stored: int
    records: list[logging.LogRecord]


def post(port: int, path: str, body: bytes, headers: Headers) -> tuple[int, bytes]:
    """POST exactly these bytes and headers (repeats kept, values sent as Latin-1)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.putrequest("POST", path, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def send(settings: Settings, path: str, body: bytes, headers: Headers,
         caplog: pytest.LogCaptureFixture) -> Sent:
    """Start the endpoints on a free loopback port, send one request, and stop them."""
    store = Store.from_settings(settings)

    async def run() -> tuple[int, bytes]:
        app = web.Application()
        ChatEndpoints(settings, store, lambda: None).mount(app)
        async with TestServer(app, host=HOST, port=0) as server:
            caplog.clear()  # from here on: what this request caused
            return await asyncio.to_thread(post, int(server.port or 0), path, body, headers)

    try:
        with caplog.at_level(logging.INFO):
            status, answer = asyncio.run(run())
        with store.transaction() as session:
            stored = int(session.scalar(select(func.count()).select_from(InboundItem)) or 0)
    finally:
        store.close()
    return Sent(status, answer, stored, list(caplog.records))


def assert_answered(sent: Sent, status: int, *, logger: str) -> None:
    assert sent.status != 500, f"500 for a sender's request: {sent.body[:300]!r}"
    assert sent.status == status, sent.body[:300]
    serious = [r for r in sent.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not serious, [f"{r.name}: {r.getMessage()[:200]}" for r in serious]
    refusals = [r for r in sent.records if r.name == logger and "refused" in r.getMessage()]
    if status >= 400:
        assert sent.stored == 0, "a refused request was stored"
        assert [r.levelno for r in refusals] == [logging.WARNING], "one warning per refusal"
    else:
        assert not refusals


# -- Slack: /slack/events ----------------------------------------------------------------------


def signed(raw: bytes) -> Headers:
    return list(slack_signed_headers(raw).items())


def signed_form(raw: bytes) -> Headers:
    return [*[(k, v) for k, v in signed(raw) if k != "Content-Type"], ("Content-Type", FORM)]


def unsigned(raw: bytes) -> Headers:
    return [("Content-Type", "application/json")]


def signed_but(**replace: str | None) -> Signer:
    """Signed, then one header replaced (or dropped, for None)."""
    names = {"timestamp": "X-Slack-Request-Timestamp", "signature": "X-Slack-Signature"}

    def sign(raw: bytes) -> Headers:
        headers = dict(slack_signed_headers(raw))
        for key, value in replace.items():
            headers.pop(names[key])
            if value is not None:
                headers[names[key]] = value
        return list(headers.items())
    return sign


def signed_at(offset: int, *, secret: str = SIGNING_SECRET) -> Signer:
    return lambda raw: list(slack_signed_headers(raw, secret=secret,
                                                 timestamp=int(time.time()) + offset).items())


def signed_for(other: bytes) -> Signer:
    """A genuine signature, of another body."""
    return lambda raw: signed(other)


def signed_twice(raw: bytes) -> Headers:
    return [*signed(raw), ("X-Slack-Signature", "v0=" + "0" * 64)]


def dm_event(**event: Any) -> dict[str, Any]:
    ts = f"{time.time():.6f}"
    base = {"type": "message", "channel": "DLAMBETH", "channel_type": "im", "user": "ULAMBETH",
            "text": "has Croydon uploaded Q3?", "ts": ts, "event_ts": ts}
    return {"token": "unused", "team_id": TEAM, "api_app_id": "AMARAC",
            "type": "event_callback", "event_id": f"Ev{time.time_ns()}",
            "event_time": int(time.time()), "event": {**base, **event},
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}]}


def event_json(**top: Any) -> bytes:
    return json.dumps({**dm_event(), **top}).encode()


def dm_json(**event: Any) -> bytes:
    return json.dumps(dm_event(**event)).encode()


def press(**top: Any) -> dict[str, Any]:
    value = json.dumps({"submitter": "lambeth.coordinator@example.org", "ids": [1]})
    return {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": "ULAMBETH"},
            "api_app_id": "AMARAC", "container": {"type": "message", "channel_id": "DLAMBETH"},
            "channel": {"id": "DLAMBETH"}, "trigger_id": "trigger-1",
            "message": {"ts": "1737379999.000001", "thread_ts": "1737370000.000001"},
            "actions": [{"type": "button", "action_id": "marac_confirm_held",
                         "block_id": "marac_held", "value": value,
                         "action_ts": f"{time.time():.6f}"}], **top}


def press_form(**top: Any) -> bytes:
    return urllib.parse.urlencode({"payload": json.dumps(press(**top))}).encode()


def button(**action: Any) -> bytes:
    body = press()
    body["actions"][0].update(action)
    return urllib.parse.urlencode({"payload": json.dumps(body)}).encode()


# (body, how it is signed, expected status)
SLACK_CASES: dict[str, tuple[bytes, Signer, int]] = {
    # Not from Slack: refused before the body is read, whatever it holds.
    "unsigned null": (b"null", unsigned, 401),
    "unsigned malformed JSON": (b'{"type": ', unsigned, 401),
    "unsigned non-UTF-8": (b'{"text": "caf\xe9"}', unsigned, 401),
    "unsigned 100,000 deep": (DEEP, unsigned, 401),
    "empty timestamp": (dm_json(), signed_but(timestamp=""), 401),
    "non-numeric timestamp": (dm_json(), signed_but(timestamp="soon"), 401),
    "superscript-digit timestamp": (dm_json(), signed_but(timestamp="\u00b3\u00b2"), 401),
    "no timestamp": (dm_json(), signed_but(timestamp=None), 401),
    "stale timestamp": (dm_json(), signed_at(-600), 401),
    "future timestamp": (dm_json(), signed_at(+600), 401),
    "wrong secret": (dm_json(), signed_at(0, secret="not-the-secret"), 401),
    "signature of another body": (dm_json(), signed_for(b"{}"), 401),
    "non-ASCII signature": (dm_json(), signed_but(signature="v0=\u00e9"), 401),
    "no signature": (dm_json(), signed_but(signature=None), 401),
    # Signed, but not a shape Slack sends.
    "two signature headers": (dm_json(), signed_twice, 400),
    "signed null": (b"null", signed, 400),
    "signed array": (b"[]", signed, 400),
    "signed string": (b'"event"', signed, 400),
    "signed number": (b"5", signed, 400),
    "signed malformed JSON": (b'{"type": ', signed, 400),
    "signed non-UTF-8": (b'{"text": "caf\xe9"}', signed, 400),
    "signed 100,000 deep": (DEEP, signed, 400),
    "signed 100 deep": (b'{"a": ' + b"[" * 100 + b"]" * 100 + b"}", signed, 400),
    "signed NaN": (b'{"type": "event_callback", "event_time": NaN}', signed, 400),
    "signed empty body": (b"", signed, 400),
    "signed 2 MB body": (b'{"text": "' + b"x" * 2_000_000 + b'"}', signed, 413),
    "event a string": (event_json(event="hello"), signed, 400),
    "event a list": (event_json(event=["message"]), signed, 400),
    "event a number": (event_json(event=5), signed, 400),
    "event null": (event_json(event=None), signed, 400),
    "event without a type": (event_json(event={"user": "ULAMBETH"}), signed, 400),
    "event user a number": (dm_json(user=5), signed, 400),
    "event channel an object": (dm_json(channel={"id": "D1"}), signed, 400),
    "event files not a list": (dm_json(subtype="file_share", files="F1"), signed, 400),
    "event file name a number": (dm_json(subtype="file_share", files=[{"name": 5}]), signed,
                                 400),
    "authorizations a number": (event_json(authorizations=0), signed, 400),
    "authorizations of strings": (event_json(authorizations=["x"]), signed, 400),
    "team a number": (event_json(team=5), signed, 400),
    "shared channel, event null": (event_json(is_ext_shared_channel=True, event=None), signed,
                                   400),
    "form payload not JSON": (b"payload=%7Bnope", signed_form, 400),
    "form payload null": (b"payload=null", signed_form, 400),
    "actions a string": (press_form(actions="marac_confirm_held"), signed_form, 400),
    "actions empty": (press_form(actions=[]), signed_form, 400),
    "actions of numbers": (press_form(actions=[5]), signed_form, 400),
    "action without action_id": (press_form(actions=[{"value": "{}"}]), signed_form, 400),
    "button user a number": (press_form(user=5), signed_form, 400),
    "button value not JSON": (button(value="{nope"), signed_form, 400),
    "button ids not numbers": (button(value='{"ids": "1,2", "submitter": "a"}'), signed_form,
                               400),
}

# Genuine requests: (body, how it is signed, expected status, rows stored)
SLACK_GENUINE: dict[str, tuple[bytes, Signer, int, int]] = {
    "a direct message": (dm_json(), signed, 200, 1),
    "a button press": (press_form(), signed_form, 200, 1),
    "url verification": (b'{"type": "url_verification", "challenge": "c-123"}', signed, 200, 0),
    "ssl check (unsigned, as Bolt allows)": (b"ssl_check=1&token=x", lambda raw: [
        ("Content-Type", FORM)], 200, 0),
}


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def slack_settings(tmp_path: Path, slack: FakeSlack) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'marac.db'}", data_dir=tmp_path,
                    slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                    slack_api_url=slack.api_url)


@pytest.mark.parametrize("case", SLACK_CASES.values(), ids=SLACK_CASES.keys())
def test_slack_refuses_a_forged_or_malformed_request(
    case: tuple[bytes, Signer, int], tmp_path: Path, slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    body, sign, status = case
    sent = send(slack_settings(tmp_path, slack), "/slack/events", body, sign(body), caplog)
    assert_answered(sent, status, logger="bot.channels.slack.events")


@pytest.mark.parametrize("case", SLACK_GENUINE.values(), ids=SLACK_GENUINE.keys())
def test_slack_still_takes_a_genuine_request(
    case: tuple[bytes, Signer, int, int], tmp_path: Path, slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    body, sign, status, stored = case
    sent = send(slack_settings(tmp_path, slack), "/slack/events", body, sign(body), caplog)
    assert_answered(sent, status, logger="bot.channels.slack.events")
    assert sent.stored == stored
    if b"url_verification" in body:
        assert json.loads(sent.body) == {"challenge": "c-123"}


# -- Teams: /api/messages ----------------------------------------------------------------------


def b64(data: bytes) -> str:
    return jwt.utils.base64url_encode(data).decode()


def unsigned_token(header: dict[str, Any] | None, claims: dict[str, Any]) -> str:
    """A token with no signature at all (``alg: none``) or a header of any shape."""
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}."


def rs256(keys: BotFrameworkKeys, header: dict[str, Any]) -> str:
    """Signed with the genuine key, under a header PyJWT would refuse to write."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(keys.claims()).encode())}"
    signature = keys.private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64(signature)}"


@functools.cache
def another_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def hs256(*, key: str, kid: str | None = None) -> Callable[[BotFrameworkKeys], str]:
    headers = {"kid": kid} if kid else None
    return lambda keys: "Bearer " + jwt.encode(keys.claims(), key, algorithm="HS256",
                                               headers=headers)


# Authorization header values, by case (None: no header); each is refused with 401.
TOKENS: dict[str, Callable[[BotFrameworkKeys], str | None]] = {
    "no Authorization header": lambda keys: None,
    "Basic scheme": lambda keys: "Basic dXNlcjpwYXNz",
    "Bearer without a token": lambda keys: "Bearer ",
    "not a JWT": lambda keys: "Bearer garbage",
    "two parts": lambda keys: "Bearer aGVhZGVy.cGF5bG9hZA",
    "bad base64": lambda keys: "Bearer !!!.###.$$$",
    "header JSON null": lambda keys: f"Bearer {b64(b'null')}.{b64(b'{}')}.c2ln",
    "alg none": lambda keys: "Bearer " + unsigned_token({"alg": "none", "typ": "JWT"},
                                                        keys.claims()),
    "alg none with our kid": lambda keys: "Bearer " + unsigned_token(
        {"alg": "none", "kid": keys.KID}, keys.claims()),
    "HS256 keyed with the app password": hs256(key=APP_PASSWORD * 2),
    "HS256 with our kid": hs256(key="k" * 32, kid=BotFrameworkKeys.KID),
    "RS256 without kid": lambda keys: f"Bearer {keys.token(headers={})}",
    "RS256 kid a number": lambda keys: f"Bearer {rs256(keys, {'alg': 'RS256', 'kid': 5})}",
    "RS256 unknown kid": lambda keys: f"Bearer {keys.token(headers={'kid': 'not-ours'})}",
    "RS256 our kid, another key": lambda keys: f"Bearer {keys.token(key=another_key())}",
    "wrong audience": lambda keys: f"Bearer {keys.token(aud='someone-else')}",
    "audience a list": lambda keys: f"Bearer {keys.token(aud=[APP_ID])}",
    "expired": lambda keys: f"Bearer {keys.token(expires_in=-3600)}",
    "non-ASCII token": lambda keys: "Bearer \u00e9.\u00e9.\u00e9",
}


def activity_json(**changes: Any) -> bytes:
    """A 1:1 message as Teams posts it (tests/teams_fake_support.py), with fields changed."""
    activity: dict[str, Any] = {
        "type": "message", "id": f"act-{time.time_ns()}", "timestamp": "2025-01-20T10:00:00Z",
        "serviceUrl": "http://127.0.0.1:9/", "channelId": "msteams",
        "from": {"id": "29:aad-lambeth", "name": "Lambeth coordinator",
                 "aadObjectId": "aad-lambeth"},
        "conversation": {"id": "a:1on1-lambeth", "conversationType": "personal",
                         "tenantId": "tenant-1"},
        "recipient": {"id": BOT_ID, "name": "Marac data assistant"},
        "text": "has Croydon uploaded Q3?", "textFormat": "plain", "attachments": [],
        "channelData": {"tenant": {"id": "tenant-1"}},
    }
    for key, value in changes.items():
        if value is _DROP:
            activity.pop(key, None)
        else:
            activity[key] = value
    return json.dumps(activity).encode()


_DROP = object()
HELD = {"marac_action": "confirm", "submitter": "lambeth.coordinator@example.org", "ids": [1]}

# Bodies that come with a genuine token: (body, expected status, rows stored)
TEAMS_BODIES: dict[str, tuple[bytes, int, int]] = {
    "null": (b"null", 400, 0),
    "an array": (b"[]", 400, 0),
    "a string": (b'"message"', 400, 0),
    "malformed JSON": (b'{"type": ', 400, 0),
    "empty": (b"", 400, 0),
    "non-UTF-8": (b'{"type": "message", "text": "caf\xe9"}', 400, 0),
    "100,000 deep": (DEEP, 400, 0),
    "2 MB": (activity_json(text="x" * 2_000_000), 413, 0),
    "value 300 deep": (activity_json(value=json.loads("[" * 300 + "]" * 300)), 400, 0),
    "type a number": (activity_json(type=5), 400, 0),
    "from a string": (activity_json(**{"from": "29:someone"}), 400, 0),
    "no conversation": (activity_json(conversation=_DROP), 400, 0),
    "conversation a string": (activity_json(conversation="a:1on1"), 400, 0),
    "attachments a string": (activity_json(attachments="file.xlsx"), 400, 0),
    "no recipient": (activity_json(recipient=_DROP), 400, 0),
    "held press, ids a string": (activity_json(value={**HELD, "ids": "1,2"}), 400, 0),
    "held press, ids a number": (activity_json(value={**HELD, "ids": 2.5}), 400, 0),
    "held press, submitter a number": (activity_json(value={**HELD, "submitter": 7}), 400, 0),
    "update without a conversation": (activity_json(type="conversationUpdate",
                                                    conversation=_DROP), 400, 0),
    # Genuine controls.
    "a message": (activity_json(), 202, 1),
    "a held-changes press": (activity_json(value=HELD), 202, 1),
    "typing (not stored)": (activity_json(type="typing"), 200, 0),
}


@pytest.fixture(scope="module")
def keys() -> Iterator[BotFrameworkKeys]:
    with BotFrameworkKeys(APP_ID) as made:
        yield made


def teams_settings(tmp_path: Path, *, anonymous: bool = False) -> Settings:
    database = f"sqlite:///{tmp_path / 'marac.db'}"
    if anonymous:
        return Settings(database_url=database, data_dir=tmp_path, teams_anonymous=True)
    return Settings(database_url=database, data_dir=tmp_path, teams_app_id=APP_ID,
                    teams_app_password=APP_PASSWORD)


def bearer(value: str | None) -> Headers:
    headers = [("Content-Type", "application/json")]
    return headers if value is None else [*headers, ("Authorization", value)]


@pytest.mark.parametrize("token", TOKENS.values(), ids=TOKENS.keys())
def test_teams_refuses_a_token_it_cannot_validate(
    token: Callable[[BotFrameworkKeys], str | None], tmp_path: Path, keys: BotFrameworkKeys,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sent = send(teams_settings(tmp_path), "/api/messages", activity_json(),
                bearer(token(keys)), caplog)
    assert_answered(sent, 401, logger="bot.channels.teams.endpoint")


def test_teams_still_takes_a_genuine_token(
    tmp_path: Path, keys: BotFrameworkKeys, caplog: pytest.LogCaptureFixture
) -> None:
    sent = send(teams_settings(tmp_path), "/api/messages", activity_json(),
                bearer(f"Bearer {keys.token()}"), caplog)
    assert_answered(sent, 202, logger="bot.channels.teams.endpoint")
    assert sent.stored == 1


def test_teams_refuses_two_authorization_headers(
    tmp_path: Path, keys: BotFrameworkKeys, caplog: pytest.LogCaptureFixture
) -> None:
    headers = [*bearer(f"Bearer {keys.token()}"), ("Authorization", "Bearer garbage")]
    sent = send(teams_settings(tmp_path), "/api/messages", activity_json(), headers, caplog)
    assert_answered(sent, 401, logger="bot.channels.teams.endpoint")


@pytest.mark.parametrize("case", TEAMS_BODIES.values(), ids=TEAMS_BODIES.keys())
def test_teams_answers_a_validated_request_by_what_its_body_is(
    case: tuple[bytes, int, int], tmp_path: Path, keys: BotFrameworkKeys,
    caplog: pytest.LogCaptureFixture,
) -> None:
    body, status, stored = case
    sent = send(teams_settings(tmp_path), "/api/messages", body,
                bearer(f"Bearer {keys.token()}"), caplog)
    assert_answered(sent, status, logger="bot.channels.teams.endpoint")
    assert sent.stored == stored


@pytest.mark.parametrize(("body", "token", "status"), [
    (b"null", None, 400),
    (DEEP, None, 400),
    (b'{"type": "message", "from": 5}', None, 400),
    (activity_json(), None, 202),
    (activity_json(), "alg none", 401),
    (activity_json(), "RS256 without kid", 401),
], ids=["null", "100,000 deep", "from a number", "genuine, unsigned", "alg none",
        "RS256 without kid"])
def test_teams_anonymous_mode_still_refuses_what_it_cannot_read(
    body: bytes, token: str | None, status: int, tmp_path: Path, keys: BotFrameworkKeys,
    caplog: pytest.LogCaptureFixture,
) -> None:
    header = TOKENS[token](keys) if token else None
    sent = send(teams_settings(tmp_path, anonymous=True), "/api/messages", body,
                bearer(header), caplog)
    assert_answered(sent, status, logger="bot.channels.teams.endpoint")
    assert sent.stored == (1 if status == 202 else 0)


# -- the converters: Socket Mode has no endpoint check, so the worker names a wrong type ------

NOW = datetime(2025, 1, 20, 10, 0, tzinfo=UTC)
SLACK_ODD: dict[str, Any] = {
    "null": None,
    "an array": [dm_event()],
    "event a string": {**dm_event(), "event": "hello"},
    "event user a number": dm_event(user=5),
    "event text an object": dm_event(text={"type": "mrkdwn"}),
    "files a string": dm_event(subtype="file_share", files="F1"),
    "files of numbers": dm_event(subtype="file_share", files=[5]),
    "authorizations a number": {**dm_event(), "authorizations": 0},
    "button user a number": press(user=5),
    "button message a list": press(message=["1.2"]),
    "actions a string": press(actions="marac_confirm_held"),
    "button value not JSON": press(actions=[{"action_id": "marac_confirm_held",
                                             "value": "{nope"}]),
    "button ids a string": press(actions=[{"action_id": "marac_confirm_held",
                                           "value": '{"ids": "1,2"}'}]),
}


@pytest.mark.parametrize("body", SLACK_ODD.values(), ids=SLACK_ODD.keys())
def test_the_slack_converter_names_a_wrong_type(body: Any) -> None:
    # The converter is pure: no store, no Slack to ask, only the request.
    with pytest.raises(ValueError, match=r"^Slack "):
        slack_to_inbound(json.dumps(body).encode(), received_at=NOW)


TEAMS_ODD: dict[str, bytes] = {
    "no conversation": activity_json(conversation=_DROP),
    "held press, ids a string": activity_json(value={**HELD, "ids": "1,2"}),
    "held press, ids true": activity_json(value={**HELD, "ids": [True]}),
    "held press, submitter a list": activity_json(value={**HELD, "submitter": ["a"]}),
}


@pytest.mark.parametrize("raw", TEAMS_ODD.values(), ids=TEAMS_ODD.keys())
def test_the_teams_converter_names_a_wrong_type(raw: bytes) -> None:
    with pytest.raises(ValueError, match=r"^Teams "):
        teams_to_inbound(raw, received_at=NOW)
