"""``marac-bot submit FILE… --sender EMAIL [--quarter Q] [--confirm] [--json]``: the CLI as a
channel. The files take the very path an emailed file takes (handlers.submission)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.channels.cli.inbound import submission_message
from bot.commands.common import (
    UsageError,
    existing_files,
    fail_usage,
    parse_quarter,
    use_colour,
)
from bot.dispatch import Dispatcher
from bot.settings import Settings
from kernel import wording
from reports.text import render_reports
from store.db import Store
from store.types import utcnow


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "submit",
        help="record data returns, as if emailed by SENDER",
        description="Validate and record Marac data returns exactly as an emailed file would "
        "be: accepted rows are stored, changed meetings are held for confirmation. Exit code "
        "0: no hard issue; 1: a hard issue in any file, or the sender is not registered; 2: "
        "usage error or file not found.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--sender", required=True, metavar="EMAIL",
                        help="the registered contact the files come from")
    parser.add_argument("--quarter", metavar="Q", help="the declared quarter, e.g. 'Q3 2024/25'")
    parser.add_argument("--confirm", action="store_true",
                        help="apply changed figures for meetings already stored (the old "
                        "figures stay in the history)")
    parser.add_argument("--json", action="store_true", help="print a JSON array, one per file")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        paths = existing_files(args.files)
        parse_quarter(args.quarter, settings)  # a quarter the bot cannot read is a usage error
    except UsageError as exc:
        return fail_usage(str(exc))
    now = utcnow()
    message = submission_message(paths, sender=args.sender, quarter_text=args.quarter,
                                 confirm=args.confirm, received_at=now)
    store = Store.from_settings(settings)
    try:
        with store.transaction() as session:  # one message, one transaction, as by email
            result = Dispatcher(settings).dispatch(session, message, now=now)
    finally:
        store.close()
    if result.outcome == "refused-unknown-sender":
        print(wording.unknown_sender_cli(message.sender), file=sys.stderr)
        return 1
    reports = list(result.reports)
    if args.json:
        print(json.dumps([r.to_dict() for r in reports], indent=2, ensure_ascii=False))
    else:
        print(render_reports(reports, colour=use_colour(), checked_only=False))
    return 1 if any(r.has_hard for r in reports) else 0
