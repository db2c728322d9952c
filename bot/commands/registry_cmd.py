"""``marac-bot registry import [--replace] FILE.csv`` and ``marac-bot registry export DIR``."""

from __future__ import annotations

import argparse
import sys

from bot.commands.common import fail_usage, make_folder, show, writing
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
    if result.ok:
        show(result.summary())
    else:
        print(result.summary(), file=sys.stderr)
    return 0 if result.ok else 1


def run_export(args: argparse.Namespace, settings: Settings) -> int:
    make_folder(args.directory)
    store = Store.from_settings(settings)
    try:
        with writing(str(args.directory)), store.transaction() as session:
            maracs, contacts = export_csv(session, args.directory)
    finally:
        store.close()
    show(f"Wrote {maracs} and {contacts}")
    return 0
