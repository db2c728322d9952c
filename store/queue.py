"""The durable inbox and outbox (DESIGN.md "Durable first, then work").

Everything that arrives is stored here before anyone is told "received"; workers claim items
from the inbox, and replies wait in the outbox until a relay or API has accepted them.

Every function takes a session and leaves the transaction to the caller, so that a handler's
records, ``finish_inbound`` and the reply's ``enqueue_outbound`` commit together or not at all.

Several processes may share one PostgreSQL: claims use ``SELECT … FOR UPDATE SKIP LOCKED`` and
a guarded ``UPDATE`` (``WHERE status = …``), so two workers never take the same item. SQLite
ignores the lock clause; it is the single-process default, where the guard alone suffices.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache, lru_cache
from typing import Any, cast

from sqlalchemy import (
    ForeignKey,
    Integer,
    LargeBinary,
    Select,
    String,
    Table,
    Text,
    TextClause,
    TextualSelect,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import OperationalError as SAOperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Mapped, Session, column_property, mapped_column
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql.dml import Insert, Update
from sqlalchemy.types import TypeEngine

from store.base import Base
from store.types import UTCDateTime, utcnow
from store.upsert import skipping_duplicates

logger = logging.getLogger(__name__)


class QueueStatus(StrEnum):
    """Where an inbox or outbox item stands (stored as its plain value)."""

    QUEUED = "queued"  # waiting: inbox to be processed, outbox to be sent
    PROCESSING = "processing"  # inbox: claimed by a worker
    DONE = "done"  # inbox: its outcome and reply are committed
    SENT = "sent"  # outbox: the relay or platform accepted it
    FAILED = "failed"  # kept for an operator, never retried on its own

# Outbox retry: 30 s doubling to 1 h, then every hour for ever; never dropped.
RETRY_FIRST = timedelta(seconds=30)
RETRY_MAX = timedelta(hours=1)
# From this many failed attempts on, every retry is logged as an error, not a warning.
RETRY_LOUD_AFTER = 10


class InboundRaw(Base):
    """An inbox message's bytes as they arrived, in a row of their own (issue 14).

    SQLite reads a row's columns in order and rewrites a row whole on any UPDATE. With the
    bytes in the queue's row, every claim read each waiting message's bytes to reach its
    arrival time, and each of a message's three status updates wrote them out again: at 1,100
    waiting messages of 60 KB, 8 ms of queue upkeep a message, growing with the queue,
    against 0.13 ms apart (migration 0012). PostgreSQL keeps large values apart on its own.
    """

    __tablename__ = "inbound_raw"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("inbound_queue.id", ondelete="CASCADE"), primary_key=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)


class OutboundPayload(Base):
    """An outbox item's rendered message, apart from its row for the same reason as
    ``InboundRaw``: what is due is asked of every waiting item, and each is updated when
    sent or retried."""

    __tablename__ = "outbound_payload"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("outbound_queue.id", ondelete="CASCADE"), primary_key=True)
    payload: Mapped[bytes] = mapped_column(LargeBinary)


class InboundItem(Base):
    """One message as it arrived (``raw``, read from ``InboundRaw``), and how far its
    processing got."""

    __tablename__ = "inbound_queue"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    # "smtp:<sha256>", "imap:<uidvalidity>:<uid>", a Slack event id: a re-delivery is a no-op.
    source_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    message_id: Mapped[str | None] = mapped_column(String(998))
    # Loaded with the row (one statement), never written through it: ``enqueue_inbound``.
    raw: Mapped[bytes] = column_property(
        select(InboundRaw.raw).where(InboundRaw.item_id == id).scalar_subquery())
    envelope_from: Mapped[str | None] = mapped_column(String(998))
    recipients: Mapped[str] = mapped_column(Text, default="")  # newline-separated
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), default=QueueStatus.QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    outcome: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    moved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # IMAP bookkeeping


class OutboundItem(Base):
    """One rendered outgoing message, kept until the relay or API has accepted it."""

    __tablename__ = "outbound_queue"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # "reply:<inbound id>", "reminder:…": the same reply is never queued twice.
    key: Mapped[str] = mapped_column(String(255), unique=True)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_queue.id"))
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(Text)
    # RFC 822 bytes for email, JSON for chat; loaded with the row, written by
    # ``enqueue_outbound`` (``OutboundPayload``).
    payload: Mapped[bytes] = column_property(
        select(OutboundPayload.payload).where(OutboundPayload.item_id == id).scalar_subquery())
    status: Mapped[str] = mapped_column(String(20), default=QueueStatus.QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)


class BotProcess(Base):
    """One running ``marac-bot run`` process and its heartbeat: the lease on all its claims.

    A claim (``InboundItem.claimed_by`` = ``name``) is the process's for as long as this row is
    renewed; once it has not been for ``CLAIM_LEASE`` the process is taken for dead and its
    claims may be taken over. One row per process, renewed by one UPDATE of its own row, so
    the heartbeat never waits behind a message's transaction (which locks queue rows).
    """

    __tablename__ = "bot_processes"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Lease(Base):
    """A named job only one process may do at a time (the IMAP mover of a mailbox): held by
    ``holder`` until ``expires_at``, renewed by the holder, taken by another once expired."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class ProcessIdentity:
    """Who holds a claim: host, pid and start time. The start time tells a later process
    that reuses the pid (a container restarting as pid 1) from the one that made the claim."""

    host: str
    pid: int
    started_at: datetime

    @property
    def name(self) -> str:
        """``host:pid:start``, as written in ``claimed_by`` (no colon inside the start)."""
        return f"{self.host}:{self.pid}:{self.started_at:%Y%m%dT%H%M%S.%fZ}"


def beat(session: Session, identity: ProcessIdentity, *, now: datetime | None = None) -> None:
    """Renew ``identity``'s lease on its claims (registering the process the first time)."""
    now = now or utcnow()
    result = session.execute(
        update(BotProcess).where(BotProcess.name == identity.name)
        .values(heartbeat_at=now).execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) == 1:
        return
    _insert_ignoring_duplicate(session, BotProcess, {
        "name": identity.name, "host": identity.host, "pid": identity.pid,
        "started_at": identity.started_at, "heartbeat_at": now}, "name", returning="name")


def forget_process(session: Session, name: str) -> None:
    """A process stopping cleanly: its row goes (its claims were finished or given back)."""
    session.execute(delete(BotProcess).where(BotProcess.name == name))


def forget_dead_processes(session: Session, *, older_than: timedelta,
                          now: datetime | None = None) -> int:
    """Remove rows of processes silent for ``older_than`` that hold no claim (a SIGKILL leaves
    its row behind; one still named on a claim stays, so an operator can see who held it)."""
    cutoff = (now or utcnow()) - older_than
    holding = select(InboundItem.claimed_by).where(InboundItem.status == QueueStatus.PROCESSING,
                                                   InboundItem.claimed_by.is_not(None))
    result = session.execute(
        delete(BotProcess).where(BotProcess.heartbeat_at < cutoff,
                                 BotProcess.name.not_in(holding))
        .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def live_processes(session: Session, *, lease: timedelta, now: datetime | None = None
                   ) -> list[str]:
    """The names of processes whose heartbeat is within ``lease`` (for health and tests)."""
    cutoff = (now or utcnow()) - lease
    return list(session.scalars(
        select(BotProcess.name).where(BotProcess.heartbeat_at >= cutoff)
        .order_by(BotProcess.name)))


def hold_lease(session: Session, name: str, *, holder: str, ttl: timedelta,
               now: datetime | None = None) -> bool:
    """Take or renew the lease ``name`` for ``holder`` until ``now + ttl``; False while
    another holder's lease runs. A guarded UPDATE (or an INSERT that may lose a race), so two
    processes asking at once never both get it."""
    now = now or utcnow()
    result = session.execute(
        update(Lease)
        .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at < now))
        .values(holder=holder, expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) == 1:
        return True
    inserted = _insert_ignoring_duplicate(
        session, Lease, {"name": name, "holder": holder, "expires_at": now + ttl}, "name",
        returning="name")
    return inserted is not None


def drop_lease(session: Session, name: str, *, holder: str) -> None:
    """Give the lease up at once (a clean stop), so another process need not wait it out."""
    session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))


def _insert_ignoring_duplicate(
    session: Session, model: type[Base], values: dict[str, Any], unique_column: str,
    *, returning: str = "id",
) -> Any:
    """INSERT … ON CONFLICT DO NOTHING (``store.upsert``); the new row's ``returning``
    column (its id by default), or None when the unique key existed. Two concurrent
    deliveries of the same message still end with one row."""
    table = cast(Table, model.__table__)
    statement = skipping_duplicates(session, table, (unique_column,), (table.c[returning],))
    return session.execute(statement, values).scalar()


def enqueue_inbound(
    session: Session,
    *,
    channel: str,
    raw: bytes,
    source_key: str | None,
    envelope_from: str | None = None,
    recipients: Sequence[str] = (),
    received_at: datetime,
    message_id: str | None = None,
) -> int:
    """Store an arriving message; idempotent on ``source_key`` (returns the existing id)."""
    values = {
        "channel": channel,
        "source_key": source_key,
        "message_id": message_id,
        "envelope_from": envelope_from,
        "recipients": "\n".join(recipients),
        "received_at": received_at,
        "status": QueueStatus.QUEUED,
        "attempts": 0,
    }
    # A NULL source_key never matches a stored one: such an item is always new.
    stored_id = _insert_with_bytes(session, _INBOUND, values, "source_key", _RAW, {"raw": raw})
    if stored_id is not None:
        return stored_id
    existing = session.execute(
        select(InboundItem.id).where(InboundItem.source_key == source_key)
    ).scalar_one()
    logger.info("inbound %s already stored as item %s", source_key, existing)
    return int(existing)


@dataclass(frozen=True)
class ClaimedItem:
    """An inbox item as its claim left it, read by the claim's own statement."""

    id: int
    channel: str
    source_key: str | None
    raw: bytes
    envelope_from: str | None
    received_at: datetime
    status: str
    attempts: int
    claimed_at: datetime | None
    claimed_by: str | None


def claim_inbound(
    session: Session,
    *,
    worker: str,
    stale_after: timedelta,
    now: datetime | None = None,
    max_attempts: int = 5,
) -> ClaimedItem | None:
    """Take the oldest queued item, or one whose claim went stale: claimed more than
    ``stale_after`` ago by a process whose heartbeat (``beat``) is older than that (it died,
    or lost the database). A live process keeps its claims however long a message takes.

    Increments ``attempts``. Commit the claim before the long work, so that a crash leaves a
    visibly stale claim for another pass. A stale item that has already been tried
    ``max_attempts`` times is marked failed instead (a message that kills its worker must not
    kill every worker for ever); it stays in the table for an operator to look at.
    """
    now = now or utcnow()
    params = {"cutoff": now - stale_after, "worker": worker, "now": now}
    statements = _claim_statements(session.get_bind().dialect.name)
    while True:
        candidate = session.execute(statements.next_claimable, params).first()
        if candidate is None:
            return None
        item_id, status, attempts = candidate
        if status == QueueStatus.PROCESSING and attempts >= max_attempts:
            _give_up_inbound(session, item_id, attempts=attempts, now=now)
            continue
        # The guarded UPDATE: the item only if it was still claimable when we wrote.
        taken = session.execute(statements.take, {**params, "item_id": item_id}).first()
        if taken is not None:
            item = ClaimedItem(*taken)
            _forget_loaded(session, item.id)
            if status == QueueStatus.PROCESSING:
                logger.warning("inbound item %s: reclaimed a stale claim (attempt %s)",
                               item_id, item.attempts)
            return item


def take_next_queued(
    session: Session, *, worker: str, stale_after: timedelta, now: datetime | None = None
) -> ClaimedItem | None:
    """``claim_inbound``'s common case in one statement: the oldest claimable item, taken
    if it is plainly queued. None when nothing is waiting, or when the oldest is a stale claim
    (to take over or give up): ``claim_inbound`` decides those, as before.

    For a session whose statements commit on their own (``Store.standalone``): on PostgreSQL
    one round trip, where ``claim_inbound``'s transaction takes four (BEGIN, its look, its
    UPDATE, COMMIT), which every message paid (issue 14). Its lock (SKIP LOCKED) and guard
    are those of ``claim_inbound``, so two workers never take the same item.
    """
    now = now or utcnow()
    params = {"cutoff": now - stale_after, "worker": worker, "now": now}
    statement = _claim_statements(session.get_bind().dialect.name).take_next_queued
    taken = session.execute(statement, params).first()
    if taken is None:
        return None
    item = ClaimedItem(*taken)
    _forget_loaded(session, item.id)
    return item


@dataclass(frozen=True)
class _ClaimStatements:
    next_claimable: TextClause
    take: TextualSelect  # typed result columns
    take_next_queued: TextualSelect


# The claim's statements, written out once per database: SQLAlchemy walks a composed
# statement on every execution to find its compiled form, and for these two (the guard's
# EXISTS, the entity returned) that walk and loading the object cost more than running them,
# a tenth of a small message's work on SQLite (issue 14). Claimable: queued, or claimed
# before the cutoff by another process whose heartbeat is older than the cutoff. Never our
# own claim: another of our worker threads has it in hand, however late our heartbeat (on
# SQLite it can wait behind a long transaction).
_CUTOFF = bindparam("cutoff", type_=UTCDateTime())
_WORKER = bindparam("worker", type_=String())
_CLAIMABLE_SQL = (
    f"(inbound_queue.status = '{QueueStatus.QUEUED.value}'"
    f" OR (inbound_queue.status = '{QueueStatus.PROCESSING.value}'"
    " AND inbound_queue.claimed_at < :cutoff"
    " AND NOT EXISTS (SELECT 1 FROM bot_processes"
    " WHERE bot_processes.name = inbound_queue.claimed_by"
    " AND bot_processes.heartbeat_at >= :cutoff)"
    " AND (inbound_queue.claimed_by IS NULL OR inbound_queue.claimed_by != :worker)))"
)


@cache
def _claim_statements(dialect: str) -> _ClaimStatements:
    # PostgreSQL: rows another process is claiming are skipped, not waited for. SQLite has
    # no row locks; its one writer at a time and the guarded UPDATE suffice.
    lock = " FOR UPDATE SKIP LOCKED" if dialect == "postgresql" else ""
    next_claimable = text(
        f"SELECT id, status, attempts FROM inbound_queue WHERE {_CLAIMABLE_SQL}"
        f" ORDER BY received_at, id LIMIT 1{lock}"
    ).bindparams(_CUTOFF, _WORKER)
    now = bindparam("now", type_=UTCDateTime())
    take = text(
        f"UPDATE inbound_queue SET {_TAKE_SET}"
        f" WHERE inbound_queue.id = :item_id AND {_CLAIMABLE_SQL} RETURNING {_TAKEN}"
    ).bindparams(_CUTOFF, _WORKER, now, bindparam("item_id", type_=Integer())
                 ).columns(**_TAKEN_TYPES)
    # The oldest claimable, locked, then taken only if plainly queued: a stale claim is
    # left for claim_inbound, which logs its takeover or gives it up. A scalar subquery, not
    # a join: PostgreSQL then finds the row by its key rather than by a scan.
    take_next_queued = text(
        f"UPDATE inbound_queue SET {_TAKE_SET} WHERE inbound_queue.id ="
        f" (SELECT id FROM inbound_queue WHERE {_CLAIMABLE_SQL}"
        f" ORDER BY received_at, id LIMIT 1{lock})"
        f" AND inbound_queue.status = '{QueueStatus.QUEUED.value}' RETURNING {_TAKEN}"
    ).bindparams(_CUTOFF, _WORKER, now).columns(**_TAKEN_TYPES)
    return _ClaimStatements(next_claimable, take, take_next_queued)


_TAKE_SET = (f"status = '{QueueStatus.PROCESSING.value}', claimed_at = :now,"
             " claimed_by = :worker, attempts = inbound_queue.attempts + 1")
# The message's bytes too: one statement, not two. The column order is ClaimedItem's.
_TAKEN = (
    "inbound_queue.id, inbound_queue.channel, inbound_queue.source_key,"
    " (SELECT raw FROM inbound_raw WHERE inbound_raw.item_id = inbound_queue.id) AS raw,"
    " inbound_queue.envelope_from, inbound_queue.received_at, inbound_queue.status,"
    " inbound_queue.attempts, inbound_queue.claimed_at, inbound_queue.claimed_by"
)
_TAKEN_TYPES: dict[str, TypeEngine[Any]] = {
    "received_at": UTCDateTime(), "claimed_at": UTCDateTime(), "raw": LargeBinary()}


def _forget_loaded(session: Session, item_id: int,
                   model: type[InboundItem] | type[OutboundItem] = InboundItem) -> None:
    """An object of the item this session loaded before is stale after a Core write."""
    loaded = session.identity_map.get(identity_key(model, item_id))
    if loaded is not None:
        session.expire(loaded)


def _update_one(session: Session, statement: Update, params: dict[str, Any],
                model: type[InboundItem] | type[OutboundItem]) -> None:
    """Run an UPDATE of one queue item, built once; LookupError if no item matched. An object
    of it this session has loaded is expired, so that it is read afresh rather than shown
    stale."""
    item_id = params["item_id"]
    result = session.execute(statement, params)
    if getattr(result, "rowcount", 0) != 1:
        queue = "inbound" if model is InboundItem else "outbound"
        raise LookupError(f"no {queue} item {item_id}")
    _forget_loaded(session, item_id, model)


def _give_up_inbound(session: Session, item_id: int, *, attempts: int, now: datetime) -> None:
    logger.error("inbound item %s: abandoned after %s attempts that never finished; "
                 "marked failed for an operator to look at", item_id, attempts)
    fail_inbound(session, item_id, error=f"no attempt finished (tried {attempts} times)",
                 now=now)


def release_claims(
    session: Session,
    *,
    max_attempts: int = 5,
    now: datetime | None = None,
    owner_gone: Callable[[str | None], bool] = lambda _owner: True,
) -> list[int]:
    """Queue again every item still claimed by a process that is gone; returns their ids.

    By default every claim counts as gone: right for a process starting on a database that no
    other bot process uses (SQLite, the single-process default), where every claim it finds
    was left by its own previous run dying mid-message, and waiting for the claim to go stale
    would hold that message back for nothing. On a shared database pass ``owner_gone``, which
    says from ``claimed_by`` whether the claimant is known dead; the others are left to go stale.

    ``attempts`` is kept: it counts the processes that had the message in hand, so the worker
    that claims it next knows how many died with it (and quarantines it after two). An item
    already tried ``max_attempts`` times is marked failed instead, as ``claim_inbound`` would.
    """
    now = now or utcnow()
    claimed = session.execute(
        select(InboundItem.id, InboundItem.attempts, InboundItem.claimed_by)
        .where(InboundItem.status == QueueStatus.PROCESSING)
    ).all()
    released = []
    for item_id, attempts, owner in claimed:
        if not owner_gone(owner):
            continue
        if attempts >= max_attempts:
            _give_up_inbound(session, item_id, attempts=attempts, now=now)
            continue
        _set_inbound(session, item_id, status=QueueStatus.QUEUED, claimed_at=None, claimed_by=None)
        logger.warning("inbound item %s was being processed when the bot last stopped; "
                       "queued again", item_id)
        released.append(int(item_id))
    return released


class Claim(StrEnum):
    """What renewing a worker's claim on an item found (``renew_claim``)."""

    HELD = "held"
    # Held, and the same message (its Message-ID) is done under another item: it came by
    # another route (SMTP and IMAP, a resend) and was answered there.
    ANSWERED_ELSEWHERE = "answered elsewhere"
    LOST = "lost"  # not (or no longer) the worker's: finished already, or taken over


def hold_claim(session: Session, item_id: int, *, worker: str, now: datetime | None = None
               ) -> bool:
    """Renew ``worker``'s claim on an item in the caller's transaction; False if it is not
    (or no longer) that worker's: finished already, or taken over as stale by another process.

    The first statement of every transaction that would finish or fail the item: after a
    commit whose answer was lost with the connection, it tells whether that commit landed,
    and on PostgreSQL the row lock it takes keeps a stale-claim takeover out until we commit.
    """
    return renew_claim(session, item_id, worker=worker, now=now) is not Claim.LOST


def renew_claim(session: Session, item_id: int, *, worker: str, message_id: str | None = None,
                now: datetime | None = None) -> Claim:
    """``hold_claim``, and with a ``message_id`` whether another item with that Message-ID
    is done: the same message arrived by another route (SMTP and IMAP, a resend) and was
    answered. Both in one statement, an UPDATE … RETURNING: the transaction that handles a
    message asks both first, and on PostgreSQL a round trip fewer is felt by every message
    (issue 14)."""
    values = {"item_id": item_id, "worker": worker, "now": now or utcnow()}
    if message_id is None:
        held = getattr(session.execute(_HOLD, values), "rowcount", 0) == 1
        return Claim.HELD if held else Claim.LOST
    found = session.execute(_HOLD_AND_LOOK, {**values, "same_message_id": message_id}).first()
    if found is None:
        return Claim.LOST
    return Claim.ANSWERED_ELSEWHERE if found[0] else Claim.HELD


_INBOUND = cast(Table, InboundItem.__table__)
_OUTBOUND = cast(Table, OutboundItem.__table__)
_RAW = cast(Table, InboundRaw.__table__)
_PAYLOAD = cast(Table, OutboundPayload.__table__)


@dataclass(frozen=True)
class Finishing:
    """The inbound item a reply answers, to be marked done with its outcome as the reply is
    queued (``enqueue_outbound``): both belong to the same transaction anyway."""

    item_id: int
    outcome: str
    at: datetime


def _insert_with_bytes(session: Session, items: Table, values: dict[str, Any], unique: str,
                       data: Table, data_values: dict[str, bytes],
                       finishing: Finishing | None = None) -> int | None:
    """A new queue item and its bytes (``data``, keyed by ``item_id``); its id, or None with
    nothing written when ``unique`` matches a stored item (``store.upsert``). And the item
    ``finishing`` names marked done, whether or not this one was new.

    On PostgreSQL one statement, a WITH that inserts both (and finishes the other): a round
    trip or two fewer for every message stored and every reply queued (issue 14). SQLite has
    no such WITH, and no round trips to save: there it is two or three statements."""
    if session.get_bind().dialect.name == "postgresql":
        both = _both_at_once(items, unique, data, tuple(values), tuple(data_values),
                             finishing=finishing is not None)
        finished = {} if finishing is None else {
            "finishing_id": finishing.item_id, "finished_status": QueueStatus.DONE.value,
            "finishing_outcome": finishing.outcome, "finished_at": finishing.at}
        new_id = session.execute(both, {**values, **data_values, **finished}).scalar()
        if finishing is not None:
            _forget_loaded(session, finishing.item_id, InboundItem)
    else:
        statement = skipping_duplicates(session, items, (unique,), (items.c.id,))
        new_id = session.execute(statement, values).scalar()
        if new_id is not None:
            session.execute(_add_bytes(data), {"item_id": new_id, **data_values})
        if finishing is not None:
            finish_inbound(session, finishing.item_id, outcome=finishing.outcome,
                           now=finishing.at)
    return None if new_id is None else int(new_id)


@cache  # built once per queue: every message and every reply writes one (issue 14)
def _both_at_once(items: Table, unique: str, data: Table, columns: tuple[str, ...],
                  data_columns: tuple[str, ...], *, finishing: bool = False) -> Insert:
    from sqlalchemy.dialects import postgresql  # PostgreSQL's alone (store.upsert says why)

    new_item = (
        postgresql.insert(items)
        .values({name: bindparam(name, type_=items.c[name].type) for name in columns})
        .on_conflict_do_nothing(index_elements=[unique])
        .returning(items.c.id)
        .cte("new_item")
    )
    written = select(new_item.c.id, *(bindparam(name, type_=data.c[name].type)
                                      for name in data_columns))
    both = (insert(data).from_select(["item_id", *data_columns], written)
            .returning(data.c.item_id))
    if not finishing:
        return both
    # A WITH's UPDATE runs to completion whether or not the statement reads it: the item is
    # finished even when the reply was queued before (its key already stored).
    return both.add_cte(_FINISH_INBOUND.cte("finished"))


@cache
def _add_bytes(data: Table) -> Insert:
    return insert(data)


_HOLD = (  # built once, as the claim's statements are; Core, as nothing loaded is touched
    update(_INBOUND)
    .where(_INBOUND.c.id == bindparam("item_id", type_=Integer()),
           _INBOUND.c.status == QueueStatus.PROCESSING.value, _INBOUND.c.claimed_by == _WORKER)
    .values(claimed_at=bindparam("now", type_=UTCDateTime()))
)


def give_back_claim(session: Session, item_id: int, *, worker: str) -> bool:
    """Queue an item again that ``worker`` claimed but could not finish through no fault of
    the message (it is stopping while the database is unreachable); False if not its claim.

    The attempt is not counted: ``attempts`` must keep meaning "processes that died with it".
    """
    result = session.execute(
        update(InboundItem)
        .where(InboundItem.id == item_id, InboundItem.status == QueueStatus.PROCESSING,
               InboundItem.claimed_by == worker)
        .values(status=QueueStatus.QUEUED, claimed_at=None, claimed_by=None,
                attempts=InboundItem.attempts - 1)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def is_transient_db_error(exc: BaseException) -> bool:
    """True for an error of the database's situation rather than of the work: the connection
    lost or the server restarting, a lock not granted in time ("database is locked"), a
    serialization failure or deadlock. The same work done again later can succeed, so such an
    error must never be answered as the message's failure. Looks along the exception's causes,
    since a caller may have wrapped the driver's error in one of its own.
    """
    transient = (SAOperationalError, DisconnectionError, PoolTimeoutError,
                 sqlite3.OperationalError, *_psycopg_operational_error())
    for error in _causes(exc):
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return True
        if isinstance(error, transient):
            return True
    return False


def _psycopg_operational_error() -> tuple[type[Exception], ...]:
    """psycopg files SerializationFailure, DeadlockDetected, AdminShutdown and LockNotAvailable
    under OperationalError (SQLAlchemy wraps them as its own). Not imported for this: only a
    process that loaded psycopg can hold one of its errors, and on SQLite importing it would
    slow ``marac-bot run``'s start (issue 14)."""
    psycopg = sys.modules.get("psycopg")
    return (psycopg.OperationalError,) if psycopg is not None else ()


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        # The explicit cause, else what was being handled (unless ``raise … from None``).
        hidden = current.__suppress_context__
        current = current.__cause__ or (None if hidden else current.__context__)


def finish_inbound(
    session: Session, item_id: int, *, outcome: str, now: datetime | None = None
) -> None:
    """Mark an item done with its outcome ("submission-accepted", "ignored-auto-reply", …).

    Call it in the same transaction as the handler's records and the reply's
    ``enqueue_outbound``, so that all of them commit together.
    """
    _set_inbound(session, item_id, status=QueueStatus.DONE, outcome=outcome,
                 finished_at=now or utcnow())


def fail_inbound(
    session: Session, item_id: int, *, error: str, now: datetime | None = None
) -> None:
    """Mark an item failed (kept, never deleted); ``error`` says why, for an operator."""
    _set_inbound(session, item_id, status=QueueStatus.FAILED, outcome="failed",
                 last_error=error,
                 finished_at=now or utcnow())


def mark_moved(session: Session, item_id: int, *, now: datetime | None = None) -> None:
    """Record that the IMAP message behind this item was moved out of the inbox."""
    _set_inbound(session, item_id, moved_at=now or utcnow())


def _set_inbound(session: Session, item_id: int, **values: Any) -> None:
    """Set ``values`` (column name → value) on one item. The statement is built once and
    run by Core, its SET clause named by the parameters: every message's outcome goes
    through here, and the ORM's UPDATE, composed per call and synchronised by a RETURNING,
    cost more than the write (issue 14)."""
    _update_one(session, _SET_INBOUND, {"item_id": item_id, **values}, InboundItem)


# The claim renewed, and whether an item with the same Message-ID is done, as
# one statement (``renew_claim``). No row back: the claim was not ours. The other item is
# told from this one by the parameter, not the updated row: SQLAlchemy writes SQLite's
# RETURNING unqualified, where "other.id != inbound_queue.id" became "id != id".
_OTHER = _INBOUND.alias("other")
_HOLD_AND_LOOK = _HOLD.returning(
    exists()
    .where(_OTHER.c.message_id == bindparam("same_message_id", type_=String()),
           _OTHER.c.id != bindparam("item_id", type_=Integer()),
           _OTHER.c.status == QueueStatus.DONE.value)
)
# As finish_inbound sets it, within a reply's WITH (_both_at_once). Written out: an UPDATE
# construct there takes into its SET every parameter named like one of its table's columns,
# and the reply's own values ("channel", "attempts") are named so.
_FINISH_INBOUND = text(
    "UPDATE inbound_queue SET status = :finished_status, outcome = :finishing_outcome,"
    " finished_at = :finished_at WHERE id = :finishing_id"
).bindparams(
    bindparam("finished_status", type_=String()),
    bindparam("finishing_outcome", type_=String()),
    bindparam("finished_at", type_=UTCDateTime()),
    bindparam("finishing_id", type_=Integer()),
).columns()
_SET_INBOUND = update(_INBOUND).where(_INBOUND.c.id == bindparam("item_id", type_=Integer()))
_MARK_SENT = (
    update(_OUTBOUND)
    .where(_OUTBOUND.c.id == bindparam("item_id", type_=Integer()))
    .values(status=QueueStatus.SENT.value, sent_at=bindparam("now", type_=UTCDateTime()),
            attempts=_OUTBOUND.c.attempts + 1, last_error=None)
)


def enqueue_outbound(
    session: Session,
    *,
    key: str,
    channel: str,
    recipient: str,
    payload: bytes,
    inbound_id: int | None = None,
    now: datetime | None = None,
    finishing: Finishing | None = None,
) -> int:
    """Queue a rendered message for sending; idempotent on ``key`` (returns the existing id).
    ``finishing``: the inbound item this answers, marked done with it (``finish_inbound``)."""
    values = {
        "key": key,
        "inbound_id": inbound_id,
        "channel": channel,
        "recipient": recipient,
        "status": QueueStatus.QUEUED,
        "attempts": 0,
        "next_attempt_at": now or utcnow(),
    }
    new_id = _insert_with_bytes(session, _OUTBOUND, values, "key", _PAYLOAD,
                                {"payload": payload}, finishing)
    if new_id is not None:
        return new_id
    existing = session.execute(select(OutboundItem.id).where(OutboundItem.key == key)).scalar_one()
    logger.info("outbound %s already queued as item %s", key, existing)
    return int(existing)


def due_outbound(
    session: Session, *, now: datetime, limit: int, channels: Sequence[str] | None = None
) -> list[OutboundItem]:
    """Queued items whose next attempt is due, oldest first (only ``channels``, if given).

    On PostgreSQL the rows stay locked (SKIP LOCKED) until the caller's transaction ends, so
    send them, ``mark_sent``/``mark_retry`` them and commit in the same transaction.
    """
    if channels is None:
        return list(session.scalars(_due_query(limit, by_channel=False), {"now": now}))
    return list(session.scalars(_due_query(limit, by_channel=True),
                                {"now": now, "channels": list(channels)}))


@lru_cache(maxsize=8)  # built once per limit: the outbox asks after every reply (issue 14)
def _due_query(limit: int, *, by_channel: bool) -> Select[OutboundItem]:
    query = select(OutboundItem).where(
        OutboundItem.status == QueueStatus.QUEUED,
        OutboundItem.next_attempt_at <= bindparam("now", type_=UTCDateTime()),
    )
    if by_channel:
        query = query.where(OutboundItem.channel.in_(bindparam("channels", expanding=True)))
    return (query.order_by(OutboundItem.next_attempt_at, OutboundItem.id)
            .limit(limit).with_for_update(skip_locked=True))


def due_by_channel(session: Session, *, now: datetime) -> dict[str, int]:
    """How many queued items are due now, by channel: one read, no lock taken, so the outbox
    can tell it has nothing to do without taking SQLite's write lock (issue 14)."""
    query = (select(OutboundItem.channel, func.count())
             .where(OutboundItem.status == QueueStatus.QUEUED,
                    OutboundItem.next_attempt_at <= bindparam("now"))
             .group_by(OutboundItem.channel))
    return {channel: count for channel, count in session.execute(query, {"now": now})}


def fail_unsendable(session: Session, *, sendable: Sequence[str], now: datetime) -> list[str]:
    """Mark failed every queued item of a channel outside ``sendable`` (one this installation
    has no sender for): visible to an operator with the reason, instead of queued for ever.
    Returns the failed items' keys."""
    items = list(session.scalars(
        select(OutboundItem).where(OutboundItem.status == QueueStatus.QUEUED,
                                   OutboundItem.channel.not_in(list(sendable)))
        .with_for_update(skip_locked=True)))
    for item in items:
        mark_failed(session, item.id, now=now,
                    error=f"not sent: {item.channel} is not configured on this installation")
    return [item.key for item in items]


def mark_sent(session: Session, item_id: int, *, now: datetime) -> None:
    """The relay or API accepted the message. One Core UPDATE built once, as for the inbox
    (``_set_inbound``): it runs for every reply, with SQLite's write lock held (issue 14)."""
    _update_one(session, _MARK_SENT, {"item_id": item_id, "now": now}, OutboundItem)


def mark_retry(session: Session, item_id: int, *, error: str, now: datetime) -> None:
    """Sending failed: try again after an exponential backoff (30 s doubling to 1 h).

    The item is never dropped: past the longest backoff it is retried hourly for ever, and
    every failure from ``RETRY_LOUD_AFTER`` attempts on is logged as an error.
    """
    item = _outbound(session, item_id)
    item.attempts += 1
    item.last_error = error
    item.next_attempt_at = now + retry_delay(item.attempts)
    session.flush()
    log = logger.error if item.attempts >= RETRY_LOUD_AFTER else logger.warning
    log("outbound %s (%s to %s) failed, attempt %s, next try %s: %s", item.id, item.key,
        item.recipient, item.attempts, item.next_attempt_at.isoformat(), error)


def mark_failed(session: Session, item_id: int, *, error: str, now: datetime) -> None:
    """A permanent failure (e.g. the relay refused every recipient with 5xx): stop retrying.

    The row stays, status failed, for an operator; nothing is deleted.
    """
    item = _outbound(session, item_id)
    item.attempts += 1
    item.status = QueueStatus.FAILED
    item.last_error = error
    item.next_attempt_at = now
    session.flush()
    logger.error("outbound %s (%s to %s) failed permanently: %s", item.id, item.key,
                 item.recipient, error)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 30 s, 60 s, 120 s, … capped at 1 h."""
    doublings = min(max(attempts - 1, 0), 20)  # 2**20 × 30 s is far past the cap
    return min(RETRY_FIRST * (2**doublings), RETRY_MAX)


def _outbound(session: Session, item_id: int) -> OutboundItem:
    item = session.get(OutboundItem, item_id)
    if item is None:
        raise LookupError(f"no outbound item {item_id}")
    return item
