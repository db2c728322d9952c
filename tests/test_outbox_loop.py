"""``run``'s outbox loop goes on at once after a round that reached its limit (50 items a
channel): it used to wait for the next wake-up or its 5 s poll, so once the workers had
recorded a burst, each 50 replies still queued waited 5 s (a burst of 220 returns through a
relay answering in 300 ms: its last reply 15 s late)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from bot import app
from bot.app import RunningBot, Signals
from bot.settings import Settings
from store.db import Store
from store.queue import enqueue_outbound

MAILBOX = "marac@example.org"
WAIT = 30.0  # a bound on the wait that ends as soon as the replies are written


def test_a_full_round_is_followed_by_the_next_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Were the loop to wait for its poll between rounds, this test would wait out WAIT.
    monkeypatch.setattr(app, "POLL_SECONDS", 3600.0)
    store = Store.open(f"sqlite:///{tmp_path / 'marac.db'}")
    replies = 120  # three rounds of at most 50
    with store.transaction() as session:
        for n in range(replies):
            enqueue_outbound(session, key=f"reply:{n}", channel="email",
                             recipient="c@example.org", payload=b"Subject: x\r\n\r\nhi\r\n")
    settings = Settings(data_dir=tmp_path / "data", mailbox_address=MAILBOX, smtp_listen=None,
                        http_listen=None, workers=1)
    outbox = tmp_path / "data" / "outbox"

    async def deliver_all() -> int:
        signals = Signals(asyncio.get_running_loop())
        bot = RunningBot(settings, store, signals)
        loop = asyncio.create_task(bot._outbox_loop())
        deadline = asyncio.get_running_loop().time() + WAIT
        while _written(outbox) < replies and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)  # polling for the files, not timing anything
        written = _written(outbox)
        signals.stop.set()
        signals.outbox.set()
        await asyncio.wait_for(loop, WAIT)
        return written

    assert asyncio.run(deliver_all()) == replies


def _written(folder: Path) -> int:
    try:
        return sum(1 for name in os.listdir(folder) if name.endswith(".eml"))
    except FileNotFoundError:
        return 0
