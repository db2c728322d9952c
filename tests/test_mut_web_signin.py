"""Sign-in links and sessions (bot/channels/web/signin.py), pinned where a mutation run found
them loose: a link or cookie opens only its own contact, a retired contact is let in by
neither, a signature covers its token, the length cap is exact, and expired rows are dropped
from their boundary on. Real SQLite and PostgreSQL (``db_session``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.channels.web.signin import (
    LINK_LIFETIME,
    SESSION_LIFETIME,
    Signer,
    end_session,
    forget_expired,
    issue_link,
    link_contact,
    redeem_link,
    session_contact,
)
from store.models import Contact, WebSession, WebSignIn

NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
SIGNER = Signer(b"k" * 32)


def _contact(session: Session, name: str) -> Contact:
    contact = Contact(name=name, email=f"{name.lower()}@example.org", role="coordinator")
    session.add(contact)
    session.flush()
    return contact


def _cookie(session: Session, contact: Contact) -> str:
    found = redeem_link(session, SIGNER, issue_link(session, SIGNER, contact, now=NOW), now=NOW)
    assert found is not None and found[0].id == contact.id
    return found[1]


def test_a_link_opens_only_its_own_contact(db_session: Session) -> None:
    cora, dev = _contact(db_session, "Cora"), _contact(db_session, "Dev")
    for_cora = issue_link(db_session, SIGNER, cora, now=NOW)
    for_dev = issue_link(db_session, SIGNER, dev, now=NOW)
    found = redeem_link(db_session, SIGNER, for_dev, now=NOW)
    assert found is not None and found[0].id == dev.id
    still = link_contact(db_session, SIGNER, for_cora, now=NOW)  # Dev's left Cora's unused
    assert still is not None and still.id == cora.id


def test_a_cookie_opens_only_its_own_contact_until_it_ends(db_session: Session) -> None:
    cora, dev = _contact(db_session, "Cora"), _contact(db_session, "Dev")
    cora_cookie, dev_cookie = _cookie(db_session, cora), _cookie(db_session, dev)
    opened = session_contact(db_session, SIGNER, dev_cookie, now=NOW)
    assert opened is not None and opened.id == dev.id
    end_session(db_session, SIGNER, dev_cookie)
    assert session_contact(db_session, SIGNER, dev_cookie, now=NOW) is None
    opened = session_contact(db_session, SIGNER, cora_cookie, now=NOW)
    assert opened is not None and opened.id == cora.id


def test_a_retired_contact_is_let_in_by_neither_link_nor_cookie(db_session: Session) -> None:
    cora = _contact(db_session, "Cora")
    cookie = _cookie(db_session, cora)
    link = issue_link(db_session, SIGNER, cora, now=NOW)
    cora.retired_at = NOW
    db_session.flush()
    assert link_contact(db_session, SIGNER, link, now=NOW) is None
    assert session_contact(db_session, SIGNER, cookie, now=NOW) is None
    assert redeem_link(db_session, SIGNER, link, now=NOW) is None


def test_a_signature_covers_its_token_and_the_value_is_capped_at_200() -> None:
    signed = SIGNER.sign("link", "abc")
    mac = signed.rpartition(".")[2]
    assert SIGNER.unsign("link", signed) == "abc"
    assert SIGNER.unsign("link", f"abd.{mac}") is None  # another token, the same signature
    assert SIGNER.unsign("link", SIGNER.sign("link", "")) is None  # no token at all
    longest = "t" * (200 - len(signed) + 3)  # a token making the value exactly 200
    assert SIGNER.unsign("link", SIGNER.sign("link", longest)) == longest
    assert SIGNER.unsign("link", SIGNER.sign("link", longest + "t")) is None  # 201


def _rows(session: Session) -> tuple[int, int]:
    links = session.scalar(select(func.count()).select_from(WebSignIn))
    sessions = session.scalar(select(func.count()).select_from(WebSession))
    return links or 0, sessions or 0


def test_expired_links_and_sessions_are_dropped_from_their_boundary(db_session: Session) -> None:
    cora = _contact(db_session, "Cora")
    _cookie(db_session, cora)  # a used link, and a session ending at NOW + SESSION_LIFETIME
    issue_link(db_session, SIGNER, cora, now=NOW)  # an unused link, ending with the first
    assert _rows(db_session) == (2, 1)
    # A link's row is kept for one more lifetime after it ends; a session's goes as it ends.
    links_end = NOW + LINK_LIFETIME
    forget_expired(db_session, now=links_end + LINK_LIFETIME - timedelta(seconds=1))
    assert _rows(db_session) == (2, 1)
    forget_expired(db_session, now=links_end + LINK_LIFETIME)
    assert _rows(db_session) == (0, 1)
    forget_expired(db_session, now=NOW + SESSION_LIFETIME - timedelta(seconds=1))
    assert _rows(db_session) == (0, 1)
    forget_expired(db_session, now=NOW + SESSION_LIFETIME)
    assert _rows(db_session) == (0, 0)
