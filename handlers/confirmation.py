"""``CONFIRM``: apply the sender's held changes (spec §4 changed-from-previous)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.held import confirm_held
from store.models import Submission

_CONFIRM = re.compile(r"^\W*confirm(?:ed)?\b", re.IGNORECASE)


def is_confirmation(text: str, subject: str) -> bool:
    """The first line of the reply (quoted text already removed) says CONFIRM."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    return bool(_CONFIRM.match(first)) or bool(_CONFIRM.match(strip_reply_prefix(subject)))


# The marks mail clients put before a subject they reply to or forward, in the languages
# coordinators' Outlook speaks: English, German (AW, WG), Swedish and Norwegian (SV, VS),
# Dutch (Antw, Doorst), French (TR), Spanish (RV); "Re[2]:" as some clients number them.
_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|aw|sv|antw|fw|fwd|wg|vs|doorst|tr|rv)(?:\[\d{1,3}\])?\s*:\s*)+",
    re.IGNORECASE)


def strip_reply_prefix(subject: str) -> str:
    """ "Re: Fwd: Q3 return" -> "Q3 return"; "AW: SV: Q3 return" -> "Q3 return"."""
    return _REPLY_PREFIX.sub("", subject)


def confirm_changes(
    session: Session, *, sender: str, submission_ids: Sequence[int], now: datetime
) -> int:
    """Confirm the held changes of those submissions, or, when the reply could not be traced
    to a held-changes message, every pending change of that sender (they typed CONFIRM)."""
    if not submission_ids:
        return confirm_held(session, sender=sender, now=now)
    return sum(confirm_held(session, sender=sender, submission_id=i, now=now)
               for i in submission_ids)


def submissions_under(session: Session, *, dedupe_prefix: str, sender: str) -> list[int]:
    """The submissions recorded from one inbound message (their dedupe keys share a prefix)."""
    query = select(Submission.id).where(
        Submission.dedupe_key.startswith(f"{dedupe_prefix}:", autoescape=True),
        Submission.sender == sender,
    )
    return list(session.scalars(query))
