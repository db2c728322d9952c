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

Writing folds each header from its parse tree (``_refold_parse_tree``), a fifth of rendering a
reply. The folded form is a pure function of the header object and the policy's line length,
line end and ``utf8``, so it is kept on the header object: a remembered header (the reply's
From, MIME-Version, Content-Type and Content-Transfer-Encoding of each part …) is folded once.
"""

from __future__ import annotations

from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import EmailPolicy
from typing import TYPE_CHECKING

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


if TYPE_CHECKING:  # generic only in typeshed
    _EmailPolicy = EmailPolicy[EmailMessage]
else:
    _EmailPolicy = EmailPolicy


class RememberingPolicy(_EmailPolicy):
    """``email.policy.default``'s rules, each header object's folded bytes kept once made."""

    def fold_binary(self, name: str, value: str) -> bytes:
        if not isinstance(value, BaseHeader):  # a source value as parsed: written as it came
            return super().fold_binary(name, value)
        folds: dict[tuple[int | None, str, bool], bytes] = value.__dict__.setdefault(
            "_folded", {})
        key = (self.max_line_length, self.linesep, self.utf8)
        folded = folds.get(key)
        if folded is None:
            folded = folds[key] = super().fold_binary(name, value)
        return folded


# Parsing (LF line ends), and writing for SMTP (CRLF) in 7-bit or RFC 6532 UTF-8 headers.
PARSE = RememberingPolicy(header_factory=RememberingRegistry())
SMTP = PARSE.clone(linesep="\r\n")
SMTPUTF8 = SMTP.clone(utf8=True)
