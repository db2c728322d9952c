"""Each command imports only what it needs (issue 14: start-up time is part of the user
experience): checked in a fresh interpreter, by what sys.modules holds after the command."""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "clean_libreoffice.xlsx"
# Loaded only by the commands and channels that use them.
HEAVY = ("slack_bolt", "slack_sdk", "microsoft_agents", "matplotlib", "pandas", "aiohttp",
         "aiosmtpd", "imap_tools", "handlers.questions", "bot.dispatch")

# ``validate`` ends its process at once (bot.cli._end_now): here it ends like the others, by
# SystemExit, so that the probe can still say what was loaded (a forked reader still leaves
# at once).
_PROBE = """
import gc, json, os, runpy, sys
_probe_pid, _exit_now = os.getpid(), os._exit
def _exit(code):
    if os.getpid() != _probe_pid:
        _exit_now(code)
    raise SystemExit(code)
os._exit = _exit
sys.argv = ["marac-bot", *json.loads(sys.argv[1])]
try:
    runpy.run_module("bot", run_name="__main__")
except SystemExit:
    pass
quarters = sys.modules.get("kernel.quarters")
sys.stderr.write("\\nSTATE " + json.dumps({
    "collector": [gc.isenabled(), gc.get_freeze_count()],
    "garbage": gc.collect(),
    "quarter_phrases": quarters._phrases.cache_info().currsize if quarters else None}))
sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)))
"""


def _probe(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m bot ARGS`` in a fresh interpreter, which then writes to stderr some of
    its state and what it loaded."""
    return subprocess.run([sys.executable, "-c", _PROBE, json.dumps(args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})


def _modules_after(args: list[str], cwd: Path) -> set[str]:
    run = _probe(args, cwd)
    marker = run.stderr.rfind("MODULES ")
    assert marker >= 0, run.stderr[-2000:]
    return set(json.loads(run.stderr[marker + len("MODULES "):]))


def _state_after(args: list[str], cwd: Path) -> tuple[str, dict[str, Any]]:
    """What the command printed, and the probe's STATE."""
    run = _probe(args, cwd)
    marker = run.stderr.rfind("\nSTATE ")
    assert marker >= 0, run.stderr[-2000:]
    state: dict[str, Any] = json.loads(run.stderr[marker + len("\nSTATE "):].splitlines()[0])
    return run.stdout, state


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return [n for n in names if n in modules]


@pytest.mark.parametrize("args", [["--help"], ["validate", "--help"], ["report", "--help"]])
def test_help_loads_no_command(args: list[str], tmp_path: Path) -> None:
    modules = _modules_after(args, tmp_path)
    assert _loaded(modules, (*HEAVY, "sqlalchemy", "openpyxl", "numpy", "bot.settings",
                             "kernel.quarters", "kernel.wording", "dotenv", "logging")) == []


def test_validate_without_a_database_loads_neither_the_store_nor_the_chat_stack(
        tmp_path: Path) -> None:
    modules = _modules_after(["validate", str(FIXTURE), "--json"], tmp_path)
    assert "validation.validate" in modules  # it did validate
    assert _loaded(modules, (*HEAVY, "sqlalchemy", "openpyxl", "kernel.answers",
                             "kernel.wording.questions", "dotenv", "reports.text")) == []


def test_a_command_collects_again_once_its_modules_are_loaded(tmp_path: Path) -> None:
    """The process's entry (bot.cli.console) holds the cyclic collector off while the
    command's modules load, then keeps what they made out of later collections: the
    collector is on when the command runs (its cycles are freed) and start-up's tens of
    thousands of objects are frozen, not walked again (issue 14)."""
    _, state = _state_after(["template", "--out", str(tmp_path / "t.xlsx")], tmp_path)
    assert (tmp_path / "t.xlsx").stat().st_size > 0
    enabled, frozen = state["collector"]
    assert enabled and frozen > 10_000


def test_validate_runs_with_the_collector_off(tmp_path: Path) -> None:
    """``validate`` makes next to no cycles and its process ends with it: the collector
    stays off after start-up (bot.cli._COLLECTOR_STAYS_OFF), what start-up made frozen."""
    out, state = _state_after(["validate", str(FIXTURE), "--json"], tmp_path)
    assert json.loads(out)[0]["status"] == "accepted"
    enabled, frozen = state["collector"]
    assert not enabled and frozen > 10_000


def test_an_annotated_copy_leaves_no_garbage_behind(tmp_path: Path) -> None:
    """An annotated copy made by openpyxl leaves its workbook's cycles (a few hundred objects
    for a 13-row .ods); with the collector off, ``validate --annotate`` frees them itself."""
    out, state = _state_after(["validate", str(FIXTURE.with_suffix(".ods")), "--annotate",
                               str(tmp_path / "marked.xlsx")], tmp_path)
    assert (tmp_path / "marked.xlsx").stat().st_size > 0 and "6 of 6 rows" in out
    assert state["collector"][0] is False
    assert state["garbage"] < 50


def test_validating_makes_next_to_no_cyclic_garbage() -> None:
    """What lets ``validate`` run with the collector off: every file in tests/fixtures,
    hostile and damaged ones too, leaves at most a few dozen unreachable objects."""
    import gc
    from datetime import date

    from validation.context import ValidationContext
    from validation.validate import validate_path

    context = ValidationContext(today=date(2026, 12, 7))
    fixtures = ROOT / "tests" / "fixtures"
    files = sorted(p for p in fixtures.rglob("*")
                   if p.is_file() and p.suffix in (".xlsx", ".xlsm", ".xls", ".ods", ".csv"))
    assert len(files) > 50
    validate_path(files[0], context)  # what a first call loads and keeps is not garbage
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    # What the suite made before this test is set aside: each collection then walks only what
    # validating made, not the whole suite's heap again (58 s of a full run for 64 files;
    # with 1.5 million objects alive, 23 s before and 4 s now).
    gc.freeze()
    try:
        # By path within the fixtures: two folders may hold files of the same name.
        left = {str(path.relative_to(fixtures)): (validate_path(path, context),
                                                   gc.collect())[1] for path in files}
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()
    assert len(left) == len(files)
    assert max(left.values()) <= 100, left
    assert sum(left.values()) <= 1_000, left


def test_validate_compiles_no_quarter_phrase_pattern(tmp_path: Path) -> None:
    """kernel.quarters compiles its phrase patterns ("Oct-Dec 2024", "last quarter", ~4 ms)
    when a phrase is first read: ``validate`` without --quarter reads none."""
    out, state = _state_after(["validate", str(FIXTURE), "--json"], tmp_path)
    assert json.loads(out)[0]["quarters"] == ["Q3 2024/25"]
    assert state["quarter_phrases"] == 0
    _, state = _state_after(["validate", str(FIXTURE), "--json", "--quarter", "Oct-Dec 2024"],
                            tmp_path)
    assert state["quarter_phrases"] == 1  # and when one is read, they are there


def test_main_leaves_the_callers_collector_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``main`` in a test's or a caller's process neither freezes nor switches anything."""
    import gc

    from bot.cli import main

    monkeypatch.chdir(tmp_path)  # no marac-data/ of the checkout's
    frozen = gc.get_freeze_count()
    assert main(["validate", str(FIXTURE), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["file"] == FIXTURE.name
    assert gc.isenabled() and gc.get_freeze_count() == frozen


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_the_parser_builds_only_the_command_named_and_helps_word_for_word() -> None:
    """``build_parser(argv)`` gives its arguments only to the command argv names; the other
    commands get their name and --help line alone. Every help it can print is the whole
    parser's, word for word: the top-level help, and the named command's."""
    from bot.cli import build_parser

    whole = build_parser()
    assert build_parser(["--help"]).format_help() == whole.format_help()
    for name, parser in _commands(whole).items():
        built = _commands(build_parser(["-v", name, "--help"]))
        assert built[name].format_help() == parser.format_help()
        assert [n for n, p in built.items() if n != name and p._actions] == []


def test_a_dotenv_file_is_still_read_and_the_environment_wins(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """python-dotenv is loaded only when there is a .env file (above); when there is one,
    its values count, under the process environment's."""
    from bot.cli import _environment

    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("MARAC_FROM_FILE=file\nMARAC_BOTH=file\n")
    monkeypatch.setenv("MARAC_BOTH", "process")
    found = _environment()
    assert (found["MARAC_FROM_FILE"], found["MARAC_BOTH"]) == ("file", "process")
    (tmp_path / ".env").unlink()
    assert "MARAC_FROM_FILE" not in _environment()


def test_the_wording_index_is_up_to_date() -> None:
    """``wording.<name>`` loads only the name's module, found in kernel/wording/_index.py:
    after adding a wording name, ``python -m kernel.wording._index`` brings it up to date."""
    from kernel.wording import _index

    assert _index.computed_homes() == _index.HOMES


def test_each_wording_name_is_what_the_star_imports_gave() -> None:
    """Lazily loaded, every name is the very object ``from kernel.wording.<m> import *`` in
    the index's order bound, the later module winning, including names the index leaves out."""
    import importlib

    from kernel import wording
    from kernel.wording import _index

    expected: dict[str, object] = {}
    for name in _index.MODULES:
        module = importlib.import_module(f"kernel.wording.{name}")
        expected.update({n: getattr(module, n) for n in _index.star_names(module)})
    assert len(expected) > 200
    assert {n: getattr(wording, n) for n in expected} == expected
    with pytest.raises(AttributeError):
        _ = wording.no_such_wording  # type: ignore[attr-defined]


# ``marac-bot run`` in a fresh interpreter, stopped (SIGTERM to itself) once it has printed its
# start line: what it loaded by then is what it loads to start. (Its SMTP port answers well
# before: bot/startup.py loads the rest after the listener.)
_RUN_PROBE = """
import json, os, signal, sys

class StopWhenStarted:
    def __init__(self, out):
        self.out = out

    def write(self, text):
        self.out.write(text)
        if text.startswith("Marac data assistant running:"):
            sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n")
            sys.stderr.flush()
            os.kill(os.getpid(), signal.SIGTERM)
        return len(text)

    def flush(self):
        self.out.flush()

sys.stdout = StopWhenStarted(sys.stdout)
from bot.cli import main
main(["run"])
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_run_without_chat_settings_loads_neither_chat_sdk(tmp_path: Path) -> None:
    port = _free_port()
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path),
           "MARAC_DATA_DIR": str(tmp_path / "data"), "MARAC_MAILBOX_ADDRESS": "marac@example.org",
           "MARAC_SMTP_LISTEN": f"127.0.0.1:{port}", "MARAC_HTTP_LISTEN": "127.0.0.1:0"}
    run = subprocess.run([sys.executable, "-c", _RUN_PROBE, str(port)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120, env=env)
    marker = run.stderr.rfind("MODULES ")
    assert marker >= 0, run.stderr[-2000:]
    modules = set(json.loads(run.stderr[marker + len("MODULES "):].splitlines()[0]))
    assert {"aiosmtpd", "bot.app"} <= modules  # it did listen, and start
    assert _loaded(modules, ("slack_bolt", "slack_sdk", "microsoft_agents", "matplotlib",
                             "pandas")) == []


def test_what_run_starts_its_smtp_listener_with_is_light(tmp_path: Path) -> None:
    """``run`` starts the SMTP listener (into its spool) before it loads the rest in a thread
    (bot/startup.py): what that first step imports must stay small, or mail waits for it."""
    modules = _modules_of_import("bot.cli, bot.startup, bot.channels.email.early", tmp_path)
    assert "aiosmtpd" in modules  # it is the listener's own
    later = (*(n for n in HEAVY if n != "aiosmtpd"), "bot.app", "bot.worker", "handlers",
             "alembic", "psycopg", "openpyxl", "numpy", "msal", "requests", "apscheduler",
             "kernel.wording", "bot.channels.web", "sqlalchemy.dialects.postgresql")
    assert _loaded(modules, later) == []


def test_the_imap_watcher_loads_msal_only_to_sign_in_to_microsoft_365(tmp_path: Path) -> None:
    modules = _modules_of_import("bot.channels.email.imap_watcher", tmp_path)
    assert "imap_tools" in modules
    assert _loaded(modules, ("msal", "requests")) == []


def _modules_of_import(names: str, cwd: Path) -> set[str]:
    """What a fresh interpreter holds after ``import <names>``."""
    code = (f"import json, sys; import {names}; "
            "sys.stderr.write('MODULES ' + json.dumps(sorted(sys.modules)))")
    run = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True,
                         text=True, timeout=120,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    marker = run.stderr.rfind("MODULES ")
    assert marker >= 0, run.stderr[-2000:]
    return set(json.loads(run.stderr[marker + len("MODULES "):]))



@pytest.mark.parametrize(("target", "code", "expected"), [
    ("/dev/null", 0, 0),
    ("/dev/full", 0, 120),  # the output could not be written: not a success
    ("/dev/full", 3, 3),  # the command's own failure code is kept
])
def test_ending_at_once_says_when_the_output_was_lost(target: str, code: int,
                                                       expected: int) -> None:
    """``validate`` ends without the interpreter's teardown, which would have exited 120 on
    output it could not flush; ending at once must say so too."""
    script = ("import sys; from bot.cli import _end_now; "
              f"sys.stdout.write('report'); _end_now({code})")
    # Buffered, as a command's output to a file is (this environment may say otherwise).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    with open(target, "w") as out:
        done = subprocess.run([sys.executable, "-c", script], stdout=out, timeout=60,
                              cwd=Path(__file__).resolve().parents[1], env=env)
    assert done.returncode == expected
