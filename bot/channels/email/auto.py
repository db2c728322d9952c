"""Mail that must never be answered: our own, auto-replies, bounces and mailing lists.

Answering any of these risks a mail loop (an out-of-office answering our answer for ever), so
each gets a reason code and the dispatcher records it without replying (RFC 3834 §2, §5).
"""

from __future__ import annotations

import re
from email.message import EmailMessage

# The header every message we send carries (bot/channels/email/outbound.py writes it).
BOT_HEADER = "X-Marac-Bot"

_DAEMONS = frozenset({"mailer-daemon", "postmaster"})
_AUTOREPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-AutoReply-From", "X-Autoresponder")
_BULK = frozenset({"bulk", "junk"})
_LIST_HEADERS = ("List-Id", "List-Unsubscribe", "List-Post")


def automatic_reason(
    message: EmailMessage,
    *,
    sender: str,
    mailbox_address: str,
    envelope_from: str | None = None,
) -> str | None:
    """Why ``message`` must not be answered, as a short code, or None for mail from a person.

    ``sender`` is the lower-cased From address; ``envelope_from`` the SMTP MAIL FROM when the
    channel knows it ("" is the null sender of a bounce).
    """
    if sender == mailbox_address.lower() or message.get(BOT_HEADER) is not None:
        return "own-mail"
    if message.get_content_type() == "multipart/report":
        return "delivery-report"
    if _is_null_sender(message, envelope_from) or sender.partition("@")[0] in _DAEMONS:
        return "bounce"
    auto = _first_word(message.get("Auto-Submitted"))
    if auto and auto != "no":
        return "auto-submitted"
    if any(message.get(name) is not None for name in _AUTOREPLY_HEADERS):
        return "auto-reply"
    # X-Auto-Response-Suppress is not read: it asks us not to auto-reply, and Exchange puts it
    # on ordinary mail people write, so it says nothing about whether the mail is automatic.
    precedence = _first_word(message.get("Precedence"))
    if precedence in _BULK:
        return "bulk"
    if precedence == "list" or any(message.get(name) is not None for name in _LIST_HEADERS):
        return "mailing-list"
    return None


def _is_null_sender(message: EmailMessage, envelope_from: str | None) -> bool:
    if envelope_from is not None and envelope_from.strip() in {"", "<>"}:
        return True
    return_path = message.get("Return-Path")
    return return_path is not None and re.fullmatch(r"\s*<?\s*>?\s*", str(return_path)) is not None


def _first_word(value: object) -> str:
    if value is None:
        return ""
    # "auto-replied; owner-email=…" or "bulk (comment)": only the leading keyword counts.
    match = re.match(r"\s*([\w-]+)", str(value))
    return match.group(1).lower() if match else ""
