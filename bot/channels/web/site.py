"""What every dashboard route shares: settings, the store, the signer, the templates, the
outbox hook, and the one step every page takes first: the session cookie checked against the
store, in the same read as the page's data."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web
from jinja2 import Environment
from sqlalchemy.orm import Session

from bot.channels.web.pages.operator import RunStatus
from bot.channels.web.render import page
from bot.channels.web.signin import Signer, end_session, session_contact
from bot.channels.web.signin_mail import QueueReply
from bot.channels.web.viewer import Viewer
from bot.settings import Settings
from store.db import Store
from store.types import utcnow

SESSION_COOKIE = "marac_session"
T = TypeVar("T")


class NotSignedIn(Exception):
    """No cookie, or one that names no live session."""


@dataclass(frozen=True)
class Site:
    settings: Settings
    store: Store
    signer: Signer
    env: Environment
    queue_reply: QueueReply
    wake_outbox: Callable[[], None]
    run_status: Callable[[], RunStatus]

    def page(self, template: str, *, status: int = 200, **context: Any) -> web.Response:
        context.setdefault("viewer", None)
        return page(self.env, template, status=status, **context)

    def end_session(self, value: str) -> None:
        with self.store.transaction() as session:
            end_session(session, self.signer, value)

    async def as_viewer(self, request: web.Request,
                        work: Callable[[Session, Viewer], T]) -> tuple[Viewer, T]:
        """Run ``work`` for the signed-in viewer in one read; NotSignedIn without one.

        A reading transaction: on SQLite it never waits for a worker's write, and on
        PostgreSQL it ends by COMMIT, so the pooled connection keeps its prepared statements
        for the workers that use it next (a ROLLBACK makes psycopg forget them)."""
        value = request.cookies.get(SESSION_COOKIE, "")
        if not value:
            raise NotSignedIn

        def read() -> tuple[Viewer, T]:
            with self.store.reading() as session:
                contact = session_contact(session, self.signer, value, now=utcnow())
                if contact is None:
                    raise NotSignedIn
                viewer = Viewer.of(session, contact)
                return viewer, work(session, viewer)

        return await asyncio.to_thread(read)
