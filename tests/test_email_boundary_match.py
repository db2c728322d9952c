"""bot/channels/email/boundary_match.py: the feed parser finds the same parts without compiling a
pattern per multipart, on every kind of boundary line real and broken mail has."""

from __future__ import annotations

import email
import email.feedparser
import email.policy
import re
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.channels.email import boundary_match
from bot.channels.email import inbound as _inbound  # noqa: F401 (installs the matcher)
from bot.channels.email.boundary_match import BoundaryMatcher, boundary_matcher

BEFORE_313 = sys.version_info < (3, 13)
FIXTURES = Path(__file__).parent / "fixtures" / "email"
# CPython's own test messages (odd multiparts of every kind), where the install kept them.
STDLIB_MESSAGES = Path(sysconfig.get_paths()["stdlib"]) / "test" / "test_email" / "data"
TAIL = r")(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$"
# Every character RFC 2046 allows in a boundary, regular-expression specials among them.
ODD_BOUNDARY = "'()+_,-./:=? 0aZ"


def stdlib_pattern(separator: str) -> re.Pattern[str]:
    """What the 3.11/3.12 feed parser compiles for a multipart."""
    return re.compile("(?P<sep>" + re.escape(separator) + TAIL)


@pytest.mark.parametrize("boundary", ["b", "===============0151566939319127566==",
                                      ODD_BOUNDARY, "=_marac_" + "0" * 32])
@pytest.mark.parametrize("after", ["", "\n", "\r\n", "\r", "--", "--\n", "--\r\n", "  \t\r\n",
                                   "--  \n", "-", "-x\n", "--x\n", "x\n", " x\n", "----\n",
                                   "\n\n", "--\n\n"])
def test_a_line_matches_as_the_compiled_pattern_does(boundary: str, after: str) -> None:
    separator = "--" + boundary
    ours, stdlib = BoundaryMatcher(separator), stdlib_pattern(separator)
    for line in (separator + after, " " + separator + after, "-" + boundary + after,
                 "+" + separator[1:] + after, separator[:-1] + after,
                 separator[:-1] + "#" + after, separator + separator + after):
        mine, theirs = ours.match(line), stdlib.match(line)
        assert (mine is None) is (theirs is None), line
        if mine is not None and theirs is not None:
            assert [mine.group(g) for g in ("end", "ws", "linesep")] == [
                theirs.group(g) for g in ("end", "ws", "linesep")], line


def test_only_the_boundary_pattern_is_replaced() -> None:
    separator = "--" + ODD_BOUNDARY
    matcher = boundary_matcher("(?P<sep>" + re.escape(separator) + TAIL)
    assert matcher is not None and matcher.separator == separator
    assert boundary_matcher("(?P<sep>" + re.escape(separator) + TAIL, re.IGNORECASE) is None
    assert boundary_matcher("(?P<sep>a|b" + TAIL) is None  # not what re.escape writes
    assert boundary_matcher("(?P<sep>--b)(?P<end>--)?$") is None
    assert boundary_matcher(b"(?P<sep>--b" + TAIL.encode()) is None


@pytest.mark.skipif(not BEFORE_313, reason="3.13's feed parser compiles nothing per message")
def test_parsing_compiles_no_pattern_per_multipart(monkeypatch: pytest.MonkeyPatch) -> None:
    assert boundary_match.is_installed()
    compiled: list[str] = []
    real = re.compile

    def spy(pattern: str, flags: int = 0) -> re.Pattern[str]:
        compiled.append(pattern)
        return real(pattern, flags)

    monkeypatch.setattr(re, "compile", spy)
    message = email.message_from_bytes(_message("b-1", "b-2", "\r\n"), policy=email.policy.default)
    assert len(list(message.walk())) == 8
    assert not [p for p in compiled if str(p).startswith("(?P<sep>")]


def _message(outer: str, inner: str, nl: str, *, close: str = "--", tail: str = "") -> bytes:
    """A multipart/mixed holding text, a multipart/alternative and a forwarded message, with
    preamble and epilogue, boundaries followed by ``tail`` (blanks, or nothing)."""
    lines = [
        "From: a@example.org", "Subject: parts", "MIME-Version: 1.0",
        f'Content-Type: multipart/mixed; boundary="{outer}"', "",
        "This is a preamble.", f"--{outer}-not-a-boundary", "",
        f"--{outer}{tail}", "Content-Type: text/plain", "", "first", f"--{inner}", "",
        f"--{outer}{tail}", f'Content-Type: multipart/alternative; boundary="{inner}"', "",
        f"--{inner}", "Content-Type: text/plain", "", "plain", "",
        f"--{inner}{tail}", "Content-Type: text/html", "", "<p>html</p>",
        f"--{inner}--{tail}", "inner epilogue",
        f"--{outer}", f"--{outer}", "Content-Type: message/rfc822", "",
        "Subject: forwarded", f'Content-Type: multipart/mixed; boundary="{inner}"', "",
        f"--{inner}", "Content-Type: text/plain", "", "forwarded text",
        f"--{inner}--", "",
        f"--{outer}{close}{tail}", "the epilogue", "",
    ]
    return nl.join(lines).encode()


def _corpus() -> Iterator[tuple[str, bytes]]:
    for nl in ("\r\n", "\n", "\r"):
        for outer, inner in (("b", "b-1"), ("b-1", "b"), (ODD_BOUNDARY, ODD_BOUNDARY + "x"),
                             ("=_marac_" + "0" * 32, "===============0151566939319127566==")):
            for tail in ("", "  ", "\t x"):
                yield f"{outer!r} {inner!r} {nl!r} {tail!r}", _message(outer, inner, nl,
                                                                      tail=tail)
            yield f"{outer!r} unclosed {nl!r}", _message(outer, inner, nl, close="")
    for path in sorted(FIXTURES.glob("*.eml")):
        yield path.name, path.read_bytes()
    for path in sorted(STDLIB_MESSAGES.glob("msg_*.txt")):
        yield path.name, path.read_bytes()


def _shape(raw: bytes) -> list[tuple[object, ...]]:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    return [(part.get_content_type(), [(k, str(v)) for k, v in part.raw_items()],
             part.preamble, part.epilogue,
             None if part.is_multipart() else part.get_payload(),
             [type(d).__name__ for d in part.defects]) for part in message.walk()]


CORPUS = dict(_corpus())


@pytest.mark.parametrize("name", CORPUS)
def test_every_message_parses_as_it_did(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = CORPUS[name]
    ours = _shape(raw)
    monkeypatch.setattr(email.feedparser, "re", re)
    assert ours == _shape(raw)


def test_the_corpus_holds_what_it_should() -> None:
    # Enough shapes to mean something; the stdlib's messages count only where installed.
    assert len(CORPUS) >= 45
    shape = _shape(CORPUS["'b' 'b-1' '\\r\\n' ''"])
    assert [(part[0], part[4]) for part in shape] == [  # content type, payload
        ("multipart/mixed", None), ("text/plain", "first\r\n--b-1\r\n"),
        ("multipart/alternative", None), ("text/plain", "plain\r\n"),
        ("text/html", "<p>html</p>"), ("message/rfc822", None), ("multipart/mixed", None),
        ("text/plain", "forwarded text")]
