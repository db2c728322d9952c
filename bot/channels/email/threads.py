"""Which of our own messages an email replies to, so CONFIRM applies to the right files.

Our replies carry a Message-ID made from their outbox key (``reply:<inbound id>``), the
store's token and the Message-ID of the email answered (outbound.make_message_id); a reply to
one names it in In-Reply-To / References. Making those ids again for the sender's recent
replies finds the inbound message whose files were held, and the submissions recorded from it
share its dedupe prefix.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels.email.outbound import make_message_id
from kernel.messages import dedupe_prefix
from store.facts import message_ids
from store.queue import InboundItem, OutboundItem

# A sender rarely has more than a few held-changes replies open; look back this far.
LOOKBACK = 200


def replied_prefixes(
    session: Session, *, sender: str, references: tuple[str, ...], domain: str
) -> list[str]:
    """Dedupe prefixes of the inbound messages whose replies ``references`` names."""
    wanted = {r.strip() for r in references}
    query = (
        select(OutboundItem.id, OutboundItem.key, InboundItem.channel, InboundItem.message_id)
        .join(InboundItem, OutboundItem.inbound_id == InboundItem.id)
        .where(OutboundItem.recipient == sender)
        .order_by(OutboundItem.id.desc())
        .limit(LOOKBACK)
    )
    ids = message_ids(session)
    found: list[str] = []
    for item_id, key, channel, message_id in session.execute(query):
        # Only an email is answered by Message-ID (a Teams reply's emailed files answer none).
        answering = message_id if channel == "email" else None
        ours = {make_message_id(key, domain=domain, token=ids.token, answering=answering)}
        if ids.legacy_through is not None and item_id <= ids.legacy_through:
            ours.add(_legacy_message_id(key, domain=domain))  # queued before migration 0014
        if message_id and ours & wanted:
            found.append(dedupe_prefix("email", message_id))
    return list(dict.fromkeys(found))


def _legacy_message_id(key: str, *, domain: str) -> str:
    """The Message-ID of an item queued before the store had a token: its key's hash alone."""
    return f"<marac.{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}@{domain}>"
