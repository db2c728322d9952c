"""The read ``marac-bot validate`` begins before it loads validation (validation/ahead.py): the
same report as the usual validation, for every kind of file, no child left behind, and the
capped child's modules loaded in a thread with the room they map added to its cap."""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import time
import zipfile
from datetime import date
from pathlib import Path

import pytest

from tests.test_early_read import no_reader_left  # noqa: F401 - a fixture
from validation import ahead, isolated
from validation.ahead import read_ahead
from validation.context import ValidationContext
from validation.isolated import Capped
from validation.validate import validate_ahead, validate_path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
CONTEXT = ValidationContext(today=date(2025, 2, 15))
pytestmark = pytest.mark.usefixtures("no_reader_left")  # every child reaped or killed


@pytest.fixture(autouse=True)
def any_size_read_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fixtures are small: here they are read ahead whatever their size."""
    monkeypatch.setattr(ahead, "AHEAD_BYTES", 0)


@pytest.mark.parametrize("name", [
    "clean_libreoffice.xlsx", "clean_libreoffice.xlsm", "clean_libreoffice.xls",
    "clean_libreoffice.ods", "utf8_bom_comma.csv", "formula_no_value_g4.xlsx",
    "huge_claimed_rows.xlsx", "blank_rows_between.xlsx", "many_issues.xlsx",
    "hostile/zip_bomb.xlsx", "hostile/truncated_zip.xlsx", "hostile/html_login_page.xlsx",
    "hostile/password_protected.xlsx", "hostile/zip_bomb_lying_sizes.xlsx",
])
def test_a_file_read_ahead_gets_the_usual_report(name: str) -> None:
    path = FIXTURES / name
    ahead = read_ahead(path, CONTEXT.max_file_bytes)
    assert validate_ahead(ahead, CONTEXT).to_dict() == validate_path(path, CONTEXT).to_dict()
    ahead.cancel()  # taken already: nothing to do


def test_a_read_ahead_not_taken_is_killed() -> None:
    ahead = read_ahead(FIXTURES / "clean_libreoffice.xlsx", CONTEXT.max_file_bytes)
    assert ahead.early is not None
    ahead.cancel()


def test_a_file_under_a_megabyte_is_read_the_usual_way(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    """Its parse is shorter than loading validation twice: read once validation is loaded."""
    monkeypatch.setattr(ahead, "AHEAD_BYTES", 1 << 20)
    path = FIXTURES / "clean_libreoffice.xlsx"
    found = read_ahead(path, CONTEXT.max_file_bytes)
    assert found.early is None and found.data == path.read_bytes()
    assert validate_ahead(found, CONTEXT).to_dict() == validate_path(path, CONTEXT).to_dict()


def test_a_file_over_the_limit_is_not_read_ahead() -> None:
    path = FIXTURES / "clean_libreoffice.xlsx"
    ahead = read_ahead(path, max_file_bytes=100)
    assert ahead.early is None
    context = ValidationContext(today=date(2025, 2, 15), max_file_bytes=100)
    codes = [i.code for i in validate_ahead(ahead, context).issues]
    assert codes == ["file-too-large"]


# A module no test loads: the child must import it itself.
_UNLOADED = "colorsys"


def _address_cap_once_loaded(name: str) -> tuple[int, bool]:
    """In the child: its address-space cap, and whether ``name`` was loaded for it (waited
    for a while, as ``fn`` would by importing it)."""
    for _ in range(200):
        if name in sys.modules:
            break
        time.sleep(0.01)
    return resource.getrlimit(resource.RLIMIT_AS)[0], name in sys.modules


def test_a_child_loads_its_preload_in_a_thread_with_room_for_it() -> None:
    assert _UNLOADED not in sys.modules
    plain_cap, loaded = Capped(_address_cap_once_loaded, _UNLOADED).result()
    assert not loaded
    cap, loaded = Capped(_address_cap_once_loaded, _UNLOADED, preload=(_UNLOADED,)).result()
    assert loaded
    assert abs(cap - plain_cap - isolated.PRELOAD_ROOM) < 16 << 20  # the room, no more
    assert _UNLOADED not in sys.modules  # loaded there, not here


def test_a_module_this_process_has_gets_no_room() -> None:
    plain_cap, _ = Capped(_address_cap_once_loaded, "json").result()
    cap, _ = Capped(_address_cap_once_loaded, "json", preload=("json",)).result()
    assert abs(cap - plain_cap) < 16 << 20


def _command(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", "validate", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})


def _padded_past_a_megabyte(tmp_path: Path) -> Path:
    """The clean return with a megabyte of stored noise beside its parts (a picture, say):
    large enough to be read ahead, the same rows."""
    path = tmp_path / "clean_padded.xlsx"
    with zipfile.ZipFile(FIXTURES / "clean_libreoffice.xlsx") as source, zipfile.ZipFile(
            path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr("xl/media/noise.bin", random.Random(14).randbytes(ahead.AHEAD_BYTES),
                        compress_type=zipfile.ZIP_STORED)
    assert path.stat().st_size > ahead.AHEAD_BYTES
    return path


def test_the_command_prints_every_report_and_its_exit_code(tmp_path: Path) -> None:
    """The whole process, which reads its first file ahead (past a megabyte) and ends
    without the interpreter's teardown: everything it printed is there, and its code."""
    files = [str(_padded_past_a_megabyte(tmp_path))] + [
        str(FIXTURES / n) for n in ("many_issues.xlsx", "clean_libreoffice.ods")]
    run = _command(*files, "--json", cwd=tmp_path)
    assert run.returncode == 1, run.stderr  # many_issues has hard issues
    reports = json.loads(run.stdout)
    assert [r["file"] for r in reports] == [Path(f).name for f in files]
    expected = [validate_path(Path(f), CONTEXT).to_dict()["status"] for f in files]
    assert [r["status"] for r in reports] == expected
    assert reports[0]["rows_accepted"] == 6
    text = _command(files[0], cwd=tmp_path)
    assert text.returncode == 0 and text.stdout.rstrip().endswith("would be rejected.")
