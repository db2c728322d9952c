"""The ``marac-bot`` command line (interface.md). Settings are read here, once, and passed on."""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bot.commands import parsers
from bot.commands.common import STANDARD_OUTPUT, CannotWrite, fail_usage, writing

if TYPE_CHECKING:
    from bot.settings import Settings

EXIT_USAGE = 2
# numpy (validation's columns) starts a pool of OpenBLAS threads when imported, a good part of
# its import time; nothing here uses BLAS (no matrix products), and ``run`` already works in
# a pool of its own. An operator's own setting wins.
_SINGLE_THREADED_BLAS = {"OPENBLAS_NUM_THREADS": "1"}

_PARSERS = {
    "run": parsers.add_run_parser, "validate": parsers.add_validate_parser,
    "submit": parsers.add_submit_parser, "template": parsers.add_template_parser,
    "registry": parsers.add_registry_parser, "db": parsers.add_db_parser,
    "remind": parsers.add_remind_parser, "ask": parsers.add_ask_parser,
    "report": parsers.add_report_parser, "history": parsers.add_history_parser,
    "withdraw": parsers.add_withdraw_parser,
}


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line's parser. Given the arguments, only the command they name gets its
    own arguments and actions; every other command only its name and its line of
    ``--help``, all that the top-level help and a usage error show of it (building all ~70
    arguments took ~3 ms of a command's start, issue 14)."""
    # The top level's only options take no value: its first other word names the command.
    chosen = None if argv is None else _chosen(argv)
    parser = argparse.ArgumentParser(
        prog="marac-bot",
        description="The Marac data assistant: checks, records and answers questions about "
        "Marac data returns. Configuration comes from MARAC_* environment variables (and a .env "
        "file in the working directory); see README.md. A command whose output cannot be "
        "written (a full disk, a missing folder) says so in one line and exits 2; so does one "
        "that cannot use the database (a server that does not answer, a folder that cannot be "
        "made, a schema a newer release has upgraded), naming MARAC_DATABASE_URL. validate "
        "then checks without the registry.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, add_parser in _PARSERS.items():
        if chosen in (None, name):
            add_parser(sub)
        else:
            sub.add_parser(name, help=parsers.COMMANDS[name], add_help=False)
    return parser


def console() -> int:
    """The process's entry: the ``marac-bot`` script and ``python -m bot``. Start-up makes
    tens of thousands of objects (modules, classes, functions), none of them garbage; the
    cyclic collector would walk them some fifty times while they load and once more at exit
    (~20 ms of a 13-row ``validate``, issue 14). So it is held off until the command's
    modules are loaded, and what they made is then kept out of every later collection
    (``gc.freeze``): from there on it sees only what the command makes. Not in ``main``:
    a test's or a caller's process keeps its collector as it was.

    A command in ``_COLLECTOR_STAYS_OFF`` runs with the collector off throughout, and one in
    ``_ENDS_AT_ONCE`` then ends the process without the interpreter's teardown
    (``_end_now``)."""
    gc.disable()
    code = main(whole_process=True)
    if _chosen(sys.argv[1:]) in _ENDS_AT_ONCE:
        _end_now(code)
    return code


# Commands that leave nothing for the interpreter's exit to do: no thread, no atexit work,
# every file closed, the database closed. Freeing a 50,000-row report and every module one by
# one took 15-30 ms of ``validate`` (issue 14); their memory goes back with the process.
_ENDS_AT_ONCE = frozenset({"validate"})
# Commands that make next to no cyclic garbage, in a process that ends when they do: the
# collector's only work would be walking what they keep. Validation pauses it while a file is
# read and checked; switched on again after a 50,000-row file, its first two collections
# walked the report's rows for ~10 ms (issue 14) and found nothing to free. Validating every
# file in tests/fixtures (hostile, damaged and password-protected ones too) left 158
# unreachable objects in all, at most 37 for one file.
_COLLECTOR_STAYS_OFF = frozenset({"validate"})


def _end_now(code: int) -> None:
    """Flush what is buffered (output, log handlers) and leave with ``code``; with 120, as
    the interpreter's own exit does, if the output could not be written (a full disk)."""
    if "logging" in sys.modules:
        import logging

        logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # the reader went away, or a closed stream
            pass
        except OSError:
            code = code or 120
    os._exit(code)


def _chosen(argv: Sequence[str]) -> str:
    """The command argv names: its first word that is not an option."""
    return next((a for a in argv if not a.startswith("-")), "")


def main(argv: Sequence[str] | None = None, *, whole_process: bool = False) -> int:
    """Run one command; returns the exit code of interface.md. ``whole_process``: this call
    is the process (``console``), which has held the collector off while it starts."""
    for name, value in _SINGLE_THREADED_BLAS.items():
        os.environ.setdefault(name, value)  # before any command imports numpy
    try:
        code = _run(argv, whole_process=whole_process)
        _flush_output()  # a closed pipe or a full disk shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        # Piped into `head`: end quietly like other command-line tools, not with a traceback.
        # Not by restoring SIGPIPE's default action: that would also kill `run` whenever a
        # socket's peer goes away (Python relies on SIGPIPE being ignored for sockets).
        _drop_output()
        return 1
    except CannotWrite as exc:  # a full disk, a missing folder: one line, not a traceback
        if exc.on_standard_output:
            _drop_output()
        return _cannot_write(exc)


def _flush_output() -> None:
    with writing(STANDARD_OUTPUT):
        sys.stdout.flush()


def _drop_output() -> None:
    """Send what is still buffered for standard output nowhere, so the interpreter's exit
    does not fail on it again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _cannot_write(exc: CannotWrite) -> int:
    from kernel import wording

    try:
        return fail_usage(wording.cannot_write(exc.target, exc.reason))
    except OSError:  # standard error cannot be written either: the exit code says it
        return EXIT_USAGE


def _run(argv: Sequence[str] | None, *, whole_process: bool) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # --help and usage errors end here, before the settings load.
    args = build_parser(argv).parse_args(argv)
    import logging  # not for --help (it loads traceback and string too: ~3 ms)

    from bot.settings import ConfigError, Settings

    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = Settings.from_env(_environment())
    except ConfigError as exc:
        return _configuration_error(exc)
    command = _handler(args.handler)
    if whole_process:  # start-up is over (console): collect again, but not what it loaded
        gc.freeze()
        if args.command not in _COLLECTOR_STAYS_OFF:
            gc.enable()
    try:
        result: int = command(args, settings)
    except ConfigError as exc:  # found only by using a value: a database that cannot be used
        return _configuration_error(exc)
    return result


def _configuration_error(exc: Exception) -> int:
    print(f"marac-bot: configuration error: {exc}", file=sys.stderr)
    return EXIT_USAGE


def _handler(name: str) -> Callable[[argparse.Namespace, Settings], int]:
    """The command's function, imported now: only the command that runs loads its modules."""
    module, _, function = name.partition(":")
    found: Callable[[argparse.Namespace, Settings], int] = getattr(
        importlib.import_module(module), function)
    return found


def _environment() -> dict[str, str]:
    """The process environment over a ``.env`` file in the working directory, if any."""
    values: dict[str, str] = {}
    # The same test python-dotenv makes; without a file, its parser (a dozen regular
    # expressions to compile) is not even loaded.
    if os.path.isfile(".env"):
        from dotenv import dotenv_values

        values = {k: v for k, v in dotenv_values(".env").items() if v is not None}
    values.update(os.environ)
    return values


if __name__ == "__main__":
    sys.exit(console())
