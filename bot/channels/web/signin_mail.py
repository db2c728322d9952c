"""Making a sign-in link and the message that carries it, for the login form and for
"dashboard" in chat: the link goes only to the address the registry holds."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from bot.channels.web.signin import Signer, forget_expired, issue_link
from bot.settings import Settings
from kernel.messages import Reply, ThreadRef
from kernel.wording import web as words
from store.models import Contact

# Queues a reply in the caller's transaction (bot/channels/registry.py gives the outbox's).
QueueReply = Callable[[Session, Reply, str], None]


def base_url(settings: Settings, port: int | None = None) -> str:
    """Where people open the dashboard: MARAC_WEB_URL, else this process's own address."""
    if settings.web_url:
        return settings.web_url
    listen = settings.http_listen
    host = listen.host if listen else "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port if port is not None else (listen.port if listen else 3000)}"


def new_link(session: Session, signer: Signer, contact: Contact, *, base: str,
             now: datetime) -> str:
    forget_expired(session, now=now)
    return f"{base}/signin/{issue_link(session, signer, contact, now=now)}"


def send_link(session: Session, signer: Signer, contact: Contact, *, base: str, now: datetime,
              queue: QueueReply) -> None:
    """Email a new link to the contact's registered address, through the outbox."""
    link = new_link(session, signer, contact, base=base, now=now)
    key = "web-signin:" + hashlib.sha256(link.encode()).hexdigest()[:40]
    thread = ThreadRef(channel="email", address=contact.email, subject=words.EMAIL_SUBJECT)
    queue(session, Reply(thread, words.email_text(contact.name, link),
                         subject=words.EMAIL_SUBJECT), key)
