"""Sign-in links, sessions and the login form's limits (issue 15), on SQLite and PostgreSQL,
with the boundaries pinned: a link lives 15 minutes and is used once, a session a working day;
a value signed for one purpose or by another key is refused; the login form's CSRF token,
rate limits and the Secure flag behind TLS, through a real aiohttp server on loopback."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels.web.endpoints import WebEndpoints
from bot.channels.web.limits import PER_ADDRESS, PER_CLIENT, RateLimit
from bot.channels.web.pages.operator import RunStatus
from bot.channels.web.secret import secret_key
from bot.channels.web.signin import (
    LINK_LIFETIME,
    SESSION_LIFETIME,
    Signer,
    end_session,
    issue_link,
    link_contact,
    redeem_link,
    session_contact,
)
from bot.settings import Settings
from kernel.messages import Reply
from kernel.wording import web as words
from store.db import Store
from store.models import Contact, WebSignIn

NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
SIGNER = Signer(b"k" * 32)


def _contact(session: Session, email: str = "cora@example.org") -> Contact:
    contact = Contact(name="Cora", email=email, role="coordinator")
    session.add(contact)
    session.flush()
    return contact


def test_a_link_is_used_once_within_fifteen_minutes(db_session: Session) -> None:
    contact = _contact(db_session)
    link = issue_link(db_session, SIGNER, contact, now=NOW)
    last_moment = NOW + LINK_LIFETIME - timedelta(seconds=1)
    assert link_contact(db_session, SIGNER, link, now=last_moment) == contact
    assert link_contact(db_session, SIGNER, link, now=NOW + LINK_LIFETIME) is None
    found = redeem_link(db_session, SIGNER, link, now=last_moment)
    assert found is not None and found[0] == contact
    assert redeem_link(db_session, SIGNER, link, now=last_moment) is None  # used
    assert link_contact(db_session, SIGNER, link, now=NOW) is None
    late = issue_link(db_session, SIGNER, contact, now=NOW)
    assert redeem_link(db_session, SIGNER, late, now=NOW + LINK_LIFETIME) is None  # expired


def test_only_a_hash_of_the_token_is_stored(db_session: Session) -> None:
    link = issue_link(db_session, SIGNER, _contact(db_session), now=NOW)
    token = link.rpartition(".")[0]
    stored = db_session.scalars(select(WebSignIn.token_hash)).one()
    assert token not in stored and len(stored) == 64


def test_a_session_lasts_a_working_day_and_ends_at_sign_out(db_session: Session) -> None:
    contact = _contact(db_session)
    found = redeem_link(db_session, SIGNER, issue_link(db_session, SIGNER, contact, now=NOW),
                        now=NOW)
    assert found is not None
    cookie = found[1]
    last_moment = NOW + SESSION_LIFETIME - timedelta(seconds=1)
    assert session_contact(db_session, SIGNER, cookie, now=last_moment) == contact
    assert session_contact(db_session, SIGNER, cookie, now=NOW + SESSION_LIFETIME) is None
    end_session(db_session, SIGNER, cookie)
    assert session_contact(db_session, SIGNER, cookie, now=NOW) is None


def test_forged_values_and_other_purposes_are_refused(db_session: Session) -> None:
    contact = _contact(db_session)
    link = issue_link(db_session, SIGNER, contact, now=NOW)
    other_key = Signer(b"x" * 32)
    assert redeem_link(db_session, other_key, link, now=NOW) is None
    token, _, mac = link.rpartition(".")
    assert redeem_link(db_session, SIGNER, f"{token}.{mac[::-1]}", now=NOW) is None
    # A link is not a session cookie, nor a cookie a link.
    assert session_contact(db_session, SIGNER, link, now=NOW) is None
    found = redeem_link(db_session, SIGNER, link, now=NOW)
    assert found is not None
    assert redeem_link(db_session, SIGNER, found[1], now=NOW) is None
    for junk in ("", ".", "abc", "a" * 5000, "\x00.\x00"):
        assert session_contact(db_session, SIGNER, junk, now=NOW) is None


def test_the_rate_limit_counts_within_its_window_only() -> None:
    clock = [0.0]
    limit = RateLimit(3, 60.0, clock=lambda: clock[0])
    assert [limit.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limit.allow("b")  # per key
    clock[0] = 59.9
    assert not limit.allow("a")
    clock[0] = 60.0  # the first request has left the window
    assert limit.allow("a")
    assert PER_ADDRESS[0] < PER_CLIENT[0]


def test_without_a_configured_key_one_is_made_once_and_kept_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = secret_key(settings)
    assert secret_key(settings) == first and len(first) >= 48
    assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o777 == 0o600
    assert secret_key(Settings(data_dir=tmp_path / "data", secret_key="set")) == b"set"


class _Site:
    """A real aiohttp server with only the dashboard mounted, on a real store."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.sent: list[Reply] = []
        self.store = store
        app = web.Application()
        WebEndpoints(settings, store, queue_reply=lambda _s, reply, _k: self.sent.append(reply),
                     wake_outbox=lambda: None, run_status=RunStatus).mount(app)
        self.app = app


async def _form(client: TestClient, path: str) -> tuple[str, str]:
    """The form's CSRF value and its cookie, sent back by hand: behind TLS the cookie is
    Secure, which a client speaking plain http to the test server would not return."""
    response = await client.get(path)
    csrf = re.search(r'name="csrf" value="([^"]+)"', await response.text())
    assert csrf
    cookie = response.cookies["marac_csrf"]
    assert cookie["secure"] and cookie["httponly"]
    return csrf.group(1), f"marac_csrf={cookie.value}"


async def _login(client: TestClient, email: str) -> tuple[int, str]:
    csrf, cookie = await _form(client, "/login")
    response = await client.post("/login", data={"csrf": csrf, "email": email},
                                 headers={"Cookie": cookie})
    return response.status, await response.text()


def test_login_form_csrf_limits_and_secure_cookie_behind_tls(db_store: Store,
                                                             tmp_path: Path) -> None:
    with db_store.transaction() as session:
        _contact(session)
    settings = Settings(data_dir=tmp_path, web_url="https://dash.example.org")
    site = _Site(db_store, settings)

    async def scenario() -> None:
        async with TestClient(TestServer(site.app)) as client:
            # No CSRF cookie and token: the form is shown again, nothing sent.
            bare = await client.post("/login", data={"email": "cora@example.org"})
            assert bare.status == 400 and words.FORM_EXPIRED in await bare.text()
            assert site.sent == []
            for _ in range(PER_ADDRESS[0]):
                status, page = await _login(client, "Cora@Example.org")
                assert status == 200 and words.CHECK_EMAIL in page
            assert len(site.sent) == PER_ADDRESS[0]
            assert site.sent[0].thread.address == "cora@example.org"
            link = re.search(r"https://dash\.example\.org/signin/\S+", site.sent[0].text)
            assert link
            # Over the address's limit: the same page, no email.
            status, page = await _login(client, "cora@example.org")
            assert status == 200 and words.CHECK_EMAIL in page
            assert len(site.sent) == PER_ADDRESS[0]
            path = link.group(0).removeprefix("https://dash.example.org")
            csrf, csrf_cookie = await _form(client, path)
            used = await client.post(path, data={"csrf": csrf}, headers={"Cookie": csrf_cookie},
                                     allow_redirects=False)
            assert used.status == 303 and used.headers["Location"] == "/"
            cookie = used.headers.getall("Set-Cookie")
            session_cookie = next(c for c in cookie if c.startswith("marac_session="))
            assert "HttpOnly" in session_cookie and "Secure" in session_cookie
            assert "SameSite=Lax" in session_cookie
            assert f"Max-Age={int(SESSION_LIFETIME.total_seconds())}" in session_cookie
            # Per client: the rest of the allowance, then 429.
            for _ in range(PER_CLIENT[0] - PER_ADDRESS[0] - 1):
                assert (await _login(client, "nobody@example.org"))[0] == 200
            assert (await _login(client, "nobody@example.org"))[0] == 429

    asyncio.run(scenario())
