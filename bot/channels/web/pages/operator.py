"""The operator's view (admins only): messages kept for the data team (what the bot could not
deal with itself), inbox and outbox depths, failed and quarantined messages with their
outcome, outbox items being retried, what the running process says of its channels,
and when the reminders next run. Read from the store's queue tables and the running process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.models import TeamMessage
from store.queue import InboundItem, OutboundItem, QueueStatus

SHOWN = 50  # newest failed or retrying items listed


@dataclass(frozen=True)
class Component:
    """One part of the process as its health registry last heard (bot/health.py)."""

    name: str  # "imap", "slack-socket", "relay", "database", …
    state: str  # "starting" | "up" | "failing" | "down"
    since: datetime
    last_error: str | None


@dataclass(frozen=True)
class RunStatus:
    """What the running process says of itself (bot/app.py gives it)."""

    channels: tuple[str, ...] = ()
    next_reminder: datetime | None = None
    components: tuple[Component, ...] = field(default=())

    @property
    def problems(self) -> tuple[str, ...]:
        """The components that are down (``/healthz`` answers 503 naming them)."""
        return tuple(c.name for c in self.components if c.state == "down")


@dataclass(frozen=True)
class Depth:
    queue: str  # "inbox" | "outbox"
    channel: str
    status: str
    count: int


@dataclass(frozen=True)
class Failed:
    id: int
    channel: str
    at: datetime | None
    outcome: str | None
    error: str | None
    attempts: int


@dataclass(frozen=True)
class Retrying:
    id: int
    channel: str
    recipient: str
    attempts: int
    next_attempt_at: datetime
    error: str | None


@dataclass(frozen=True)
class ForTeam:
    """A message kept for the data team (handlers/for_team.py), shortened for the page."""

    id: int
    received_at: datetime
    channel: str
    sender: str
    sender_name: str
    subject: str
    text: str


@dataclass(frozen=True)
class OperatorPage:
    depths: tuple[Depth, ...]
    failed_in: tuple[Failed, ...]
    failed_out: tuple[Retrying, ...]
    retrying: tuple[Retrying, ...]
    status: RunStatus
    for_team: tuple[ForTeam, ...] = ()


# What of a kept message the page shows: the start of it (the whole is in the database).
SHOWN_CHARS = 500


def build(session: Session, status: Callable[[], RunStatus]) -> OperatorPage:
    return OperatorPage(_depths(session), _failed_inbound(session),
                        _outbound(session, failed=True), _outbound(session, failed=False),
                        status(), _for_team(session))


def _for_team(session: Session) -> tuple[ForTeam, ...]:
    query = (select(TeamMessage.id, TeamMessage.received_at, TeamMessage.channel,
                    TeamMessage.sender, TeamMessage.sender_name,
                    func.substr(TeamMessage.subject, 1, SHOWN_CHARS),
                    func.substr(TeamMessage.text, 1, SHOWN_CHARS))
             .order_by(TeamMessage.id.desc()).limit(SHOWN))
    return tuple(ForTeam(*row) for row in session.execute(query))


def _depths(session: Session) -> tuple[Depth, ...]:
    found = []
    for name, table in (("inbox", InboundItem), ("outbox", OutboundItem)):
        query = (select(table.channel, table.status, func.count())
                 .where(table.status != (QueueStatus.DONE if name == "inbox" else
                                         QueueStatus.SENT))
                 .group_by(table.channel, table.status).order_by(table.channel, table.status))
        found += [Depth(name, c, s, n) for c, s, n in session.execute(query)]
    return tuple(found)


def _failed_inbound(session: Session) -> tuple[Failed, ...]:
    query = (select(InboundItem.id, InboundItem.channel, InboundItem.finished_at,
                    InboundItem.outcome, InboundItem.last_error, InboundItem.attempts)
             .where(InboundItem.status == QueueStatus.FAILED)
             .order_by(InboundItem.id.desc()).limit(SHOWN))
    return tuple(Failed(*row) for row in session.execute(query))


def _outbound(session: Session, *, failed: bool) -> tuple[Retrying, ...]:
    where = (OutboundItem.status == QueueStatus.FAILED if failed else
             (OutboundItem.status == QueueStatus.QUEUED) & (OutboundItem.attempts > 0))
    query = (select(OutboundItem.id, OutboundItem.channel, OutboundItem.recipient,
                    OutboundItem.attempts, OutboundItem.next_attempt_at,
                    OutboundItem.last_error)
             .where(where).order_by(OutboundItem.id.desc()).limit(SHOWN))
    return tuple(Retrying(i, c, r.replace("\n", ", "), a, n, e)
                 for i, c, r, a, n, e in session.execute(query))
