"""Addresses and display names of a raw email, decoded and validated where they enter.

The email package keeps the raw UTF-8 of an RFC 6532 address ("jdöe@mächine.example") as
surrogate escapes, which no database and no header accepts, and its Address() raises on a CR/LF
decoded from an encoded word. Here both become proper text or nothing: an address is matched
as the registry keeps it (decoded, NFC, lower case) or is no address at all, never a crash.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from email.errors import HeaderParseError
from email.header import Header, decode_header, make_header
from email.message import EmailMessage
from email.utils import getaddresses

from validation.safe_text import safe_display_text

logger = logging.getLogger(__name__)

# An RFC 2047 encoded word ("=?utf-8?q?Jane=0D=0ASmith?="), as it stands in a raw header.
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
# An address the registry could hold: one "@", no blanks, controls or address punctuation.
# Internationalised (RFC 6532) addresses pass; a quoted local part does not (never registered).
_ATOM = r"[^\s@<>()\[\]\\,;:\".]+"
_ADDRESS = re.compile(rf"[^\s@<>()\[\]\\,;:\"]+@{_ATOM}(?:\.{_ATOM})*")


# RFC 5322's limit for a header line; a Message-ID past it is cut (issue 10).
MAX_MESSAGE_ID = 998


def message_id_text(value: object) -> str:
    """A Message-ID as the bot keys a message by it, the same whoever reads it (the SMTP
    listener's queue, the converter): one printable line, no NUL or other control (which
    PostgreSQL's text cannot hold: the message could not even be stored), at most
    MAX_MESSAGE_ID characters."""
    return re.sub(r"\s+", " ", safe_display_text(str(value), limit=None))[:MAX_MESSAGE_ID]


def from_header(message: EmailMessage, header: str) -> tuple[str, str]:
    """(display name, address) of the first address in ``header``, or ("", "") when there is
    none or it is not a valid address (then the sender is nobody: never matched, never a crash).
    """
    raw = next((str(v) for k, v in message.raw_items() if k.lower() == header.lower()), None)
    if raw is None:
        return "", ""
    # Encoded words are cleaned before parsing: a CR/LF decoded from one makes the stdlib's
    # Address() raise, and the old fallback then misread a ":" or "@" inside it as structure.
    value = _ENCODED_WORD.sub(_safe_encoded_word, raw)
    try:
        parsed = message.policy.header_fetch_parse(header, value)
        pairs = [(a.display_name, a.addr_spec) for a in getattr(parsed, "addresses", ())]
    except (IndexError, TypeError, ValueError, HeaderParseError) as exc:
        # The stdlib header parser still trips on some broken headers; fall back to the old one.
        logger.info("could not parse %s header (%s); falling back", header, exc)
        pairs = [p for p in getaddresses([re.sub(r"[\r\n]", "", value)]) if p[1]]
    if not pairs:
        return "", ""
    display, addr = pairs[0]
    return safe_display_text(decode_escapes(display)), to_address(addr)


def _safe_encoded_word(match: re.Match[str]) -> str:
    """The encoded word re-encoded from its cleaned text (Q-encoding escapes ":" and "@")."""
    try:
        text = str(make_header(decode_header(match.group())))
    except (LookupError, UnicodeError, HeaderParseError, ValueError):
        return match.group()  # an unknown charset: the parser leaves it as it is
    return Header(safe_display_text(text), "utf-8").encode(maxlinelen=0)


def to_address(raw: str) -> str:
    """An address as the registry keeps it (UTF-8 decoded, NFC, lower case), or "".

    Bytes that are not UTF-8, or text that is not one plain address, give "": no sender, so
    nobody's data and nobody to answer.
    """
    try:
        text = raw.encode("utf-8", "surrogateescape").decode("utf-8")
    except UnicodeError:
        return ""
    text = unicodedata.normalize("NFC", text).strip().lower()
    return text if text.isprintable() and _ADDRESS.fullmatch(text) else ""


def to_envelope_sender(value: str | None) -> str | None:
    """The SMTP MAIL FROM as proper text (``envelope_text``), None when not known."""
    return None if value is None else envelope_text(value)


def envelope_text(value: str) -> str:
    """An SMTP envelope address as proper text: aiosmtpd keeps bytes that are not UTF-8 as
    surrogate escapes, and control characters (a NUL) as they came; the database refuses both,
    PostgreSQL every NUL, so every retry of the message got 451 (issue 14 found it)."""
    return safe_display_text(decode_escapes(value), limit=None)


def decode_escapes(text: str) -> str:
    """Surrogate-escaped raw bytes decoded as UTF-8; what is not UTF-8 becomes U+FFFD."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a surrogate that is no escaped byte
        return text.encode("utf-8", "replace").decode("utf-8")
