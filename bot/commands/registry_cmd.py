"""``marac-bot registry import FILE.csv`` and ``marac-bot registry export DIR``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.commands.common import fail_usage
from bot.settings import Settings
from store.db import Store
from store.registry import export_csv, import_csv


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "registry",
        help="load or dump the registry of Maracs and contacts",
        description="Import (upsert) Maracs or contacts from CSV (the header row decides "
        "which; nothing is imported if any row has an error), or export both to a folder.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    imp = actions.add_parser("import", help="load a Maracs or contacts CSV file",
                             description="Load a Maracs or contacts CSV (formats in "
                             "interface.md). Exit 1 with row-numbered errors; then nothing "
                             "is imported.")
    imp.add_argument("file", type=Path, metavar="FILE.csv")
    imp.set_defaults(handler=run_import)
    exp = actions.add_parser("export", help="write maracs.csv and contacts.csv to DIR")
    exp.add_argument("directory", type=Path, metavar="DIR")
    exp.set_defaults(handler=run_export)


def run_import(args: argparse.Namespace, settings: Settings) -> int:
    if not args.file.is_file():
        return fail_usage(f"file not found: {args.file}")
    store = Store.from_settings(settings)
    try:
        with store.transaction() as session:
            result = import_csv(session, args.file)
    finally:
        store.close()
    print(result.summary(), file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1


def run_export(args: argparse.Namespace, settings: Settings) -> int:
    args.directory.mkdir(parents=True, exist_ok=True)
    store = Store.from_settings(settings)
    try:
        with store.transaction() as session:
            maracs, contacts = export_csv(session, args.directory)
    finally:
        store.close()
    print(f"Wrote {maracs} and {contacts}")
    return 0
