"""``marac-bot registry import [--replace] FILE.csv`` and ``marac-bot registry export DIR``."""

from __future__ import annotations

import argparse
import sys

from bot.commands.common import fail_usage
from bot.settings import Settings
from store.db import Store
from store.registry import export_csv, import_csv


def run_import(args: argparse.Namespace, settings: Settings) -> int:
    if not args.file.is_file():
        return fail_usage(f"file not found: {args.file}")
    store = Store.from_settings(settings)
    try:
        with store.transaction() as session:
            result = import_csv(session, args.file, replace=args.replace)
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
