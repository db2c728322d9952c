"""Who a Slack user is: a registry contact by ``slack_user_id``, or by the email Slack knows.

``users.info`` costs a Web API call (and is rate limited), so the email it gives is cached for
a while, per process. Contacts are looked up in the registry each time: an import takes effect
at once.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from store.db import Store
from store.registry import find_contact, find_contact_by_slack

logger = logging.getLogger(__name__)

EMAIL_TTL_SECONDS = 3600.0
# A failed look-up (no such user, no users:read.email scope) is retried sooner than that.
MISS_TTL_SECONDS = 300.0


def unknown_sender(user_id: str) -> str:
    """The sender of a Slack user who is no contact: never an address the registry holds."""
    return f"slack:{user_id}"


@dataclass
class SlackDirectory:
    store: Store
    client: WebClient
    _emails: dict[str, tuple[str | None, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def sender_for(self, user_id: str) -> str:
        """The contact's email address, or ``slack:<user id>`` for someone the registry lacks."""
        with self.store.transaction() as session:
            contact = find_contact_by_slack(session, user_id)
            if contact is not None:
                return contact.email
        email = self.email_of(user_id)
        if email:
            with self.store.transaction() as session:
                contact = find_contact(session, email)
                # A contact registered under another Slack id is not this user, whatever
                # email Slack shows: the registry's explicit id wins.
                if contact is not None and contact.slack_user_id in (None, user_id):
                    return contact.email
        return unknown_sender(user_id)

    def email_of(self, user_id: str) -> str | None:
        """The user's email from ``users.info`` (cached); None when Slack does not say."""
        now = time.monotonic()
        with self._lock:
            cached = self._emails.get(user_id)
        if cached is not None and cached[1] > now:
            return cached[0]
        email = self._look_up(user_id)
        ttl = EMAIL_TTL_SECONDS if email else MISS_TTL_SECONDS
        with self._lock:
            self._emails[user_id] = (email, now + ttl)
        return email

    def _look_up(self, user_id: str) -> str | None:
        try:
            response = self.client.users_info(user=user_id)
        except SlackApiError as exc:
            # missing_scope means the app lacks users:read.email: say so, it is fixable.
            logger.warning("users.info for %s failed: %s", user_id, exc.response.get("error"))
            return None
        user = response.get("user") or {}
        if user.get("is_bot") or user.get("deleted"):
            return None
        email = (user.get("profile") or {}).get("email")
        return str(email).strip().lower() if email else None
