"""A database the bot cannot use at all: one line naming MARAC_DATABASE_URL and exit 2 from
every command (interface.md: bad configuration), never a traceback; ``validate`` goes on
without the registry. The database is left as it was."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.util import CommandError
from sqlalchemy import text

from store.db import DatabaseUnusable, Store, alembic_config, open_engine, upgrade
from tests.run_e2e_support import bot_environment

FUTURE = "0099_from_a_newer_release"
RETURN = Path(__file__).parent / "fixtures" / "clean_libreoffice.xlsx"


def newest_known() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


@pytest.fixture
def newer_database(tmp_path: Path) -> Path:
    """A SQLite database that a newer release has upgraded past our newest migration."""
    path = tmp_path / "data" / "marac.db"
    Store.open(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = ?", (FUTURE,))
    return path


def schema_of(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        (revision,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(revision)


def bot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = bot_environment({"MARAC_DATA_DIR": str(tmp_path / "data"),
                                   "MARAC_SMTP_LISTEN": "127.0.0.1:0",
                                   "MARAC_HTTP_LISTEN": "127.0.0.1:0", **env})
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path,
                          env=environment, capture_output=True, text=True, timeout=120)


def said_once(done: subprocess.CompletedProcess[str]) -> str:
    """The one line of standard error a refused command prints (``run`` may log its SMTP
    listener's start first: it takes mail before the database is opened)."""
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("marac-bot:")]
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.mark.parametrize("command", [["ask", "has Croydon uploaded Q3?"], ["db", "upgrade"],
                                     ["history", "Croydon"], ["run"]])
def test_a_database_from_a_newer_release_is_named_and_left_alone(
        tmp_path: Path, newer_database: Path, command: list[str]) -> None:
    done = bot(tmp_path, *command)
    line = said_once(done)
    assert line.startswith("marac-bot: configuration error: MARAC_DATABASE_URL: ")
    assert str(newer_database) in line
    assert f"at schema {FUTURE}, which this release does not know" in line
    assert f"(its newest is {newest_known()})" in line
    assert done.returncode == 2
    assert schema_of(newer_database) == FUTURE


def test_validate_goes_on_without_the_registry(tmp_path: Path, newer_database: Path) -> None:
    done = bot(tmp_path, "validate", str(RETURN))
    assert "Traceback" not in done.stderr
    assert "validating without the registry" in done.stderr
    assert FUTURE in done.stderr
    assert "Rows:" in done.stdout
    assert done.returncode in (0, 1)  # the file's own verdict
    assert schema_of(newer_database) == FUTURE


def refused_upgrade(url: str) -> str:
    """What ``upgrade`` says when it cannot use the database at ``url``."""
    engine = open_engine(url)
    try:
        with pytest.raises(DatabaseUnusable) as raised:
            upgrade(engine)
    finally:
        engine.dispose()
    return str(raised.value)


def test_upgrade_refuses_a_newer_schema_and_changes_nothing(newer_database: Path) -> None:
    assert refused_upgrade(f"sqlite:///{newer_database}") == (
        f"MARAC_DATABASE_URL: the database sqlite:///{newer_database} is at schema {FUTURE}, "
        f"which this release does not know (its newest is {newest_known()}): a newer release "
        "has upgraded it. Run that release, or a later one; this one would misread the data.")
    assert schema_of(newer_database) == FUTURE


def test_any_other_migration_error_is_still_alembics(tmp_path: Path) -> None:
    """Only a revision this release does not know is turned into the operator's message: an
    error of ours in a migration stays loud."""
    engine = open_engine(f"sqlite:///{tmp_path / 'marac.db'}")
    try:
        upgrade(engine)
        with pytest.raises(CommandError) as raised:
            upgrade(engine, "0042_no_such_migration")
        assert not isinstance(raised.value, DatabaseUnusable)
    finally:
        engine.dispose()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize("command", [["ask", "who is missing Q2?"], ["run"]])
def test_a_server_that_does_not_answer_is_named_without_its_password(
        tmp_path: Path, command: list[str]) -> None:
    url = f"postgresql://marac:s3cret-word@127.0.0.1:{closed_port()}/marac"
    done = bot(tmp_path, *command, MARAC_DATABASE_URL=url)
    line = said_once(done)
    assert "MARAC_DATABASE_URL: cannot open the database" in line
    assert "marac:***@127.0.0.1" in line
    assert "Connection refused" in line
    assert "s3cret-word" not in done.stderr + done.stdout
    assert done.returncode == 2


@pytest.mark.postgres
def test_a_database_the_server_does_not_have(tmp_path: Path, pg_database_url: str) -> None:
    from sqlalchemy.engine import make_url

    missing = make_url(pg_database_url).set(database="marac_no_such_database")
    done = bot(tmp_path, "history", "Croydon",
               MARAC_DATABASE_URL=missing.render_as_string(hide_password=False))
    line = said_once(done)
    assert 'database "marac_no_such_database" does not exist' in line
    assert done.returncode == 2


def test_a_sqlite_file_that_cannot_be_opened(tmp_path: Path) -> None:
    """A folder where the file should be: SQLite cannot open it as a database."""
    (tmp_path / "data" / "marac.db").mkdir(parents=True)
    done = bot(tmp_path, "ask", "has Croydon uploaded Q3?")
    line = said_once(done)
    assert "MARAC_DATABASE_URL: cannot open the database" in line
    assert "unable to open database file" in line
    assert done.returncode == 2


def test_connected_gives_a_working_connection(tmp_path: Path) -> None:
    from store.db import connected

    engine = open_engine(f"sqlite:///{tmp_path / 'marac.db'}")
    try:
        with connected(engine) as connection:
            assert connection.execute(text("SELECT 41 + 1")).scalar_one() == 42
    finally:
        engine.dispose()


@pytest.mark.parametrize("command", [["ask", "has Croydon uploaded Q3?"], ["run"]])
def test_a_data_folder_that_cannot_be_made_is_named(tmp_path: Path,
                                                    command: list[str]) -> None:
    """A file where the data folder should be: the database (and run's SMTP spool, which
    it opens first) cannot have a folder there."""
    (tmp_path / "in-the-way").write_text("a file, not a folder")
    folder = tmp_path / "in-the-way" / "data"
    done = bot(tmp_path, *command, MARAC_DATA_DIR=str(folder))
    line = said_once(done)
    assert line.startswith("marac-bot: configuration error: MARAC_DATA_DIR or "
                           f"MARAC_DATABASE_URL: cannot make the folder {folder} for {folder}/")
    assert line.endswith(": Not a directory")
    assert done.returncode == 2


def test_validate_needs_no_data_folder(tmp_path: Path) -> None:
    (tmp_path / "in-the-way").write_text("a file, not a folder")
    done = bot(tmp_path, "validate", str(RETURN),
               MARAC_DATA_DIR=str(tmp_path / "in-the-way" / "data"))
    assert done.stderr == ""
    assert "Rows:" in done.stdout and done.returncode == 0


def test_open_engine_names_the_folder_it_cannot_make(tmp_path: Path) -> None:
    (tmp_path / "in-the-way").write_text("a file, not a folder")
    database = tmp_path / "in-the-way" / "data" / "marac.db"
    with pytest.raises(DatabaseUnusable) as raised:
        open_engine(f"sqlite:///{database}")
    assert str(raised.value) == (
        f"MARAC_DATA_DIR or MARAC_DATABASE_URL: cannot make the folder {database.parent} for "
        f"{database}: Not a directory")


def test_a_server_refusing_us_is_named_in_process() -> None:
    message = refused_upgrade(f"postgresql://marac:s3cret-word@127.0.0.1:{closed_port()}/marac")
    assert message.startswith("MARAC_DATABASE_URL: cannot open the database "
                              "postgresql+psycopg://marac:***@127.0.0.1:")
    assert "Connection refused" in message and "s3cret-word" not in message
    assert "\n" not in message


def test_help_says_what_a_database_it_cannot_use_gives(tmp_path: Path) -> None:
    top = " ".join(bot(tmp_path, "--help").stdout.split())
    assert ("so does one that cannot use the database (a server that does not answer, a "
            "folder that cannot be made, a schema a newer release has upgraded), naming "
            "MARAC_DATABASE_URL. validate then checks without the registry.") in top
    run = " ".join(bot(tmp_path, "run", "--help").stdout.split())
    assert "2 on bad configuration or a database it cannot use." in run


UNSUPPORTED = {
    "bogus://x": "MARAC_DATABASE_URL: bogus://x cannot be used (a bogus URL)",
    "not a url": "MARAC_DATABASE_URL is not a URL (",
    "mysql://marac:s3cret-word@db/marac": "MARAC_DATABASE_URL: mysql://marac:***@db/marac "
                                          "cannot be used (a mysql URL)",
    "postgresql+asyncpg://marac:s3cret-word@db/marac": (
        "MARAC_DATABASE_URL: postgresql+asyncpg://marac:***@db/marac cannot be used (no "
        "driver for postgresql+asyncpg: "),
}
ONLY_OURS = ("only SQLite (sqlite:///PATH) and PostgreSQL (postgresql://USER@HOST/DATABASE) "
             "URLs are supported")


@pytest.mark.parametrize("command", [["run"], ["db", "upgrade"], ["remind", "--dry-run"]])
@pytest.mark.parametrize("url", sorted(UNSUPPORTED))
def test_a_url_of_another_database_or_none_is_named(tmp_path: Path, url: str,
                                                    command: list[str]) -> None:
    """SQLAlchemy's own errors (no such dialect, no MySQLdb, not a URL) used to end in a
    traceback and exit 1."""
    done = bot(tmp_path, *command, MARAC_DATABASE_URL=url)
    line = said_once(done)
    assert line.startswith(f"marac-bot: configuration error: {UNSUPPORTED[url]}")
    assert line.endswith(ONLY_OURS)
    assert "s3cret-word" not in done.stderr + done.stdout
    assert done.returncode == 2


@pytest.mark.parametrize("url", ["not a url", "mysql://marac:s3cret-word@db/marac"])
def test_validate_goes_on_without_a_database_it_cannot_name(tmp_path: Path, url: str) -> None:
    done = bot(tmp_path, "validate", str(RETURN), MARAC_DATABASE_URL=url)
    assert "Traceback" not in done.stderr
    assert "validating without the registry" in done.stderr and ONLY_OURS in done.stderr
    assert "Rows:" in done.stdout and done.returncode == 0


@pytest.mark.parametrize(("url", "driver"), [
    ("sqlite:///x.db", "sqlite"), ("sqlite+pysqlite:///x.db", "sqlite+pysqlite"),
    ("postgresql://h/d", "postgresql+psycopg"), ("postgres://h/d", "postgresql+psycopg"),
    ("postgresql+psycopg://h/d", "postgresql+psycopg")])
def test_sqlite_and_postgresql_urls_are_taken(url: str, driver: str) -> None:
    from store.db import normalise_url

    assert normalise_url(url).drivername == driver


@pytest.mark.parametrize("url", ["sqlitex:///x.db", "postgresq://h/d", "mssql://h/d", ""])
def test_any_other_url_is_refused_in_process(url: str) -> None:
    from store.db import normalise_url

    with pytest.raises(DatabaseUnusable, match="only SQLite"):
        normalise_url(url)
