"""The Socket Mode watchdog against a fake Slack websocket on loopback.

Two ways a socket goes bad: it stops answering pings (dead, though still open), or it keeps
answering pings but carries nothing (the silent socket). Either way a new connection must be
opened and used. Timings are shortened through the constructor; every wait has a timeout.
"""

from __future__ import annotations

import asyncio
import time

from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.socket import SlackSocket
from tests.slack_fake_support import APP_TOKEN, BOT_TOKEN, FakeSlack

WAIT = 30.0


def _app(slack: FakeSlack) -> AsyncApp:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)
    return AsyncApp(client=client, request_verification_enabled=False,
                    process_before_response=True)


async def _run(slack: FakeSlack, **timings: float) -> tuple[int, float]:
    """Start a watched socket; returns (reconnects, seconds) once a second socket is open."""
    socket = SlackSocket(_app(slack), APP_TOKEN, **timings)
    started = time.monotonic()
    await socket.start()
    try:
        await asyncio.to_thread(slack.wait_for_sockets, 2, timeout=WAIT)
        if timings.get("quiet_limit"):  # the watchdog's own doing: wait for its swap
            await asyncio.wait_for(socket.replaced.wait(), WAIT)
        return socket.reconnects, time.monotonic() - started
    finally:
        await socket.stop()


def test_a_socket_that_stops_answering_pings_is_replaced() -> None:
    with FakeSlack() as slack:
        slack.socket_answers_pings = False
        asyncio.run(_run(slack, ping_interval=0.2, silence_limit=1.0, check_every=0.1))
        slack.wait_ended(0, timeout=WAIT)  # the dead socket was dropped
        opened = len(slack.calls_to("apps.connections.open"))

    assert opened >= 2, "a fresh URL was asked for"


def test_a_socket_that_answers_pings_but_carries_nothing_is_refreshed() -> None:
    with FakeSlack() as slack:
        # Pings answered and the client's own ping check far off: only the watchdog's
        # "nothing at all has come in" rule can notice this one.
        reconnects, seconds = asyncio.run(_run(slack, ping_interval=30.0, silence_limit=60.0,
                                               quiet_limit=1.0, check_every=0.1))
        slack.wait_ended(0, timeout=WAIT)  # the replaced socket was closed
        slack.wait_ended(1, timeout=WAIT)  # and stopping closed the one in use

    assert reconnects == 1
    assert seconds >= 1.0, "not before the quiet limit"
