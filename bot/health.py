"""What ``/healthz`` tells a monitor: each configured component's state, and the queues.

Components report into a ``Health`` registry built once by ``marac-bot run`` and passed to
them (no singleton): the IMAP watcher (connected, or the error that keeps it out; filing into
Processed/Rejected working or not), the Slack socket, the relay (each delivery's result), the
heartbeat (the database as this process uses it). ``/healthz`` answers 503 naming every
component that is down, 200 otherwise, with a JSON body built by ``report``.

A component that fails now and then is not down: the relay has ``RELAY_GRACE`` of failures
before it counts (a relay restarting, a greylisting minute), since replies are kept and tried
again anyway; a channel that cannot take mail in (IMAP, Slack's socket) is down at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select

from store.db import Store
from store.queue import InboundItem, OutboundItem, QueueStatus
from store.types import utcnow

# Failures the relay may have in a row, for this long, before health calls it down.
RELAY_GRACE = timedelta(minutes=3)


class State(StrEnum):
    STARTING = "starting"  # configured, not yet connected once
    UP = "up"
    FAILING = "failing"  # failing, but within its grace: not yet down
    DOWN = "down"


@dataclass(frozen=True)
class ComponentHealth:
    """One component as last reported: its state, since when, and the last error seen."""

    state: State
    since: datetime
    last_error: str | None = None
    grace: timedelta = timedelta(0)

    def as_of(self, now: datetime) -> ComponentHealth:
        """FAILING past its grace is DOWN (failing since ``since``)."""
        if self.state == State.FAILING and now - self.since >= self.grace:
            return replace(self, state=State.DOWN)
        return self

    def as_json(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "since": self.since.isoformat(),
            "last_error": self.last_error,
        }


class Health:
    """Thread-safe: the IMAP watcher's thread, the event loop and workers all report."""

    def __init__(self, clock: Callable[[], datetime] = utcnow) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._components: dict[str, ComponentHealth] = {}

    def expect(self, component: str) -> None:
        """A configured component: STARTING until it reports, so a monitor sees it."""
        with self._lock:
            self._components.setdefault(component, ComponentHealth(State.STARTING, self._clock()))

    def up(self, component: str) -> None:
        """Working; ``since`` moves only when the state changes. The last error is kept
        (a monitor can still read what the last outage was)."""
        with self._lock:
            old = self._components.get(component)
            if old is not None and old.state == State.UP:
                return
            error = old.last_error if old is not None else None
            self._components[component] = ComponentHealth(State.UP, self._clock(), error)

    def down(self, component: str, error: str, *, grace: timedelta = timedelta(0)) -> None:
        """Failing with ``error``; DOWN at once, or once it has failed for ``grace``."""
        with self._lock:
            old = self._components.get(component)
            failing = old is not None and old.state in (State.FAILING, State.DOWN)
            since = old.since if failing and old is not None else self._clock()
            state = State.FAILING if grace > timedelta(0) else State.DOWN
            self._components[component] = ComponentHealth(state, since, error, grace)

    def snapshot(self) -> dict[str, ComponentHealth]:
        now = self._clock()
        with self._lock:
            return {name: part.as_of(now) for name, part in sorted(self._components.items())}

    def down_components(self) -> list[str]:
        return [name for name, part in self.snapshot().items() if part.state == State.DOWN]


@dataclass(frozen=True)
class HealthReport:
    ok: bool
    body: dict[str, Any]


def report(health: Health, store: Store, *, process: str, channels: list[str]) -> HealthReport:
    """The ``/healthz`` answer: components (the database checked now), queues, and overall."""
    try:
        queues = queue_depths(store, now=utcnow())
    except Exception as exc:  # the probe itself is the database check
        health.down("database", _one_line(exc))
        queues = None
    else:
        health.up("database")
    components = health.snapshot()
    down = [name for name, part in components.items() if part.state == State.DOWN]
    body = {
        "status": "down" if down else "ok",
        "down": down,
        "process": process,
        "components": {name: part.as_json() for name, part in components.items()},
        "queues": queues,
        "channels": channels,
    }
    return HealthReport(not down, body)


def queue_depths(store: Store, *, now: datetime) -> dict[str, Any]:
    """Counts by status, and the oldest waiting item's age in seconds (None when empty):
    inbound by when it arrived, outbound by how long its send has been due."""
    with store.reading() as session:
        inbound = dict(
            session.execute(
                select(InboundItem.status, func.count()).group_by(InboundItem.status)
            ).all()
        )
        oldest_in = session.scalar(
            select(func.min(InboundItem.received_at)).where(
                InboundItem.status == QueueStatus.QUEUED
            )
        )
        outbound = dict(
            session.execute(
                select(OutboundItem.status, func.count())
                .where(OutboundItem.status.in_((QueueStatus.QUEUED, QueueStatus.FAILED)))
                .group_by(OutboundItem.status)
            ).all()
        )
        oldest_out = session.scalar(
            select(func.min(OutboundItem.next_attempt_at)).where(
                OutboundItem.status == QueueStatus.QUEUED
            )
        )
    return {
        "inbound": {
            "queued": inbound.get(QueueStatus.QUEUED, 0),
            "processing": inbound.get(QueueStatus.PROCESSING, 0),
            "failed": inbound.get(QueueStatus.FAILED, 0),
            "oldest_queued_age_s": _age(now, oldest_in),
        },
        "outbound": {
            "queued": outbound.get(QueueStatus.QUEUED, 0),
            "failed": outbound.get(QueueStatus.FAILED, 0),
            "oldest_due_age_s": _age(now, oldest_out),
        },
    }


def _age(now: datetime, then: datetime | None) -> float | None:
    if then is None:
        return None
    return round(max((now - then).total_seconds(), 0.0), 1)


def _one_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
