"""The one way mail leaves: through the relay (smtplib), or without one as .eml files.

``MailSender.send`` either returns (the relay accepted the message, or the file is on disk) or
raises ``SendError``; the outbox worker then calls ``mark_sent`` or ``mark_retry``/
``mark_failed`` (store/queue.py).

The relay connection of a send is kept open for the next one, for ``KEEP_SECONDS``: on
deadline day replies follow one another by seconds, and each new connection costs the TCP,
TLS and AUTH round trips over again. A kept connection is checked with RSET before it is
used; one the relay has dropped meanwhile is replaced, before any message is offered on it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import smtplib
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from bot.channels.base import DeliveryError
from bot.settings import HostPort, Settings
from store.queue import OutboundItem

logger = logging.getLogger(__name__)

# How long a relay connection is kept after a send for the next one. Well inside the five
# minutes after which a relay may drop an idle client (RFC 5321 4.5.3.2.7).
KEEP_SECONDS = 30.0
# A kept connection's RSET, and the QUIT that ends it, wait this long for the relay: one that
# the network dropped silently while it was idle is given up at once, not after a send's 30 s.
PROBE_SECONDS = 5.0


class SendError(DeliveryError):
    """The message was not sent; ``permanent`` when retrying cannot help (5xx refusals)."""


@dataclass(frozen=True)
class RelayConfig:
    address: HostPort
    tls: str = "none"  # none | starttls | ssl
    user: str | None = None
    password: str | None = None


class MailSender:
    """Sends rendered messages through the relay, or without one drops them as .eml files."""

    def __init__(
        self,
        *,
        relay: RelayConfig | None,
        outbox_dir: Path,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.relay = relay
        self.outbox_dir = outbox_dir
        self.timeout = timeout
        # Tests pass a context that trusts their own self-signed certificate; production uses
        # the system's trust store with host-name checks.
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.clock: Callable[[], float] = time.monotonic
        # The connection of the last send, and when that send ended; one at most, taken out
        # under the lock by the send that uses it.
        self._kept: tuple[smtplib.SMTP, float] | None = None
        self._kept_lock = threading.Lock()
        if relay and relay.user and relay.tls == "none":
            logger.warning("MARAC_SMTP_RELAY_USER is set but MARAC_SMTP_RELAY_TLS is none: the "
                           "relay password will cross the network in clear")

    @classmethod
    def from_settings(cls, settings: Settings, *, ssl_context: ssl.SSLContext | None = None
                      ) -> MailSender:
        """The sender the settings describe (relay when MARAC_SMTP_RELAY is set)."""
        relay = None
        if settings.smtp_relay is not None:
            relay = RelayConfig(settings.smtp_relay, settings.smtp_relay_tls,
                                settings.smtp_relay_user, settings.smtp_relay_password)
        return cls(relay=relay, outbox_dir=settings.outbox_dir, ssl_context=ssl_context)

    def send(self, payload: bytes, *, recipients: list[str], sender: str,
             key: str | None = None, on_accepted: Callable[[], None] | None = None) -> None:
        """Hand one message over; raise ``SendError`` unless it was accepted.

        Blocking (smtplib, file I/O): call it from a thread, not the event loop. ``key`` names
        the .eml file in outbox mode (default: derived from the payload's Message-ID).
        ``on_accepted`` runs the moment the relay has answered DATA with 250 (or the file is
        on disk), before QUIT: the caller records "sent" there, so that a crash can re-send
        an accepted message only within that record's own commit. Once accepted, nothing
        that goes wrong afterwards (QUIT, the connection) counts as a failure to send.
        """
        if not recipients:
            raise SendError("no recipients", permanent=True)
        if self.relay is None:
            self._write_outbox(with_envelope(payload, recipients), key=key)
            if on_accepted is not None:
                on_accepted()
        else:
            self._relay(self.relay, payload, recipients=recipients, sender=sender,
                        on_accepted=on_accepted)

    def release_idle(self) -> None:
        """Say goodbye on a kept connection that has waited ``KEEP_SECONDS`` unused."""
        with self._kept_lock:
            kept = self._kept
            if kept is None or self.clock() - kept[1] <= KEEP_SECONDS:
                return
            self._kept = None
        _quit(kept[0], timeout=PROBE_SECONDS)

    def close(self) -> None:
        """Say goodbye on a kept connection (the process is stopping)."""
        with self._kept_lock:
            kept, self._kept = self._kept, None
        if kept is not None:
            _quit(kept[0], timeout=PROBE_SECONDS)

    def _relay(self, relay: RelayConfig, payload: bytes, *, recipients: list[str],
               sender: str, on_accepted: Callable[[], None] | None) -> None:
        smtp = self._reused() or self._open(relay)
        kept = False
        try:
            refused = self._transmit(smtp, relay, payload, recipients=recipients, sender=sender)
            if refused:
                # Some recipients took it; retrying would send those a second copy.
                logger.warning("relay refused some recipients: %s", refused)
            if on_accepted is not None:
                on_accepted()
            kept = self._keep(smtp)
        finally:
            if not kept:  # a failure leaves the connection in a state not worth knowing
                _quit(smtp)

    def _reused(self) -> smtplib.SMTP | None:
        """The kept connection, if it is recent and the relay still answers RSET on it."""
        with self._kept_lock:
            kept, self._kept = self._kept, None
        if kept is None:
            return None
        smtp, since = kept
        if self.clock() - since > KEEP_SECONDS:
            _quit(smtp, timeout=PROBE_SECONDS)
            return None
        try:
            _wait_at_most(smtp, PROBE_SECONDS)
            code, _ = smtp.rset()
            _wait_at_most(smtp, self.timeout)
        except (smtplib.SMTPException, OSError) as exc:  # dropped while idle: a new one
            logger.debug("kept relay connection gone (%s): connecting again", exc)
            smtp.close()
            return None
        if code != 250:  # e.g. 421, the relay closing: not to be offered a message
            _quit(smtp, timeout=PROBE_SECONDS)
            return None
        return smtp

    def _keep(self, smtp: smtplib.SMTP) -> bool:
        """Keep the connection for the next send; False if one is kept already."""
        with self._kept_lock:
            if self._kept is not None:
                return False
            self._kept = (smtp, self.clock())
            return True

    def _open(self, relay: RelayConfig) -> smtplib.SMTP:
        """Connected (and logged in, if configured); ``SendError`` if that fails."""
        try:
            smtp = self._connect(relay)
        except (smtplib.SMTPException, OSError) as exc:
            raise SendError(f"relay {relay.address} failed: {exc}") from exc
        try:
            if relay.user:
                smtp.login(relay.user, relay.password or "")
        except (smtplib.SMTPException, OSError) as exc:
            smtp.close()
            raise SendError(f"relay {relay.address} failed: {exc}") from exc
        return smtp

    @staticmethod
    def _transmit(smtp: smtplib.SMTP, relay: RelayConfig, payload: bytes, *,
                  recipients: list[str], sender: str) -> dict[str, tuple[int, bytes]]:
        # An internationalised address (RFC 6531) can only cross with SMTPUTF8; a relay that
        # does not offer it never will, so that is final, not a reason to retry for ever.
        utf8 = not all(a.isascii() for a in (sender, *recipients))
        try:
            return smtp.sendmail(sender, recipients, payload,
                                 mail_options=("SMTPUTF8",) if utf8 else ())
        except (smtplib.SMTPNotSupportedError, UnicodeEncodeError) as exc:
            raise SendError(f"relay {relay.address} cannot take an internationalised "
                            f"address: {exc}", permanent=True) from exc
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as exc:
            raise SendError(f"relay {relay.address} refused {_refusal(exc)}",
                            permanent=_is_permanent(exc)) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise SendError(f"relay {relay.address} failed: {exc}") from exc

    def _connect(self, relay: RelayConfig) -> smtplib.SMTP:
        host, port = relay.address.host, relay.address.port
        if relay.tls == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=self.timeout,
                                                  context=self.ssl_context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=self.timeout)
        try:
            _no_delay(smtp)
            if relay.tls == "starttls":
                smtp.starttls(context=self.ssl_context)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _write_outbox(self, payload: bytes, *, key: str | None) -> None:
        """Atomically write the .eml: temp file, fsync, rename; a retry overwrites it."""
        try:
            self.outbox_dir.mkdir(parents=True, exist_ok=True)
            target = self.outbox_dir / outbox_filename(payload, key=key)
            fd, temp = tempfile.mkstemp(dir=self.outbox_dir, prefix=".sending-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(payload)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temp, target)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
            _fsync_dir(self.outbox_dir)
        except OSError as exc:
            raise SendError(f"could not write to the outbox {self.outbox_dir}: {exc}") from exc
        logger.info("written to the outbox: %s (no relay configured; nothing was sent)", target)


# The header that tells whoever sends an outbox file by hand whom this copy is for: a reminder
# to three people is three outbox items whose To/Cc name all three, one per recipient (as a
# relay is given them), and sending each file to its To/Cc would send everyone three copies.
ENVELOPE_HEADER = "X-Envelope-To"


def with_envelope(payload: bytes, recipients: list[str]) -> bytes:
    """The message as written to the outbox folder: ``X-Envelope-To`` first, naming the
    recipients this item is for (the relay's RCPT TO), then the message unchanged."""
    names = ", ".join(r.replace("\r", "").replace("\n", "") for r in recipients)
    return f"{ENVELOPE_HEADER}: {names}\r\n".encode() + payload


def outbox_filename(payload: bytes, *, key: str | None) -> str:
    """A stable file name: from the outbox key, else the Message-ID, else the content."""
    if key is None:
        match = re.search(rb"^Message-ID:\s*(\S+)", payload, re.IGNORECASE | re.MULTILINE)
        key = match.group(1).decode("ascii", "replace") if match else None
    basis = key if key is not None else hashlib.sha256(payload).hexdigest()
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", basis).strip("._")[:60]
    digest = hashlib.sha256(basis.encode("utf-8")).hexdigest()[:12]
    return f"{readable}-{digest}.eml"


def _no_delay(smtp: smtplib.SMTP) -> None:
    """Send each write at once (TCP_NODELAY). Over TLS a message leaves as several records,
    each its own write; with Nagle's algorithm every write after the first waits for the
    relay to acknowledge the one before, and relays delay their acknowledgements (40 ms on
    Linux, 200 ms on Windows): that wait was most of each TLS send (bench/relay_bench.py)."""
    if smtp.sock is not None:
        smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _wait_at_most(smtp: smtplib.SMTP, seconds: float) -> None:
    """How long the connection's next reads and writes may take."""
    if smtp.sock is not None:
        smtp.sock.settimeout(seconds)


def _quit(smtp: smtplib.SMTP, *, timeout: float | None = None) -> None:
    """Say goodbye, best effort: the message's fate was settled by DATA's answer.
    ``timeout``: wait at most this long for the relay's answer."""
    try:
        if timeout is not None:
            _wait_at_most(smtp, timeout)
        smtp.quit()
    except (smtplib.SMTPException, OSError) as exc:
        logger.debug("relay QUIT failed (ignored): %s", exc)
        smtp.close()


def _fsync_dir(directory: Path) -> None:
    # The rename itself is durable only once the directory entry is on disk.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _refusal(exc: smtplib.SMTPRecipientsRefused | smtplib.SMTPDataError) -> str:
    """The relay's own words, as an operator reads them on the outbox page and in the log
    ("c@example.org: 550 5.1.1 no such user"), not Python's repr of its reply (a dict of
    tuples of bytes)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{recipient}: {_reply(code, text)}"
                         for recipient, (code, text) in exc.recipients.items())
    return f"the message: {_reply(exc.smtp_code, exc.smtp_error)}"


def _reply(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(words.split())}"  # a multi-line reply on one line


def _is_permanent(exc: smtplib.SMTPException) -> bool:
    # A refused sender (MAIL FROM) is not here: that is the relay's configuration, wrong for
    # every message alike, so those keep retrying until an operator fixes it.
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    code = getattr(exc, "smtp_code", 0)
    return isinstance(code, int) and code >= 500


@dataclass(frozen=True)
class EmailOutbox:
    """The email channel's sender for the one delivery loop: an outbox item to the relay (or
    the outbox folder), from the mailbox address, to the recipients stored with it."""

    mail: MailSender
    mailbox_address: str

    @property
    def writes_files_only(self) -> bool:
        """No relay: items become .eml files in the outbox folder, nothing is sent."""
        return self.mail.relay is None

    def __call__(self, session: Session, item: OutboundItem,
                 accepted: Callable[[], None]) -> None:
        recipients = [r for r in item.recipient.split("\n") if r]
        self.mail.send(item.payload, recipients=recipients, sender=self.mailbox_address,
                       key=item.key, on_accepted=accepted)

    def release_idle(self) -> None:
        self.mail.release_idle()

    def close(self) -> None:
        self.mail.close()
