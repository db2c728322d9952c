"""Sign-in links, sessions and the login form's limits (issue 15), on SQLite and PostgreSQL,
with the boundaries pinned: a link lives 15 minutes and is used once, a session a working day;
a value signed for one purpose or by another key is refused; the login form's CSRF token,
rate limits and the Secure flag behind TLS, through a real aiohttp server on loopback."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels.web.endpoints import WebEndpoints
from bot.channels.web.limits import PER_ADDRESS, PER_CLIENT, RateLimit, client_address
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
from kernel.config import ConfigError
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
    """A real aiohttp server with only the dashboard mounted, on a real store. ``gate``, when
    given, holds each sign-in email until it is set."""

    def __init__(self, store: Store, settings: Settings,
                 gate: threading.Event | None = None) -> None:
        self.sent: list[Reply] = []
        self.store = store
        app = web.Application()

        def queue(_session: Session, reply: Reply, _key: str) -> None:
            if gate is not None:
                assert gate.wait(timeout=30), "the gate was never opened"
            self.sent.append(reply)

        self.endpoints = WebEndpoints(settings, store, queue_reply=queue,
                                      wake_outbox=lambda: None, run_status=RunStatus)
        self.endpoints.mount(app)
        self.app = app

    async def settled(self) -> None:
        """Every link asked for so far looked up and, for a contact, queued."""
        await self.endpoints.auth.drain()


async def _form(client: TestClient, path: str) -> tuple[str, str]:
    """The form's CSRF value and its cookie, sent back by hand: behind TLS the cookie is
    Secure, which a client speaking plain http to the test server would not return."""
    response = await client.get(path)
    csrf = re.search(r'name="csrf" value="([^"]+)"', await response.text())
    assert csrf
    cookie = response.cookies["marac_csrf"]
    assert cookie["secure"] and cookie["httponly"]
    return csrf.group(1), f"marac_csrf={cookie.value}"


async def _login(client: TestClient, email: str,
                 headers: dict[str, str] | None = None) -> tuple[int, str]:
    csrf, cookie = await _form(client, "/login")
    response = await client.post("/login", data={"csrf": csrf, "email": email},
                                 headers={"Cookie": cookie, **(headers or {})})
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
            await site.settled()
            assert len(site.sent) == PER_ADDRESS[0]
            assert site.sent[0].thread.address == "cora@example.org"
            link = re.search(r"https://dash\.example\.org/signin/\S+", site.sent[0].text)
            assert link
            # Over the address's limit: the same page, no email.
            status, page = await _login(client, "cora@example.org")
            assert status == 200 and words.CHECK_EMAIL in page
            await site.settled()
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


TLS = "https://dash.example.org"  # the login form's cookie is Secure, as the helpers expect
PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::/32"))


def test_the_client_is_the_first_address_from_the_right_that_is_not_a_trusted_proxy() -> None:
    # A peer that is no trusted proxy is the client, whatever it says it forwards.
    assert client_address("203.0.113.9", ["198.51.100.1"], PROXIES) == "203.0.113.9"
    assert client_address("11.0.0.0", ["198.51.100.1"], PROXIES) == "11.0.0.0", "past the /8"
    assert client_address("203.0.113.9", ["198.51.100.1"], ()) == "203.0.113.9", "none trusted"
    # Through trusted proxies: hops read from the right; the client's own words (left) not.
    assert client_address("10.255.255.255", ["198.51.100.1"], PROXIES) == "198.51.100.1"
    assert client_address("10.0.0.1", ["1.1.1.1, 198.51.100.1, 10.0.0.2"],
                          PROXIES) == "198.51.100.1"
    assert client_address("10.0.0.1", ["1.1.1.1", "198.51.100.1"], PROXIES) == "198.51.100.1"
    assert client_address("2001:db8::1", ["2001:db8::2, 2606:4700::1111"],
                          PROXIES) == "2606:4700::1111"
    # Only proxies: the leftmost; nothing forwarded, or a hop that is no address: the last
    # address read.
    assert client_address("10.0.0.1", ["10.0.0.3, 10.0.0.2"], PROXIES) == "10.0.0.3"
    assert client_address("10.0.0.1", [], PROXIES) == "10.0.0.1"
    assert client_address("10.0.0.1", ["198.51.100.1, junk, 10.0.0.2"], PROXIES) == "10.0.0.2"
    assert client_address(None, ["198.51.100.1"], PROXIES) == "-"


def test_behind_a_trusted_proxy_each_client_has_its_own_allowance(
    db_store: Store, tmp_path: Path
) -> None:
    trusting = _Site(db_store, Settings(data_dir=tmp_path, web_url=TLS,
                                        trusted_proxies=("127.0.0.1/32",)))
    untrusting = _Site(db_store, Settings(data_dir=tmp_path, web_url=TLS))
    first, second = {"X-Forwarded-For": "198.51.100.1"}, {"X-Forwarded-For": "198.51.100.2"}

    async def scenario() -> None:
        async with TestClient(TestServer(trusting.app)) as client:
            for _ in range(PER_CLIENT[0]):
                assert (await _login(client, "nobody@example.org", first))[0] == 200
            assert (await _login(client, "nobody@example.org", first))[0] == 429
            assert (await _login(client, "nobody@example.org", second))[0] == 200
        # Not trusted: a forwarded address is the client's own claim, and changes nothing.
        async with TestClient(TestServer(untrusting.app)) as client:
            for _ in range(PER_CLIENT[0]):
                assert (await _login(client, "nobody@example.org", first))[0] == 200
            assert (await _login(client, "nobody@example.org", second))[0] == 429

    asyncio.run(scenario())


def test_known_and_unknown_addresses_are_answered_alike_before_any_lookup(
    db_store: Store, tmp_path: Path
) -> None:
    with db_store.transaction() as session:
        _contact(session)
    gate = threading.Event()
    site = _Site(db_store, Settings(data_dir=tmp_path, web_url=TLS), gate=gate)

    async def scenario() -> None:
        async with TestClient(TestServer(site.app)) as client:
            known = await _login(client, "cora@example.org")
            # Answered while its email is still held at the gate: nothing is done inline.
            assert site.sent == []
            unknown = await _login(client, "nobody@example.org")
            assert known == unknown and words.CHECK_EMAIL in known[1]
            gate.set()
            await site.settled()
        assert [r.thread.address for r in site.sent] == ["cora@example.org"]

    asyncio.run(scenario())


def test_trusted_proxies_are_read_as_networks_and_a_wrong_one_stops_the_start() -> None:
    read = Settings.from_env({"MARAC_TRUSTED_PROXIES": " 10.0.0.1, 192.168.0.0/16 ,,2001:db8::1"})
    assert read.trusted_proxies == ("10.0.0.1/32", "192.168.0.0/16", "2001:db8::1/128")
    assert Settings.from_env({}).trusted_proxies == ()
    with pytest.raises(ConfigError, match=r"MARAC_TRUSTED_PROXIES.*'10\.0\.0\.300'"):
        Settings.from_env({"MARAC_TRUSTED_PROXIES": "10.0.0.1, 10.0.0.300"})


@pytest.mark.parametrize(("content_type", "body"), [
    ("application/x-www-form-urlencoded", b"csrf=x&email=\xff\xfe@example.org"),
    ("application/x-www-form-urlencoded; charset=no-such-charset", b"csrf=x&email=a"),
    ("multipart/form-data; boundary=x", b"--x\r\nfoo"),
])
@pytest.mark.parametrize("path", ["/login", "/signin/not-a-link"])
def test_a_form_that_cannot_be_read_is_shown_again_with_a_400_not_a_500(
        db_store: Store, tmp_path: Path, path: str, content_type: str, body: bytes) -> None:
    site = _Site(db_store, Settings(data_dir=tmp_path, web_url=TLS))

    async def scenario() -> None:
        async with TestClient(TestServer(site.app)) as client:
            csrf, cookie = await _form(client, "/login")
            response = await client.post(path, data=body, headers={
                "Content-Type": content_type, "Cookie": cookie})
            assert response.status == 400
            assert words.FORM_EXPIRED in await response.text()
            # The form works again at once: nothing was held.
            fine = await client.post("/login", data={"csrf": csrf, "email": "a@example.org"},
                                     headers={"Cookie": cookie})
            assert fine.status == 200
            await site.settled()
            assert site.sent == []

    asyncio.run(scenario())
