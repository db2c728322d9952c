"""The email channel's place in the running bot: the SMTP listener (on the event loop) and the
IMAP watcher (in a thread of its own), each started only when configured.

Each only stores what arrives and wakes the worker; the worker wakes the watcher after it
commits an outcome, so the watcher files the message (Processed / Rejected) promptly.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.channels.email.smtp_listener import SmtpListener, start_smtp_listener
from bot.channels.email.smtp_spool import STORED_AS, Spool
from bot.health import Health
from bot.settings import Settings
from store.db import Store

# The IMAP watcher is imported where used: it loads its OAuth library (msal, requests), which
# ``run`` needs only when a mailbox is configured (issue 14, start-up time).
if TYPE_CHECKING:
    from aiohttp import web

    from bot.channels.email.early import EarlySmtp
    from bot.channels.email.imap_watcher import ImapWatcher


class EmailEndpoints:
    def __init__(self, settings: Settings, store: Store, on_stored: Callable[[], None], *,
                 early: EarlySmtp | None = None) -> None:
        self.settings, self.store, self.on_stored = settings, store, on_stored
        self.early = early  # the listener ``run`` started into the spool before the rest
        self.smtp: SmtpListener | None = None
        self.imap: ImapWatcher | None = None
        self.imap_thread: threading.Thread | None = None
        self.health: Health | None = None
        self.spool: Spool | None = None

    def report_to(self, health: Health) -> None:
        """Where the IMAP watcher reports its connection and filing (``/healthz``)."""
        self.health = health

    def mount(self, app: web.Application) -> None:
        """Email has no HTTP routes."""

    async def start(self, *, http_running: bool) -> None:
        if self.early is not None:  # already taking mail (what it spooled now moves)
            self.smtp, self.spool = self.early.adopt(self.on_stored)
            if self.spool is not None:
                await asyncio.to_thread(self.spool.start, self.store, self.on_stored)
        elif self.settings.smtp_listen is not None:
            sessions, on_enqueued = self.store.sessions, self.on_stored
            stored_as = "inbound"
            if self.store.engine.dialect.name == "sqlite":
                # One writer per SQLite file: the listener commits into a spool of its own,
                # so acceptance never waits behind a worker's transaction (smtp_spool.py).
                self.spool = Spool(self.store, self.settings.data_dir / "spool.db",
                                   self.on_stored)
                await asyncio.to_thread(self.spool.start)
                sessions, on_enqueued = self.spool.sessions, self.spool.wake
                stored_as = STORED_AS
            self.smtp = await start_smtp_listener(self.settings, sessions, on_enqueued,
                                                 stored_as=stored_as)
        if self.settings.imap_host:
            from bot.channels.email.imap_queue import StoreMailboxLeader, StoreMailboxQueue
            from bot.channels.email.imap_watcher import watcher_from_settings

            queue = StoreMailboxQueue(self.store, on_enqueued=self.on_stored)
            # Several processes may watch one mailbox: a lease elects the one that moves.
            leader = StoreMailboxLeader(self.store, f"{self.settings.imap_user}@"
                                        f"{self.settings.imap_host}/{self.settings.imap_folder}")
            self.imap = watcher_from_settings(self.settings, queue, health=self.health,
                                              leader=leader)
            self.imap_thread = threading.Thread(target=self.imap.run, name="imap", daemon=True)
            self.imap_thread.start()

    async def stop_accepting(self) -> None:
        """No new mail from now on (before the message in hand is finished)."""
        if self.smtp is not None:
            await self.smtp.close()
        if self.spool is not None:  # what the listener accepted goes into the inbox
            await asyncio.to_thread(self.spool.stop)

    async def stop(self) -> None:
        """After the last outcome is committed: the watcher files it, then ends."""
        if self.imap is not None and self.imap_thread is not None:
            self.imap.stop.set()
            await asyncio.to_thread(self.imap_thread.join, 30)

    def wake(self) -> None:
        """An outcome was committed: let the watcher file its message now."""
        if self.imap is not None:
            self.imap.wake()

    def describe(self, port: int | None) -> list[str]:
        parts = []
        if self.smtp is not None and self.settings.smtp_listen is not None:
            parts.append(f"SMTP listener on {self.settings.smtp_listen.host}:{self.smtp.port}")
        if self.imap is not None:
            parts.append(f"IMAP watcher on {self.settings.imap_host} "
                         f"({self.settings.imap_folder})")
        return parts

    @property
    def smtp_port(self) -> int | None:
        return self.smtp.port if self.smtp is not None else None
