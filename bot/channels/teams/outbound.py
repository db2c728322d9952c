"""Teams replies and proactive messages through the Bot Connector, with the Agents SDK's client.

A reply is ``POST {serviceUrl}/v3/conversations/{id}/activities/{replyToId}``; a reminder goes
to the contact's stored 1:1 conversation (``POST …/v3/conversations/{id}/activities``). The
token comes from MSAL for the bot's app registration, or none in anonymous (testing) mode.
Images ride inline (data URIs, which 1:1 chats show); other files cannot be attached by a bot
without the file-consent dance, so the text says where they went instead.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from microsoft_agents.activity import Activity, Attachment, ConversationReference
from microsoft_agents.authentication.msal import MsalAuth
from microsoft_agents.hosting.core import ConnectorClient
from microsoft_agents.hosting.core.authorization import AgentAuthConfiguration
from sqlalchemy.orm import Session

from bot.channels.base import DeliveryError
from bot.channels.chat.render import HeldOffer, chat_text, headline_of
from bot.channels.teams.cards_form import form_card
from bot.settings import Settings
from kernel import wording
from kernel.entry import FormOffer
from kernel.messages import Reply
from store.queue import OutboundItem
from store.registry import find_contact_by_teams

logger = logging.getLogger(__name__)

BOT_FRAMEWORK = "https://api.botframework.com"
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


def to_teams_payload(reply: Reply, *, offer: HeldOffer | None, files_emailed: bool) -> bytes:
    """The outbox payload for one reply in the conversation it answers."""
    text = chat_text(reply.text, offer)
    headline = headline_of(reply)
    if headline and text.startswith(headline):
        text = f"**{headline}**{text[len(headline):]}"  # Teams renders the text as markdown
    if files_emailed:
        text += "\n\n" + wording.TEAMS_FILES_BY_EMAIL_NOTE
    images = [a for a in reply.attachments if a.content_type.startswith("image/")]
    payload: dict[str, Any] = {
        "kind": "reply",
        "reference": reply.thread.extra.get("reference"),
        "reply_to_id": reply.thread.message_id,
        "text": text,
        "images": [{"name": a.filename, "content_type": a.content_type,
                    "data": base64.b64encode(a.data).decode("ascii")} for a in images],
    }
    if offer is not None:
        payload["card"] = held_card(offer)
    elif isinstance(form := reply.data.get("form"), FormOffer):  # "record a meeting"
        payload["card"] = form_card(form)
    return json.dumps(payload).encode("utf-8")


def held_card(offer: HeldOffer) -> dict[str, Any]:
    """An Adaptive Card with Confirm / Keep; a press comes back as a message with a value."""
    value = {"submitter": offer.submitter, "ids": list(offer.submission_ids)}
    return {
        "type": "AdaptiveCard", "version": "1.4",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "body": [],
        "actions": [
            {"type": "Action.Submit", "title": wording.CHAT_CONFIRM_BUTTON,
             "data": {**value, "marac_action": "confirm"}},
            {"type": "Action.Submit", "title": wording.CHAT_KEEP_BUTTON,
             "data": {**value, "marac_action": "keep"}},
        ],
    }


@dataclass
class TeamsSender:
    settings: Settings
    auth: MsalAuth | None

    @classmethod
    def from_settings(cls, settings: Settings) -> TeamsSender:
        auth = None
        if settings.teams_app_id:
            auth = MsalAuth(AgentAuthConfiguration(
                client_id=settings.teams_app_id, tenant_id=settings.teams_tenant,
                client_secret=settings.teams_app_password))
        return cls(settings, auth)

    def __call__(self, session: Session, item: OutboundItem,
                 accepted: Callable[[], None]) -> None:
        """Send one outbox item (runs in the delivery thread, with a loop of its own)."""
        message = json.loads(item.payload)
        if message.get("kind") != "reply":
            message = self._proactive(session, message, fallback_user=item.recipient)
        asyncio.run(self._send(item.key, message))

    def _proactive(self, session: Session, message: dict[str, Any], *, fallback_user: str
                   ) -> dict[str, Any]:
        """A reminder for a contact by Teams id: into their stored 1:1 conversation."""
        user = str(message.get("user") or fallback_user)
        contact = find_contact_by_teams(session, user)
        reference = contact.teams_reference if contact is not None else None
        if not reference:
            raise DeliveryError(
                f"no Teams conversation with {user} yet: Teams lets a bot message someone only "
                "after they have messaged it (or installed the app)", permanent=True)
        return {"reference": reference, "reply_to_id": None, "text": message["text"],
                "images": []}

    async def _send(self, key: str, message: dict[str, Any]) -> None:
        reference = ConversationReference.model_validate(message["reference"])
        token = await self._token()
        client = ConnectorClient(reference.service_url or "", token)
        activity = _activity(reference, message)
        try:
            if message.get("reply_to_id"):
                await client.conversations.reply_to_activity(
                    reference.conversation.id, message["reply_to_id"], activity)
            else:
                await client.conversations.send_to_conversation(reference.conversation.id,
                                                                activity)
        except Exception as exc:  # the SDK raises plain exceptions for HTTP errors
            raise DeliveryError(f"Bot Connector refused {key}: {exc}") from exc
        finally:
            await client.close()

    async def _token(self) -> str:
        if self.auth is None:
            return ""  # anonymous mode: the connector (emulator, test fake) takes no token
        return await self.auth.get_access_token(BOT_FRAMEWORK, [f"{BOT_FRAMEWORK}/.default"])


def _activity(reference: ConversationReference, message: dict[str, Any]) -> Activity:
    attachments = [
        Attachment(content_type=i["content_type"], name=i["name"],
                   content_url=f"data:{i['content_type']};base64,{i['data']}")
        for i in message.get("images") or []
    ]
    if message.get("card"):
        attachments.append(Attachment(content_type=ADAPTIVE_CARD, content=message["card"]))
    fields: dict[str, Any] = {
        "type": "message", "text": message["text"], "text_format": "markdown",
        "conversation": reference.conversation, "from_property": reference.agent,
        "recipient": reference.user, "channel_id": reference.channel_id,
        "service_url": reference.service_url,
    }
    if attachments:
        fields["attachments"] = attachments
    if message.get("reply_to_id"):
        fields["reply_to_id"] = message["reply_to_id"]
    return Activity(**fields)
