"""Which of our own messages an email replies to, so CONFIRM applies to the right files.

Our replies carry a Message-ID derived from their outbox key (``reply:<inbound id>``); a reply
to one names it in In-Reply-To / References. From the inbound id we find the message whose
files were held, and the submissions recorded from it share its dedupe prefix.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels.email.outbound import make_message_id
from kernel.messages import dedupe_prefix
from store.queue import InboundItem, OutboundItem

# A sender rarely has more than a few held-changes replies open; look back this far.
LOOKBACK = 200


def replied_prefixes(
    session: Session, *, sender: str, references: tuple[str, ...], domain: str
) -> list[str]:
    """Dedupe prefixes of the inbound messages whose replies ``references`` names."""
    wanted = {r.strip() for r in references}
    query = (
        select(OutboundItem.key, OutboundItem.inbound_id)
        .where(OutboundItem.recipient == sender, OutboundItem.inbound_id.is_not(None))
        .order_by(OutboundItem.id.desc())
        .limit(LOOKBACK)
    )
    inbound_ids = [i for key, i in session.execute(query)
                   if make_message_id(key, domain=domain) in wanted]
    if not inbound_ids:
        return []
    ids = session.scalars(select(InboundItem.message_id).where(InboundItem.id.in_(inbound_ids)))
    return [dedupe_prefix("email", m) for m in ids if m]
