"""``marac-bot run``: start every configured channel in one process."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from bot.settings import ConfigError, Settings

EXIT_CONFIG = 2


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "run",
        help="run the bot: SMTP listener, IMAP watcher, HTTP endpoint, scheduler",
        description="Start every configured channel in one process. With nothing configured: "
        "SQLite under ./marac-data/, the SMTP listener on 127.0.0.1:8025, replies written to "
        "./marac-data/outbox/ and a demo registry. At most MARAC_MAX_ATTACHMENTS files "
        "(default 20) of one message are handled; the rest are named in the reply. Ctrl-C or "
        "SIGTERM stops it cleanly after the message in hand. Exit 0 on a clean stop, 2 on bad "
        "configuration.",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import run as run_bot

    if not args.verbose:
        logging.getLogger().setLevel(logging.INFO)
        # aiosmtpd logs every SMTP command and alembic every migration step at INFO: the
        # operator wants one line per message (ours), not the conversation.
        for noisy in ("mail.log", "alembic"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return run_bot(settings)
    except ConfigError as exc:
        # Some values can only be tried while starting (a certificate file, a port in use):
        # the same one-line message and exit code as a value that failed to parse.
        print(f"marac-bot: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
