"""A real SMTP sink for tests: aiosmtpd on a free loopback port, with optional TLS and AUTH.

    with SmtpSink() as sink:
        ...send to ("127.0.0.1", sink.port)...
        (mail,) = sink.wait_for(1)

Also a self-signed certificate maker (``make_certificate``) and a client context that trusts
it (``client_context``), so TLS is tested with verification on, not switched off.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "127.0.0.1"


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    authenticated_as: str | None
    tls: bool
    received_at: float = 0.0  # time.monotonic() when DATA ended (latency measurements)
    peer: object = None  # the client's (address, port): one value per connection


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


def make_certificate(directory: Path, *, name: str = "localhost") -> Certificate:
    """A self-signed certificate for ``name`` and 127.0.0.1, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName(name), x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    paths = Certificate(directory / f"{name}.crt", directory / f"{name}.key")
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                            serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
    return paths


def client_context(certificate: Certificate) -> ssl.SSLContext:
    """A client context that trusts exactly this certificate, host names checked."""
    return ssl.create_default_context(cafile=str(certificate.cert))


class _Recorder:
    """The aiosmtpd handler: records every message and wakes whoever waits for it."""

    def __init__(self, rcpt_replies: dict[str, str], data_reply: str | None) -> None:
        self.messages: list[ReceivedMail] = []
        self.changed = threading.Condition()
        self.rcpt_replies = {k.lower(): v for k, v in rcpt_replies.items()}
        self.data_reply = data_reply
        self.rset_reply: str | None = None
        # While set to an unset Event, the commands in silent_steps get no answer until it is
        # set (a relay the network dropped without a word).
        self.silent_until: threading.Event | None = None
        self.silent_steps = {"RSET", "QUIT"}
        # ``hold_next_data``: the next DATA waits for its release; ``data_held`` is set once
        # one is waiting (a relay slow to take a message).
        self.data_release: threading.Event | None = None
        self.data_held = threading.Event()
        # Every transaction's connection (its client's address and port), failed ones too,
        # every QUIT's, and the connections open now (for drop_connections).
        self.transactions: list[object] = []
        self.quits: list[object] = []
        self.open: set[SMTP] = set()

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, mail_options: list[str]) -> str:
        self.transactions.append(session.peer)
        self.open.add(server)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RSET(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await self._silence("RSET")
        return self.rset_reply or "250 OK"

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await self._silence("QUIT")
        self.quits.append(session.peer)
        return "221 Bye"

    async def _silence(self, step: str) -> None:
        if self.silent_until is not None and step in self.silent_steps:
            await asyncio.to_thread(self.silent_until.wait, 30)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        reply = self.rcpt_replies.get(address.lower())
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        release, self.data_release = self.data_release, None
        if release is not None:
            self.data_held.set()
            await asyncio.to_thread(release.wait, 30)
        if self.data_reply is not None:
            return self.data_reply
        login = session.auth_data.login.decode() if isinstance(
            session.auth_data, LoginPassword) else None
        encrypted = server.transport is not None and (
            server.transport.get_extra_info("ssl_object") is not None)
        mail = ReceivedMail(envelope.mail_from or "", tuple(envelope.rcpt_tos),
                            bytes(envelope.original_content or b""), login, encrypted,
                            received_at=time.monotonic(), peer=session.peer)
        with self.changed:
            self.messages.append(mail)
            self.changed.notify_all()
        return "250 OK"


class _PortZeroController(Controller):
    """aiosmtpd's Controller, bound to port 0: it learns the real port before its self-test
    connection (upstream connects to the configured port, which would be 0)."""

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpSink:
    """A real SMTP server on 127.0.0.1:<free port> that keeps what it receives.

    ``tls``: None, "starttls" (offered, and required when ``require_tls``) or "ssl" (implicit
    TLS). ``auth``: (user, password) to require AUTH. ``rcpt_replies`` maps a recipient to the
    reply RCPT gets (e.g. "550 5.1.1 no such user"); ``data_reply`` replaces DATA's 250.
    """

    def __init__(
        self,
        *,
        tls: str | None = None,
        certificate: Certificate | None = None,
        auth: tuple[str, str] | None = None,
        rcpt_replies: dict[str, str] | None = None,
        data_reply: str | None = None,
    ) -> None:
        if tls and certificate is None:
            raise ValueError("tls needs a certificate (make_certificate)")
        self.recorder = _Recorder(rcpt_replies or {}, data_reply)
        self._auth = auth
        kwargs: dict[str, Any] = {"hostname": HOST, "port": 0, "server_hostname": "localhost"}
        if tls == "ssl" and certificate:
            kwargs["ssl_context"] = certificate.server_context()
        elif tls == "starttls" and certificate:
            kwargs["tls_context"] = certificate.server_context()
            kwargs["require_starttls"] = True
        if auth:
            # With implicit TLS aiosmtpd cannot tell the connection is encrypted, so "AUTH only
            # after TLS" applies to STARTTLS alone; the whole "ssl" connection is TLS anyway.
            kwargs.update(authenticator=self._authenticate, auth_required=True,
                          auth_require_tls=tls == "starttls")
        self.controller = _PortZeroController(self.recorder, **kwargs)

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope,
                      mechanism: str, auth_data: Any) -> AuthResult:
        assert self._auth is not None
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(), auth_data.password.decode()) == self._auth
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    @property
    def port(self) -> int:
        return int(self.controller.port)

    @property
    def messages(self) -> list[ReceivedMail]:
        with self.recorder.changed:
            return list(self.recorder.messages)

    def drop_connections(self) -> None:
        """Close every open client connection from the server's side, as a relay does to
        clients idle too long; returns once each is closed (aiosmtpd then clears its
        transport)."""
        async def drop() -> None:
            servers = [s for s in self.recorder.open if s.transport is not None]
            self.recorder.open.clear()
            for server in servers:
                assert server.transport is not None
                server.transport.close()
            while any(server.transport is not None for server in servers):
                await asyncio.sleep(0)  # a turn of the loop: the close is seen there

        asyncio.run_coroutine_threadsafe(drop(), self.controller.loop).result(timeout=10)

    def hold_next_data(self) -> threading.Event:
        """The next DATA is answered only once the returned event is set (the relay takes
        its time); ``recorder.data_held`` is set while it waits."""
        release = threading.Event()
        self.recorder.data_held.clear()
        self.recorder.data_release = release
        return release

    def wait_for(self, count: int, *, timeout: float = 10.0) -> list[ReceivedMail]:
        """Block until ``count`` messages have arrived (AssertionError after ``timeout``)."""
        with self.recorder.changed:
            arrived = self.recorder.changed.wait_for(
                lambda: len(self.recorder.messages) >= count, timeout=timeout)
            assert arrived, f"expected {count} messages, got {len(self.recorder.messages)}"
            return list(self.recorder.messages)

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


class EventLoopThread:
    """An asyncio loop in a background thread, so synchronous tests (smtplib) can drive
    servers that live on a loop, as ``marac-bot run`` hosts them."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> EventLoopThread:
        self._thread.start()
        return self

    def run(self, coroutine: Any, *, timeout: float = 10.0) -> Any:
        """Run ``coroutine`` on the loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self.run(self._cancel_the_rest())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.run_until_complete(self.loop.shutdown_default_executor())
        self.loop.close()

    async def _cancel_the_rest(self) -> None:
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    def __enter__(self) -> EventLoopThread:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
