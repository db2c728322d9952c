"""A small story for the history, export and withdrawal tests (issue 13), recorded through the
store's real writers on either database: Cara sends Croydon's Q3 (two meetings) on 1 Nov, sends
a corrected 3 Oct on 5 Nov (held), and confirms it on 6 Nov."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from store.db import Store
from store.held import confirm_held
from tests.store_support import flag_as_validation_would, load_registry, record, report, row

OCT3, OCT17 = date(2024, 10, 3), date(2024, 10, 17)
FIRST_AT = datetime(2024, 11, 1, 9, 0, tzinfo=UTC)
CORRECTED_AT = datetime(2024, 11, 5, 9, 0, tzinfo=UTC)
CONFIRMED_AT = datetime(2024, 11, 6, 14, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Story:
    url: str
    first: int  # submission ids
    corrected: int


def tell(url: str) -> Story:
    """Record the story in the (upgraded, empty) database at ``url``."""
    store = Store.open(url)
    try:
        with store.sessions() as session:
            load_registry(session)
            first = record(
                session,
                report(row(2, "Croydon", OCT3), row(3, "Croydon", OCT17, ref_idva=None)),
                now=FIRST_AT,
            )
            session.commit()
            corrected = report(row(2, "Croydon", OCT3, cases=14), file="croydon-q3-fixed.xlsx")
            flag_as_validation_would(session, corrected)
            second = record(session, corrected, now=CORRECTED_AT)
            session.commit()
            assert second.rows_held == 1
            confirmed = confirm_held(session, sender="cara@example.org", now=CONFIRMED_AT)
            assert confirmed == 1
            session.commit()
            return Story(url, first.id, second.id)
    finally:
        store.close()


def told_for_cli(db_url: str, tmp_path_factory: pytest.TempPathFactory,
                 monkeypatch: pytest.MonkeyPatch) -> Story:
    """The story, with the command line pointed at its database (a test module's fixture)."""
    told = tell(db_url)
    monkeypatch.setenv("MARAC_DATABASE_URL", db_url)
    monkeypatch.setenv("MARAC_TIMEZONE", "Europe/London")
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))  # no stray .env is read
    return told
