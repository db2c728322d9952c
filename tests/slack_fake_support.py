"""A fake Slack for tests: the Web API, private file downloads, uploads and a Socket Mode
websocket, on a free loopback port (aiohttp, in a thread with its own event loop).

It behaves like Slack where the bot depends on it: every Web API call must carry the bot token
(the app token for ``apps.connections.open``), else ``{"ok": false, "error": "not_authed"}``; a
private file fetched without the token is a 200 HTML sign-in page, not an error. Everything
the bot sends is recorded; ``wait_for`` blocks until a recorded call matches.

    with FakeSlack() as slack:
        slack.add_file("F1", "lambeth-q3.xlsx", data)
        ...SLACK_API_URL=slack.api_url...
        call = slack.wait_for("chat.postMessage", lambda c: c["thread_ts"] == ts)
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiohttp import WSMsgType, web

HOST = "127.0.0.1"
BOT_TOKEN = "xoxb-test-bot-token"
APP_TOKEN = "xapp-test-app-token"
SIGNING_SECRET = "test-signing-secret"
BOT_USER = "UMARACBOT"
TEAM = "TMARAC"
SIGN_IN_PAGE = b"<!DOCTYPE html><html><head><title>Sign in | Slack</title></head></html>"

Predicate = Callable[[dict[str, Any]], bool]


def signed_headers(body: bytes, *, secret: str = SIGNING_SECRET,
                   timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack signs a request with (v0 scheme)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + stamp.encode() + b":" + body
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature,
            "Content-Type": "application/json"}


@dataclass
class _Socket:
    ws: web.WebSocketResponse
    answers_pings: bool
    acks: list[str] = field(default_factory=list)
    ended: bool = False  # the connection is gone (closed by either side)


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.downloads: list[tuple[str, bool]] = []  # (file id, with the bot token)
        self.uploads: dict[str, bytes] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.file_bytes: dict[str, bytes] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.sockets: list[_Socket] = []
        self.socket_answers_pings = True
        # Set: downloads are answered. Cleared by ``hold_downloads``: each waits for ``release``.
        self._downloads_open = threading.Event()
        self._downloads_open.set()
        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> FakeSlack:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._downloads_open.set()  # a download still held must not keep the server up
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/files-pri/{file_id}/{name}", self._download)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/link", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, 0)
        await site.start()
        server = getattr(site, "_server", None)
        self.port = server.sockets[0].getsockname()[1] if server else 0

    async def _stop(self) -> None:
        for socket in list(self.sockets):
            await socket.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    # -- test set-up -------------------------------------------------------------------------

    def add_file(self, file_id: str, name: str, data: bytes, *,
                 mimetype: str = "application/vnd.openxmlformats-officedocument."
                 "spreadsheetml.sheet") -> dict[str, Any]:
        """A file someone posted; returns its object as it appears in an event."""
        url = f"{self.base_url}/files-pri/{TEAM}-{file_id}/{name}"
        info = {"id": file_id, "name": name, "title": name, "mimetype": mimetype,
                "size": len(data), "url_private": url, "url_private_download": url}
        self.files[file_id] = info
        self.file_bytes[f"{TEAM}-{file_id}"] = data
        return dict(info)

    def add_user(self, user_id: str, email: str | None) -> None:
        profile = {"email": email} if email else {}
        self.users[user_id] = {"id": user_id, "team_id": TEAM, "profile": profile}

    def hold_downloads(self) -> None:
        """From now on a download is recorded at once but answered only after ``release``:
        the worker fetching it stays busy with that message for as long as the test likes."""
        self._downloads_open.clear()

    def release_downloads(self) -> None:
        self._downloads_open.set()

    # -- what the bot did --------------------------------------------------------------------

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        with self._cond:
            return [args for name, args in self.calls if name == method]

    def wait_for(self, method: str, predicate: Predicate = lambda _: True, *,
                 timeout: float = 30.0, count: int = 1) -> dict[str, Any]:
        """The ``count``-th recorded call of ``method`` matching ``predicate``."""
        def matches() -> list[dict[str, Any]]:
            return [args for name, args in self.calls if name == method and predicate(args)]

        with self._cond:
            if not self._cond.wait_for(lambda: len(matches()) >= count, timeout):
                raise AssertionError(f"no {method} call #{count} within {timeout} s; "
                                     f"calls so far: {[n for n, _ in self.calls]}")
            return matches()[count - 1]

    def wait_for_download(self, file_id: str, *, timeout: float = 30.0) -> None:
        """Until the bot has asked for ``file_id`` (answered or held)."""
        with self._cond:
            if not self._cond.wait_for(
                    lambda: any(f == file_id for f, _ in self.downloads), timeout):
                raise AssertionError(f"{file_id} not downloaded within {timeout} s")

    def wait_for_sockets(self, count: int, *, timeout: float = 30.0) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.sockets) >= count, timeout):
                raise AssertionError(f"fewer than {count} Socket Mode connections")

    def wait_ended(self, index: int, *, timeout: float = 30.0) -> None:
        """Until the ``index``-th Socket Mode connection has been closed."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.sockets[index].ended, timeout):
                raise AssertionError(f"Socket Mode connection {index} is still open")

    def push_event(self, body: dict[str, Any], *, envelope_id: str) -> None:
        """Send an Events API envelope down the newest Socket Mode connection."""
        socket = self.sockets[-1]
        envelope = {"envelope_id": envelope_id, "type": "events_api",
                    "accepts_response_payload": False, "retry_attempt": 0, "payload": body}
        asyncio.run_coroutine_threadsafe(socket.ws.send_str(json.dumps(envelope)),
                                         self._loop).result(10)

    def wait_for_ack(self, envelope_id: str, *, timeout: float = 30.0) -> None:
        with self._cond:
            acked = self._cond.wait_for(
                lambda: any(envelope_id in s.acks for s in self.sockets), timeout)
        if not acked:
            raise AssertionError(f"envelope {envelope_id} was never acknowledged")

    def _record(self, method: str, args: dict[str, Any]) -> None:
        with self._cond:
            self.calls.append((method, args))
            self._cond.notify_all()

    # -- handlers ----------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _arguments(request)
        token = request.headers.get("Authorization", "")
        wanted = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
        if token != f"Bearer {wanted}":
            return web.json_response({"ok": False, "error": "not_authed"})
        self._record(method, args)
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        result: dict[str, Any] = handler(args)
        return web.json_response(result)

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://marac.slack.test/", "team": "Marac", "user": "marac",
                "team_id": TEAM, "user_id": BOT_USER, "bot_id": "BMARAC"}

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        ts = f"{int(time.time())}.{next(self._ids):06d}"
        return {"ok": True, "channel": args.get("channel"), "ts": ts,
                "message": {"text": args.get("text"), "ts": ts, "user": BOT_USER}}

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": f"{int(time.time())}.{next(self._ids):06d}"}

    def _files_info(self, args: dict[str, Any]) -> dict[str, Any]:
        info = self.files.get(str(args.get("file")))
        if info is None:
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "file": info}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": {"id": "D" + str(args.get("users"))}}

    def _files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = f"FUP{next(self._ids)}"
        return {"ok": True, "file_id": file_id, "upload_url": f"{self.base_url}/upload/{file_id}"}

    def _files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = json.loads(args.get("files") or "[]")
        for f in files:
            if f["id"] not in self.uploads:
                return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}

    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://{HOST}:{self.port}/link?n={next(self._ids)}"}

    async def _download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        authorised = request.headers.get("Authorization") == f"Bearer {BOT_TOKEN}"
        with self._cond:
            self.downloads.append((file_id, authorised))
            self._cond.notify_all()
        if not authorised:  # what Slack really does: a sign-in page, status 200
            return web.Response(body=SIGN_IN_PAGE, content_type="text/html")
        await asyncio.to_thread(self._downloads_open.wait)
        data = self.file_bytes.get(file_id)
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        data = await request.read()
        with self._cond:
            self.uploads[file_id] = data
            self._cond.notify_all()
        return web.Response(text=f"OK - {len(data)}")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        # autoping off: this fake decides whether pings get their pong (a silent socket).
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        socket = _Socket(ws, answers_pings=self.socket_answers_pings)
        with self._cond:
            self.sockets.append(socket)
            self._cond.notify_all()
        await ws.send_str(json.dumps({"type": "hello", "num_connections": len(self.sockets)}))
        async for message in ws:
            if message.type == WSMsgType.PING and socket.answers_pings:
                await ws.pong(message.data)
            elif message.type == WSMsgType.TEXT:
                envelope = json.loads(message.data)
                with self._cond:
                    socket.acks.append(str(envelope.get("envelope_id")))
                    self._cond.notify_all()
        with self._cond:
            socket.ended = True
            self._cond.notify_all()
        return ws


async def _arguments(request: web.Request) -> dict[str, Any]:
    """A Web API call's arguments, sent as JSON, a form or the query string."""
    args: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        body = await request.json() if request.can_read_body else {}
        args.update(body or {})
    elif request.can_read_body:
        args.update(dict(await request.post()))
    return args
