"""The SMTP listener of ``marac-bot run`` started first, before the rest loads (issue 14).

The other parts of the bot (the worker and handlers, the web pages, the chat channels) take
over a second to load. The listener needs none of them, so ``run`` starts it first and takes
mail, durably (DESIGN.md "Durable first, then work"), while the rest loads in a thread; the
email channel adopts the running listener once the rest is up. On SQLite the listener commits
into a spool file of its own (smtp_spool.py), so it does not even wait for the database: the
spool moves what it took into the inbox once the store is open. On PostgreSQL it writes into
the inbox itself, so the store is opened (its schema brought up to date) first and handed on.
If the rest fails to start, the listener is closed; what it took stays in the spool or inbox
and is answered after the next start.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.channels.email.smtp_listener import SmtpListener, start_smtp_listener
from bot.channels.email.smtp_spool import STORED_AS, Spool
from bot.settings import Settings
from store.db import Store, normalise_url

SPOOL_FILE = "spool.db"


@dataclass
class Wake:
    """What the listener calls after storing a message: nothing until the worker runs."""

    call: Callable[[], None] = field(default=lambda: None)

    def __call__(self) -> None:
        self.call()


@dataclass
class EarlySmtp:
    """A listener taking mail, until the email channel adopts it."""

    listener: SmtpListener
    spool: Spool | None  # SQLite: where the listener writes
    store: Store | None  # PostgreSQL: the store the listener writes into, for ``run`` to use
    wake: Wake
    adopted: bool = False

    def adopt(self, on_stored: Callable[[], None]) -> tuple[SmtpListener, Spool | None]:
        """The listener (and spool), from now on closed by the email channel; on PostgreSQL
        each message stored from now on wakes the worker (the spool's mover does on SQLite)."""
        self.adopted = True
        self.wake.call = on_stored
        return self.listener, self.spool

    async def close(self) -> None:
        """The rest did not start: stop taking mail; what was taken stays stored."""
        if self.adopted:
            return
        self.adopted = True
        await self.listener.close()
        if self.spool is not None:
            await asyncio.to_thread(self.spool.stop)
        if self.store is not None:
            self.store.close()  # run may have closed it already: disposing twice is harmless


def uses_spool(settings: Settings) -> bool:
    """Whether the listener spools (SQLite, the default with no URL) rather than writing into
    the database (PostgreSQL)."""
    return (not settings.database_url
            or normalise_url(settings.database_url).get_backend_name() == "sqlite")


async def start_early_smtp(settings: Settings) -> EarlySmtp | None:
    """The listener, taking mail now (None when MARAC_SMTP_LISTEN is empty). A listen address
    that cannot be used is a ConfigError, as it was when the listener started later."""
    if settings.smtp_listen is None:
        return None
    wake = Wake()
    if uses_spool(settings):
        spool = await asyncio.to_thread(Spool, None, settings.data_dir / SPOOL_FILE,
                                        lambda: None)
        try:
            listener = await start_smtp_listener(settings, spool.sessions, spool.wake,
                                                 stored_as=STORED_AS)
        except BaseException:
            await asyncio.to_thread(spool.stop)
            raise
        return EarlySmtp(listener, spool, None, wake)
    store = await asyncio.to_thread(Store.from_settings, settings)  # the inbox table must exist
    try:
        listener = await start_smtp_listener(settings, store.sessions, wake)
    except BaseException:
        store.close()
        raise
    return EarlySmtp(listener, None, store, wake)
