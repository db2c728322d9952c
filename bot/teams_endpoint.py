"""``POST /api/messages``: Teams activities from the Bot Connector, authenticated, then stored.

The Bot Framework signs each request with a JWT (audience: our app id), checked here by the
Agents SDK's validator. Without an app id, ``MARAC_TEAMS_ANONYMOUS=1`` lets unsigned requests in
for local testing; a request that does carry a token is still validated. Accepted activities are
stored in the inbox (keyed by activity id, so a redelivery is a no-op) and answered 202; the
worker does the rest and replies through the connector.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable

from aiohttp import web
from jwt import PyJWTError
from microsoft_agents.activity import Activity
from microsoft_agents.hosting.core.authorization import AgentAuthConfiguration
from microsoft_agents.hosting.core.authorization.jwt import JwtTokenValidator
from pydantic import ValidationError

from bot.settings import Settings
from store.db import Store
from store.queue import enqueue_inbound
from store.types import utcnow

logger = logging.getLogger(__name__)

# Activities worth storing: messages (and card button presses, which are messages), and
# conversation updates, which carry the conversation reference of a new 1:1 chat.
STORED_TYPES = ("message", "conversationUpdate")


def auth_configuration(settings: Settings) -> AgentAuthConfiguration:
    return AgentAuthConfiguration(
        client_id=settings.teams_app_id, tenant_id=settings.teams_tenant,
        client_secret=settings.teams_app_password,
        anonymous_allowed=settings.teams_anonymous and not settings.teams_app_id,
    )


class TeamsEndpoint:
    def __init__(self, settings: Settings, store: Store, on_stored: Callable[[], None]) -> None:
        self.store, self.on_stored = store, on_stored
        self.auth = auth_configuration(settings)

    async def handle(self, request: web.Request) -> web.Response:
        """The aiohttp handler for ``POST /api/messages``."""
        if not await self._authorised(request.headers.get("Authorization")):
            return web.json_response({"error": "unauthorised"}, status=401)
        raw = await request.read()
        try:
            activity = Activity.model_validate_json(raw)
        except ValidationError:
            return web.json_response({"error": "not an activity"}, status=400)
        if activity.type not in STORED_TYPES or (activity.type == "message" and not activity.id):
            return web.Response(status=200)
        key = f"teams:{activity.id or _update_key(raw)}"
        try:
            await asyncio.to_thread(self._store, key, raw)
        except Exception:
            # 500: the connector retries, and nothing was lost or half-recorded.
            logger.exception("could not store Teams activity %s", key)
            return web.json_response({"error": "try again"}, status=500)
        self.on_stored()
        return web.Response(status=202)

    async def _authorised(self, header: str | None) -> bool:
        if not header:
            return bool(self.auth.ANONYMOUS_ALLOWED)
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        try:
            await JwtTokenValidator(self.auth).validate_token(token.strip())
        except (PyJWTError, ValueError) as exc:
            logger.warning("Teams request refused: %s", type(exc).__name__)
            return False
        return True

    def _store(self, key: str, raw: bytes) -> None:
        with self.store.transaction() as session:
            enqueue_inbound(session, channel="teams", raw=raw, source_key=key,
                            received_at=utcnow())


def _update_key(raw: bytes) -> str:
    """Conversation updates may come without an id: key them by their content instead."""
    return "update:" + hashlib.sha256(raw).hexdigest()

