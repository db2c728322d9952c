"""This process's heartbeat: the lease on every message it has claimed (issue 17).

A thread renews the process's row in ``bot_processes`` every ``HEARTBEAT``; a claim whose
process has not renewed it for ``CLAIM_LEASE`` is taken over by another process
(``store.queue.claim_inbound``). A thread of its own, not the event loop or a worker: a long
message or a busy loop must not let a live process's claims lapse.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from bot.worker import HEARTBEAT
from store.db import Store, first_line
from store.queue import ProcessIdentity, beat, forget_process

logger = logging.getLogger(__name__)


class Heartbeat:
    """Renews ``identity``'s lease until stopped; ``on_result`` hears each beat's error or
    None (health reporting)."""

    def __init__(
        self,
        store: Store,
        identity: ProcessIdentity,
        *,
        every: timedelta = HEARTBEAT,
        on_result: Callable[[Exception | None], None] = lambda _error: None,
    ) -> None:
        self.store, self.identity, self.every = store, identity, every
        self.on_result = on_result
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def beat_once(self) -> None:
        """One renewal; raises what the database raised."""
        with self.store.transaction() as session:
            beat(session, self.identity)

    def start(self) -> None:
        """Beat now (so the process is registered before it claims anything), then keep on."""
        self._beat_logged()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the beats and remove the row: a clean stop leaves no claims to lapse."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        try:
            with self.store.transaction() as session:
                forget_process(session, self.identity.name)
        except Exception as exc:  # the row lapses on its own after the lease
            logger.warning("could not remove this process's heartbeat row: %s", first_line(exc))

    def _run(self) -> None:
        while not self._stop.wait(self.every.total_seconds()):
            self._beat_logged()

    def _beat_logged(self) -> None:
        """One beat; one log line when beats start failing and one when they work again."""
        try:
            self.beat_once()
        except Exception as exc:
            if not self._failing:
                logger.error(
                    "heartbeat failed (claims lapse after the lease if this goes on): %s",
                    first_line(exc),
                )
            self._failing = True
            self.on_result(exc)
            return
        if self._failing:
            logger.warning("heartbeat works again")
        self._failing = False
        self.on_result(None)
