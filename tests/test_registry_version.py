"""The registry is read once per change, not twice per submission (issue 14).

Triggers give ``registry_version`` a new token whenever ``maracs`` changes (migration 0011);
a store's sessions keep what they read of the registry while the token stays. These tests pin
what changes it, that a kept read is used as it is, and that no change is ever missed: an
import, an alias, a retirement, a deletion, a change made in plain SQL, and a change rolled
back after a read inside it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from store.db import Store
from store.meetings import _marac_index
from store.models import Marac
from store.registry_version import RegistryReads, kept_read, registry_version
from store.views import DbRegistryView
from tests.store_support import executed, load_registry


def _version(store: Store) -> str:
    with store.reading() as session:
        version = session.scalar(select(registry_version.c.version))
    assert version is not None
    return version


def _load(store: Store) -> DbRegistryView:
    with store.reading() as session:
        return DbRegistryView.load(session)


@pytest.mark.parametrize("change", [
    "UPDATE maracs SET aliases = '[\"Croydon MARAC\"]' WHERE name = 'Croydon'",
    "UPDATE maracs SET retired_at = CURRENT_TIMESTAMP WHERE name = 'Croydon'",
    "DELETE FROM maracs WHERE name = 'Croydon'",
    "INSERT INTO maracs (name, name_key, aliases, police_force_area, region, nation, "
    "local_authorities, is_demo) VALUES ('Sutton', 'sutton', '[]', 'Met', 'London', "
    "'England', '[]', false)",
])
def test_any_change_to_maracs_gives_a_new_version(db_store: Store, change: str) -> None:
    with db_store.sessions() as session:
        load_registry(session)
    before = _version(db_store)
    with db_store.transaction() as session:
        session.execute(text(change))
    assert _version(db_store) != before


def test_other_tables_leave_the_version_alone(db_store: Store) -> None:
    with db_store.sessions() as session:
        load_registry(session)
    before = _version(db_store)
    with db_store.transaction() as session:
        session.execute(text("UPDATE contacts SET name = 'Someone else'"))
    assert _version(db_store) == before


def test_a_kept_read_is_used_until_the_registry_changes(db_store: Store) -> None:
    with db_store.sessions() as session:
        load_registry(session)
    first = _load(db_store)
    assert first.resolve("Croydon") is not None
    with executed(db_store.engine) as seen:
        again = _load(db_store)
    assert again is first
    assert not [s for s in seen if "FROM maracs" in s]  # only the version was read
    with db_store.transaction() as session:
        session.execute(update(Marac).where(Marac.name == "Croydon")
                        .values(aliases=["Croydon MARAC"]))
    changed = _load(db_store)
    assert changed is not first
    assert changed.resolve("Croydon MARAC") is not None


def test_recording_keeps_its_own_read_of_the_ids(db_store: Store) -> None:
    with db_store.sessions() as session:
        load_registry(session)
    with db_store.reading() as session:
        index = _marac_index(session)
        assert _marac_index(session) is index
        assert index.get("Croydon") == session.scalar(
            select(Marac.id).where(Marac.name == "Croydon"))
        assert DbRegistryView.load(session).index is not index  # another purpose, kept apart


def test_a_change_rolled_back_after_a_read_inside_it_is_never_taken_for_the_registry(
    db_store: Store,
) -> None:
    """Read inside a transaction that changed maracs, then rolled back, then another change
    committed: a count would be back where the kept read was made; a token is not."""
    with db_store.sessions() as session:
        load_registry(session)
    with db_store.sessions() as session, session.begin():
        session.execute(update(Marac).where(Marac.name == "Croydon")
                        .values(aliases=["Never Committed"]))
        assert DbRegistryView.load(session).resolve("Never Committed") is not None
        session.rollback()
    with db_store.transaction() as session:
        session.execute(update(Marac).where(Marac.name == "Croydon")
                        .values(aliases=["Committed"]))
    view = _load(db_store)
    assert view.resolve("Committed") is not None
    assert view.resolve("Never Committed") is None


def test_sessions_without_kept_reads_read_afresh(db_store: Store) -> None:
    with db_store.sessions() as session:
        load_registry(session)
    plain = sessionmaker(db_store.engine)
    with plain() as session:
        assert DbRegistryView.load(session) is not DbRegistryView.load(session)


def test_without_the_version_row_every_read_is_made_afresh(db_store: Store) -> None:
    with db_store.sessions() as session:
        load_registry(session)
    with db_store.transaction() as session:
        session.execute(registry_version.delete())
    reads = RegistryReads()
    made: list[int] = []

    def read() -> int:
        made.append(len(made))
        return made[-1]

    with db_store.reading() as session:
        assert [reads.read(session, "test", read) for _ in range(2)] == [0, 1]
        assert kept_read(session, "test", lambda: "fresh") == "fresh"


def test_a_store_keeps_reads_for_all_its_sessions(db_store: Store) -> None:
    with db_store.sessions() as one, db_store.sessions() as two:
        reads = one.info["marac_registry_reads"]
        assert isinstance(reads, RegistryReads)
        assert two.info["marac_registry_reads"] is reads
    assert "marac_registry_reads" not in Session().info


def test_a_database_not_yet_upgraded_is_read_afresh(db_store: Store) -> None:
    """A command may open a database without upgrading it: before migration 0011 there is no
    version to read, and every read is made afresh rather than failing."""
    with db_store.sessions() as session:
        load_registry(session)
    with db_store.transaction() as session:
        registry_version.drop(session.connection())
    reads = RegistryReads()
    with db_store.reading() as session:
        assert reads.read(session, "test", lambda: 1) == 1
        assert reads.read(session, "test", lambda: 2) == 2
