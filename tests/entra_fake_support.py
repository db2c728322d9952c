"""A stand-in for Microsoft Entra ID on loopback, for the XOAUTH2 path of the IMAP watcher.

Two small HTTP servers:
- HTTPS (msal insists on https authorities): the tenant's OpenID discovery document and the
  v2.0 token endpoint, answering the client-credentials grant with opaque tokens;
- plain HTTP: an RFC 7662 introspection endpoint, which Dovecot's oauth2 passdb asks whether
  a bearer token presented in AUTHENTICATE XOAUTH2 is active and whose it is.
Tokens can be revoked to make the IMAP server refuse one.
"""

from __future__ import annotations

import json
import ssl
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"


class FakeEntra:
    def __init__(
        self, cert: Path, key: Path, *, tenant: str = "marac-tenant",
        client_id: str = "marac-client", client_secret: str = "marac-secret",
    ) -> None:
        self.cert = cert
        self.tenant = tenant
        self.client_id = client_id
        self.client_secret = client_secret
        self.expires_in = 3600
        self.token_requests: list[dict[str, str]] = []
        self.introspected: list[str] = []
        self.usernames: dict[str, str] = {}  # token -> the mailbox user it was issued for
        self.revoked: set[str] = set()
        self.username = "marac"
        self.active = True  # False: the introspection endpoint calls every token inactive
        self._lock = threading.Lock()
        self._https = ThreadingHTTPServer((HOST, 0), _handler(self))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._https.socket = context.wrap_socket(self._https.socket, server_side=True)
        self._http = ThreadingHTTPServer((HOST, 0), _handler(self))
        self._threads = [
            threading.Thread(target=server.serve_forever, daemon=True)
            for server in (self._https, self._http)
        ]

    @property
    def authority_host(self) -> str:
        return f"https://{HOST}:{self._https.server_address[1]}"

    @property
    def introspection_url(self) -> str:
        return f"http://{HOST}:{self._http.server_address[1]}/introspect"

    def start(self) -> FakeEntra:
        for thread in self._threads:
            thread.start()
        return self

    def close(self) -> None:
        for server in (self._https, self._http):
            server.shutdown()
            server.server_close()

    def revoke(self, token: str) -> None:
        with self._lock:
            self.revoked.add(token)

    def issued(self) -> list[str]:
        with self._lock:
            return [f"token-{n}" for n in range(1, len(self.token_requests) + 1)]

    # -- what the handler calls --------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        base = f"{self.authority_host}/{self.tenant}"
        return {
            "issuer": f"{base}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
        }

    def grant(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if (form.get("grant_type") != "client_credentials"
                or form.get("client_id") != self.client_id
                or form.get("client_secret") != self.client_secret):
            return 401, {"error": "invalid_client", "error_description": "bad credentials"}
        with self._lock:
            self.token_requests.append(form)
            token = f"token-{len(self.token_requests)}"
            self.usernames[token] = self.username
        return 200, {"token_type": "Bearer", "expires_in": self.expires_in,
                     "access_token": token}

    def introspect(self, token: str) -> dict[str, Any]:
        with self._lock:
            self.introspected.append(token)
            active = self.active and token in self.usernames and token not in self.revoked
            return {"active": active, "username": self.usernames.get(token, "")}


def _handler(entra: FakeEntra) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # Dovecot's HTTP client keeps connections alive

        def do_GET(self) -> None:
            if self.path.endswith("/v2.0/.well-known/openid-configuration"):
                self._answer(200, entra.discovery())
            else:
                self._answer(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            if self.path == f"/{entra.tenant}/oauth2/v2.0/token":
                self._answer(*entra.grant(form))
            elif self.path == "/introspect":
                self._answer(200, entra.introspect(form.get("token", "")))
            else:
                self._answer(404, {"error": "not_found"})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean; the lists on FakeEntra record what happened

    return Handler
