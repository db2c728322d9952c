"""The schema: migrations give exactly the models' tables, on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib
import threading
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, Integer, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from bot.settings import Settings
from store.all_models import metadata
from store.db import Store, alembic_config, current_revision, normalise_url, open_engine, upgrade
from store.models import Marac, Meeting, MeetingVersion, Submission
from validation.columns import COUNT_KEYS


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def test_upgrade_from_empty_gives_exactly_the_models_schema(db_engine: Engine) -> None:
    with db_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []
    assert current_revision(db_engine) == _head()


def test_upgrade_again_is_a_no_op(db_engine: Engine) -> None:
    before = set(inspect(db_engine).get_table_names())
    upgrade(db_engine)
    assert set(inspect(db_engine).get_table_names()) == before
    assert {"maracs", "contacts", "meetings", "meeting_versions", "held_changes"} <= before


def test_initial_revision_id_is_stable() -> None:
    # store/queue.py's 0002_queues names it as its down_revision.
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_revision("0001_initial").down_revision is None


def test_count_columns_follow_the_template() -> None:
    # The migration keeps its own frozen copy; it must match the template it was written for.
    initial = importlib.import_module("store.migrations.versions.0001_initial")
    assert initial.COUNT_KEYS == COUNT_KEYS
    columns = MeetingVersion.__table__.columns
    for key in COUNT_KEYS:
        assert isinstance(columns[key].type, Integer) and columns[key].nullable, key


def _meeting_with_submission(session: Session) -> tuple[Meeting, Submission]:
    marac = Marac(
        name="Croydon",
        name_key="croydon",
        police_force_area="Metropolitan Police",
        region="London",
        nation="England",
    )
    submission = Submission(
        channel="cli",
        sender="a@example.org",
        filename="f.xlsx",
        sha256="0",
        raw=b"",
        status="accepted",
        received_at=datetime.now(UTC),
    )
    meeting = Meeting(marac=marac, meeting_date=date(2024, 10, 3), quarter="Q3 2024/25")
    session.add_all([marac, submission, meeting])
    session.flush()
    return meeting, submission


def _version(meeting: Meeting, submission: Submission, n: int, current: bool) -> MeetingVersion:
    return MeetingVersion(
        meeting_id=meeting.id,
        version=n,
        is_current=current,
        submission_id=submission.id,
        recorded_at=datetime.now(UTC),
        recorded_by="a@example.org",
        cases=n,
    )


def test_a_second_current_version_is_refused_by_the_database(db_session: Session) -> None:
    meeting, submission = _meeting_with_submission(db_session)
    db_session.add_all(
        [_version(meeting, submission, 1, False), _version(meeting, submission, 2, True)]
    )
    db_session.flush()  # any number of old versions beside one current one
    db_session.add(_version(meeting, submission, 3, True))
    with pytest.raises(IntegrityError):
        db_session.flush()


def test_the_same_meeting_twice_is_refused_by_the_database(db_session: Session) -> None:
    meeting, _ = _meeting_with_submission(db_session)
    db_session.add(
        Meeting(marac_id=meeting.marac_id, meeting_date=meeting.meeting_date, quarter="Q3 2024/25")
    )
    with pytest.raises(IntegrityError):
        db_session.flush()


def test_times_come_back_as_aware_utc(db_session: Session) -> None:
    _, submission = _meeting_with_submission(db_session)
    london = datetime(2024, 7, 1, 9, 30, tzinfo=ZoneInfo("Europe/London"))
    submission.received_at = london
    db_session.commit()
    db_session.expire_all()
    stored = db_session.scalars(select(Submission)).one().received_at
    assert stored == london and stored.tzinfo == UTC and stored.hour == 8


def test_a_naive_time_is_refused(db_session: Session) -> None:
    _, submission = _meeting_with_submission(db_session)
    submission.received_at = datetime(2024, 7, 1, 9, 30)
    with pytest.raises(StatementError, match="naive datetime"):
        db_session.flush()


def test_sqlite_gets_wal_foreign_keys_and_its_folder(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'new' / 'dir' / 'marac.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    assert (tmp_path / "new" / "dir").is_dir()
    engine.dispose()


def test_postgresql_urls_use_psycopg_3() -> None:
    assert normalise_url("postgresql://u@db.example/marac").drivername == "postgresql+psycopg"
    assert normalise_url("postgres://u@db.example/marac").drivername == "postgresql+psycopg"
    assert normalise_url("sqlite:///x.db").drivername == "sqlite"


def test_store_from_settings_creates_and_upgrades(tmp_path: Path) -> None:
    settings = Settings(database_url="", data_dir=tmp_path / "marac-data")
    store = Store.from_settings(settings)
    try:
        assert (tmp_path / "marac-data" / "marac.db").is_file()
        assert current_revision(store.engine) == _head()
        with store.transaction() as session:
            assert session.scalars(select(Marac)).all() == []
    finally:
        store.close()


@pytest.mark.postgres
def test_concurrent_upgrades_take_turns_on_postgresql(pg_schema_url: str) -> None:
    engines = [open_engine(pg_schema_url) for _ in range(3)]
    barrier = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def start(engine: Engine) -> None:
        barrier.wait()
        try:
            upgrade(engine)
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert current_revision(engines[0]) == _head()
    with engines[0].connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    for engine in engines:
        engine.dispose()
