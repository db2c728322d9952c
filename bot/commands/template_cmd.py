"""``marac-bot template --out FILE [--edition uk|scotland] [--marac NAME]``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.settings import Settings
from reports.template_file import write_template
from validation.columns import Edition


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "template",
        help="write a blank data template",
        description="Write a blank Marac data template (.xlsx) with the canonical headers.",
    )
    parser.add_argument("--out", required=True, type=Path, metavar="FILE", help="where to write")
    parser.add_argument("--edition", choices=[e.value for e in Edition], default="uk",
                        help="uk (default) or scotland")
    parser.add_argument("--marac", metavar="NAME", help="the Marac the template is for")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    data = write_template(Edition(args.edition), marac=args.marac)
    args.out.write_bytes(data)
    print(f"Wrote a blank {args.edition.upper()} template to {args.out}")
    return 0
