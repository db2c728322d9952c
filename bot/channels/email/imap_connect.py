"""How the IMAP watcher reaches and logs in to the marac@ mailbox.

Transport (``MARAC_IMAP_TLS``): ``none`` (plain IMAP), ``starttls`` or ``ssl`` (implicit TLS).
Login: a password, or Microsoft 365 XOAUTH2 with an app-only token from Entra ID (msal client
credentials). Everything here is blocking: the watcher runs in its own thread.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from imap_tools import BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import MailboxLoginError

logger = logging.getLogger(__name__)

M365_AUTHORITY_HOST = "https://login.microsoftonline.com"
M365_IMAP_SCOPE = "https://outlook.office365.com/.default"


class ImapAuthError(Exception):
    """The server refused our credentials, or no token could be obtained for them."""


@dataclass(frozen=True)
class ImapTransport:
    """Where the mailbox is and how the connection is protected."""

    host: str
    port: int
    tls: str = "ssl"  # "none" | "starttls" | "ssl"
    # Also the socket timeout of every command: a dead server shows as an error, not a hang.
    timeout: float = 60.0
    ssl_context: ssl.SSLContext | None = None

    def open(self) -> BaseMailBox:
        """Connect (and for ``starttls``, upgrade) without logging in."""
        if self.tls == "none":
            return MailBoxUnencrypted(self.host, self.port, timeout=self.timeout)
        context = self.ssl_context or ssl.create_default_context()
        if self.tls == "starttls":
            return MailBoxStartTls(self.host, self.port, timeout=self.timeout, ssl_context=context)
        if self.tls == "ssl":
            return MailBox(self.host, self.port, timeout=self.timeout, ssl_context=context)
        raise ValueError(f"unknown IMAP TLS mode {self.tls!r}")


class Authenticator(Protocol):
    def login(self, mailbox: BaseMailBox) -> float | None:
        """Log in; return the ``time.monotonic()`` by which to start a new session, if any."""
        ...


@dataclass(frozen=True)
class PasswordLogin:
    user: str
    password: str

    def login(self, mailbox: BaseMailBox) -> float | None:
        """IMAP LOGIN with the password; a password session never needs renewing."""
        try:
            mailbox.login(self.user, self.password, initial_folder=None)
        except imaplib.IMAP4.abort:
            raise
        except (MailboxLoginError, imaplib.IMAP4.error) as exc:
            raise ImapAuthError(f"IMAP login refused for {self.user}: {exc}") from exc
        return None


@dataclass(frozen=True)
class AccessToken:
    value: str
    expires_at: float  # time.monotonic() seconds


class TokenSource(Protocol):
    def token(self, *, fresh: bool = False) -> AccessToken:
        """A token with some life left; ``fresh`` discards any cached one first."""
        ...


def xoauth2_string(user: str, token: str) -> bytes:
    """The SASL XOAUTH2 initial response (before base64, which imaplib adds)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()


def authenticate_xoauth2(mailbox: BaseMailBox, user: str, token: str) -> None:
    """AUTHENTICATE XOAUTH2; raise ImapAuthError when the server says no."""
    responses: list[bytes] = []

    def respond(challenge: bytes) -> bytes:
        # On failure the server sends a JSON error as a second challenge and expects an
        # empty reply before its NO; sending the credentials again would be wrong.
        responses.append(challenge)
        return xoauth2_string(user, token) if len(responses) == 1 else b""

    try:
        typ, data = mailbox.client.authenticate("XOAUTH2", respond)
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as exc:
        raise ImapAuthError(f"XOAUTH2 refused for {user}: {exc}") from exc
    if typ != "OK":
        raise ImapAuthError(f"XOAUTH2 refused for {user}: {typ} {data!r}")


@dataclass(frozen=True)
class OAuth2Login:
    """XOAUTH2 with a token that is fetched afresh once if the server refuses it."""

    user: str
    tokens: TokenSource
    # Start a new session this long before the token expires (msal itself treats a token with
    # under 5 minutes left as expired, so a new session gets a new token).
    renew_margin: float = 300.0

    def login(self, mailbox: BaseMailBox) -> float | None:
        """Authenticate; on refusal fetch a new token and try exactly once more."""
        token = self.tokens.token()
        try:
            authenticate_xoauth2(mailbox, self.user, token.value)
        except ImapAuthError as exc:
            logger.warning("IMAP refused the cached token (%s); fetching a new one", exc)
            token = self.tokens.token(fresh=True)
            authenticate_xoauth2(mailbox, self.user, token.value)
        # A short-lived token is renewed half-way through rather than in a tight loop.
        life = token.expires_at - time.monotonic()
        return token.expires_at - min(self.renew_margin, life / 2)


class MsalTokenSource:
    """App-only tokens for Exchange Online IMAP from Entra ID (client-credentials flow).

    The msal application is built on first use: building it fetches the tenant's OpenID
    configuration, which must not happen at start-up when the network may still be down.
    """

    def __init__(
        self,
        *,
        tenant: str,
        client_id: str,
        client_secret: str,
        authority_host: str = M365_AUTHORITY_HOST,
        verify: bool | str = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._authority = f"{authority_host.rstrip('/')}/{tenant}"
        self._client_id = client_id
        self._client_secret = client_secret
        self._verify = verify
        self._clock = clock
        self._app: Any = None

    def token(self, *, fresh: bool = False) -> AccessToken:
        """Ask msal for a token (it answers from its cache while >5 min remain)."""
        app = self._application()
        if fresh:
            app.remove_tokens_for_client()
        started = self._clock()
        try:
            result = app.acquire_token_for_client(scopes=[M365_IMAP_SCOPE])
        except Exception as exc:  # msal raises requests' and its own errors alike
            raise ImapAuthError(f"could not reach {self._authority} for a token: {exc}") from exc
        if "access_token" not in result:
            raise ImapAuthError(
                f"no token from {self._authority}: {result.get('error')}: "
                f"{result.get('error_description')}"
            )
        return AccessToken(result["access_token"], started + float(result.get("expires_in", 0)))

    def _application(self) -> Any:
        if self._app is None:
            # Imported here: msal (and requests under it) is for Microsoft 365 sign-in only,
            # and loading it took longer than the rest of the watcher (issue 14).
            import msal

            try:
                self._app = msal.ConfidentialClientApplication(
                    self._client_id,
                    authority=self._authority,
                    client_credential=self._client_secret,
                    verify=self._verify,
                    # Only a real Entra host can be validated against Microsoft's list.
                    validate_authority=self._authority.startswith(M365_AUTHORITY_HOST),
                )
            except Exception as exc:
                raise ImapAuthError(f"could not set up {self._authority}: {exc}") from exc
        return self._app


def refresh_capabilities(mailbox: BaseMailBox) -> None:
    """Ask again after login: imaplib keeps the pre-login list, without MOVE or NAMESPACE."""
    typ, data = mailbox.client.capability()
    if typ == "OK" and data and data[-1]:
        mailbox.client.capabilities = tuple(data[-1].decode().upper().split())


def close_mailbox(mailbox: BaseMailBox, *, polite: bool) -> None:
    """LOGOUT when the session is healthy; in any case release the socket.

    After a failure the connection may be dead, and a LOGOUT would wait out the socket timeout.
    """
    client = mailbox.client
    if polite and client.state in ("AUTH", "SELECTED"):
        try:
            client.logout()  # closes the socket itself
            return
        except (OSError, imaplib.IMAP4.error) as exc:
            logger.debug("IMAP logout failed: %s", exc)
    with contextlib.suppress(OSError):
        client.shutdown()
