"""What a process read of the Marac registry, kept until the registry changes (issue 14).

Every submission read all of ``maracs`` (about 290 rows, with aliases) twice: to check its
names, and to find the Maracs' ids when recording. Triggers renew ``registry_version`` on any
change to ``maracs`` (migration 0011), so a process reads that one row, and the registry again
only when it has changed. The kept reads hang on the session factory (``Session.info``): one per
``Store``, never a module-level singleton, and a session made without it reads afresh.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from sqlalchemy import Column, Integer, String, Table, inspect, select
from sqlalchemy.orm import Session

from store.base import Base

T = TypeVar("T")

registry_version = Table(
    "registry_version",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    # A random token, new at each change (a count could come back after a rollback).
    Column("version", String(32), nullable=False, server_default="0"),
)

# The key of a factory's RegistryReads in Session.info.
INFO_KEY = "marac_registry_reads"

_VERSION = select(registry_version.c.version).where(registry_version.c.id == 1)


class RegistryReads:
    """Reads of the registry by purpose, each with the version it was made at.

    A read is only ever replaced whole, and what is kept is never changed after it is made, so
    the threads of one process may share it.
    """

    def __init__(self) -> None:
        self._kept: dict[str, tuple[str, object]] = {}
        # Whether the schema has the version (a database not yet upgraded to 0011, which a
        # command opened without upgrading may be, has not): asked once, at the first read.
        self._versioned: bool | None = None

    def read(self, session: Session, purpose: str, read: Callable[[], T]) -> T:
        if self._versioned is None:
            self._versioned = inspect(session.connection()).has_table(registry_version.name)
        if not self._versioned:
            return read()
        # The version first, then the registry: a change committed between the two makes the
        # registry newer than its version, and it is read again next time, never kept stale.
        version = session.scalar(_VERSION)
        if version is None:  # a schema without the table's row (made by hand): read afresh
            return read()
        kept = self._kept.get(purpose)
        if kept is not None and kept[0] == version:
            return cast(T, kept[1])
        value = read()
        self._kept[purpose] = (version, value)
        return value


def kept_read(session: Session, purpose: str, read: Callable[[], T]) -> T:
    """``read()``, or what it gave at the registry's current version if this session's
    factory keeps reads (``store.db.session_factory``)."""
    reads = session.info.get(INFO_KEY)
    if not isinstance(reads, RegistryReads):
        return read()
    return reads.read(session, purpose, read)
