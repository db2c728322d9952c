"""Slack events and button presses in, through Bolt: verified, stored, acknowledged.

Slack resends an event not acknowledged within 3 seconds, so the listeners here only store the
request (keyed by event id: a resend is then a no-op) and return; the worker does the slow work.
``process_before_response`` makes Bolt acknowledge after the listener, so "received" is never
said before the event is durable. The same Bolt app serves HTTP (``/slack/events``, signatures
checked: a bad signature or a stale timestamp gets 401) and Socket Mode.

Nothing here calls Slack at start-up: the app gets a ready client and no token check; Bolt's
first ``auth.test`` happens on the first request (it learns our bot user id, so our own messages
are ignored).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

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

    async def handle_http(self, request: web.Request) -> web.Response:
        """The aiohttp handler for ``POST /slack/events`` (events and interactivity)."""
        response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def _on_message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        # In channels only a mention is for us (app_mention arrives for it too; answering the
        # plain message event as well would answer twice). Edits, joins, bots: not for us.
        if event.get("channel_type") != "im" or event.get("bot_id"):
            return
        if event.get("subtype") not in (None, "file_share", "thread_broadcast"):
            return
        await self._store(body, key=f"slack:{body.get('event_id')}")

    async def _on_mention(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("bot_id"):
            return
        await self._store(body, key=f"slack:{body.get('event_id')}")

    async def _on_action(self, ack: Callable[[], Any], body: dict[str, Any]) -> None:
        action = (body.get("actions") or [{}])[0]
        user = (body.get("user") or {}).get("id")
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
