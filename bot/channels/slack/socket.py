"""Slack Socket Mode (when ``SLACK_APP_TOKEN`` is set), with a watchdog for silent sockets.

A Socket Mode websocket can go quiet without closing: no events, no pongs, while the client
still believes it is connected (a known failure of long-lived sockets; the aiohttp client has
also been seen stuck after a failed reconnect). The watchdog notes when anything last came in
(a message, or a pong to the client's pings) and, past ``silence_limit``, opens a fresh
connection and drops the old one. Slack also asks for a refresh every few hours, so a socket
that has carried no message at all for ``quiet_limit`` is refreshed as well: cheap insurance
against one that answers pings but delivers nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp

from bot.health import Health

logger = logging.getLogger(__name__)

# The health component this socket reports (``/healthz``): down while not connected.
SOCKET = "slack-socket"


class SlackSocket:
    def __init__(
        self, app: AsyncApp, app_token: str, *, ping_interval: float = 10.0,
        silence_limit: float = 60.0, quiet_limit: float = 2 * 3600.0, check_every: float = 5.0,
    ) -> None:
        self.app, self.app_token = app, app_token
        self.ping_interval, self.silence_limit = ping_interval, silence_limit
        self.quiet_limit, self.check_every = quiet_limit, check_every
        self.handler: AsyncSocketModeHandler | None = None
        self.connected_at = 0.0
        self.last_message = 0.0
        self.reconnects = 0
        self.replaced = asyncio.Event()  # set at each replacement (for operators' probes, tests)
        self._stop = asyncio.Event()
        self._watchdog: asyncio.Task[None] | None = None
        self.health: Health | None = None  # set by whoever serves /healthz

    def _report(self, trouble: str | None) -> None:
        if self.health is None:
            return
        if trouble is None:
            self.health.up(SOCKET)
        else:
            self.health.down(SOCKET, trouble)

    async def start(self) -> None:
        """Connect and watch, in the background: the client retries until Slack answers, and
        start-up must not wait for that (nor fail when Slack is briefly unreachable)."""
        self._watchdog = asyncio.create_task(self._run(), name="slack-socket")

    async def stop(self) -> None:
        self._stop.set()
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        if self.handler is not None:
            await self.handler.close_async()

    def silent_for(self, now: float) -> float:
        """Seconds since anything at all came in on the current socket."""
        client = self.handler.client if self.handler is not None else None
        pong = (client.last_ping_pong_time or 0.0) if client is not None else 0.0
        return now - max(self.connected_at, self.last_message, pong)

    async def _connect(self) -> AsyncSocketModeHandler:
        handler = AsyncSocketModeHandler(self.app, self.app_token, web_client=self.app.client,
                                         ping_interval=self.ping_interval)
        handler.client.on_message_listeners.append(self._heard)
        await handler.connect_async()
        self.connected_at = self.last_message = time.time()
        return handler

    async def _heard(self, _message: Any) -> None:
        self.last_message = time.time()

    async def _run(self) -> None:
        if self.health is not None:
            self.health.expect(SOCKET)
        while self.handler is None and not self._stop.is_set():
            try:
                self.handler = await self._connect()
            except Exception as exc:  # Slack unreachable at start: say so, keep trying
                logger.warning("Slack Socket Mode: cannot connect (%s); trying again", exc)
                self._report(f"cannot connect: {exc}")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self.check_every)
        self._report(None)
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.check_every)
            if self._stop.is_set():
                return
            reason = await self._trouble()
            if reason:
                self._report(reason)
                await self._replace(reason)

    async def _trouble(self) -> str | None:
        now = time.time()
        if self.handler is None or not await self.handler.client.is_connected():
            return "not connected"
        if self.silent_for(now) > self.silence_limit:
            return f"silent for {self.silent_for(now):.0f} s"
        if now - max(self.connected_at, self.last_message) > self.quiet_limit:
            return "no message for a long time: refreshing"
        return None

    async def _replace(self, reason: str) -> None:
        """Open a new socket first (Slack allows several), then close the old one."""
        logger.warning("Slack Socket Mode: %s; reconnecting", reason)
        try:
            fresh = await self._connect()
        except Exception:
            logger.exception("Slack Socket Mode: reconnecting failed; will try again")
            return
        old, self.handler = self.handler, fresh
        self.reconnects += 1
        self._report(None)
        if old is not None:
            with contextlib.suppress(Exception):
                await old.close_async()
        self.replaced.set()
