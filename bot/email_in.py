"""Raw RFC 822 bytes (from IMAP or the SMTP listener) -> ``InboundMessage`` (STYLE.md 1, 2).

The message is parsed once, with ``email.policy.default``; nothing here touches the network.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import logging
import mimetypes
import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import getaddresses

from bot.email_auth import is_sender_verified
from bot.email_auto import automatic_reason
from bot.email_text import body_text, strip_quoted
from bot.inbound import Attachment, InboundMessage, ThreadRef
from validation.quarters import Quarter

logger = logging.getLogger(__name__)

# Spreadsheets some clients attach with no Content-Disposition and no file name at all.
SPREADSHEET_TYPES = {
    "application/vnd.ms-excel": ".xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.12": ".xlsm",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
    "text/csv": ".csv",
}


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
    """
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)  # guaranteed by policy.default
    name, sender = _address(message, "From")
    subject = _header_text(message, "Subject")
    message_id = _header_text(message, "Message-ID") or None
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


def _address(message: EmailMessage, header: str) -> tuple[str, str]:
    """(display name, lower-cased address) of the first address in ``header``; ("", "")."""
    try:
        value = message.get(header)
        addresses = getattr(value, "addresses", ())
        if addresses:
            first = addresses[0]
            return first.display_name, (first.addr_spec.lower() if first.domain else "")
    except (IndexError, TypeError, ValueError) as exc:
        # The stdlib header parser still trips on some broken headers; fall back to the old one.
        logger.info("could not parse %s header (%s); falling back", header, exc)
    pairs = getaddresses([str(v) for v in message.get_all(header) or []])
    for display, addr in pairs:
        if "@" in addr:
            return display, addr.lower()
    return "", ""


def _header_text(message: EmailMessage, header: str) -> str:
    try:
        value = message.get(header)
    except (IndexError, TypeError, ValueError):
        value = None
    return re.sub(r"\s+", " ", str(value)).strip() if value is not None else ""


def _thread(
    message: EmailMessage, *, sender: str, subject: str, message_id: str | None
) -> ThreadRef:
    _, reply_to = _address(message, "Reply-To")
    references = tuple(_header_text(message, "References").split())
    if message_id and message_id not in references:
        references += (message_id,)
    return ThreadRef(channel="email", address=reply_to or sender, message_id=message_id,
                     references=references, subject=subject)


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
                                content_type=_content_type(content_type, filename)))
    return found


def _filename(part: EmailMessage) -> str | None:
    """The part's file name (RFC 2231 and encoded words decoded), without any directory."""
    try:
        name = part.get_filename()
    except (IndexError, TypeError, ValueError):
        name = None
    if not name:
        return None
    # A name like "..\\..\\x.xlsx" or "/tmp/x.xlsx" must not steer where anyone saves it.
    base = re.split(r"[\\/]", str(name).strip())[-1].strip()
    return base or None


def _content_type(declared: str, filename: str) -> str:
    """The declared type, unless it is the generic octet-stream and the name says more."""
    if declared != "application/octet-stream":
        return declared
    suffix = "." + filename.rpartition(".")[2].lower()
    known = {ext: kind for kind, ext in SPREADSHEET_TYPES.items()}
    # mimetypes alone depends on the host's mime.types, which may not know .xlsx.
    return known.get(suffix) or mimetypes.guess_type(filename)[0] or declared
