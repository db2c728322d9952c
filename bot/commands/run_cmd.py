"""``marac-bot run``: start every configured channel in one process."""

from __future__ import annotations

import argparse
import logging
import sys

from bot.settings import ConfigError, Settings

EXIT_CONFIG = 2




def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.startup import run as run_bot  # the SMTP listener first, then the rest

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
