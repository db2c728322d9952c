"""A fake Teams Bot Connector for tests: receives the bot's activities at
``/v3/conversations/{id}/activities[/{replyToId}]`` and serves files at ``downloadUrl``s, on a
free loopback port (aiohttp, in a thread of its own). Also builds the activities Teams posts.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt import PyJWKClient
from microsoft_agents.hosting.core.authorization import AuthenticationConstants
from microsoft_agents.hosting.core.authorization.jwt import JwtTokenValidator
from microsoft_agents.hosting.core.authorization.jwt.jwt_token_validator import (
    _JwkClientCacheEntry,
)

HOST = "127.0.0.1"
FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"
BOT_ID = "28:marac-bot"
# Where the fake connector's activities say they come from, unless a test's own connector runs:
# the Bot Framework's tokens name it in their ``serviceurl`` claim.
SERVICE_URL = "http://127.0.0.1:9/"


class FakeConnector:
    def __init__(self) -> None:
        self.activities: list[dict[str, Any]] = []  # {"conversation", "reply_to", "body", "auth"}
        self.files: dict[str, bytes] = {}
        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.port = 0

    def __enter__(self) -> FakeConnector:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._activity)
        app.router.add_post("/v3/conversations/{cid}/activities", self._activity)
        app.router.add_get("/files/{name}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, 0)
        await site.start()
        server = getattr(site, "_server", None)
        self.port = server.sockets[0].getsockname()[1] if server else 0

    @property
    def service_url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def add_file(self, name: str, data: bytes) -> str:
        """Serve a file; returns its download URL (pre-authorised, as Teams' are)."""
        self.files[name] = data
        return f"http://{HOST}:{self.port}/files/{name}"

    def wait_for(self, predicate: Any = lambda _: True, *, timeout: float = 30.0,
                 count: int = 1) -> dict[str, Any]:
        def matches() -> list[dict[str, Any]]:
            return [a for a in self.activities if predicate(a)]

        with self._cond:
            if not self._cond.wait_for(lambda: len(matches()) >= count, timeout):
                got = [(a["conversation"], a["reply_to"]) for a in self.activities]
                raise AssertionError(f"no activity #{count} within {timeout} s; got {got}")
            return matches()[count - 1]

    async def _activity(self, request: web.Request) -> web.Response:
        body = await request.json()
        with self._cond:
            self.activities.append({
                "conversation": request.match_info["cid"],
                "reply_to": request.match_info.get("aid"),
                "body": body,
                "auth": request.headers.get("Authorization"),
            })
            self._cond.notify_all()
        return web.json_response({"id": f"reply-{next(self._ids)}"})

    async def _file(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["name"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="application/octet-stream")


def message_activity(connector: FakeConnector, *, activity_id: str, aad_id: str, text: str = "",
                     conversation: str = "a:1on1-lambeth", attachments: list[dict[str, Any]]
                     | None = None, conversation_type: str = "personal") -> dict[str, Any]:
    """A message activity as Teams posts it to /api/messages."""
    return {
        "type": "message", "id": activity_id, "timestamp": "2025-01-20T10:00:00.000Z",
        "serviceUrl": connector.service_url, "channelId": "msteams",
        "from": {"id": f"29:{aad_id}", "name": "Lambeth coordinator", "aadObjectId": aad_id},
        "conversation": {"id": conversation, "conversationType": conversation_type,
                         "tenantId": "tenant-1"},
        "recipient": {"id": BOT_ID, "name": "Marac data assistant"},
        "text": text, "textFormat": "plain", "attachments": attachments or [],
        "channelData": {"tenant": {"id": "tenant-1"}},
    }


def file_attachment(name: str, download_url: str) -> dict[str, Any]:
    return {"contentType": FILE_DOWNLOAD_INFO, "name": name,
            "content": {"downloadUrl": download_url, "uniqueId": name, "fileType": "xlsx"}}


class BotFrameworkKeys:
    """A real RSA key whose public half is served as a JWKS document on loopback and registered
    with the Agents SDK as the Bot Framework's keys: the one thing redirected (the SDK would
    otherwise fetch Microsoft's keys over the internet). Signature, audience and expiry are
    then checked by the SDK's own validator.

        with BotFrameworkKeys(app_id) as keys:
            headers = {"Authorization": f"Bearer {keys.token()}"}
    """

    ISSUER = "https://api.botframework.com"
    KID = "test-key"

    def __init__(self, app_id: str, *, also_for: tuple[str, ...] = ()) -> None:
        """``also_for``: further JWKS addresses the SDK is pointed here for (an Entra tenant's
        ``.../discovery/v2.0/keys``), so that tokens of other issuers verify too."""
        self.app_id = app_id
        self.uris = (AuthenticationConstants.PUBLIC_ABS_JWKS_URL, *also_for)
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        self.jwks = {"keys": [{**public, "kid": self.KID, "use": "sig", "alg": "RS256"}]}
        self._server: ThreadingHTTPServer | None = None
        self._saved: dict[str, Any] = {}

    def claims(self, *, expires_in: int = 600, without: tuple[str, ...] = (), **claims: Any
               ) -> dict[str, Any]:
        now = int(time.time())
        made = {"iss": self.ISSUER, "aud": self.app_id, "iat": now, "nbf": now,
                "exp": now + expires_in, "serviceurl": SERVICE_URL, **claims}
        return {name: value for name, value in made.items() if name not in without}

    def token(self, *, headers: dict[str, Any] | None = None, key: Any = None,
              without: tuple[str, ...] = (), **claims: Any) -> str:
        """A token signed with RS256; ``headers`` replace the JOSE header (default: our kid);
        ``without``: claims left out."""
        return jwt.encode(self.claims(without=without, **claims), key or self.private,
                          algorithm="RS256",
                          headers={"kid": self.KID} if headers is None else headers)

    def __enter__(self) -> BotFrameworkKeys:
        body = json.dumps(self.jwks).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        cache = JwtTokenValidator._jwk_client_manager._cache
        url = f"http://{HOST}:{self._server.server_address[1]}/keys"
        for uri in self.uris:
            self._saved[uri] = cache.get(uri)
            cache[uri] = _JwkClientCacheEntry(PyJWKClient(url), threading.Lock())
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        cache = JwtTokenValidator._jwk_client_manager._cache
        for uri, saved in self._saved.items():
            if saved is None:
                cache.pop(uri, None)
            else:
                cache[uri] = saved
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
