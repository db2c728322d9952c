"""Names that arrive from outside (file names, display names), made safe once, at the channel.

Every channel's converter (email, Slack, Teams) passes each file name and display name through
here before anything else sees it. What comes out is safe to store, to log, to show in a reply
and to put back into a header: no control characters (a CR/LF in an RFC 2231 file name used to
break the reply's ``-checked.xlsx`` attachment header and roll the whole submission back), no
bidirectional overrides, no lone surrogates, NFC-composed, of bounded length. It lives in this
low layer so that bot/, handlers/ and reports/ can all use it without importing upwards.
"""

from __future__ import annotations

import re
import unicodedata

# Characters that break a line or a field (CR, LF, tab, the C0 separators, NEL, the Unicode
# line and paragraph separators): a run of them with the blanks around it becomes one space,
# so "Q3\r\n2024" and a folded "Q3\r\n 2024" both read "Q3 2024".
_BREAKS = re.compile("\\s*[\t\n\x0b\x0c\r\x1c-\x1f\x85\u2028\u2029]+\\s*")
# Characters that show nothing and are simply dropped: the other C0 and C1 controls and DEL;
# the bidirectional marks and overrides ("x\u202egpj.xlsx" shows as "xxlsx.jpg"); the byte-order
# mark; lone surrogates (undecodable bytes kept by "surrogateescape", which no database or
# header takes).
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff"
    "\ud800-\udfff]+"
)
MAX_FILENAME = 150
MAX_DISPLAY_TEXT = 200
# A suffix longer than this is not a file type worth keeping whole when a name is cut.
_MAX_SUFFIX = 10


def safe_display_text(raw: str, *, limit: int | None = MAX_DISPLAY_TEXT) -> str:
    """``raw`` as one printable line, NFC-composed, at most ``limit`` characters (None: any)."""
    text = _BREAKS.sub(" ", _INVISIBLE.sub("", raw))
    return unicodedata.normalize("NFC", text).strip()[:limit].rstrip()


def safe_filename(raw: str) -> str:
    """The last path component of ``raw``, as safe display text; "" when nothing usable is left.

    Only the last component: a name like "..\\..\\x.xlsx" or "/tmp/x.xlsx" must not steer
    where anyone saves the file. A long name is cut in its stem so that the type is kept.
    """
    text = safe_display_text(raw, limit=None)
    base = re.split(r"[\\/]", text)[-1].strip()
    if base in {".", ".."}:
        return ""
    return _shorten(base)


def _shorten(name: str) -> str:
    if len(name) <= MAX_FILENAME:
        return name
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem or len(suffix) > _MAX_SUFFIX:
        return name[:MAX_FILENAME].rstrip()
    return stem[: MAX_FILENAME - len(suffix) - 1].rstrip() + "." + suffix
