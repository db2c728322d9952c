"""Raw RFC 822 bytes (from IMAP or the SMTP listener) -> ``InboundMessage`` (STYLE.md 1, 2).

The message is parsed once, with ``email.policy.default``'s rules (each header value parsed once:
policy.py); nothing here touches the network.
"""

from __future__ import annotations

import email
import hashlib
import logging
import mimetypes
import re
from datetime import datetime
from email.errors import HeaderParseError
from email.message import EmailMessage

from bot.channels.email.address import (
    MAX_MESSAGE_ID,
    decode_escapes,
    from_header,
    to_envelope_sender,
)
from bot.channels.email.auth import is_sender_verified
from bot.channels.email.auto import automatic_reason
from bot.channels.email.policy import PARSE
from bot.channels.email.text import body_text, strip_quoted
from kernel.messages import (
    SPREADSHEET_TYPES,
    Attachment,
    InboundMessage,
    ThreadRef,
)
from kernel.quarters import Quarter
from validation.guards import sniffed_extension
from validation.safe_text import safe_display_text, safe_filename

logger = logging.getLogger(__name__)

def to_inbound(
    raw: bytes,
    *,
    mailbox_address: str,
    trusted_authserv_id: str | None,
    received_at: datetime,
    envelope_from: str | None = None,
) -> InboundMessage:
    """Turn one raw email into the normalised message every handler sees.

    ``envelope_from`` is the SMTP MAIL FROM when the channel knows it ("" for a bounce).
    Every address, name and file name leaves here as proper, printable text (issue 10).
    """
    message = email.message_from_bytes(raw, policy=PARSE)
    assert isinstance(message, EmailMessage)  # guaranteed by an EmailPolicy
    envelope_from = to_envelope_sender(envelope_from)
    name, sender = from_header(message, "From")
    subject = _header_text(message, "Subject")
    message_id = _header_text(message, "Message-ID")[:MAX_MESSAGE_ID] or None  # as queued
    return InboundMessage(
        channel="email",
        sender=sender,
        sender_name=name or None,
        thread=_thread(message, sender=sender, subject=subject, message_id=message_id),
        subject=subject,
        text=strip_quoted(body_text(message)),
        attachments=tuple(attachments(message)),
        received_at=received_at,
        dedupe_key=message_id or "sha256:" + hashlib.sha256(raw).hexdigest(),
        automatic_reason=automatic_reason(
            message, sender=sender, mailbox_address=mailbox_address, envelope_from=envelope_from
        ),
        sender_verified=bool(sender)
        and is_sender_verified(message, from_address=sender,
                               trusted_authserv_id=trusted_authserv_id),
        declared_quarter_text=subject if _names_quarter(subject, received_at) else None,
        raw=raw,
    )


def _header_text(message: EmailMessage, header: str) -> str:
    try:
        value = message.get(header)
    except (IndexError, TypeError, ValueError):
        value = None
    if value is None:
        return ""
    # The subject comes back in our reply's headers: one line, no controls.
    return re.sub(r"\s+", " ", safe_display_text(str(value), limit=None))


def _thread(
    message: EmailMessage, *, sender: str, subject: str, message_id: str | None
) -> ThreadRef:
    """Replies go to the From address, never to Reply-To: From is what the registry and (with
    MARAC_TRUSTED_AUTHSERV_ID) the mail server vouch for, Reply-To anyone may write, and an
    answer about data must not go to an address nobody checked (issue 10, finding 10)."""
    references = tuple(_header_text(message, "References").split())
    if message_id and message_id not in references:
        references += (message_id,)
    return ThreadRef(channel="email", address=sender, message_id=message_id,
                     references=references, subject=subject, by_address=True)


def _names_quarter(subject: str, received_at: datetime) -> bool:
    return bool(subject) and Quarter.find_in(subject, today=received_at.date()) is not None


def attachments(message: EmailMessage) -> list[Attachment]:
    """Every attached file, including those inside forwarded messages (message/rfc822).

    A part counts when it has a file name (attachment, or inline with a name) or is a
    spreadsheet type with no name at all; containers and unnamed body text do not.
    """
    found: list[Attachment] = []
    for part in message.walk():
        if part.is_multipart():
            continue  # multipart/* and message/rfc822: walk() descends into them
        content_type = part.get_content_type()
        filename = _filename(part)
        if filename is None and content_type in SPREADSHEET_TYPES:
            filename = f"attachment-{len(found) + 1}{SPREADSHEET_TYPES[content_type]}"
        if filename is None:
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            logger.warning("attachment %r has no decodable content; skipped", filename)
            continue
        found.append(Attachment(filename=filename, data=data,
                                content_type=_content_type(content_type, filename, data)))
    return found


def _filename(part: EmailMessage) -> str | None:
    """The part's file name (RFC 2231 and encoded words decoded), made safe (no directory, no
    CR/LF: the reply's "-checked.xlsx" header is built from it)."""
    try:
        name = part.get_filename()
    except (IndexError, TypeError, ValueError, HeaderParseError):
        name = None
    if not name:
        return None
    return safe_filename(decode_escapes(str(name))) or None


def _content_type(declared: str, filename: str, data: bytes) -> str:
    """The declared type, unless it is the generic octet-stream and the name or, for a name
    that says nothing, the bytes say more (a workbook saved as "Lambeth Q3 return")."""
    if declared != "application/octet-stream":
        return declared
    suffix = "." + filename.rpartition(".")[2].lower()
    known = {ext: kind for kind, ext in SPREADSHEET_TYPES.items()}
    # mimetypes alone depends on the host's mime.types, which may not know .xlsx.
    named = known.get(suffix) or mimetypes.guess_type(filename, strict=False)[0]
    if named is not None:
        return named
    sniffed = sniffed_extension(data)
    return known[sniffed] if sniffed is not None else declared
