"""The inbound SMTP listener: store the raw message durably, then (and only then) answer 250.

interface.md: recipients other than the mailbox address get 550, messages over the size limit
552, and a message that cannot be stored 451 so the sending server tries again later.

The server runs on the caller's event loop (``loop.create_server`` with aiosmtpd's ``SMTP``
protocol, as aiosmtpd's own ``Controller`` does in its private thread), because ``marac-bot
run`` is one asyncio process. The blocking database writes are one thread's, which commits
the messages that arrive together in one transaction (smtp_writer.py).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import ssl
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from functools import partial
from hashlib import sha256
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from sqlalchemy.orm import Session as DbSession

from bot.channels.email.address import envelope_text, message_id_text
from bot.channels.email.policy import PARSE
from bot.channels.email.smtp_writer import Accepted, GroupWriter, ListenerStopping
from bot.settings import ConfigError, Settings
from store.queue import enqueue_inbound, is_transient_db_error

logger = logging.getLogger(__name__)

SessionFactory = Callable[[], DbSession]
# Base64 grows a file by a third, plus headers and the message text around it.
BASE64_OVERHEAD = 1.5
ENVELOPE_ALLOWANCE = 1024 * 1024
# How long close() lets a message being stored finish before the connections are cut.
CLOSE_GRACE_SECONDS = 10.0
# A blank line, whichever line ends (CRLF, LF or CR) the parser may meet.
_BLANK_LINE = re.compile(rb"\r\n\r\n|\n\n|\r\r")


def size_limit(settings: Settings) -> int:
    """The largest message taken: the largest attachment, base64-encoded, plus 1 MB."""
    return int(settings.max_file_bytes * BASE64_OVERHEAD + ENVELOPE_ALLOWANCE)


class InboxHandler:
    """aiosmtpd hooks: accept mail for the mailbox only, and store it before saying 250."""

    def __init__(
        self,
        *,
        mailbox_address: str,
        max_bytes: int,
        session_factory: SessionFactory,
        on_enqueued: Callable[[], None],
        stored_as: str = "inbound",
    ) -> None:
        self.mailbox = mailbox_address.lower()
        # What the id in the log line names: the inbox's, or the SQLite spool's (whose mover
        # logs the inbox id each spooled message gets, so a message can be followed).
        self.stored_as = stored_as
        self.max_bytes = max_bytes
        self.on_enqueued = on_enqueued
        self.storing: set[asyncio.Future[int]] = set()
        self.writer = GroupWriter(session_factory, _store)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if address.lower() != self.mailbox:
            logger.info("refused recipient %s from %s", address, session.peer)
            return "550 5.1.1 mailbox unknown"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if len(raw) > self.max_bytes:  # aiosmtpd's data_size_limit normally answers first
            return "552 5.3.4 message too big"
        # aiosmtpd keeps MAIL FROM bytes that are not UTF-8 as surrogate escapes, and a NUL as
        # it came: the database refuses both (PostgreSQL's text holds no NUL), and every retry
        # of that message would get 451.
        sender = ("" if envelope.mail_from in (None, "<>")
                  else envelope_text(str(envelope.mail_from)))
        task = asyncio.wrap_future(self.writer.submit(raw, sender, list(envelope.rcpt_tos)))
        self.storing.add(task)
        task.add_done_callback(partial(self._stored, sender=sender, size=len(raw)))
        try:
            # Shielded: if the client hangs up mid-write, the write still finishes, so the
            # message is stored once (its retry is then a no-op on the same source key).
            item_id = await asyncio.shield(task)
        except Exception:  # already logged by _stored
            return "451 4.3.0 try again later"
        self._wake()
        return f"250 2.0.0 OK stored as {item_id}"

    def _stored(self, task: asyncio.Future[int], *, sender: str, size: int) -> None:
        """Done-callback of every store: the one place its outcome is logged, even when the
        client has gone and nobody awaits the answer."""
        self.storing.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is None:
            logger.info("stored a message from %s (%d bytes) as %s %s", sender or "<>",
                        size, self.stored_as, task.result())
            return
        # An outage, or a connection still open as the listener stops: one line each, the
        # sender retries.
        if isinstance(error, ListenerStopping) or is_transient_db_error(error):
            logger.warning("could not store a message from %s (%d bytes); answered 451: %s",
                           sender or "<>", size, str(error).splitlines()[0][:200])
            return
        logger.error("could not store a message from %s (%d bytes); answered 451",
                     sender or "<>", size, exc_info=error)

    def _wake(self) -> None:
        try:
            self.on_enqueued()
        except Exception:  # the message is stored; a worker's next poll will find it
            logger.exception("on_enqueued callback failed")


def _store(session: DbSession, message: Accepted) -> int:
    """One accepted message into the inbox, in the writer's transaction (smtp_writer.py)."""
    return enqueue_inbound(
        session, channel="email", raw=message.raw,
        source_key="smtp:" + sha256(message.raw).hexdigest(), envelope_from=message.sender,
        recipients=message.recipients, received_at=datetime.now(UTC),
        message_id=message_id_of(message.raw))


def message_id_of(raw: bytes) -> str | None:
    """The Message-ID header of raw mail, read without parsing the body (None if absent).

    What ``email.policy.default``'s headers-only parse would give, for less: only the text up
    to the first blank line is handed to the parser (the headers end there at the latest; given
    the whole message it reads the body line by line as the payload), and the headers are split
    under compat32, which parses none of them (the default policy parses Content-Type, boundary
    and all, at the end of every parse); the Message-ID alone is then parsed as the default
    policy parses a header it fetches.
    """
    blank = _BLANK_LINE.search(raw)
    head = raw if blank is None else raw[:blank.end()]
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(head).raw_items()
        value = next((PARSE.header_fetch_parse(name, source) for name, source in headers
                      if name.lower() == "message-id"), None)
    except Exception:  # a header we cannot parse is the converter's problem, not storage's
        return None
    return (message_id_text(value) if value is not None else "") or None


@dataclass
class SmtpListener:
    """A running listener: ``port`` it is bound to, ``close()`` to stop it."""

    server: asyncio.Server
    handler: InboxHandler
    connections: weakref.WeakSet[SMTP] = field(default_factory=weakref.WeakSet)

    @property
    def port(self) -> int:
        return int(self.server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop accepting, let messages being stored finish, then drop open connections."""
        self.server.close()
        if self.handler.storing:
            await asyncio.wait(set(self.handler.storing), timeout=CLOSE_GRACE_SECONDS)
        await asyncio.to_thread(self.handler.writer.close, CLOSE_GRACE_SECONDS)
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.transport.close()
        await self.server.wait_closed()


async def start_smtp_listener(
    settings: Settings,
    store_session_factory: SessionFactory,
    on_enqueued: Callable[[], None],
    *,
    stored_as: str = "inbound",
) -> SmtpListener:
    """Start the listener on ``settings.smtp_listen`` (port 0: any free port) on this loop;
    ``stored_as`` names what its store's ids are in the log ("inbound", or the spool's)."""
    if settings.smtp_listen is None:
        raise ConfigError("MARAC_SMTP_LISTEN is empty: the SMTP listener is turned off")
    handler = InboxHandler(mailbox_address=settings.mailbox_address,
                           max_bytes=size_limit(settings),
                           session_factory=store_session_factory, on_enqueued=on_enqueued,
                           stored_as=stored_as)
    loop = asyncio.get_running_loop()
    options = _smtp_options(settings, loop)
    connections: weakref.WeakSet[SMTP] = weakref.WeakSet()

    def new_connection() -> SMTP:
        smtp = SMTP(handler, **options)
        connections.add(smtp)
        return smtp

    try:
        server = await loop.create_server(new_connection, settings.smtp_listen.host,
                                          settings.smtp_listen.port)
    except OSError as exc:  # in use, or not an address of this machine
        raise ConfigError(f"MARAC_SMTP_LISTEN: cannot listen on {settings.smtp_listen}: "
                          f"{exc.strerror or exc}") from exc
    listener = SmtpListener(server, handler, connections)
    logger.info("SMTP listener on %s:%s for %s (largest message %d bytes)",
                settings.smtp_listen.host, listener.port, settings.mailbox_address,
                handler.max_bytes)
    return listener


def _smtp_options(settings: Settings, loop: asyncio.AbstractEventLoop) -> dict[str, Any]:
    tls = _tls_context(settings)
    auth = settings.smtp_auth_user is not None
    if auth and tls is None:
        logger.warning("SMTP AUTH is required but MARAC_SMTP_TLS_CERT is not set: passwords "
                       "will cross the network in clear")
    options: dict[str, Any] = {
        "data_size_limit": size_limit(settings),  # advertised as SIZE; 552 past it
        "enable_SMTPUTF8": True,
        "decode_data": False,
        "hostname": settings.mailbox_address.rpartition("@")[2],
        "ident": "marac-bot",
        "tls_context": tls,
        "auth_required": auth,
        # AUTH only after STARTTLS when TLS is available; never offered in clear without AUTH.
        "auth_require_tls": tls is not None or not auth,
        "loop": loop,
    }
    if auth:
        options["authenticator"] = _authenticator(settings.smtp_auth_user or "",
                                                  settings.smtp_auth_password or "")
    return options


def _tls_context(settings: Settings) -> ssl.SSLContext | None:
    if settings.smtp_tls_cert is None or settings.smtp_tls_key is None:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(settings.smtp_tls_cert, settings.smtp_tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"MARAC_SMTP_TLS_CERT / MARAC_SMTP_TLS_KEY could not be loaded: {exc}") from exc
    return context


def _authenticator(user: str, password: str) -> Callable[..., AuthResult]:
    expected = (user.encode(), password.encode())

    def check(server: SMTP, session: Session, envelope: Envelope, mechanism: str,
              auth_data: Any) -> AuthResult:
        ok = False
        if isinstance(auth_data, LoginPassword):
            # Constant-time, and both compared, so timing tells nothing about either.
            user_ok = hmac.compare_digest(auth_data.login, expected[0])
            password_ok = hmac.compare_digest(auth_data.password, expected[1])
            ok = user_ok and password_ok
        if not ok:
            logger.warning("SMTP AUTH failed from %s", session.peer)
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    return check
