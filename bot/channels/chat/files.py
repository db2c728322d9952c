"""Fetching a file that a chat platform holds (Slack's private URL, Teams' download URL).

A converter only names the file (a ``FileRef``); the channel's prepare step fetches it, in the
worker thread (blocking I/O is fine there), before the message is dispatched. Two quirks of the
outside shape this: Slack answers a download without a valid bot token with 200 and an HTML
sign-in page, not 401; and anyone can post a file far larger than we take. So the bytes are
capped while read, and a page where a spreadsheet should be is our fault (token or scope),
not the sender's.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from kernel.messages import Attachment, InboundMessage

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 60.0
_CHUNK = 64 * 1024
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<!--")


@dataclass(frozen=True)
class FileRef(Attachment):
    """A posted spreadsheet the converter has named but not fetched (``data`` is empty).

    Only the prepare step replaces it with the fetched ``Attachment``: handlers never see one.
    ``url`` is empty when the platform must be asked for it first (Slack's ``files.info``).
    """

    url: str = ""
    file_id: str = ""


class ChatFetchError(Exception):
    """A file could not be fetched, through no fault of the sender.

    ``message`` is the message as far as it was understood (no attachments), so the worker can
    still apologise in the right thread.
    """

    def __init__(self, reason: str, message: InboundMessage) -> None:
        super().__init__(reason)
        self.message = message


def fetch(url: str, *, headers: Mapping[str, str], max_bytes: int) -> tuple[bytes, str]:
    """GET ``url``; returns (at most ``max_bytes + 1`` bytes, the response's content type).

    One byte past the limit is kept so that the file guard still sees "too large" and says so,
    without us ever holding more than that. Raises ``OSError`` (``urllib.error.URLError``) on a
    transport failure or an HTTP error status.
    """
    request = urllib.request.Request(url, headers=dict(headers))
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        content_type = response.headers.get_content_type()
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:
            chunk = response.read(min(_CHUNK, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    return b"".join(chunks), content_type


def is_web_page(data: bytes, content_type: str) -> bool:
    """True for an HTML page (Slack's sign-in page) where a file was expected."""
    if content_type == "text/html":
        return True
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(_HTML_STARTS)


def download(ref: FileRef, *, platform: str, headers: Mapping[str, str], max_bytes: int,
             message: InboundMessage, hint: str = "") -> Attachment:
    """The file ``ref`` names, with its bytes (capped); ``ChatFetchError`` carrying
    ``message`` when it cannot be had, ``hint`` saying what to fix for a web page."""
    try:
        data, served = fetch(ref.url, headers=headers, max_bytes=max_bytes)
    except (OSError, ValueError) as exc:
        raise ChatFetchError(f"downloading {ref.filename} from {platform} failed: {exc}",
                             message) from exc
    if is_web_page(data, served):
        raise ChatFetchError(f"{platform} served a web page instead of {ref.filename}{hint}",
                             message)
    return Attachment(ref.filename, data, ref.content_type)


def with_files(message: InboundMessage,
               fetched: Callable[[FileRef, InboundMessage], Attachment]) -> InboundMessage:
    """``message`` with each ``FileRef`` replaced by ``fetched(ref, known)``; ``known`` is the
    message without files, which a ``ChatFetchError`` carries so the worker can apologise."""
    if not any(isinstance(a, FileRef) for a in message.attachments):
        return message
    known = replace(message, attachments=())
    files = tuple(fetched(a, known) if isinstance(a, FileRef) else a
                  for a in message.attachments)
    return replace(message, attachments=files)
