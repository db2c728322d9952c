"""One worker process of ``marac-bot run`` when ``MARAC_WORKERS`` is more than one (issue 14).

Python runs one thread at a time, so worker threads shared a single core however many the
machine had; on deadline day the messages queued behind it. ``run`` therefore keeps one worker
of its own and starts ``MARAC_WORKERS - 1`` of these (``bot.workers.pool``). Each handles
messages from the stored inbox and nothing else: it claims under its own name and heartbeat,
exactly as a second ``run`` process on the same database would (issue 17), so a worker that
dies mid-message leaves a claim that is taken over, never a message lost or answered twice.

The parent talks to it through two pipes. A byte on stdin means "the inbox has something";
end of input means "stop". The process writes ``o`` to its stdout when it has queued a reply
(deliver the outbox) and ``f`` when it has finished a message (channels mark it done). It
also looks at the inbox every ``POLL_SECONDS`` on its own, as the parent does. SIGTERM and
SIGINT let the message in hand finish, then it exits; so does the parent's death (its end of
stdin closes).
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
import threading
from typing import BinaryIO

POLL_SECONDS = 5.0
OUTBOX, FINISHED = b"o", b"f"

logger = logging.getLogger("bot.workers.child")


class Parent:
    """The two pipes to ``run``: wake-ups in, notes out."""

    def __init__(self, wake_in: BinaryIO, notes_out: BinaryIO) -> None:
        self.wake_in, self.notes_out = wake_in, notes_out
        self.wake, self.stop = threading.Event(), threading.Event()
        self._lock = threading.Lock()

    def listen(self) -> None:
        """Until the parent closes our stdin: every byte wakes the worker."""
        while self.wake_in.read1(64):  # type: ignore[attr-defined]
            self.wake.set()
        self.stop.set()
        self.wake.set()

    def tell(self, note: bytes) -> None:
        with self._lock:
            try:
                self.notes_out.write(note)
                self.notes_out.flush()
            except (BrokenPipeError, ValueError):  # the parent is gone; stdin says so next
                self.stop.set()


def main() -> int:
    # Our stdout is the pipe to the parent: anything printed by accident must not land in it.
    notes_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    sys.stdout = sys.stderr
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("alembic",):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    parent = Parent(sys.stdin.buffer, notes_out)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda _sig, _frame: _stop(parent))
    threading.Thread(target=parent.listen, name="parent", daemon=True).start()
    return work(parent)


def _stop(parent: Parent) -> None:
    parent.stop.set()
    parent.wake.set()


def work(parent: Parent) -> int:
    """Handle messages until told to stop; the exit code."""
    from bot.settings import Settings
    from bot.worker import PROCESS, Worker
    from bot.workers.heartbeat import Heartbeat
    from store.db import Store, first_line
    from validation import reader_process

    settings = Settings.from_env()
    # The parent has brought the schema up to date before starting us.
    store = Store.from_settings(settings, upgrade_schema=False)
    heartbeat = Heartbeat(store, PROCESS)
    reader_process.start()  # files are read in children of a small process, not forks of us
    try:
        heartbeat.start()
        worker = Worker(store, settings, name=PROCESS.name,
                        on_outbox=lambda: parent.tell(OUTBOX),
                        on_finished=lambda: parent.tell(FINISHED),
                        should_stop=parent.stop.is_set)
        gc.freeze()  # what start-up loaded is never garbage: later collections skip it
        logger.info("worker process %s ready", PROCESS.name)
        while not parent.stop.is_set():
            parent.wake.clear()
            try:
                worker.drain(parent.stop.is_set)
            except Exception as exc:  # the database is away: the next round tries again
                logger.warning("worker process %s: %s; trying again shortly", PROCESS.name,
                               first_line(exc))
            parent.wake.wait(POLL_SECONDS)
    finally:
        heartbeat.stop()
        reader_process.stop()
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
