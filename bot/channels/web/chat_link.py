""""dashboard" sent to the bot: the answer is a sign-in link, in a thread only the asker reads
(a direct message, or email, whose replies go to the registered address). In a shared channel
a link would sign in whoever clicks it first, so there the answer says where to ask instead."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.orm import Session

from bot.channels.web.secret import secret_key
from bot.channels.web.signin import Signer
from bot.channels.web.signin_mail import base_url, new_link
from bot.settings import Settings
from handlers.result import HandlerResult, Outcome
from kernel.messages import InboundMessage, Reply
from kernel.wording import web as words
from store.models import Contact

_ASKS = re.compile(r"(?:the\s+)?(?:web\s+)?dashboard(?:\s+link)?|sign\s*(?:me\s+)?in(?:\s+link)?",
                   re.IGNORECASE)


def is_request(message: InboundMessage) -> bool:
    """The whole message is "dashboard" (or "dashboard link", "sign in"), with no files."""
    text = message.text.strip().strip(".!?").strip()
    return not message.attachments and bool(_ASKS.fullmatch(text))


def answer(session: Session, message: InboundMessage, contact: Contact, *,
           settings: Settings, now: datetime, private: bool) -> HandlerResult:
    """A new one-time link for ``contact`` when the thread is theirs alone."""
    base = base_url(settings)
    if not private:
        return HandlerResult(Outcome.HELP, Reply(message.thread,
                                                 words.DASHBOARD_NOT_PRIVATE.format(url=base)))
    link = new_link(session, Signer(secret_key(settings)), contact, base=base, now=now)
    return HandlerResult(Outcome.HELP, Reply(message.thread, words.dashboard_reply(link)))
