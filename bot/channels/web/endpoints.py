"""The dashboard's place in the running bot: its routes on the one aiohttp server, beside
``/slack/events``, ``/api/messages`` and ``/healthz``. Nothing to start or stop of its own."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from bot.channels.web.auth_routes import AuthRoutes
from bot.channels.web.page_routes import PageRoutes
from bot.channels.web.pages.operator import RunStatus
from bot.channels.web.render import environment
from bot.channels.web.secret import secret_key
from bot.channels.web.security import security_headers
from bot.channels.web.signin import Signer
from bot.channels.web.signin_mail import QueueReply, base_url
from bot.channels.web.site import Site
from bot.settings import Settings
from store.db import Store

logger = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("static")


class WebEndpoints:
    def __init__(self, settings: Settings, store: Store, *, queue_reply: QueueReply,
                 wake_outbox: Callable[[], None], run_status: Callable[[], RunStatus]) -> None:
        self.settings = settings
        self.site = Site(settings, store, Signer(secret_key(settings)), environment(settings.tz),
                         queue_reply, wake_outbox, run_status)
        self.auth = AuthRoutes(self.site)

    def mount(self, app: web.Application) -> None:
        app.middlewares.append(security_headers)
        app.router.add_static("/static", STATIC, append_version=False)
        self.auth.mount(app)
        PageRoutes(self.site).mount(app)

    async def start(self, *, http_running: bool) -> None:
        """Nothing of its own to start (the HTTP server is the bot's)."""

    async def stop_accepting(self) -> None:
        """Pages are read-only; sign-in links already asked for are still sent."""
        await self.auth.drain()

    async def stop(self) -> None:
        """Nothing to close."""

    def wake(self) -> None:
        """Nothing to do after an outcome."""

    def describe(self, port: int | None) -> list[str]:
        return [f"dashboard at {base_url(self.settings, port)}/"] if port is not None else []
