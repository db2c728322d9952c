"""The SMTP listener's writes, by one thread, in groups (issue 14).

Each accepted message must be committed before its 250. Written by a thread each, every
message of a burst took a transaction and a flush to disk of its own, and on SQLite the
threads queued for the file's one write lock by polling it: in a profile of a 440-return
burst the listener's threads spent most of their time at BEGIN, and their polling took CPU
the workers needed.
Here one thread writes: it takes every message that arrived while it was committing the last
ones (up to ``MAX_GROUP``) and stores them in one transaction, one commit, one flush, then
answers each. A group that fails is written again one message at a time, so that one
message's failure is never another's 451.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)

# Messages committed together at most: a group's transaction stays short (a worker or the
# spool's mover waits for the same lock), and a burst still needs few commits.
MAX_GROUP = 32


@dataclass(frozen=True)
class Accepted:
    """One message to store: what the listener was given, and the answer it waits for."""

    raw: bytes
    sender: str
    recipients: list[str]
    stored: Future[int] = field(default_factory=Future, compare=False)


class ListenerStopping(RuntimeError):
    """A message submitted after ``close``: answered 451, and the sending server retries. The
    listener's situation, not a fault: logged in one line, without a traceback."""

    def __init__(self) -> None:
        super().__init__("the listener is stopping")


# Stores one message in the session's transaction and returns its inbox id.
StoreOne = Callable[[Session, Accepted], int]


class GroupWriter:
    """``submit`` from any thread; the returned future is the message's inbox id once
    committed, or the error that kept it from being stored. ``close`` writes what was
    submitted before it, then ends the thread."""

    def __init__(self, sessions: Callable[[], Session], store_one: StoreOne) -> None:
        self._sessions = sessions
        self._store_one = store_one
        self._waiting: queue.SimpleQueue[Accepted | None] = queue.SimpleQueue()
        self._closing = threading.Lock()  # submit and close in turn: nothing put after None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="smtp-writer", daemon=True)
        self._thread.start()

    def submit(self, raw: bytes, sender: str, recipients: list[str]) -> Future[int]:
        message = Accepted(raw, sender, recipients)
        with self._closing:
            if self._closed:  # a connection still open as the listener stops: 451, retried
                message.stored.set_exception(ListenerStopping())
            else:
                self._waiting.put(message)
        return message.stored

    def close(self, timeout: float | None = None) -> None:
        with self._closing:
            if not self._closed:
                self._closed = True
                self._waiting.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while (first := self._waiting.get()) is not None:
            group, closing = self._group(first)
            # A message whose answer nobody waits for any more (its future cancelled, as at
            # the event loop's end) is not written: no 250 was given for it.
            taken = [message for message in group if message.stored.set_running_or_notify_cancel()]
            if taken:
                self._write(taken)
            if closing:
                return

    def _group(self, first: Accepted) -> tuple[list[Accepted], bool]:
        """``first`` and what else is waiting, up to MAX_GROUP; and whether close was asked
        (after them: the queue keeps the order things were put in)."""
        group = [first]
        while len(group) < MAX_GROUP:
            try:
                message = self._waiting.get_nowait()
            except queue.Empty:
                break
            if message is None:
                return group, True
            group.append(message)
        return group, False

    def _write(self, group: list[Accepted]) -> None:
        try:
            with self._sessions() as session, session.begin():
                ids = [self._store_one(session, message) for message in group]
        except Exception as exc:
            if len(group) > 1:  # each on its own: the failure is one message's, or all's
                for message in group:
                    self._write([message])
                return
            group[0].stored.set_exception(exc)
            return
        for message, item_id in zip(group, ids, strict=True):
            message.stored.set_result(item_id)
