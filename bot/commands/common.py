"""Small helpers the commands share."""

from __future__ import annotations

import os
import sys
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
