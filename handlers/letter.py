"""The parts of a letter around what someone says: the notices an organisation's mail system
adds to every message, and the signature block under a sign-off."""

from __future__ import annotations

import re

SENTENCE_END = re.compile(r"(?<=[.?!])\s+|\n\s*\n")
# What an organisation's mail system adds to every message (a confidentiality notice, an
# external-mail warning): never the sender's question, wherever it stands.
BOILERPLATE = re.compile(
    r"\bconfidential|\bprivileged\b|\bintended (?:solely |only |exclusively )?for\b"
    r"|\bintended recipient|\baddressee|\bin error\b|\bnotify the sender\b|\bviruse?s?\b"
    r"|\bmonitored\b|\bfreedom of information\b|\bviews (?:or opinions )?expressed\b"
    r"|\bunauthori[sz]ed\b|\bbefore printing\b|\bclick(?:ing)? (?:on )?(?:any )?links?\b"
    r"|\boriginated (?:from )?outside\b|\bexternal (?:e-?mail|sender)\b",
    re.IGNORECASE,
)
# A signature line: a name, a job title, an address or telephone line, a web address. Short,
# and not a sentence (nothing ends it as one).
_SIGNATURE_WORDS = 6
_WORD = re.compile(r"\S+")


def said(lines: list[str]) -> str:
    """What ``lines`` (a sign-off's, and what follows it) say once a signature block and any
    boilerplate are left out."""
    kept = [line for line in lines if not _is_signature_line(line)]
    sentences = SENTENCE_END.split("\n".join(kept))
    return " ".join(s for s in sentences if s.strip() and not BOILERPLATE.search(s))


def _is_signature_line(line: str) -> bool:
    text = line.strip()
    return len(_WORD.findall(text)) <= _SIGNATURE_WORDS and not text.endswith((".", "?", "!"))
