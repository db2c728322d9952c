"""The email policies this channel parses and writes with: the stdlib's, each header value
parsed once.

``email.policy.default`` builds a new header object, by a full RFC 5322 parse, every time a
header is read: ``get_content_type()`` alone reads Content-Type again on each call, and one
submission's parse and reply read some 80 headers, costing about a fifth of a message's work
(issue 14). A header object is a pure function of its name and value and nothing changes it
once built (folding only reads its parse tree), so each is remembered and handed out again.

The stdlib registry also makes a new class (``type(...)``) for every header it builds and every
``message[name] = value``, only to read ``max_count`` from it; a class depends on nothing but the
registered class it extends, so one is made per registered class and kept.
"""

from __future__ import annotations

import email.policy
from email.headerregistry import BaseHeader, HeaderRegistry

# Bounds on what is remembered: values longer than this (rare, and possibly hostile) are parsed
# each time; a full memory is emptied and starts again, so it never holds more than this.
MAX_REMEMBERED_VALUE = 512
MAX_REMEMBERED = 2048


class RememberingRegistry(HeaderRegistry):
    """The stdlib's header registry, with each (name, value) parsed once."""

    def __init__(self) -> None:
        super().__init__()
        self._parsed: dict[tuple[str, str], BaseHeader] = {}
        # Registered class -> the header class made from it (a handful: one per kind of header).
        self._classes: dict[type, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        kind = self.registry.get(name.lower(), self.default_class)
        made = self._classes.get(kind)
        if made is None:
            made = self._classes[kind] = super().__getitem__(name)
        return made

    def __call__(self, name: str, value: str) -> BaseHeader:
        if len(value) > MAX_REMEMBERED_VALUE:
            return super().__call__(name, value)
        # The exact name is part of the key: the header object keeps it, and writes it out.
        key = (name, value)
        header = self._parsed.get(key)
        if header is None:
            header = super().__call__(name, value)
            if len(self._parsed) >= MAX_REMEMBERED:
                self._parsed.clear()
            self._parsed[key] = header
        return header

    @property
    def remembered(self) -> int:
        return len(self._parsed)


# Parsing (LF line ends), and writing for SMTP (CRLF) in 7-bit or RFC 6532 UTF-8 headers.
PARSE = email.policy.default.clone(header_factory=RememberingRegistry())
SMTP = PARSE.clone(linesep="\r\n")
SMTPUTF8 = SMTP.clone(utf8=True)
