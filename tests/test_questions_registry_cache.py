"""The question engine's registry snapshot is built once and reused while the registry stays
as it is, and built afresh as soon as any process changes it (issue 14: building it for every
question cost more than answering)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from handlers.questions.registry import RegistrySnapshot
from store.db import Store
from store.registry import import_csv
from tests.store_support import load_registry


def test_the_snapshot_is_reused_until_another_session_changes_the_registry(
    db_store: Store,
) -> None:
    with db_store.sessions() as session:
        load_registry(session)
        first = RegistrySnapshot.load(session)
        assert RegistrySnapshot.load(session) is first
        assert first.maracs["Kirklees"].population == 180000

    # Another connection (as another process would) changes a population and an alias.
    with db_store.engine.begin() as conn:
        conn.execute(text("UPDATE maracs SET adult_female_population = 1 WHERE name = 'Kirklees'"))
        conn.execute(text("""UPDATE maracs SET aliases = '["Kirk"]' WHERE name = 'Leeds'"""))
    with db_store.sessions() as session:
        changed = RegistrySnapshot.load(session)
        assert changed is not first
        assert changed.maracs["Kirklees"].population == 1
        assert changed.marac("kirk") is changed.maracs["Leeds"]
        assert first.marac("kirk") is None  # the old snapshot is left as it was


def test_a_retired_marac_drops_out_at_once(db_session: Session) -> None:
    load_registry(db_session)
    before = RegistrySnapshot.load(db_session)
    assert "Leeds" in before.maracs
    db_session.execute(text("UPDATE maracs SET retired_at = CURRENT_TIMESTAMP "
                            "WHERE name = 'Leeds'"))
    after = RegistrySnapshot.load(db_session)
    assert "Leeds" not in after.maracs and "Croydon" in after.maracs


def test_a_marac_added_by_import_is_known_to_the_next_question(db_session: Session) -> None:
    load_registry(db_session)
    assert RegistrySnapshot.load(db_session).marac("wakefield") is None
    result = import_csv(db_session, "\n".join([
        "name,aliases,police_force_area,region,nation,local_authorities,adult_female_population",
        "Wakefield,,West Yorkshire Police,Yorkshire and the Humber,England,Wakefield Council,",
    ]))
    assert result.ok, result.summary()
    found = RegistrySnapshot.load(db_session).marac("wakefield")
    assert found is not None and found.name == "Wakefield"
