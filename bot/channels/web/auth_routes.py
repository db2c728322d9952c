"""The sign-in pages: ``/login`` (the form and its answer), ``/signin/<link>`` (a page with one
button, whose POST uses the link: mail scanners that fetch every link in a message must not use
it up) and ``/logout``."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from bot.channels.web.limits import (
    PER_ADDRESS,
    PER_CLIENT,
    RateLimit,
    client_address,
    networks,
)
from bot.channels.web.security import CSRF_COOKIE, csrf_ok, csrf_pair, is_secure
from bot.channels.web.signin import SESSION_LIFETIME, link_contact, redeem_link
from bot.channels.web.signin_mail import base_url, send_link
from bot.channels.web.site import SESSION_COOKIE, Site
from kernel.wording import web as words
from store.registry import find_contact
from store.types import utcnow

_MAX_ADDRESS = 320
if TYPE_CHECKING:  # aiohttp's own types for a posted form
    from aiohttp.web_request import FileField
    from multidict import MultiDictProxy

logger = logging.getLogger(__name__)


class AuthRoutes:
    def __init__(self, site: Site) -> None:
        self.site = site
        self.per_address = RateLimit(*PER_ADDRESS)
        self.per_client = RateLimit(*PER_CLIENT)
        self.proxies = networks(site.settings.trusted_proxies)
        # Link requests waiting or in hand, one at a time in the order asked: the answer to
        # /login never waits for one, so a known address and an unknown one take the same
        # time (the lookup and the email happen after the page is sent).
        self._sends: set[asyncio.Task[None]] = set()
        self._last: asyncio.Task[None] | None = None

    def mount(self, app: web.Application) -> None:
        app.router.add_get("/login", self.login_form)
        app.router.add_post("/login", self.login)
        app.router.add_get("/signin/{link}", self.link_page)
        app.router.add_post("/signin/{link}", self.use_link)
        app.router.add_post("/logout", self.logout)

    def _form(self, request: web.Request, template: str, *, status: int = 200,
              **context: object) -> web.Response:
        value, cookie = csrf_pair(self.site.signer, request)
        context.setdefault("title", words.TITLE_SIGN_IN)
        response = self.site.page(template, status=status, csrf=value, **context)
        response.set_cookie(CSRF_COOKIE, cookie, httponly=True, samesite="Strict", path="/",
                            secure=is_secure(request, self.site.settings.web_url))
        return response

    async def login_form(self, request: web.Request) -> web.Response:
        return self._form(request, "login.html", notice=None)

    async def login(self, request: web.Request) -> web.Response:
        form = await _form_of(request)
        if form is None or not csrf_ok(self.site.signer, request, str(form.get("csrf", ""))):
            return self._form(request, "login.html", status=400, notice=words.FORM_EXPIRED)
        client = client_address(request.remote, request.headers.getall("X-Forwarded-For", []),
                                self.proxies)
        if not self.per_client.allow(client):
            return self.site.page("message.html", status=429, title=words.TITLE_SIGN_IN,
                                  message=words.TOO_MANY)
        address = str(form.get("email", "")).strip().lower()[:_MAX_ADDRESS]
        # Over the per-address limit the answer is the same page: it must not say whether
        # the address is registered.
        if address and self.per_address.allow(address):
            self._queue(address, base_url(self.site.settings, _own_port(request)), utcnow())
        return self.site.page("message.html", title=words.CHECK_EMAIL_TITLE,
                              message=words.CHECK_EMAIL)

    def _queue(self, address: str, base: str, now: datetime) -> None:
        """Look the address up and send its link after the answer, behind earlier requests."""
        task = asyncio.create_task(self._send_after(self._last, address, base, now))
        self._last = task
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    async def _send_after(self, previous: asyncio.Task[None] | None, address: str, base: str,
                          now: datetime) -> None:
        if previous is not None:
            await asyncio.wait([previous])  # its failure is its own, logged there
        try:
            await asyncio.to_thread(self._send, address, base, now)
        except Exception:  # one lost link must not stop the ones queued after it
            logger.exception("could not send a dashboard sign-in link")

    async def drain(self) -> None:
        """Wait for the link requests already taken (at shutdown, and in tests)."""
        while self._sends:
            await asyncio.wait(set(self._sends))

    def _send(self, address: str, base: str, now: datetime) -> None:
        with self.site.store.transaction() as session:
            contact = find_contact(session, address)
            if contact is None:
                return
            send_link(session, self.site.signer, contact, base=base, now=now,
                      queue=self.site.queue_reply)
        logger.info("dashboard sign-in link queued for %s", address)
        self.site.wake_outbox()

    async def link_page(self, request: web.Request) -> web.Response:
        value = request.match_info["link"]

        def who() -> str | None:
            with self.site.store.transaction() as session:
                contact = link_contact(session, self.site.signer, value, now=utcnow())
                return contact.name if contact else None

        name = await asyncio.to_thread(who)
        if name is None:
            return self._bad_link()
        return self._form(request, "signin.html", name=name, title=words.LINK_CONFIRM_TITLE)

    async def use_link(self, request: web.Request) -> web.StreamResponse:
        form = await _form_of(request)
        if form is None or not csrf_ok(self.site.signer, request, str(form.get("csrf", ""))):
            return self._form(request, "login.html", status=400, notice=words.FORM_EXPIRED)
        value = request.match_info["link"]

        def redeem() -> str | None:
            with self.site.store.transaction() as session:
                found = redeem_link(session, self.site.signer, value, now=utcnow())
                if found is None:
                    return None
                logger.info("%s signed in to the dashboard", found[0].email)
                return found[1]

        cookie = await asyncio.to_thread(redeem)
        if cookie is None:
            logger.info("a dashboard sign-in link was refused (used, expired or forged)")
            return self._bad_link()
        response = _see_other("/")
        response.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="Lax", path="/",
                            max_age=int(SESSION_LIFETIME.total_seconds()),
                            secure=is_secure(request, self.site.settings.web_url))
        response.del_cookie(CSRF_COOKIE, path="/")
        return response

    def _bad_link(self) -> web.Response:
        return self.site.page("message.html", status=400, title=words.LINK_BAD_TITLE,
                              message=words.LINK_BAD, action=("/login", words.LINK_BAD_ACTION))

    async def logout(self, request: web.Request) -> web.StreamResponse:
        value = request.cookies.get(SESSION_COOKIE, "")
        if value:
            await asyncio.to_thread(self.site.end_session, value)
        response = _see_other("/login")
        response.del_cookie(SESSION_COOKIE, path="/")
        return response


def _see_other(location: str) -> web.Response:
    """A 303 to ``location`` that can carry cookies (returned, not raised)."""
    return web.Response(status=303, headers={"Location": location})


def _own_port(request: web.Request) -> int | None:
    """The port this server really listens on (``MARAC_HTTP_LISTEN`` may say 0)."""
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    return int(sockname[1]) if sockname else None


async def _form_of(request: web.Request
                   ) -> MultiDictProxy[str | bytes | bytearray | FileField] | None:
    """The posted form, or None when it cannot be read (bytes that are not in its charset, a
    charset Python does not know, a broken multipart body): the form is then shown again with
    a 400, as for a stale one, never a 500. A body over the size limit is still a 413."""
    try:
        return await request.post()
    except (ValueError, LookupError, HttpProcessingError) as exc:
        logger.warning("unreadable form posted to %s: %s", request.path, exc)
        return None
