"""``marac-bot template --out FILE [--edition uk|scotland] [--marac NAME]``."""

from __future__ import annotations

import argparse

from bot.commands.common import show, write_file
from bot.settings import Settings
from reports.template_file import write_template
from validation.columns import Edition


def run(args: argparse.Namespace, settings: Settings) -> int:
    data = write_template(Edition(args.edition), marac=args.marac)
    write_file(args.out, data)
    show(f"Wrote a blank {args.edition.upper()} template to {args.out}")
    return 0
