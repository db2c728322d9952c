"""Slack events and button presses in, through Bolt: verified, stored, acknowledged.

Slack resends an event not acknowledged within 3 seconds, so the listeners here only store the
request (keyed by event id: a resend is then a no-op) and return; the worker does the slow work.
``process_before_response`` makes Bolt acknowledge after the listener, so "received" is never
said before the event is durable. The same Bolt app serves HTTP (``/slack/events``, signatures
checked: a bad signature or a stale timestamp gets 401) and Socket Mode.

Nothing here calls Slack at start-up: the app gets a ready client and no token check; Bolt's
first ``auth.test`` happens on the first request (it learns our bot user id, so our own messages
are ignored).

Over HTTP, ``check_request`` runs before Bolt sees anything: the timestamp and signature are
checked on the raw bytes, and only then is the body parsed, with a depth limit, and its fields
checked against the types Bolt and our listeners read (Bolt assumes Slack's shapes and answers
500 with a traceback to anything else). A refusal is 401 (not from Slack) or 400 (from Slack, or
someone with the secret, but not a shape Slack sends), and one log line.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.explain_view import SlackExplain
from bot.channels.slack.forms import SlackForms
from bot.channels.slack.inbound import ACTION_IDS, PERSON_SUBTYPES, held_button
from bot.settings import Settings
from store.db import Store
from store.queue import enqueue_inbound
from store.types import utcnow

logger = logging.getLogger(__name__)

_HELD_ACTIONS = re.compile(r"^marac_(confirm|keep)_held$")


def async_web_client(settings: Settings) -> AsyncWebClient:
    return AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)


class SlackEvents:
    """The Bolt app whose listeners store what Slack sends."""

    def __init__(self, settings: Settings, store: Store, on_stored: Callable[[], None]) -> None:
        self.store, self.on_stored = store, on_stored
        self.signing_secret = settings.slack_signing_secret or ""
        socket_mode = bool(settings.slack_app_token)
        self.app = AsyncApp(
            client=async_web_client(settings),
            signing_secret=settings.slack_signing_secret or "",
            # Socket Mode requests are not signed (the socket is the proof): no check there.
            request_verification_enabled=not socket_mode,
            process_before_response=True,
            ssl_check_enabled=not socket_mode,
        )
        self.app.event("message")(self._on_message)
        self.app.event("app_mention")(self._on_mention)
        self.app.action(_HELD_ACTIONS)(self._on_action)
        SlackForms(settings, store, on_stored).register(self.app)  # /marac and its modal
        SlackExplain(settings, store, on_stored).register(self.app)  # explain a check (issue 13)

    async def handle_http(self, request: web.Request) -> web.Response:
        """The aiohttp handler for ``POST /slack/events`` (events and interactivity)."""
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:  # aiohttp answers 413; the log still says why
            logger.warning("Slack request refused (413): body over %d bytes",
                           request.client_max_size)
            raise
        try:
            if is_ssl_check(raw):
                # Slack's certificate probe: Bolt answers it unsigned, and so do we (it stores
                # nothing and parses no JSON).
                return web.Response(status=200)
            check_request(raw, single_headers(request.headers), secret=self.signing_secret,
                          now=time.time())
        except Refused as refused:
            logger.warning("Slack request refused (%d): %s", refused.status, refused.reason)
            return web.json_response({"error": refused.reason}, status=refused.status)
        bolt_request = AsyncBoltRequest(body=raw.decode("utf-8"), query=request.query_string,
                                        headers=dict(request.headers))
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    async def _on_message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        # In channels only a mention is for us (app_mention arrives for it too; answering the
        # plain message event as well would answer twice). Edits, joins, bots: not for us.
        if event.get("channel_type") != "im" or event.get("bot_id"):
            return
        if event.get("subtype") not in PERSON_SUBTYPES:
            return
        await self._store(body, key=f"slack:{body.get('event_id')}")

    async def _on_mention(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("bot_id"):
            return
        await self._store(body, key=f"slack:{body.get('event_id')}")

    async def _on_action(self, ack: Callable[[], Any], body: dict[str, Any]) -> None:
        action = (body.get("actions") or [{}])[0]
        user = id_of(body.get("user"))
        await self._store(body, key=f"slack-action:{user}:{action.get('action_ts')}")
        await ack()

    async def _store(self, body: dict[str, Any], *, key: str) -> None:
        raw = json.dumps(body).encode("utf-8")
        await asyncio.to_thread(self._enqueue, raw, key)
        self.on_stored()

    def _enqueue(self, raw: bytes, key: str) -> None:
        with self.store.transaction() as session:
            enqueue_inbound(session, channel="slack", raw=raw, source_key=key,
                            received_at=utcnow())


def id_of(value: object) -> str:
    """A user, team or channel as Slack names it: an id, or an object carrying one."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else ""


# -- the check before Bolt: signature first, then a parse that cannot blow up ----------------

MAX_AGE = 5 * 60  # seconds; Slack's advice (and Bolt's) against a replayed request
MAX_DEPTH = 64  # Slack's payloads nest about a dozen deep (rich-text blocks); more is not Slack
_CHECKED_HEADERS = ("content-type", "x-slack-request-timestamp", "x-slack-signature")


class Refused(Exception):
    """A request we will not take: ``status`` for the sender (400, 401), ``reason`` for the log."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def single_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers the check reads, by lower-case name; each at most once.

    aiohttp's ``get`` takes the first of a repeated header and Bolt the last: refusing repeats
    means both always read the same signature and content type.
    """
    getall = getattr(headers, "getall", None)
    found: dict[str, str] = {}
    for name in _CHECKED_HEADERS:
        values = list(getall(name, [])) if getall else [v for k, v in headers.items()
                                                        if k.lower() == name]
        if len(values) > 1:
            raise Refused(400, f"{name} given {len(values)} times")
        if values:
            found[name] = values[0]
    return found


def is_ssl_check(raw: bytes) -> bool:
    """Slack's unsigned certificate probe: a form whose ``ssl_check`` is 1 (as Bolt sees it)."""
    return b"ssl_check" in raw and dict(parse_qsl(raw.decode("latin-1"))).get("ssl_check") == "1"


def check_request(raw: bytes, headers: Mapping[str, str], *, secret: str,
                  now: float) -> dict[str, Any]:
    """The body of a genuine Slack request, verified before it is parsed; else ``Refused``.

    ``headers`` are lower-case names (``single_headers``). 401: no valid signature, or a
    timestamp over five minutes away. 400: signed, but not UTF-8, not a JSON object, nested
    too deep, or with a field of a type Bolt or our listeners cannot take.
    """
    verify_signature(raw, headers, secret=secret, now=now)
    body = parse_body(raw, headers.get("content-type"))
    problem = shape_problem(body)
    if problem is not None:
        raise Refused(400, problem)
    return body


def verify_signature(raw: bytes, headers: Mapping[str, str], *, secret: str,
                     now: float) -> None:
    """Slack's v0 scheme: HMAC-SHA256 over ``v0:<timestamp>:<raw body>``."""
    stamp = headers.get("x-slack-request-timestamp", "")
    if not secret:
        raise Refused(401, "no signing secret is configured")
    # isdigit alone takes other scripts' digits, which int() reads: ASCII digits only.
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        raise Refused(401, "timestamp header missing or not a number")
    if abs(now - int(stamp)) > MAX_AGE:
        raise Refused(401, "timestamp more than five minutes away")
    base = b"v0:" + stamp.encode("ascii") + b":" + raw
    expected = b"v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest().encode()
    # Bytes on both sides: compare_digest refuses str with non-ASCII characters (TypeError).
    given = headers.get("x-slack-signature", "").encode("utf-8", "replace")
    if not hmac.compare_digest(expected, given):
        raise Refused(401, "signature does not match")


def parse_body(raw: bytes, content_type: str | None) -> dict[str, Any]:
    """The JSON object in a signed body, chosen as Bolt's ``parse_body`` chooses.

    Events come as JSON; button presses as a form whose ``payload`` is JSON. Same choice as
    Bolt, so what passes here is what Bolt parses next.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "body is not UTF-8") from None
    if not text:
        raise Refused(400, "empty body")
    if (content_type or "").split(";")[0] == "application/json" or text.startswith("{"):
        return json_object(text)
    if "payload" in text:
        payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
        if payload is not None:
            return json_object(payload)
    return dict(parse_qsl(text, keep_blank_values=True))  # a slash command's form: all text


def json_object(text: str) -> dict[str, Any]:
    """``text`` as a JSON object no deeper than ``MAX_DEPTH``; else ``Refused`` (400)."""
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except RecursionError:  # the C parser gives up around a thousand levels deep
        raise Refused(400, "JSON nested too deep") from None
    except ValueError as exc:  # bad JSON, NaN, an integer of over 4,300 digits
        raise Refused(400, f"not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise Refused(400, f"JSON {_kind(value)}, not an object")
    if _deeper_than(value, MAX_DEPTH):
        raise Refused(400, f"JSON nested over {MAX_DEPTH} deep")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _deeper_than(value: Any, limit: int) -> bool:
    """Without recursion: a value a thousand levels deep must not overflow our stack either."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(
            item, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


# -- shapes: the types Bolt and our listeners assume; anything else is refused, not a 500 ----

_ID = (str, dict, type(None))  # a user, team, channel or enterprise: an id or an object
_TEXT = (str, type(None))
_ID_KEYS = ("user", "team", "channel", "enterprise")
# Objects Bolt looks into for ids (slack_bolt/request/internals.py, the extract_* functions) and
# calls ``.get`` on when present.
_CONTAINERS = ("event", "message", "previous_message", "item", "assistant_thread", "container",
               "view")
_TEXT_KEYS = ("type", "event_id", "team_id", "api_app_id", "enterprise_id", "user_id",
              "channel_id", "token", "challenge", "thread_ts", "trigger_id", "response_url",
              "callback_id", "context_team_id", "context_enterprise_id", "user_team",
              "function_execution_id", "bot_access_token", "subtype", "channel_type", "bot_id",
              "ts", "text", "event_ts", "id", "name")
_FILE_TEXT = ("id", "name", "mimetype", "url_private", "url_private_download", "file_access")
_ACTION_TEXT = ("type", "action_id", "block_id", "action_ts", "value")
_STORED_EVENTS = ("message", "app_mention")


def shape_problem(body: dict[str, Any]) -> str | None:
    """What in ``body`` Bolt or our listeners could not take (a field's type), or None."""
    problem = _object_problem(body, "body")
    if problem is None and body.get("type") == "event_callback":
        problem = _event_problem(body.get("event"))
    if problem is None and body.get("type") == "block_actions":
        problem = _actions_problem(body.get("actions"))
    return problem


def _object_problem(obj: dict[str, Any], where: str) -> str | None:
    """One level as Bolt reads it, then the levels it reads below (bounded by ``MAX_DEPTH``)."""
    wrong = next((key for key in _ID_KEYS if not isinstance(obj.get(key), _ID)), None)
    wrong = wrong or next((key for key in _TEXT_KEYS if not isinstance(obj.get(key), _TEXT)),
                          None)
    wrong = wrong or next((key for key in _CONTAINERS
                           if key in obj and not isinstance(obj[key], dict)), None)
    if wrong is None and not isinstance(obj.get("is_ext_shared_channel", False), bool):
        wrong = "is_ext_shared_channel"
    authorizations = obj.get("authorizations")
    if wrong is None and authorizations is not None and not _objects(authorizations):
        wrong = "authorizations"
    if wrong is not None:
        return _wrong(where, wrong, obj[wrong])
    inner = [(f"{where}.{key}", obj[key]) for key in _CONTAINERS + _ID_KEYS
             if isinstance(obj.get(key), dict)]
    inner += [(f"{where}.authorizations[]", a) for a in authorizations or []]
    return next((p for w, o in inner if (p := _object_problem(o, w)) is not None), None)


def _event_problem(event: Any) -> str | None:
    """An Events API callback: an event with a type; the ones we store, as Slack sends them."""
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return "event_callback without an event object and its type"
    if event["type"] not in _STORED_EVENTS:
        return None
    wrong = next((key for key in ("user", "channel") if not isinstance(event.get(key), _TEXT)),
                 None)
    if wrong is not None:  # a person's message names them and its channel by id
        return _wrong("event", wrong, event[wrong])
    files = event.get("files")
    if files is not None and not _objects(files):
        return _wrong("event", "files", files)
    for file in files or ():
        for key in _FILE_TEXT:
            if not isinstance(file.get(key), _TEXT):
                return _wrong("event.files[]", key, file[key])
    return None


def _actions_problem(actions: Any) -> str | None:
    """A button press: Bolt reads the first action's ``action_id`` unguarded."""
    if not _objects(actions) or not actions:
        return "block_actions without a list of actions"
    for action in actions:
        for key in _ACTION_TEXT:
            if not isinstance(action.get(key), _TEXT):
                return _wrong("actions[]", key, action[key])
    if not isinstance(actions[0].get("action_id"), str):
        return "block_actions whose first action has no action_id"
    if actions[0]["action_id"] in ACTION_IDS:
        try:  # our own button: its value must be what we put there, or the worker cannot read it
            held_button(actions[0].get("value"))
        except ValueError as exc:
            return str(exc)
    return None


def _objects(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def _wrong(where: str, key: str, value: Any) -> str:
    return f"{where}.{key} is {_kind(value)}"


def _kind(value: Any) -> str:
    """A JSON value's kind as JSON names it, for the log."""
    kinds = {dict: "an object", list: "an array", str: "a string", bool: "true or false",
             int: "a number", float: "a number", type(None): "null"}
    return kinds.get(type(value), type(value).__name__)
