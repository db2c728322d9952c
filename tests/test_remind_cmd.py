"""`marac-bot remind`, run as a real process against a database with the demo registry and
some Q3 2024/25 returns: the dry run lists exactly the coordinators of the Maracs missing Q3,
the real run emails them, and running it again sends nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from kernel.quarters import Quarter
from store.db import Store
from store.models import Contact, Marac, Role
from store.registry import load_demo_registry
from tests.reminders_support import backdate_store, parse_email, upload

REPO = Path(__file__).resolve().parent.parent
Q2, Q3 = Quarter(2024, 2), Quarter(2024, 3)
UPLOADED_Q3 = ("Croydon", "Camden", "Barnet", "Hackney", "Westminster")


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARAC_")}
    env.update(
        MARAC_DATABASE_URL=f"sqlite:///{tmp_path / 'data' / 'marac.db'}",
        MARAC_DATA_DIR=str(tmp_path / "data"),
        MARAC_MAILBOX_ADDRESS="marac@data.example",
        PYTHONPATH=str(REPO),
    )
    return env


def _remind(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "remind", *args],
        cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True, timeout=120,
    )


@pytest.fixture
def missing_q3_coordinators(tmp_path: Path) -> set[str]:
    """Load the demo registry and returns; the coordinators of Maracs without Q3 meetings."""
    store = Store.open(_env(tmp_path)["MARAC_DATABASE_URL"])
    with store.sessions() as session:
        assert load_demo_registry(session)
        backdate_store(session)  # collecting since before Q3 2024/25
        for marac in UPLOADED_Q3:
            upload(session, marac, Q3, on=date(2024, 12, 20))
        upload(session, "Lambeth", Q2, on=date(2024, 10, 20))  # Q2 only: still missing Q3
        session.commit()
        query = (
            select(Contact.email)
            .join(Contact.maracs)
            .where(Contact.role == Role.COORDINATOR.value, Marac.name.not_in(UPLOADED_Q3))
        )
        coordinators = set(session.scalars(query))
    store.close()
    assert len(coordinators) == 33 - len(UPLOADED_Q3)
    return coordinators


def _outbox_files(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "data" / "outbox"
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def test_remind_dry_run_then_for_real_then_nothing(
    tmp_path: Path, missing_q3_coordinators: set[str]
) -> None:
    dry = _remind(tmp_path, "--dry-run", "--today", "2025-01-02", "--json")
    assert dry.returncode == 0, dry.stderr
    listed = json.loads(dry.stdout)
    assert {d["contact"] for d in listed} == missing_q3_coordinators
    assert len(listed) == len(missing_q3_coordinators)
    assert {(d["quarter"], d["stage"], d["channel"], d["sent"]) for d in listed} == {
        ("Q3 2024/25", "quarter-ended", "email", False)}
    assert set(listed[0]) >= {"marac", "quarter", "stage", "contact", "channel", "sent"}
    assert _outbox_files(tmp_path) == []

    real = _remind(tmp_path, "--today", "2025-01-02", "--json")
    assert real.returncode == 0, real.stderr
    sent = json.loads(real.stdout)
    assert {d["contact"] for d in sent} == missing_q3_coordinators
    assert all(d["sent"] for d in sent)
    emailed = [parse_email(f.read_bytes()) for f in _outbox_files(tmp_path)]
    assert sorted(m["To"] for m in emailed) == sorted(missing_q3_coordinators)
    assert all("Q3 2024/25" in m["Subject"] for m in emailed)

    again = _remind(tmp_path, "--today", "2025-01-02", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == []
    assert len(_outbox_files(tmp_path)) == len(emailed)


def test_remind_text_output_and_usage_errors(
    tmp_path: Path, missing_q3_coordinators: set[str]
) -> None:
    text = _remind(tmp_path, "--dry-run", "--today", "2025-01-02")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.strip().splitlines()
    assert len(lines) == len(missing_q3_coordinators) + 1
    assert "Lambeth | Q3 2024/25 | quarter-ended |" in text.stdout
    assert "Croydon |" not in text.stdout
    assert "dry run" in lines[-1]
    # A Saturday: nothing is due, and the summary says so.
    quiet = _remind(tmp_path, "--dry-run", "--today", "2025-01-04")
    assert quiet.returncode == 0 and len(quiet.stdout.strip().splitlines()) == 1
    bad = _remind(tmp_path, "--today", "2 January 2025")
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr
