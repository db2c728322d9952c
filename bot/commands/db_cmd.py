"""``marac-bot db upgrade``: apply schema migrations (every command also does it by itself)."""

from __future__ import annotations

import argparse

from bot.commands.common import show
from bot.settings import Settings
from store.db import current_revision, open_engine, upgrade


def run_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    engine = open_engine(settings.database_url, data_dir=settings.data_dir)
    try:
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
    finally:
        engine.dispose()
    show(f"Database schema: {before or 'empty'} -> {after}" if before != after
         else f"Database schema already current ({after})")
    return 0
