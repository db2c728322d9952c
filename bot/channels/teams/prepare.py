"""What a converted Teams message still needs: who sent it and the bytes of its spreadsheets
(before the worker's transaction), and the sender's conversation reference (inside it).

Teams lets a bot message someone first (a reminder) only into a conversation it holds a
reference for, so each contact's 1:1 reference is kept on the contact. It is written in the
worker's one transaction with the message's outcome: a message whose handling rolls back
leaves no reference behind either, and its next try stores it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.orm import Session

from bot.channels.chat.files import FileRef, download, with_files
from kernel.messages import Attachment, InboundMessage
from store.db import Store
from store.registry import find_contact_by_teams

logger = logging.getLogger(__name__)


def unknown_sender(user_id: str) -> str:
    """The sender of a Teams user who is no contact: never an address the registry holds."""
    return f"teams:{user_id}"


@dataclass
class TeamsPreparer:
    store: Store
    max_file_bytes: int

    def prepare(self, message: InboundMessage) -> InboundMessage:
        """The message with its sender resolved and its spreadsheets fetched; raises
        ``ChatFetchError`` (carrying the message without files) when a file cannot be had."""
        return with_files(self.identify(message), self._fetched)

    def identify(self, message: InboundMessage) -> InboundMessage:
        """The contact's email, or ``teams:<id>`` for someone the registry lacks (a read of
        its own: the worker's transaction has not begun)."""
        user = str(message.thread.extra.get("user") or "")
        if not user:
            return message
        with self.store.transaction() as session:
            contact = find_contact_by_teams(session, user)
            sender = contact.email if contact is not None else unknown_sender(user)
        thread = replace(message.thread, extra={**message.thread.extra, "sender": sender})
        return replace(message, sender=sender, thread=thread)

    def _fetched(self, file: FileRef, message: InboundMessage) -> Attachment:
        return download(file, platform="Teams", headers={},
                        max_bytes=self.max_file_bytes, message=message)


def record_reference(session: Session, message: InboundMessage) -> None:
    """Keep the contact's 1:1 conversation reference, in the caller's transaction: only a
    personal chat's (or one Teams did not type), since a reminder is for the person alone."""
    extra = message.thread.extra
    reference: dict[str, Any] = extra.get("reference") or {}
    user = str(extra.get("user") or "")
    conversation = reference.get("conversation") or {}
    if not user or conversation.get("conversationType") not in (None, "personal"):
        return
    contact = find_contact_by_teams(session, user)
    if contact is not None and contact.teams_reference != reference:
        contact.teams_reference = reference
