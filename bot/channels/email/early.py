"""The SMTP listener of ``marac-bot run`` started first, into its spool (issue 14).

On SQLite the listener commits into a spool file of its own (smtp_spool.py), which needs
neither the database nor the rest of the bot. So ``run`` starts it before opening the database
and loading the other channels, the web pages and the worker (together over a second): mail is
taken, durably, from the first fraction of a second (DESIGN.md "Durable first, then work"), and
the email channel adopts the running listener once the store is open; the spool then moves what
was taken into the inbox. If the rest fails to start, the listener is closed and what it took
stays in the spool for the next start. On PostgreSQL the listener writes into the database
itself, so it starts with the email channel as before.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.channels.email.smtp_listener import SmtpListener, start_smtp_listener
from bot.channels.email.smtp_spool import Spool
from bot.settings import Settings
from store.db import normalise_url

SPOOL_FILE = "spool.db"


@dataclass
class EarlySmtp:
    """A listener taking mail into the spool, until the email channel adopts both."""

    listener: SmtpListener
    spool: Spool
    adopted: bool = False

    def adopt(self) -> tuple[SmtpListener, Spool]:
        """The listener and spool, from now on closed by the email channel."""
        self.adopted = True
        return self.listener, self.spool

    async def close(self) -> None:
        """The rest did not start: stop taking mail; what was taken stays spooled."""
        if self.adopted:
            return
        self.adopted = True
        await self.listener.close()
        await asyncio.to_thread(self.spool.stop)


def uses_spool(settings: Settings) -> bool:
    """Whether the listener spools (SQLite, the default with no URL) rather than writing into
    the database (PostgreSQL)."""
    return (not settings.database_url
            or normalise_url(settings.database_url).get_backend_name() == "sqlite")


async def start_early_smtp(settings: Settings) -> EarlySmtp | None:
    """The listener, accepting into the spool now; None when there is no listener or it writes
    into the database. A listen address that cannot be used is a ConfigError, as later."""
    if settings.smtp_listen is None or not uses_spool(settings):
        return None
    spool = await asyncio.to_thread(Spool, None, settings.data_dir / SPOOL_FILE,
                                    lambda: None)
    try:
        listener = await start_smtp_listener(settings, spool.sessions, spool.wake)
    except BaseException:
        await asyncio.to_thread(spool.stop)
        raise
    return EarlySmtp(listener, spool)
