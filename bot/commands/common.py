"""Small helpers the commands share."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

# The parsers use this module too: ``--help`` should not load the settings or the quarters'
# patterns (issue 14, start-up time).
if TYPE_CHECKING:
    from bot.settings import Settings
    from kernel.quarters import Quarter


class UsageError(Exception):
    """A command-line mistake: printed and exit code 2."""


class CannotWrite(Exception):
    """An output the command was asked for could not be written (a full disk, a folder that
    is not there, no permission): ``bot.cli.main`` says so in one line, exit code 2."""

    def __init__(self, target: str, error: OSError) -> None:
        super().__init__(target, error)
        self.target = target
        self.reason = error.strerror or type(error).__name__

    @property
    def on_standard_output(self) -> bool:
        return self.target == STANDARD_OUTPUT


STANDARD_OUTPUT = "standard output"


@contextmanager
def writing(target: str) -> Iterator[None]:
    """Within this block, a failure to write ``target`` is ``CannotWrite``; a closed pipe
    stays a ``BrokenPipeError`` (``bot.cli.main`` ends quietly then, as other tools do)."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise CannotWrite(target, exc) from exc


def show(text: str = "", *, end: str = "\n") -> None:
    """Print a command's output."""
    with writing(STANDARD_OUTPUT):
        print(text, end=end)


def write_file(path: Path, data: bytes | str) -> None:
    """Write an output file the command was asked for (text as UTF-8, line ends as given)."""
    with writing(str(path)):
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8", newline="")


def make_folder(path: Path) -> None:
    """Make an output folder the command was asked for, if it is not there yet."""
    with writing(str(path)):
        path.mkdir(parents=True, exist_ok=True)


def today(settings: Settings) -> date:
    return datetime.now(settings.tz).date()


def parse_quarter(text: str | None, settings: Settings) -> Quarter | None:
    if text is None:
        return None
    from kernel.quarters import Quarter

    quarter = Quarter.parse(text, today=today(settings))
    if quarter is None:
        raise UsageError(f"--quarter: {text!r} is not a quarter (try 'Q3 2024/25')")
    return quarter


def existing_files(names: list[str]) -> list[Path]:
    paths = [Path(n) for n in names]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise UsageError(f"file not found: {', '.join(missing)}")
    return paths


def use_colour() -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set."""
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def fail_usage(message: str) -> int:
    print(f"marac-bot: {message}", file=sys.stderr)
    return 2


def iso_date(text: str) -> date:
    """An argparse type: a date written YYYY-MM-DD (``--today``)."""
    import argparse

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date in the form YYYY-MM-DD: {text!r}") from None
