"""Taking messages from the stored inbox and answering them, one at a time per worker
(``marac-bot run`` has one and starts ``MARAC_WORKERS - 1`` worker processes with one each,
``bot.workers.child``).

Each message: claim it (short transaction), parse and dispatch it, then in ONE transaction
record the handler's data, queue the reply in the outbox and mark the message done. A crash
anywhere before that commit leaves the message to be claimed again; the commit makes the
second pass impossible, so a message is never twice recorded and never twice answered.

Three kinds of trouble, three answers:

- The database fails under us (connection lost, server restarting, "database is locked", a
  serialization failure): not the message's fault. The message stays in hand and is tried
  again after 1 s, doubling to 30 s, for as long as the process lives; never "failed".
- The handler fails (a bug, a file the readers choke on): an incident. "Failed" is committed
  first, on its own, then the apology is queued; so the apology path cannot leave the message
  half-done, and a reply that cannot be queued still leaves a failed item for the operator.
- The process dies with the message in hand (SIGKILL, OOM, a native abort): its heartbeat
  (bot/workers/heartbeat.py) stops, and once ``CLAIM_LEASE`` has passed another process takes the
  claim over (a restart on the same host at once). The next claim sees the death from
  ``attempts``, which counts the processes that took it. One death earns one more try; after
  two the message is quarantined: answered with an apology and a reference, never handled
  again, so a poison message cannot take down each process that takes it over in turn.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session

from bot.channels.chat.files import ChatFetchError
from bot.channels.registry import Channels
from bot.dispatch import Dispatcher
from bot.settings import Settings
from handlers import help
from kernel.messages import InboundMessage, Reply
from store.db import Store, first_line
from store.queue import (
    Claim,
    Finishing,
    ProcessIdentity,
    claim_inbound,
    enqueue_outbound,
    fail_inbound,
    finish_inbound,
    give_back_claim,
    hold_claim,
    is_transient_db_error,
    renew_claim,
    take_next_queued,
)
from store.types import utcnow

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Claims are leases: a process renews its heartbeat every HEARTBEAT seconds, and a claim whose
# process has not renewed it for CLAIM_LEASE is taken over (by the next poll of another
# process: at most CLAIM_LEASE + the inbox poll after a death). Four missed beats, so a slow
# database moment does not hand a live process's message to another.
CLAIM_LEASE = timedelta(seconds=20)
HEARTBEAT = timedelta(seconds=5)
# Processes that may die with a message in hand before it is set aside: the first death may be
# bad luck (a power cut, a deploy), the second is the message.
QUARANTINE_AFTER_DEATHS = 2
# A database error is waited out: 1 s, doubling to 30 s, while the process lives.
RETRY_FIRST_SECONDS = 1.0
RETRY_MAX_SECONDS = 30.0
# ... unless it keeps coming back while the database answers a plain query: then it is this
# message's own doing (a query only it makes, a full disk), and it is answered as an incident.
PERSISTENT_AFTER = 5
# How often a wait between retries looks whether the process is stopping.
STOP_POLL_SECONDS = 0.1


def this_process() -> ProcessIdentity:
    """This process: host, pid and start time. Its name (``host:pid:start``) is written on
    its claims, so an operator sees who holds a message, and a later start on the same host
    can tell a claim left by a dead process (``claim_owner_gone``)."""
    return ProcessIdentity(socket.gethostname(), os.getpid(), utcnow())


PROCESS = this_process()
PROCESS_NAME = PROCESS.name


def claim_owner_gone(claimed_by: str | None) -> bool:
    """True when ``claimed_by`` names a process of this host that no longer runs.

    False whenever in doubt (another host, a name not ours, a live pid that may be reused):
    those claims are taken over only once stale, which is slow but never wrong.
    """
    parts = (claimed_by or "").rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return False
    host, pid_text, _token = parts
    if host != socket.gethostname() or claimed_by == PROCESS_NAME:
        return False
    pid = int(pid_text)
    if pid == os.getpid():  # an earlier life with our pid (a container restarts as pid 1)
        return True
    return not _pid_alive(pid)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


@dataclass(frozen=True)
class Claimed:
    """What a worker takes out of the claim's transaction (the ORM row stays behind)."""

    id: int
    channel: str
    raw: bytes
    envelope_from: str | None
    received_at: datetime
    attempts: int

    @property
    def deaths(self) -> int:
        """Processes that took this message before us and never finished it: each attempt
        that did not end in done/failed was a process dying (a stop during a database outage
        gives its attempt back)."""
        return self.attempts - 1


class Stopping(BaseException):
    """The process is stopping while the database is unreachable: give the message back.

    A BaseException, like KeyboardInterrupt: it must pass every ``except Exception`` on its
    way up to ``process_one`` (its cause is a database error, which those would retry)."""


@dataclass
class Outage:
    """One run of database errors met while doing one piece of work: the back-off, and
    whether the errors persist while the database answers (then they are the work's own)."""

    first: float
    most: float
    failures: int = 0
    while_answering: int = 0
    delay: float = 0.0
    started: float = field(default_factory=time.monotonic)

    def failed(self, *, database_answers: bool) -> float:
        """Count one failure; the seconds to wait before the next try."""
        self.failures += 1
        self.while_answering += database_answers
        self.delay = self.first if not self.delay else min(self.delay * 2, self.most)
        return self.delay

    @property
    def persistent(self) -> bool:
        return self.while_answering >= PERSISTENT_AFTER

    def over(self, item_id: int) -> None:
        """The work succeeded: the end of the outage gets its one line, as its start did."""
        if self.failures:
            logger.info("message %d: database usable again after %d errors in %.0f s",
                        item_id, self.failures, time.monotonic() - self.started)


@dataclass
class Worker:
    store: Store
    settings: Settings
    name: str = "worker"
    on_outbox: Callable[[], None] = lambda: None
    on_finished: Callable[[], None] = lambda: None
    # Every channel's converters and renderers (no network until an item needs one).
    channels: Channels | None = None
    retry_first: float = RETRY_FIRST_SECONDS
    retry_max: float = RETRY_MAX_SECONDS
    # Asked between retries: a stopping process gives the message in hand back.
    should_stop: Callable[[], bool] = lambda: False

    def __post_init__(self) -> None:
        if self.channels is None:
            self.channels = Channels(self.store, self.settings)

    def process_one(self) -> bool:
        """Handle the oldest waiting message; False when there was none.

        A database error while claiming is raised (the caller's loop waits and calls again);
        once a message is claimed, database errors are waited out here.
        """
        item = self._claim()
        if item is None:
            return False
        started = time.monotonic()
        try:
            if item.deaths >= QUARANTINE_AFTER_DEATHS:
                outcome = self._quarantine(item)
            else:
                if item.deaths:
                    logger.warning("message %d was in hand when the bot died; one more try",
                                   item.id)
                outcome = self._process(item)
        except Stopping:
            self._give_back(item.id)
            return True
        logger.info("message %d: %s in %.0f ms", item.id, outcome,
                    (time.monotonic() - started) * 1000)
        self.on_finished()
        return True

    def drain(self, should_stop: Callable[[], bool] | None = None) -> int:
        """Process messages until none is waiting (or stop is asked between two)."""
        if should_stop is not None:
            self.should_stop = should_stop
        done = 0
        while not self.should_stop() and self.process_one():
            done += 1
        return done

    def _claim(self) -> Claimed | None:
        # The next message if plainly queued, in one statement; otherwise (nothing waiting, or
        # a stale claim to take over or give up) claim_inbound's transaction decides. Neither
        # is flushed to disk at once on SQLite: a claim lost to a power cut only means the
        # message is claimed again, and the recording's durable commit flushes it anyway.
        with self.store.standalone() as session:
            item = take_next_queued(session, worker=self.name, stale_after=CLAIM_LEASE)
        if item is None:
            with self.store.transaction(durable=False) as session:
                item = claim_inbound(session, worker=self.name, stale_after=CLAIM_LEASE)
        if item is None:
            return None
        return Claimed(item.id, item.channel, item.raw, item.envelope_from, item.received_at,
                       item.attempts)

    # -- one message, retried through database errors ----------------------------------------

    def _process(self, item: Claimed) -> str:
        """Read and handle one message; a database error is waited out and all of it redone
        (the handler's transaction rolled back, so nothing of the failed try remains)."""
        outage = Outage(self.retry_first, self.retry_max)
        while True:
            try:
                outcome = self._attempt(item, last_try=outage.persistent)
            except Exception as exc:
                if not is_transient_db_error(exc):
                    raise
                self._wait_out(item.id, outage, exc)
                continue
            outage.over(item.id)
            return outcome

    def _attempt(self, item: Claimed, *, last_try: bool) -> str:
        """One try; raises a database error for ``_process`` to retry, unless ``last_try``."""
        try:
            message = self._to_inbound(item)
        except ChatFetchError as exc:  # a file we could not fetch: nothing of it recorded
            logger.error("message %d: %s", item.id, exc)
            return self._incident(item.id, exc.message, apology=help.fetch_failed)
        except Exception as exc:  # not even understood: keep it for an operator, answer no one
            if is_transient_db_error(exc):
                raise
            logger.exception("message %d (%s) could not be read", item.id, item.channel)
            self._record_failed(item.id, "could not be read (see the log)")
            return "failed (could not be read)"
        try:
            return self._handle(item.id, message)
        except BaseException as exc:
            if isinstance(exc, Exception) and is_transient_db_error(exc) and not last_try:
                raise
            if not isinstance(exc, Exception) and not _is_panic(exc):
                raise
            return self._incident(item.id, message)

    def _to_inbound(self, item: Claimed) -> InboundMessage:
        """The item's channel converts it (pure), then completes it before our transaction
        (a chat sender looked up, files fetched)."""
        assert self.channels is not None
        message = self.channels.to_inbound(item.channel, item.raw, received_at=item.received_at,
                                           envelope_from=item.envelope_from)
        return self.channels.prepare(message)

    def _handle(self, item_id: int, message: InboundMessage) -> str:
        dispatcher = Dispatcher(self.settings)
        now = utcnow()
        # Files are validated, and their annotated copies made, before the writing
        # transaction: on SQLite that holds the one write lock every worker and process
        # shares, so it must be short (issue 14). Each look may see a moment later than the
        # one before (on PostgreSQL they run without a transaction around them): dispatch
        # decides again, and recording compares every row under its meeting's lock.
        with self.store.peeking() as session:
            ahead = dispatcher.check_ahead(session, message, now=now)
        with self.store.transaction() as session:
            claim = renew_claim(session, item_id, worker=self.name,
                                message_id=message.dedupe_key or None)
            if claim is Claim.LOST:
                # Our earlier commit landed though its answer was lost, or another process
                # took the message over: either way it is not ours to answer.
                logger.warning("message %d: no longer claimed by %s; left alone", item_id,
                               self.name)
                return "not ours any more"
            assert self.channels is not None
            # What the channel keeps (a Teams conversation reference) commits with the outcome.
            self.channels.record(session, message)
            result = dispatcher.dispatch(
                session, message, now=now, item_id=item_id, ahead=ahead,
                answered_elsewhere=claim is Claim.ANSWERED_ELSEWHERE)
            finishing = Finishing(item_id, result.outcome, utcnow())
            finished = result.reply is not None and self._queue_reply(
                session, item_id, result.reply, finishing=finishing)
            if not finished:
                finish_inbound(session, item_id, outcome=result.outcome, now=finishing.at)
            for n, other in enumerate(result.also):  # to others than the sender, e.g. the team
                self._queue_reply(session, item_id, other, key=f"reply:{item_id}:also:{n}")
        if result.reply is not None or result.also:
            self.on_outbox()
        return result.outcome

    # -- incidents and quarantine: "failed" first, then the apology ---------------------------

    def _incident(self, item_id: int, message: InboundMessage,
                  apology: Callable[[InboundMessage, str], Reply] = help.incident) -> str:
        """A bug, not the sender's doing: log it with a reference, record it, apologise
        (``help.incident``: nothing to send again; ``help.fetch_failed``: a file to post again,
        since none of it was recorded)."""
        ref = _reference()
        logger.exception("incident %s handling message %d from %s", ref, item_id,
                         message.sender)
        if self._record_failed(item_id, f"incident {ref}"):
            self._apologise(item_id, message, apology(message, ref))
        return f"failed (incident {ref})"

    def _quarantine(self, item: Claimed) -> str:
        """The message was in hand each time the process died: do not handle it again.
        Only parse it (pure Python, nothing native), to know whom to tell."""
        ref = _reference()
        logger.error("message %d was in hand %d times when the bot died: quarantined, not "
                     "handled again (incident %s); its raw bytes stay in inbound_raw",
                     item.id, item.deaths, ref)
        message = self._message_for_apology(item)
        if not self._record_failed(item.id, f"quarantined after {item.deaths} deaths "
                                            f"(incident {ref})"):
            return "not ours any more"
        if message is not None:
            self._apologise(item.id, message, help.quarantined(message, ref))
        return f"quarantined (incident {ref})"

    def _message_for_apology(self, item: Claimed) -> InboundMessage | None:
        """The message as far as it can be understood; None (no one to answer) if it cannot."""
        try:
            return self._retrying(item.id, lambda: self._to_inbound(item))
        except ChatFetchError as exc:
            return exc.message
        except Exception:
            logger.exception("message %d: could not be read either; failed without a reply",
                             item.id)
            return None

    def _record_failed(self, item_id: int, error: str) -> bool:
        """Commit "failed" on its own (retried through database errors); False if the item
        is no longer ours (finished by a commit whose answer was lost, or taken over)."""
        def write() -> bool:
            with self.store.transaction() as session:
                if not hold_claim(session, item_id, worker=self.name):
                    return False
                fail_inbound(session, item_id, error=error)
                return True
        ours = self._retrying(item_id, write)
        if not ours:
            logger.warning("message %d: no longer claimed by %s; left alone", item_id,
                           self.name)
        return ours

    def _apologise(self, item_id: int, message: InboundMessage, reply: Reply) -> None:
        """Queue the apology in a transaction of its own, after "failed" is committed. Only to
        a sender who is a person: never to automatic mail. If it cannot be queued, the item
        stays failed and the operator is told; ``reply:<id>`` keeps it to one at most."""
        if not message.sender or message.automatic_reason:
            return
        def write() -> None:
            with self.store.transaction() as session:
                self._queue_reply(session, item_id, reply)
        try:
            self._retrying(item_id, write)
        except Stopping:
            logger.error("message %d: failed, and the apology was not queued (stopping while "
                         "the database is unreachable)", item_id)
            return
        except Exception:
            logger.exception("message %d: failed, and the apology could not be queued; "
                             "the operator must answer it", item_id)
            return
        self.on_outbox()

    def _queue_reply(self, session: Session, item_id: int, reply: Reply,
                     finishing: Finishing | None = None, key: str | None = None) -> bool:
        """Queue the reply's messages (under ``key``, by default the message's one reply);
        with ``finishing``, the first of them also marks the message done (one statement
        fewer on PostgreSQL). False if there was none to queue, so nothing was finished."""
        assert self.channels is not None
        queued = False
        for out in self.channels.outgoing(session, reply, key=key or f"reply:{item_id}"):
            enqueue_outbound(session, key=out.key, channel=out.channel,
                             recipient=out.recipient, payload=out.payload, inbound_id=item_id,
                             finishing=None if queued else finishing)
            queued = True
        return queued

    # -- waiting out the database --------------------------------------------------------------

    def _retrying(self, item_id: int, work: Callable[[], T]) -> T:
        """``work()``, done again after each database error until it succeeds or we stop."""
        outage = Outage(self.retry_first, self.retry_max)
        while True:
            try:
                result = work()
            except Exception as exc:
                if not is_transient_db_error(exc):
                    raise
                self._wait_out(item_id, outage, exc)
                continue
            outage.over(item_id)
            return result

    def _wait_out(self, item_id: int, outage: Outage, exc: Exception) -> None:
        """Log the outage's first error (one line, not a traceback per try), then wait the
        back-off; raises ``Stopping`` if the process is asked to stop meanwhile."""
        delay = outage.failed(database_answers=self._database_answers())
        if outage.failures == 1:
            logger.warning("message %d: database error, trying again in %.0f s (backing off "
                           "to %.0f s): %s", item_id, delay, self.retry_max, first_line(exc))
        else:
            logger.debug("message %d: database error again (%d): %s", item_id,
                         outage.failures, first_line(exc))
        if self._pause(delay):
            raise Stopping from exc

    def _database_answers(self) -> bool:
        try:
            with self.store.transaction() as session:
                session.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def _pause(self, seconds: float) -> bool:
        """Wait ``seconds``, looking out for a stop; True if the process is stopping."""
        deadline = time.monotonic() + seconds
        while not self.should_stop():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(left, STOP_POLL_SECONDS))
        return True

    def _give_back(self, item_id: int) -> None:
        try:
            with self.store.transaction() as session:
                given = give_back_claim(session, item_id, worker=self.name)
        except Exception as exc:
            logger.warning("message %d: stopping with the database unreachable; it stays "
                           "claimed and the next start takes it again (%s)", item_id,
                           first_line(exc))
            return
        if given:
            logger.info("message %d: given back to the queue for the next start", item_id)


def _reference() -> str:
    return secrets.token_hex(3).upper()


def _is_panic(exc: BaseException) -> bool:
    """A Rust extension that panics (python-calamine on some damaged .xls files) raises pyo3's
    PanicException, a BaseException that ``except Exception`` lets through: still our failure,
    to be answered as an incident, not a reason for the worker to stop answering mail."""
    return type(exc).__name__ == "PanicException"
