"""``/api/messages`` with an app id: Bot Framework JWTs are validated by the Agents SDK.

A real RSA key signs the tokens; its public half is served as a JWKS document on loopback, and
the SDK's key cache is pointed at it for the Bot Framework issuer (the one thing redirected:
the SDK would otherwise fetch Microsoft's keys over the internet). Signature, audience and
expiry are checked by the SDK's own validator.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt import PyJWKClient
from microsoft_agents.hosting.core.authorization import AuthenticationConstants
from microsoft_agents.hosting.core.authorization.jwt import JwtTokenValidator
from microsoft_agents.hosting.core.authorization.jwt.jwt_token_validator import (
    _JwkClientCacheEntry,
)
from sqlalchemy import func, select

from bot.channels.teams.endpoint import TeamsEndpoint
from bot.settings import Settings
from store.db import Store
from store.queue import InboundItem
from tests.teams_fake_support import FakeConnector, message_activity

APP_ID = "00000000-0000-0000-0000-00000000a11d"
ISSUER = "https://api.botframework.com"
KID = "test-key"


class _Keys:
    def __init__(self) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        self.jwks = {"keys": [{**public, "kid": KID, "use": "sig", "alg": "RS256"}]}

    def token(self, *, audience: str = APP_ID, expires_in: int = 600, **claims: Any) -> str:
        now = int(time.time())
        payload = {"iss": ISSUER, "aud": audience, "iat": now, "nbf": now,
                   "exp": now + expires_in, "serviceurl": "http://127.0.0.1/", **claims}
        return jwt.encode(payload, self.private, algorithm="RS256", headers={"kid": KID})


@pytest.fixture
def keys() -> Iterator[_Keys]:
    """Signing keys, published on loopback and registered as the Bot Framework's."""
    made = _Keys()
    body = json.dumps(made.jwks).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    cache = JwtTokenValidator._jwk_client_manager._cache
    uri = AuthenticationConstants.PUBLIC_ABS_JWKS_URL
    saved = cache.get(uri)
    url = f"http://127.0.0.1:{server.server_address[1]}/keys"
    cache[uri] = _JwkClientCacheEntry(PyJWKClient(url), threading.Lock())
    try:
        yield made
    finally:
        if saved is None:
            cache.pop(uri, None)
        else:
            cache[uri] = saved
        server.shutdown()
        server.server_close()


def _statuses(db_store: Store, settings: Settings, requests: list[dict[str, str]]
              ) -> list[int]:
    """POST one activity per header set to a running endpoint; the statuses, in order."""
    with FakeConnector() as connector:
        activity = message_activity(connector, activity_id="act-1", aad_id="aad-x", text="hi")

    async def run() -> list[int]:
        endpoint = TeamsEndpoint(settings, db_store, lambda: None)
        app = web.Application()
        app.router.add_post("/api/messages", endpoint.handle)
        async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
            statuses = []
            for headers in requests:
                response = await client.post("/api/messages", json=activity, headers=headers)
                statuses.append(response.status)
            return statuses

    return asyncio.run(run())


def _stored(db_store: Store) -> int:
    with db_store.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(InboundItem)) or 0)


def test_with_an_app_id_only_a_valid_bot_framework_token_gets_in(
    db_store: Store, keys: _Keys
) -> None:
    settings = Settings(teams_app_id=APP_ID, teams_app_password="secret",
                        teams_anonymous=True)  # ignored: an app id means tokens are required
    statuses = _statuses(db_store, settings, [
        {},
        {"Authorization": "Bearer not.a.token"},
        {"Authorization": f"Bearer {keys.token(audience='someone-else')}"},
        {"Authorization": f"Bearer {keys.token(expires_in=-3600)}"},
        {"Authorization": f"Bearer {keys.token()}"},
    ])
    assert statuses == [401, 401, 401, 401, 202]
    assert _stored(db_store) == 1


def test_anonymous_mode_lets_unsigned_requests_in_but_still_checks_a_token(
    db_store: Store, keys: _Keys
) -> None:
    settings = Settings(teams_anonymous=True)
    statuses = _statuses(db_store, settings, [
        {"Authorization": f"Bearer {keys.token(audience='someone-else')}"},
        {},
    ])
    assert statuses == [401, 202]
    assert _stored(db_store) == 1


def test_without_anonymous_mode_or_an_app_id_everything_is_refused(db_store: Store) -> None:
    assert _statuses(db_store, Settings(), [{}]) == [401]
    assert _stored(db_store) == 0
