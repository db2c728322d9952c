"""Opening the database (SQLite by default, PostgreSQL in production) and bringing its schema
up to date.

Nothing here is global: the entry point builds a ``Store`` from ``Settings`` and passes it in.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InvalidatePoolError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from kernel.config import ConfigError

if TYPE_CHECKING:
    # Alembic is imported where the schema is upgraded: the SMTP spool and the commands that
    # only read open engines without it (issue 14, start-up time).
    from alembic.config import Config
    from sqlalchemy.engine import Connection

logger = logging.getLogger(__name__)


class DatabaseUnusable(ConfigError):
    """``MARAC_DATABASE_URL`` names a database this process cannot use at all: it does not
    answer or refuses us as it is opened, its SQLite folder cannot be made, or a newer release
    has upgraded its schema past what this one knows. A ``ConfigError``: every command says
    so in one line naming the variable and exits 2 (interface.md), where it used to end in a
    traceback. An outage once the bot is running is not this: the worker waits those out."""


class DatabaseSettings(Protocol):
    """What the store needs of the bot's settings (bot.settings.Settings has both)."""

    @property
    def database_url(self) -> str: ...

    @property
    def data_dir(self) -> Path: ...

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
PG_CONNECT_TIMEOUT_S = 10
PG_POOL_SIZE = 5
PG_POOL_OVERFLOW = 35
# A pooled PostgreSQL connection idle this long is pinged before use (_ping_when_idle).
PG_PING_IDLE_S = 1.0
# Where a pooled connection's record keeps when it was last known alive.
_USED_AT = "marac_used_at"
# pg_advisory_xact_lock key for schema upgrades: any constant shared by every process will do.
UPGRADE_LOCK_KEY = 0x4D415241  # "MARA"
# Execution option marking a read-only transaction (``Store.reading``): on SQLite it begins
# DEFERRED, so it never waits for the write lock (WAL lets it read beside the writer).
READ_ONLY = "marac_read_only"
# Execution option for a transaction whose commit may wait to reach the disk (``Store.
# transaction(durable=False)``): on SQLite it commits with synchronous=NORMAL.
FLUSH_LATER = "marac_flush_later"
_SYNC = "marac_synchronous"  # the connection's current PRAGMA synchronous, in its record
_SYNC_NOW, _SYNC_LATER = "FULL", "NORMAL"
_BUSY_MS = "marac_busy_timeout_ms"  # the connection's busy timeout, in its record
# A writer waiting for SQLite's write lock tries again after this, doubling up to the longest.
_FIRST_PAUSE_S, _LONGEST_PAUSE_S = 0.000_25, 0.002


SUPPORTED_BACKENDS = ("sqlite", "postgresql", "postgres")


def normalise_url(database_url: str) -> URL:
    """The URL with the driver we ship: ``postgresql://`` means psycopg 3. ``DatabaseUnusable``
    if it is not a URL at all or names another database: every command then says so in one
    line, where SQLAlchemy's own errors (no such dialect, no MySQLdb) ended in a traceback."""
    from kernel.wording.operator import database_url_unsupported

    try:
        url = make_url(database_url)
    except ArgumentError as exc:
        raise DatabaseUnusable(database_url_unsupported(None, first_line(exc))) from None
    backend = url.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise DatabaseUnusable(database_url_unsupported(shown_url(url), f"a {backend} URL"))
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def _created(url: URL, **kwargs: Any) -> Engine:
    """``create_engine``; ``DatabaseUnusable`` if the URL names a driver that is not installed
    or SQLAlchemy does not know (``postgresql+asyncpg``, ``sqlite+pysqlcipher``)."""
    try:
        return create_engine(url, **kwargs)
    except (ImportError, NoSuchModuleError) as exc:
        from kernel.wording.operator import database_url_unsupported

        raise DatabaseUnusable(database_url_unsupported(
            shown_url(url), f"no driver for {url.drivername}: {first_line(exc)}")) from None


def open_engine(database_url: str, *, data_dir: Path | None = None,
                ping_idle_s: float = PG_PING_IDLE_S) -> Engine:
    """An engine for ``database_url``; an empty URL means SQLite at ``data_dir/marac.db``.

    SQLite gets WAL, foreign keys, a busy timeout and ``BEGIN IMMEDIATE`` transactions (writers
    queue for the lock up front instead of failing mid-transaction); the file's folder is
    created. PostgreSQL URLs written ``postgresql://`` use the psycopg 3 driver; a pooled
    connection idle for ``ping_idle_s`` is pinged before use (``_ping_when_idle``).
    """
    if not database_url:
        if data_dir is None:
            raise ValueError("give a database URL or a data directory")
        database_url = f"sqlite:///{data_dir / 'marac.db'}"
    url = normalise_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    # A host that does not answer must fail a connection within seconds, not the kernel's
    # minutes: the worker's outage check and the SMTP listener's 451 depend on it.
    # Up to 40 connections: one per worker (MARAC_WORKERS, at most 32) besides the listener,
    # heartbeat, outbox, scheduler and IMAP threads; two processes stay within PostgreSQL's
    # default 100.
    engine = _created(url, pool_size=PG_POOL_SIZE, max_overflow=PG_POOL_OVERFLOW,
                           connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S})
    _ping_when_idle(engine, ping_idle_s)
    return engine


def _ping_when_idle(engine: Engine, idle_s: float) -> None:
    """Ping a pooled PostgreSQL connection before use if it sat idle for ``idle_s`` or more.

    SQLAlchemy's pre-ping pings at every checkout: three round trips per message, since the
    worker claims, checks and records in three transactions (issue 14). A connection given
    back moments ago is as alive as a ping would show. One that dropped within that moment (a
    server restart) fails its statement instead; SQLAlchemy then discards the pool's
    connections and the worker retries the message, as for any outage.
    """
    dialect = engine.dialect

    def mark(_dbapi_connection: Any, record: Any, *_args: Any) -> None:
        record.info[_USED_AT] = time.monotonic()

    def ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        used_at = record.info.get(_USED_AT)  # never unmarked as far as we know: then ping
        if used_at is not None and time.monotonic() - used_at < idle_s:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                # Like pre-ping: this and every older pooled connection are discarded.
                raise InvalidatePoolError() from error
            raise

    # Marked when made and when given back (the last moment it is known to work). The
    # record's info is emptied when its connection is closed or discarded; a new connection
    # is marked as it is made.
    event.listen(engine, "connect", mark)
    event.listen(engine, "checkin", mark)
    event.listen(engine, "checkout", ping)


def _sqlite_engine(url: URL) -> Engine:
    kwargs: dict[str, Any] = {
        "connect_args": {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    }
    database = _sqlite_path(url)
    if database is None:
        # One shared connection, or every session would see its own empty database.
        kwargs["poolclass"] = StaticPool
    else:
        _make_folder(database)
    engine = _created(url, **kwargs)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def sqlite_file(engine: Engine) -> Path | None:
    """The SQLite database's file; None for PostgreSQL or a database in memory."""
    return _sqlite_path(engine.url) if engine.dialect.name == "sqlite" else None


def _sqlite_path(url: URL) -> Path | None:
    """A SQLite URL's file, None in memory: one answer for the engine's pool and folder and
    for the outbox's lock beside the file (store.outbox_turn), so that they cannot differ."""
    if url.database in (None, "", ":memory:"):
        return None
    return Path(url.database).expanduser()


def _make_folder(database: Path) -> None:
    """The folder of a SQLite file, made if missing; ``DatabaseUnusable`` if it cannot be (a
    file in the way, no permission)."""
    try:
        database.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        from kernel.wording.operator import database_folder_unusable

        raise DatabaseUnusable(database_folder_unusable(
            str(database.parent), str(database), exc.strerror or first_line(exc))) from exc


def _sqlite_on_connect(dbapi_connection: Any, record: Any) -> None:
    # Take transaction control from the sqlite3 module (it skips BEGIN before SELECT and
    # SAVEPOINT), so savepoints and transactional DDL work; see _sqlite_on_begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # Every commit flushed to disk before it returns (WAL's own default is not relied
        # on): what the SMTP listener stores it has answered 250 for.
        cursor.execute(f"PRAGMA synchronous={_SYNC_NOW}")
        record.info[_SYNC] = _SYNC_NOW
    finally:
        cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    # IMMEDIATE takes the write lock at BEGIN: a reader that later writes cannot find its
    # snapshot stale (SQLITE_BUSY_SNAPSHOT, not retried by busy_timeout). A transaction that
    # only reads (health, monitoring) says so, and must not queue behind a long writer.
    options = connection.get_execution_options()
    sync = _SYNC_LATER if options.get(FLUSH_LATER, False) else _SYNC_NOW
    if connection.info.get(_SYNC) != sync:  # set between transactions, not in one
        connection.exec_driver_sql(f"PRAGMA synchronous={sync}")
        connection.info[_SYNC] = sync
    if options.get(READ_ONLY, False):
        connection.exec_driver_sql("BEGIN DEFERRED")
    else:
        _begin_immediate(connection)


def _begin_immediate(connection: Any) -> None:
    """BEGIN IMMEDIATE, waiting for SQLite's write lock in short steps of our own.

    SQLite's busy handler sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50 and then 100 ms
    between tries, so a writer that found the lock taken slept on for tens of milliseconds
    after it was free. In a burst of 440 returns the workers, the spool's mover and the
    outbox waited 23 s in all at BEGIN (p90 9 ms, up to 1.3 s) for a burst 10 s long (issue
    14). Here the lock is tried again after 0.25 ms, doubling to at most 2 ms, until the
    connection's busy timeout has passed; then BEGIN is run once more the usual way, so that
    the error is SQLAlchemy's as before ("database is locked", a transient error).
    """
    raw = connection.connection.dbapi_connection
    # The connection's own timeout, read at its first BEGIN (after every connect hook has
    # set it) and kept with it: not asked again at every transaction.
    timeout_ms = connection.info.get(_BUSY_MS)
    if timeout_ms is None:
        timeout_ms = connection.info[_BUSY_MS] = int(
            raw.execute("PRAGMA busy_timeout").fetchone()[0])
    raw.execute("PRAGMA busy_timeout=0")
    try:
        if not _poll_for_write_lock(raw, deadline=time.monotonic() + timeout_ms / 1000):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        raw.execute(f"PRAGMA busy_timeout={timeout_ms}")


def _poll_for_write_lock(raw: Any, *, deadline: float) -> bool:
    """True once BEGIN IMMEDIATE succeeded; False when the lock stayed taken until
    ``deadline``, or BEGIN failed for another reason (the caller runs it again to say why)."""
    pause = _FIRST_PAUSE_S
    while True:
        try:
            raw.execute("BEGIN IMMEDIATE")
            return True
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                return False
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, _LONGEST_PAUSE_S)


def alembic_config() -> Config:
    """Alembic's configuration, built in code: the scripts ship inside the package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision``; quick and safe to call at every start.

    On PostgreSQL a transaction-level advisory lock makes concurrent starts take turns, so two
    processes never both try to create the tables.
    """
    from alembic import command
    from alembic.util import CommandError

    config = alembic_config()
    with connected(engine) as connection, connection.begin():
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK_KEY}
            )
        config.attributes["connection"] = connection
        try:
            command.upgrade(config, revision)
        except CommandError:
            _refuse_unknown_schema(connection, config)
            raise
    logger.debug("database schema at %s", revision)


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with connected(engine) as connection:
        return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def connected(engine: Engine) -> Iterator[Connection]:
    """A connection to the database; ``DatabaseUnusable`` if none can be made (the server
    does not answer, refuses us, or has no such database; a SQLite file cannot be opened)."""
    try:
        connection = engine.connect()
    except DBAPIError as exc:
        from kernel.wording.operator import database_unusable

        raise DatabaseUnusable(database_unusable(shown_url(engine.url),
                                                 first_line(exc.orig or exc))) from exc
    with connection:
        yield connection


def _refuse_unknown_schema(connection: Connection, config: Config) -> None:
    """``DatabaseUnusable`` if the database is at a revision no migration of this release
    names (a newer release upgraded it); otherwise alembic's error stands."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from kernel.wording.operator import database_schema_newer

    script = ScriptDirectory.from_config(config)
    known = {migration.revision for migration in script.walk_revisions()}
    unknown = [revision for revision in MigrationContext.configure(connection)
               .get_current_heads() if revision not in known]
    if unknown:
        raise DatabaseUnusable(database_schema_newer(
            shown_url(connection.engine.url), unknown, str(script.get_current_head())))


def shown_url(url: URL) -> str:
    """The URL as an operator may see it in a message or a log: without its password."""
    return url.render_as_string(hide_password=True)


def first_line(exc: BaseException) -> str:
    """An error in one line, for logs that must not become a traceback per retry."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (replies are built after it),
    and share what they read of the registry until it changes (store.registry_version)."""
    from store.registry_version import INFO_KEY, RegistryReads

    return sessionmaker(engine, expire_on_commit=False, info={INFO_KEY: RegistryReads()})


@dataclass(frozen=True)
class Store:
    """The engine and its session factory, built once at the entry point and passed in."""

    engine: Engine
    sessions: sessionmaker[Session]

    @classmethod
    def open(
        cls, database_url: str, *, data_dir: Path | None = None, upgrade_schema: bool = True
    ) -> Store:
        """Open the database and, by default, bring it up to the current schema."""
        engine = open_engine(database_url, data_dir=data_dir)
        if upgrade_schema:
            upgrade(engine)
        return cls(engine, session_factory(engine))

    @classmethod
    def from_settings(cls, settings: DatabaseSettings, *, upgrade_schema: bool = True) -> Store:
        return cls.open(
            settings.database_url, data_dir=settings.data_dir, upgrade_schema=upgrade_schema
        )

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on any exception.

        ``durable=False``, for state that is safe to lose: on SQLite the commit returns
        before it is flushed to disk (WAL with synchronous=NORMAL), saving a flush. A power
        cut may undo such a commit, never corrupt the database; the next durable commit
        flushes it too, being later in the same log. The worker's claim on a message is such
        state: undone, the message is simply claimed again (issue 14). PostgreSQL ignores it.
        """
        if durable or self.engine.dialect.name != "sqlite":
            with self.sessions.begin() as session:
                yield session
            return
        relaxed = self.engine.execution_options(**{FLUSH_LATER: True})
        with self.sessions(bind=relaxed) as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction that only reads: on SQLite it never waits for a writer (a health
        check must answer while a worker records a long file).

        On PostgreSQL it is a READ ONLY transaction (a write in it fails), ended by COMMIT,
        which for it writes nothing: a ROLLBACK makes psycopg forget the connection's prepared
        statements, and every message's checking ahead then cost each later statement its
        parse and plan again, about a third of the server's work per message (issue 14).
        On SQLite it is rolled back.
        """
        if self.engine.dialect.name == "postgresql":
            reader = self.engine.execution_options(postgresql_readonly=True)
            with self.sessions(bind=reader) as session, session.begin():
                yield session
            return
        reader = self.engine.execution_options(**{READ_ONLY: True})
        with self.sessions(bind=reader) as session, session.begin():
            yield session
            session.rollback()

    def peeking(self) -> AbstractContextManager[Session]:
        """A session for looks whose answers are checked again before anything is done with
        them (the outbox's what-is-due, checking a message's files ahead), that only read. On
        PostgreSQL each statement runs on its own, with no transaction around it
        (autocommit), so each may see a moment later than the one before: no BEGIN and
        COMMIT, two round trips saved (issue 14). Elsewhere it is ``reading``."""
        return self._autocommit_or(self.reading)

    def standalone(self) -> AbstractContextManager[Session]:
        """A session for writes that are each one statement guarding itself (the worker
        taking its next message, ``store.queue.take_next_queued``). On PostgreSQL each
        commits on its own (autocommit): no BEGIN and COMMIT round trips (issue 14). On
        SQLite, where a statement costs no round trip, it is ``transaction(durable=False)``:
        what such a statement writes is safe to lose, so the flush can wait."""
        return self._autocommit_or(partial(self.transaction, durable=False))

    def _autocommit_or(self, elsewhere: Callable[[], AbstractContextManager[Session]]
                       ) -> AbstractContextManager[Session]:
        """On PostgreSQL a session in autocommit; on other databases ``elsewhere()``."""
        if self.engine.dialect.name != "postgresql":
            return elsewhere()
        return self.sessions(bind=self.engine.execution_options(isolation_level="AUTOCOMMIT"))

    def close(self) -> None:
        self.engine.dispose()
