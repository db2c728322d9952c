"""A gentle start (issue 13): with MARAC_TRACK_FROM unset, tracking starts at the first quarter
that ends after the store was created (recorded at creation, store_facts), ``run`` says so at
start, and no reminder or escalation goes for a quarter before it."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from bot.app import _open_store
from bot.cli import main
from bot.settings import Settings
from kernel import wording
from kernel.quarters import Quarter
from store.db import Store, alembic_config, open_engine
from store.facts import created_at, first_quarter_ending_after, track_start
from store.types import utcnow
from tests.reminders_support import backdate_store, load_four_nations

LONDON = "Europe/London"


@pytest.mark.parametrize(
    ("moment", "label"),
    [
        (datetime(2024, 12, 31, 23, 59, tzinfo=UTC), "Q3 2024/25"),  # the quarter's last minute
        (datetime(2025, 1, 1, 0, 0, tzinfo=UTC), "Q4 2024/25"),
        # 23:30 UTC on 30 June is 00:30 on 1 July in London (summer time): Q2.
        (datetime(2025, 6, 30, 23, 30, tzinfo=UTC), "Q2 2025/26"),
        (datetime(2025, 6, 30, 22, 59, tzinfo=UTC), "Q1 2025/26"),
    ],
)
def test_the_first_quarter_ending_after_creation(moment: datetime, label: str) -> None:
    assert first_quarter_ending_after(moment, LONDON).label == label


def test_creation_is_recorded_when_the_store_is_made(db_store: Store) -> None:
    with db_store.transaction() as session:
        created = created_at(session)
        assert utcnow() - timedelta(minutes=10) < created <= utcnow()
        start = track_start(session, track_from=None, timezone=LONDON)
        assert (start.quarter, start.configured) == (
            first_quarter_ending_after(created, LONDON),
            False,
        )
        configured = Quarter.parse("Q1 2024/25", today=date(2025, 1, 1))
        assert configured is not None
        start = track_start(session, track_from=configured, timezone=LONDON)
        assert (start.quarter, start.configured, start.created_on) == (configured, True, None)


def test_an_older_store_dates_from_its_first_submission(tmp_path: Path) -> None:
    """A store made before the facts table: its first recorded submission is its best age."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = open_engine(url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0005_claim_leases")
        connection.execute(
            text(
                "INSERT INTO submissions (channel, sender, received_at, recorded_at, filename, "
                "sha256, raw, confirm, status, rows_total, rows_accepted, rows_rejected, "
                "rows_held, rows_unchanged) VALUES ('email', 'a@b.example', '2024-05-02 08:00:00', "
                "'2024-05-02 08:00:01', 'f.xlsx', 'x', x'00', 0, 'accepted', 0, 0, 0, 0, 0)"
            )
        )
    engine.dispose()
    store = Store.open(url)
    try:
        with store.transaction() as session:
            assert created_at(session) == datetime(2024, 5, 2, 8, 0, 1, tzinfo=UTC)
    finally:
        store.close()


def _remind(day: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    capsys.readouterr()
    assert main(["remind", "--dry-run", "--today", day, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert isinstance(result, list)
    return result


def test_no_reminder_or_escalation_before_the_first_tracked_quarter(
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MARAC_DATABASE_URL", db_url)
    monkeypatch.setenv("MARAC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("MARAC_TRACK_FROM", raising=False)
    monkeypatch.chdir(tmp_path)
    store = Store.open(db_url)
    with store.sessions() as session:
        load_four_nations(session)
        backdate_store(session, date(2024, 10, 15))  # installed during Q3 2024/25
        session.commit()
    store.close()
    # Q2 2024/25 was collected before the bot: on its overdue day nothing goes...
    assert _remind("2024-10-29", capsys) == []
    # ...though the same day chases it when MARAC_TRACK_FROM says Q2 is tracked.
    monkeypatch.setenv("MARAC_TRACK_FROM", "Q2 2024/25")
    assert {(r["quarter"], r["stage"]) for r in _remind("2024-10-29", capsys) if r["marac"]} == {
        ("Q2 2024/25", "overdue")
    }
    monkeypatch.delenv("MARAC_TRACK_FROM")
    # Q3, the first tracked quarter: its stages go, and its overdue is plain overdue, never
    # "second quarter missing" (Q2 was collected the old way).
    ended = _remind("2025-01-02", capsys)
    assert ended and {(r["quarter"], r["stage"]) for r in ended} == {
        ("Q3 2024/25", "quarter-ended")
    }
    overdue = _remind("2025-01-29", capsys)
    assert {r["stage"] for r in overdue if r["marac"]} == {"overdue"}


def test_run_says_where_tracking_starts(
    db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    settings = Settings(database_url=db_url, data_dir=tmp_path / "data")
    _open_store(settings).close()
    now = datetime.now(UTC)
    quarter = first_quarter_ending_after(now, LONDON)
    expected = wording.tracking_from(quarter.label, quarter.range_text(), now.astimezone().date())
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert expected in warnings
    assert "the first quarter ending after this store was created" in expected
    caplog.clear()
    configured = Quarter.parse("Q1 2024/25", today=date(2025, 1, 1))
    assert configured is not None
    _open_store(
        Settings(database_url=db_url, data_dir=tmp_path / "data", track_from=configured)
    ).close()
    assert wording.tracking_from("Q1 2024/25", configured.range_text(), None) in [
        r.getMessage() for r in caplog.records
    ]
