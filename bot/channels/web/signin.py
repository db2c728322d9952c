"""One-time sign-in links and sessions, in the store.

A token is 32 random bytes; the link or cookie carries the token and an HMAC of it under the
secret key (so a forged value is refused before the database is asked), and the store keeps
only a SHA-256 of the token (so a copy of the database opens nothing). A link is good for 15
minutes and once: redeeming it is one conditional UPDATE, so two tabs racing cannot both win.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from store.models import Contact, WebSession, WebSignIn

LINK_LIFETIME = timedelta(minutes=15)
# "A working day": a session signed in at 08:00 lasts until the evening, not overnight.
SESSION_LIFETIME = timedelta(hours=10)
_LINK, _SESSION = "link", "session"


@dataclass(frozen=True)
class Signer:
    """Signs and checks tokens for one purpose each (a link is never a cookie)."""

    key: bytes

    def _mac(self, purpose: str, token: str) -> str:
        return hmac.new(self.key, f"{purpose}:{token}".encode(), hashlib.sha256).hexdigest()[:32]

    def sign(self, purpose: str, token: str) -> str:
        return f"{token}.{self._mac(purpose, token)}"

    def unsign(self, purpose: str, value: str) -> str | None:
        """The token of a value this key signed for ``purpose``, else None."""
        token, dot, mac = value.rpartition(".")
        if not dot or not token or len(value) > 200:
            return None
        return token if hmac.compare_digest(mac, self._mac(purpose, token)) else None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_link(session: Session, signer: Signer, contact: Contact, *, now: datetime) -> str:
    """A new sign-in link's signed token for ``contact`` (the caller sends it to them)."""
    token = secrets.token_urlsafe(32)
    session.add(WebSignIn(token_hash=_hash(token), contact_id=contact.id, created_at=now,
                          expires_at=now + LINK_LIFETIME))
    session.flush()
    return signer.sign(_LINK, token)


def link_contact(session: Session, signer: Signer, value: str, *, now: datetime
                 ) -> Contact | None:
    """Who a link is for, while it is unused and unexpired (without using it)."""
    token = signer.unsign(_LINK, value)
    if token is None:
        return None
    link = session.scalar(select(WebSignIn).where(WebSignIn.token_hash == _hash(token)))
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    contact = session.get(Contact, link.contact_id)
    return contact if contact is not None and contact.retired_at is None else None


def redeem_link(session: Session, signer: Signer, value: str, *, now: datetime
                ) -> tuple[Contact, str] | None:
    """Use a link once: its contact and a new session's signed cookie value, or None for a
    forged, unknown, used or expired link."""
    token = signer.unsign(_LINK, value)
    if token is None:
        return None
    used = session.execute(
        update(WebSignIn)
        .where(WebSignIn.token_hash == _hash(token), WebSignIn.used_at.is_(None),
               WebSignIn.expires_at > now)
        .values(used_at=now)
        .returning(WebSignIn.contact_id)
    ).first()
    if used is None:
        return None
    contact = session.get(Contact, used[0])
    if contact is None or contact.retired_at is not None:
        return None
    cookie = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=_hash(cookie), contact_id=contact.id, created_at=now,
                           expires_at=now + SESSION_LIFETIME))
    session.flush()
    return contact, signer.sign(_SESSION, cookie)


def session_contact(session: Session, signer: Signer, value: str, *, now: datetime
                    ) -> Contact | None:
    """The contact of a live session cookie, else None."""
    token = signer.unsign(_SESSION, value)
    if token is None:
        return None
    found = session.scalar(select(WebSession).where(WebSession.token_hash == _hash(token),
                                                    WebSession.expires_at > now))
    contact = None if found is None else session.get(Contact, found.contact_id)
    return contact if contact is not None and contact.retired_at is None else None


def end_session(session: Session, signer: Signer, value: str) -> None:
    token = signer.unsign(_SESSION, value)
    if token is not None:
        session.execute(delete(WebSession).where(WebSession.token_hash == _hash(token)))


def forget_expired(session: Session, *, now: datetime) -> None:
    """Drop links and sessions past their time (called as new ones are made)."""
    session.execute(delete(WebSignIn).where(WebSignIn.expires_at <= now - LINK_LIFETIME))
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))
