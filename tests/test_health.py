"""The health registry (bot/health.py) and what reports into it: the Slack socket against a
fake Slack websocket on loopback, and ``report``'s JSON on both databases."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.socket import SOCKET, SlackSocket
from bot.health import Health, State, report
from store.db import Store
from store.queue import enqueue_inbound
from tests.slack_fake_support import APP_TOKEN, BOT_TOKEN, FakeSlack

WAIT = 30.0
T0 = datetime(2026, 1, 6, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_a_component_keeps_its_since_while_its_state_holds() -> None:
    clock = Clock()
    health = Health(clock=clock)
    health.expect("imap")
    assert health.snapshot()["imap"].state == State.STARTING
    assert health.down_components() == []  # starting is not down
    clock.now = T0 + timedelta(seconds=5)
    health.down("imap", "ConnectionRefusedError: [Errno 111]")
    clock.now = T0 + timedelta(seconds=9)
    health.down("imap", "TimeoutError: timed out")
    down = health.snapshot()["imap"]
    assert (down.state, down.since, down.last_error) == (
        State.DOWN,
        T0 + timedelta(seconds=5),
        "TimeoutError: timed out",
    )
    clock.now = T0 + timedelta(seconds=12)
    health.up("imap")
    health.up("imap")
    up = health.snapshot()["imap"]
    assert (up.state, up.since, up.last_error) == (
        State.UP,
        T0 + timedelta(seconds=12),
        "TimeoutError: timed out",
    )


def test_report_names_what_is_down_and_counts_the_queues(db_store: Store) -> None:
    with db_store.transaction() as session:
        enqueue_inbound(
            session,
            channel="email",
            raw=b"x",
            source_key="k1",
            received_at=datetime.now(UTC) - timedelta(seconds=90),
        )
    health = Health()
    health.up("imap")
    health.down("imap-filing", "cannot create Processed or Rejected: NO [SERVERBUG]")
    answer = report(health, db_store, process="host:1:start", channels=["IMAP watcher"])
    assert not answer.ok
    assert answer.body["status"] == "down" and answer.body["down"] == ["imap-filing"]
    assert answer.body["components"]["database"]["state"] == "up"
    inbound = answer.body["queues"]["inbound"]
    assert inbound["queued"] == 1 and 89 <= inbound["oldest_queued_age_s"] < 150
    assert answer.body["queues"]["outbound"] == {"queued": 0, "failed": 0, "oldest_due_age_s": None}
    health.up("imap-filing")
    assert report(health, db_store, process="p", channels=[]).ok


def test_an_unreachable_database_is_down_in_the_report(tmp_path: object) -> None:
    store = Store.open("postgresql://nobody@127.0.0.1:1/none", upgrade_schema=False)
    try:
        answer = report(Health(), store, process="p", channels=[])
    finally:
        store.close()
    assert not answer.ok and answer.body["down"] == ["database"]
    assert answer.body["queues"] is None
    assert answer.body["components"]["database"]["last_error"]


def test_the_slack_socket_reports_down_when_silent_and_up_once_replaced() -> None:
    health = Health()

    async def run(slack: FakeSlack) -> None:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)
        app = AsyncApp(
            client=client, request_verification_enabled=False, process_before_response=True
        )
        socket = SlackSocket(app, APP_TOKEN, ping_interval=0.2, silence_limit=1.0, check_every=0.1)
        socket.health = health
        await socket.start()
        try:
            await asyncio.wait_for(socket.replaced.wait(), WAIT)
        finally:
            await socket.stop()

    with FakeSlack() as slack:
        slack.socket_answers_pings = False
        asyncio.run(run(slack))
    part = health.snapshot()[SOCKET]
    assert part.state == State.UP  # replaced: connected again
    # Down meanwhile, for what the watchdog saw: the client's own ping check may drop the
    # dead socket first ("not connected"), or the watchdog sees the silence.
    error = part.last_error or ""
    assert error == "not connected" or error.startswith("silent for"), part


def test_the_report_reads_beside_a_long_sqlite_write_without_waiting(tmp_path: Path) -> None:
    """A worker recording a long file holds SQLite's write lock; /healthz must still answer."""
    store = Store.open(f"sqlite:///{tmp_path / 'marac.db'}")
    lock = sqlite3.connect(tmp_path / "marac.db", isolation_level=None, timeout=30)
    try:
        lock.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        answer = report(Health(), store, process="p", channels=[])
        took = time.monotonic() - started
        lock.execute("ROLLBACK")
    finally:
        lock.close()
        store.close()
    assert answer.ok and answer.body["queues"]["inbound"]["queued"] == 0
    assert took < 5.0, f"the report waited {took:.1f} s for the write lock (busy timeout 30 s)"
