"""MARAC_MAX_ATTACHMENTS (issue 10, finding 6): at most N files of one message are handled; the
rest are named in the reply and neither read nor recorded. Through the stored inbox and the
Worker on a real database, at the boundary: exactly N, and N + 1.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.settings import ConfigError, Settings
from kernel import wording
from store.db import Store
from store.models import Submission
from tests.dispatch_support import (
    MAILBOX,
    File,
    Mailroom,
    body_of,
    compose,
    fixture,
    load_registry,
)

LIMIT = 3
STRANGER = "stranger@elsewhere.example"


@pytest.fixture
def mailroom(db_store: Store, tmp_path: Path) -> Mailroom:
    with db_store.transaction() as session:
        load_registry(session)
    settings = Settings(data_dir=tmp_path / "data", mailbox_address=MAILBOX, smtp_listen=None,
                        http_listen=None, max_attachments=LIMIT)
    return Mailroom(db_store, settings)


# Distinct templates for the files that are handled (the same bytes twice in one message would
# be taken for a resend); the files past the limit are never read, so any bytes will do.
HANDLED = ("clean_libreoffice.xlsx", "lambeth_q3.xlsx", "several_issues.xlsx")
assert len(HANDLED) == LIMIT


def name(n: int) -> str:
    return f"croydon-{n}.xlsx"


def files(count: int) -> list[File]:
    return [File(name(n), fixture(HANDLED[n - 1]).data if n <= LIMIT else b"never read")
            for n in range(1, count + 1)]


def recorded(mailroom: Mailroom) -> list[str]:
    with mailroom.store.transaction() as session:
        return sorted(session.scalars(select(Submission.filename)).all())


def test_exactly_the_limit_is_handled_whole(mailroom: Mailroom) -> None:
    handled = mailroom.exchange(compose(files=files(LIMIT)))
    assert handled.status == "done"
    assert recorded(mailroom) == [name(n) for n in range(1, LIMIT + 1)]
    body = body_of(handled.reply)
    assert all(f"{name(n)}: " in body for n in range(1, LIMIT + 1))
    assert wording.not_processed_text(["x"], limit=LIMIT).split(":")[0] not in body


def test_one_over_the_limit_is_named_and_not_processed(mailroom: Mailroom) -> None:
    handled = mailroom.exchange(compose(files=files(LIMIT + 1)))
    assert handled.status == "done"
    extra = name(LIMIT + 1)
    assert recorded(mailroom) == [name(n) for n in range(1, LIMIT + 1)]
    body = body_of(handled.reply)
    assert wording.not_processed_text([extra], limit=LIMIT) in body.replace("\n", " ")
    assert f"{extra}: " not in body  # no outcome line: it was never read


def test_a_long_list_not_processed_is_capped(mailroom: Mailroom) -> None:
    many = LIMIT + wording.FILES_NOT_PROCESSED_LISTED + 5
    handled = mailroom.exchange(compose(files=files(many)))
    names = [name(n) for n in range(LIMIT + 1, many + 1)]
    body = body_of(handled.reply).replace("\n", " ")
    assert wording.not_processed_text(names, limit=LIMIT) in body
    assert names[wording.FILES_NOT_PROCESSED_LISTED] not in body  # the 11th is counted only
    assert len(recorded(mailroom)) == LIMIT


def test_an_unknown_sender_has_no_more_than_the_limit_kept(mailroom: Mailroom) -> None:
    handled = mailroom.exchange(compose(sender=STRANGER, files=files(LIMIT + 2)))
    assert handled.outcome == "refused-unknown-sender"
    assert len(recorded(mailroom)) == LIMIT


def test_the_setting_is_read_and_checked() -> None:
    assert Settings.from_env({}).max_attachments == 20
    assert Settings.from_env({"MARAC_MAX_ATTACHMENTS": "5"}).max_attachments == 5
    for bad in ("0", "-1", "twenty", "2.5", "100000"):
        with pytest.raises(ConfigError, match="MARAC_MAX_ATTACHMENTS"):
            Settings.from_env({"MARAC_MAX_ATTACHMENTS": bad})


ROOT = Path(__file__).resolve().parent.parent


def marac_bot(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``marac-bot`` from this checkout (whatever copy is installed), in a folder of its own."""
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=30,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **env})


def test_a_bad_value_exits_2_naming_the_variable(tmp_path: Path) -> None:
    run = marac_bot("run", cwd=tmp_path, env={"MARAC_MAX_ATTACHMENTS": "lots"})
    assert run.returncode == 2
    assert "MARAC_MAX_ATTACHMENTS" in run.stderr


def test_run_help_names_the_limit(tmp_path: Path) -> None:
    run = marac_bot("run", "--help", cwd=tmp_path, env={})
    assert run.returncode == 0
    assert "MARAC_MAX_ATTACHMENTS" in run.stdout


def test_settings_default_matches_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    default = Settings().max_attachments
    assert "| `MARAC_MAX_ATTACHMENTS` |" in readme
    assert f"`{default}` |" in readme.split("| `MARAC_MAX_ATTACHMENTS` |")[1].splitlines()[0]
