"""The chat channels' place in the running bot: routes on the one aiohttp server (Slack events
at ``/slack/events``, Teams at ``/api/messages``) and the Slack socket in Socket Mode.

A channel without settings is not started. Each endpoint only stores what arrives and wakes the
worker (``on_stored``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web

from bot.channels.slack.events import SlackEvents
from bot.channels.slack.socket import SlackSocket
from bot.channels.teams.endpoint import TeamsEndpoint
from bot.health import Health
from bot.settings import Settings
from kernel import wording
from store.db import Store

logger = logging.getLogger(__name__)


def teams_enabled(settings: Settings) -> bool:
    return bool(settings.teams_app_id) or settings.teams_anonymous


class ChatEndpoints:
    def __init__(self, settings: Settings, store: Store, on_stored: Callable[[], None]) -> None:
        self.settings = settings
        self.slack = SlackEvents(settings, store, on_stored) if settings.slack_bot_token else None
        self.teams = TeamsEndpoint(settings, store, on_stored) if teams_enabled(settings) else None
        self.socket: SlackSocket | None = None
        self.health: Health | None = None
        if self.teams is not None and self.teams.auth.ANONYMOUS_ALLOWED:
            logger.warning(wording.TEAMS_ANONYMOUS_WARNING)

    def report_to(self, health: Health) -> None:
        """Where the Slack socket reports whether it is connected (``/healthz``)."""
        self.health = health

    @property
    def socket_mode(self) -> bool:
        return self.slack is not None and bool(self.settings.slack_app_token)

    def mount(self, app: web.Application) -> None:
        """Add the HTTP routes (before the server starts)."""
        if self.slack is not None and not self.socket_mode:
            app.router.add_post("/slack/events", self.slack.handle_http)
        if self.teams is not None:
            app.router.add_post("/api/messages", self.teams.handle)

    async def start(self, *, http_running: bool) -> None:
        if self.socket_mode:
            assert self.slack is not None and self.settings.slack_app_token
            self.socket = SlackSocket(self.slack.app, self.settings.slack_app_token)
            self.socket.health = self.health
            await self.socket.start()
        elif (self.slack is not None or self.teams is not None) and not http_running:
            logger.warning("MARAC_HTTP_LISTEN is empty: Slack HTTP events and Teams messages "
                           "cannot arrive")

    async def stop_accepting(self) -> None:
        if self.socket is not None:
            await self.socket.stop()

    async def stop(self) -> None:
        """Nothing left to close once the socket is (the HTTP server is the bot's)."""

    def wake(self) -> None:
        """Chat needs no filing after an outcome."""

    def describe(self, port: int | None) -> list[str]:
        parts = []
        if self.slack is not None:
            parts.append(wording.slack_listening(self.socket_mode, port))
        if self.teams is not None:
            parts.append(wording.teams_listening(
                port, anonymous=bool(self.teams.auth.ANONYMOUS_ALLOWED)))
        return parts
