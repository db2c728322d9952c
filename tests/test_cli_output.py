"""A command whose output cannot be written (a full disk, a folder that is not there) says so
in one line and exits 2, never with a traceback; what it did besides stands."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.cli import main
from bot.commands.common import STANDARD_OUTPUT, CannotWrite, make_folder, show, write_file

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
DEMO = ROOT / "store" / "demo"
RETURN = FIXTURES / "date_outside_quarter.xlsx"
DISK_FULL = os.strerror(errno.ENOSPC)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no .env of the checkout steers the command
    monkeypatch.setenv("MARAC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MARAC_DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    return tmp_path


@contextmanager
def stdout_on_a_full_disk() -> Iterator[None]:
    """Standard output on a disk with no room left: /dev/full refuses every write. Set in the
    test's body: pytest puts its own capture back between a fixture and the test."""
    with open("/dev/full", "w") as full, pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stdout", full)
        yield


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_validate_into_a_full_disk_says_so_in_one_line(tmp_path: Path,
                                                       json_flag: list[str]) -> None:
    """The whole process, as a shell runs it (``marac-bot validate f.xlsx > report.txt``):
    its end at once (bot.cli._end_now) must not fail on the lost output a second time."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONUNBUFFERED", "MARAC_DATABASE_URL")}
    env["MARAC_DATA_DIR"] = str(tmp_path / "data")
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "bot", "validate", *json_flag,
                               str(RETURN)], stdout=full, stderr=subprocess.PIPE, text=True,
                              cwd=tmp_path, env=env, timeout=120)
    assert done.stderr == f"marac-bot: cannot write standard output: {DISK_FULL}\n"
    assert done.returncode == 2


def test_an_annotated_copy_into_a_missing_folder_is_named(
        workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = workdir / "no such folder" / "checked.xlsx"
    assert main(["validate", "--annotate", str(target), str(RETURN)]) == 2
    err = capsys.readouterr().err
    assert err == f"marac-bot: cannot write {target}: {os.strerror(errno.ENOENT)}\n"
    assert not target.parent.exists()


def test_a_template_onto_a_full_disk(workdir: Path, capsys: pytest.CaptureFixture[str]
                                     ) -> None:
    assert main(["template", "--out", "/dev/full"]) == 2
    assert capsys.readouterr().err == f"marac-bot: cannot write /dev/full: {DISK_FULL}\n"


def test_a_registry_export_into_a_file_not_a_folder(workdir: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "taken").write_text("a file, not a folder")
    assert main(["registry", "export", str(workdir / "taken" / "out")]) == 2
    err = capsys.readouterr().err
    assert err == (f"marac-bot: cannot write {workdir / 'taken' / 'out'}: "
                   f"{os.strerror(errno.ENOTDIR)}\n")


def test_a_submission_whose_report_is_lost_is_still_recorded(
        workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 2 says the report was not written; the rows it reported on are recorded all the
    same."""
    assert main(["registry", "import", str(DEMO / "maracs.csv")]) == 0
    assert main(["registry", "import", str(DEMO / "contacts.csv")]) == 0
    capsys.readouterr()
    sender = "croydon.coordinator@example.org"
    with stdout_on_a_full_disk():
        assert main(["submit", str(RETURN), "--sender", sender]) == 2
    assert capsys.readouterr().err == (
        f"marac-bot: cannot write standard output: {DISK_FULL}\n")
    assert main(["history", "Croydon", "--json"]) == 0
    assert capsys.readouterr().out.count('"version": 1') == 6


def test_show_names_standard_output_when_it_cannot_be_written() -> None:
    with stdout_on_a_full_disk(), pytest.raises(CannotWrite) as caught:
        show("x" * 100_000)  # past any buffer, so the write itself fails
    assert caught.value.target == STANDARD_OUTPUT
    assert caught.value.on_standard_output
    assert caught.value.reason == DISK_FULL


def test_a_closed_pipe_is_not_called_a_write_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    """``head`` has read enough and gone: bot.cli.main ends quietly on BrokenPipeError."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    with open(write_end, "w") as pipe:
        monkeypatch.setattr(sys, "stdout", pipe)
        with pytest.raises(BrokenPipeError):
            show("x" * 100_000)


def test_write_file_writes_text_and_bytes_as_given(tmp_path: Path) -> None:
    write_file(tmp_path / "a.csv", "name\r\nCroydon\r\nLeeds é\n")
    write_file(tmp_path / "b.bin", b"\x00\xff")
    assert (tmp_path / "a.csv").read_bytes() == "name\r\nCroydon\r\nLeeds é\n".encode()
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff"
    assert not CannotWrite("x", OSError()).on_standard_output
    assert CannotWrite("x", OSError()).reason == "OSError"


def test_make_folder_makes_every_missing_level_and_takes_one_already_there(tmp_path: Path
                                                                          ) -> None:
    nested = tmp_path / "reports" / "2025" / "q3"
    make_folder(nested)
    make_folder(nested)  # already there: nothing to do, nothing to say
    assert nested.is_dir()
    (tmp_path / "taken").write_text("a file")
    with pytest.raises(CannotWrite) as caught:
        make_folder(tmp_path / "taken")
    assert caught.value.target == str(tmp_path / "taken")


@pytest.mark.parametrize("name", ["t5.csv", "t5.xls", "t5.ods", "t5", "t5.xlsx.csv"])
def test_a_template_under_another_format_s_name_is_refused(
        workdir: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    """"template --out t5.csv" exited 0 having written xlsx bytes under a .csv name, which
    validate then refused."""
    assert main(["template", "--out", name]) == 2
    assert capsys.readouterr().err == f"marac-bot: --out: {name} must end .xlsx\n"
    assert not (workdir / name).exists()


@pytest.mark.parametrize("name", ["t5.xlsx", "T5.XLSX"])
def test_a_template_under_an_xlsx_name_is_written(
        workdir: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    assert main(["template", "--out", name]) == 0
    assert (workdir / name).read_bytes()[:2] == b"PK"  # a zip: xlsx
    capsys.readouterr()
    assert main(["validate", "--json", name]) == 1  # a blank template: no meetings yet
    [report] = json.loads(capsys.readouterr().out)
    codes = {issue["code"] for issue in report["issues"]}
    assert codes and "unreadable-file" not in codes  # read as a workbook, as its name says
