"""The readable text of an email: the body part, HTML flattened, quoted replies cut off."""

from __future__ import annotations

import logging
import re
from email.message import EmailMessage, MIMEPart
from html.parser import HTMLParser

logger = logging.getLogger(__name__)

# Elements after which a reader sees a new line.
_BLOCKS = frozenset(
    {"address", "article", "blockquote", "br", "div", "dl", "dt", "dd", "fieldset", "footer",
     "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "ol", "p", "pre",
     "section", "table", "tr", "ul"}
)
# Of those, the ones that also end a paragraph (a list item or a table row does not).
_PARAGRAPHS = frozenset(
    {"address", "article", "blockquote", "div", "dl", "footer", "form", "h1", "h2", "h3", "h4",
     "h5", "h6", "header", "ol", "p", "pre", "section", "table", "ul"}
)
_INVISIBLE = frozenset({"script", "style", "head", "title"})

# Where a client starts quoting the message being answered.
_QUOTE_HEADERS = (
    re.compile(r"^On .{0,300}\bwrote:\s*$", re.IGNORECASE | re.DOTALL),  # Gmail, Apple Mail
    re.compile(r"^-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE),  # Outlook (plain)
    re.compile(r"^_{10,}\s*$"),  # Outlook (HTML) puts a rule above its From:/Sent: block
    re.compile(r"^-- $"),  # the standard signature separator
)
_OUTLOOK_FROM = re.compile(r"^\*?From:\*?\s")
_OUTLOOK_SENT = re.compile(r"^\*?(Sent|Date):\*?\s")
# Lines kept when everything was quoted, so a bare "CONFIRM" above nothing is not lost.
FALLBACK_LINES = 5


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _INVISIBLE:
            self._hidden += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _INVISIBLE:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _PARAGRAPHS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Flatten HTML to plain lines: block elements break lines, scripts and styles vanish."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = (line.strip() for line in "".join(parser.parts).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def body_text(message: EmailMessage) -> str:
    """The message's own text: text/plain preferred, else its HTML flattened; "" if neither."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = _decoded_text(part)
    if part.get_content_subtype() == "html":
        return html_to_text(text)
    return text.replace("\r\n", "\n").strip()


def _decoded_text(part: MIMEPart) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError) as exc:
        # An unknown or lying charset label: keep what can be read rather than nothing.
        logger.info("body part charset unusable (%s); decoding as UTF-8 with replacements", exc)
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else content.decode("utf-8", "replace")


def strip_quoted(text: str) -> str:
    """The new text of a reply: cut at the quoted original ("On … wrote:", Outlook's
    "From:/Sent:" block, "-----Original Message-----", a signature) and drop ">" lines.

    If nothing is left (a reply written below the quote), the first lines are kept instead.
    """
    lines = text.splitlines()
    fresh: list[str] = []
    for index, line in enumerate(lines):
        if _starts_quote(lines, index):
            break
        if not line.lstrip().startswith(">"):
            fresh.append(line.rstrip())
    kept = "\n".join(fresh).strip()
    if kept:
        return kept
    first = [line.rstrip() for line in lines if line.strip()]
    return "\n".join(first[:FALLBACK_LINES]).strip()


def _starts_quote(lines: list[str], index: int) -> bool:
    line = lines[index]
    # Gmail wraps a long attribution over two lines: "On Mon, 3 Feb 2025 at 10:12, Name <x@y>"
    # then "wrote:".
    pair = f"{line} {lines[index + 1]}" if index + 1 < len(lines) else line
    if line.startswith("On ") and any(p.match(pair) for p in _QUOTE_HEADERS[:1]):
        return True
    if any(p.match(line) for p in _QUOTE_HEADERS):
        return True
    following = lines[index + 1 : index + 4]
    return bool(_OUTLOOK_FROM.match(line)) and any(_OUTLOOK_SENT.match(n) for n in following)
