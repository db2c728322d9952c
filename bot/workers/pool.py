"""``run``'s worker processes (``MARAC_WORKERS`` - 1 of them): started, woken, watched, stopped.

Threads in one Python process take turns on one core; processes use them all (issue 14). Each
child (``bot.workers.child``) claims messages under its own name and heartbeat, like any
other ``run`` process on the database. The parent keeps the listeners, the outbox and the
scheduler, and wakes the children when mail comes in.

A child that dies is started again (after 1 s, doubling to 30 s while it keeps dying soon after
starting), and the claim it held is released at once rather than after the lease: its process
is known to be gone (``claim_owner_gone``), and the message's attempt count records the death,
so a message that kills its worker twice is set aside, not retried for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.worker import claim_owner_gone
from bot.workers.child import FINISHED, OUTBOX
from store.db import Store, first_line
from store.queue import release_claims

logger = logging.getLogger(__name__)

RESTART_FIRST_SECONDS = 1.0
RESTART_MAX_SECONDS = 30.0
# A worker that lived this long before dying starts again after the first delay, not a longer one.
STEADY_SECONDS = 60.0
# A stopping child finishes the message in hand; one that takes longer than this is killed
# (its message is released and handled again at the next start).
STOP_SECONDS = 60.0


@dataclass
class Child:
    number: int
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0  # deaths in a row: each lived less than STEADY_SECONDS
    started: float = 0.0


@dataclass
class WorkerProcesses:
    """``count`` worker processes; ``on_outbox`` / ``on_finished`` hear their notes."""

    store: Store
    count: int
    on_outbox: Callable[[], None]
    on_finished: Callable[[], None]
    on_trouble: Callable[[str | None], None] = lambda _error: None
    children: list[Child] = field(default_factory=list)
    _watchers: list[asyncio.Task[None]] = field(default_factory=list)
    _stopping: bool = False

    async def start(self) -> None:
        self.children = [Child(n) for n in range(self.count)]
        for child in self.children:
            await self._spawn(child)
            self._watchers.append(asyncio.create_task(self._watch(child),
                                                      name=f"worker-{child.number}"))

    def wake(self) -> None:
        """Tell every child the inbox has something (a lost byte only costs a poll)."""
        for child in self.children:
            stdin = child.process.stdin if child.process is not None else None
            if stdin is not None and not stdin.is_closing():
                with contextlib.suppress(ConnectionError, RuntimeError):
                    stdin.write(b"w")

    async def stop(self) -> None:
        """Let each child finish the message in hand, then end; kill one that will not."""
        self._stopping = True
        for child in self.children:
            process = child.process
            if process is not None and process.returncode is None:
                if process.stdin is not None:
                    process.stdin.close()
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
        for watcher in self._watchers:
            try:
                await asyncio.wait_for(asyncio.shield(watcher), STOP_SECONDS)
            except TimeoutError:
                logger.error("a worker process did not stop within %.0f s: killed",
                             STOP_SECONDS)
                self._kill_all()
                await watcher

    def _kill_all(self) -> None:
        for child in self.children:
            if child.process is not None and child.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    child.process.kill()

    async def _spawn(self, child: Child) -> None:
        child.started = time.monotonic()
        # Our import path, not the working directory first (-P): a worker must run this
        # code, whatever else lies where run was started.
        env = os.environ.copy()
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))
        child.process = await asyncio.create_subprocess_exec(
            sys.executable, "-P", "-m", "bot.workers.child",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env,
        )

    async def _watch(self, child: Child) -> None:
        """Relay the child's notes; when it ends unasked, release its claim and restart it."""
        while True:
            process = child.process
            assert process is not None and process.stdout is not None
            while note := await process.stdout.read(256):
                if OUTBOX in note:
                    self.on_outbox()
                if FINISHED in note:
                    self.on_finished()
            code = await process.wait()
            if self._stopping:
                return
            lived = time.monotonic() - child.started
            child.restarts = 1 if lived >= STEADY_SECONDS else child.restarts + 1
            logger.error("worker process %d (pid %d) ended with %s; starting another",
                         child.number, process.pid, _exit_text(code))
            self.on_trouble(f"a worker process ended with {_exit_text(code)}")
            await asyncio.to_thread(self._release_dead_claims)
            await asyncio.sleep(min(RESTART_MAX_SECONDS,
                                    RESTART_FIRST_SECONDS * 2 ** (child.restarts - 1)))
            if self._stopping:
                return
            await self._spawn(child)
            self.on_trouble(None)

    def _release_dead_claims(self) -> None:
        try:
            with self.store.transaction() as session:
                released = release_claims(session, owner_gone=claim_owner_gone)
        except Exception as exc:  # the lease runs out on its own; another process takes it
            logger.warning("could not release a dead worker's claims: %s", first_line(exc))
            return
        if released:
            logger.warning("released messages %s held by a worker process that died",
                           ", ".join(map(str, released)))


def _exit_text(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-code).name}"
    return f"exit code {code}"
