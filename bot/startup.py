"""``marac-bot run``'s start: the SMTP listener first, then the rest (issue 14).

The bot's other parts (the worker and handlers, the web pages, the chat channels) take over a
second to load. The listener needs none of them (bot/channels/email/early.py: on SQLite it
writes into a spool of its own, so it does not wait for the database either), so it starts
first and takes mail while the rest loads in a thread and the loop keeps answering SMTP. If the
rest fails to start, the listener is closed and the process ends as it did before, with what
was taken kept for the next start.
"""

from __future__ import annotations

import asyncio
import importlib

from bot.settings import Settings


def run(settings: Settings) -> int:
    """Run until SIGTERM / Ctrl-C; returns the exit code."""
    return asyncio.run(_main(settings))


async def _main(settings: Settings) -> int:
    from bot.channels.email.early import start_early_smtp

    early = await start_early_smtp(settings)
    try:
        # Loaded in a thread, so the loop goes on answering SMTP while it loads.
        app = await asyncio.to_thread(importlib.import_module, "bot.app")
        code: int = await app._main(settings, early_smtp=early)
        return code
    finally:
        if early is not None:
            await early.close()  # nothing to do once the email channel has adopted it
