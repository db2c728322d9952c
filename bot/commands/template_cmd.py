"""``marac-bot template --out FILE.xlsx [--edition uk|scotland] [--marac NAME]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.commands.common import fail_usage, show, write_file
from bot.settings import Settings
from kernel import wording
from reports.template_file import write_template
from validation.columns import Edition

TEMPLATE_SUFFIXES = (".xlsx",)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if not _names_its_format(args.out):
        # "--out t5.csv" wrote xlsx bytes under a .csv name, which validate then refused.
        return fail_usage(wording.report_bad_out(args.out, TEMPLATE_SUFFIXES))
    data = write_template(Edition(args.edition), marac=args.marac)
    write_file(args.out, data)
    show(f"Wrote a blank {args.edition.upper()} template to {args.out}")
    return 0


def _names_its_format(out: Path) -> bool:
    """An .xlsx name, or a device or pipe (``/dev/stdout``), whose name says nothing of what
    is written to it."""
    if out.suffix.lower() in TEMPLATE_SUFFIXES:
        return True
    return out.exists() and not out.is_file() and not out.is_dir()
