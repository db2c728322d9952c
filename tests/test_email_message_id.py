"""bot/channels/email/smtp_listener.py ``message_id_of``: what the stdlib's headers-only parse of
the whole message gives (the listener's dedupe key), read from the header section alone."""

from __future__ import annotations

import email.policy
import hashlib
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import String

from bot.channels.email import smtp_listener
from bot.channels.email.address import (
    MAX_MESSAGE_ID,
    envelope_text,
    message_id_text,
    to_envelope_sender,
)
from bot.channels.email.inbound import to_inbound
from bot.channels.email.smtp_listener import message_id_of
from kernel.messages import MAX_KEY_CHARS, dedupe_prefix
from store.models import Submission

FIXTURES = Path(__file__).parent / "fixtures" / "email"

ODD = {
    "plain": b"Message-ID: <a@b.org>\r\nSubject: s\r\n\r\nbody\r\n",
    "folded": b"Subject: s\r\nMessage-Id:\r\n <folded@x.org>\r\n\r\nbody",
    "folded twice": b"Message-ID: <a@b.org>\r\n  \r\n\t\r\nX: y\r\n\r\n",
    "lower case, first of two": b"message-id: <one@x>\nMessage-ID: <two@x>\n\nbody\n",
    "only in the body": b"Subject: none\r\n\r\nMessage-ID: <in-body@x>\r\n",
    "no blank line": b"Subject: s\r\nMessage-ID: <end@x>",
    "no line end at all": b"Message-ID: <end@x>",
    "CR line ends": b"Subject: s\rMessage-ID: <cr@x>\r\rMessage-ID: <body@x>\r",
    "LF then CRLF blank line": b"Subject: s\n\r\nMessage-ID: <after@x>\r\n\r\n",
    "CRLF then LF blank line": b"Subject: s\r\n\nMessage-ID: <after@x>\n\n",
    "a line that is no header": b"Subject: s\r\nnot a header\r\nMessage-ID: <x@y>\r\n\r\n",
    "a blank line first": b"\r\nMessage-ID: <x@y>\r\n\r\n",
    "unix From line": b"From sender@x Mon Jan  1 00:00:00 2025\r\nMessage-ID: <u@x>\r\n\r\nb",
    "UTF-8": "Message-ID: <café@x.org>\r\n\r\n".encode(),
    "not UTF-8": b"Message-ID: <\xff\xfe@x.org>\r\n\r\n",
    "no angle brackets": b"Message-ID: not an id\r\n\r\n",
    "two ids": b"Message-ID: <a@b> <c@d>\r\n\r\n",
    "empty": b"Message-ID:\r\n\r\n",
    "blank": b"Message-ID:    \r\n\r\n",
    "encoded word": b"Message-ID: =?utf-8?q?=3Cx=40y=3E?=\r\n\r\n",
    "comment": b"Message-ID: (hi) <c@x> (there)\r\n\r\n",
    "a CR inside": b"Message-ID: <a@b>\rX-Other: y\r\n\r\n",
    "very long": b"Message-ID: <" + b"x" * 3000 + b"@y>\r\n\r\n",
    "nothing": b"",
    "only a blank line": b"\r\n\r\n",
    "a colon-less name": b"Message-ID <nocolon@x>\r\n\r\n",
    "a NUL inside": b"Message-ID: <a\x00b@x>\r\n\r\n",
    "controls and an override": "Message-ID: <\x1b[31m\u202eid@x>\r\n\r\n".encode(),
    "blanks inside": b"Message-ID: not  an\t id\r\n\r\n",
}


def read_in_full(raw: bytes) -> str | None:
    """What message_id_of did before: the default policy's headers-only parse of it all,
    made one printable line as the bot keys a message."""
    value = BytesHeaderParser(policy=email.policy.default).parsebytes(raw).get("Message-ID")
    return (message_id_text(value) if value is not None else "") or None


CASES = {**ODD, **{p.name: p.read_bytes() for p in sorted(FIXTURES.glob("*.eml"))}}


@pytest.mark.parametrize("name", CASES)
def test_the_message_id_is_what_a_full_parse_reads(name: str) -> None:
    raw = CASES[name]
    assert message_id_of(raw) == read_in_full(raw)


def test_the_cases_mean_something() -> None:
    found = {name: message_id_of(raw) for name, raw in ODD.items()}
    assert found["folded"] == "<folded@x.org>"
    assert found["lower case, first of two"] == "<one@x>"
    assert found["CR line ends"] == "<cr@x>"
    assert found["only in the body"] is found["LF then CRLF blank line"] is None
    assert found["a line that is no header"] is found["a blank line first"] is None
    assert len(found["very long"] or "") == 998
    assert found["a NUL inside"] == "<ab@x>"
    # The stdlib's Message-ID parser stops at the "[" (an id it cannot parse): "<\x1b", and
    # the escape is no printable text.
    assert found["controls and an override"] == "<"
    assert found["blanks inside"] == "not an id"
    assert sum(message_id_of(raw) is not None for raw in CASES.values()) >= 25


def test_only_the_header_section_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = (FIXTURES / "plain_with_xlsx.eml").read_bytes()
    expected = read_in_full(raw)
    given: list[bytes] = []
    parse = BytesHeaderParser.parsebytes

    def spy(self: BytesHeaderParser, text: bytes, headersonly: bool = True
            ) -> email.message.Message:
        given.append(text)
        return parse(self, text)

    monkeypatch.setattr(smtp_listener.BytesHeaderParser, "parsebytes", spy)
    assert message_id_of(raw) == expected is not None
    head = raw.partition(b"\r\n\r\n")[0] + b"\r\n\r\n"
    assert given == [head] and len(head) < len(raw) // 4


@pytest.mark.parametrize("name", CASES)
def test_the_queue_keys_a_message_as_the_converter_does(name: str) -> None:
    """The listener's key (the queue's message_id) and the converter's (the message's
    dedupe_key) must be equal: a second copy of a message is known by comparing them, and a
    NUL or a blank run the one kept and the other did not answered a message twice."""
    raw = CASES[name]
    message = to_inbound(raw, mailbox_address="marac@example.org", trusted_authserv_id=None,
                         received_at=datetime(2025, 2, 3, tzinfo=UTC))
    queued = message_id_of(raw)
    if queued is None:
        assert message.dedupe_key is not None and message.dedupe_key.startswith("sha256:")
    else:
        assert message.dedupe_key == queued


@pytest.mark.parametrize("length", [MAX_MESSAGE_ID - 1, MAX_MESSAGE_ID, MAX_MESSAGE_ID + 1])
def test_a_message_id_is_kept_whole_up_to_the_header_line_limit(length: int) -> None:
    text = "x" * length
    assert message_id_text(text) == text[:MAX_MESSAGE_ID]
    assert message_id_text(f" {text}\x00\t") == text[:MAX_MESSAGE_ID]


@pytest.mark.parametrize("length", [MAX_KEY_CHARS - 1, MAX_KEY_CHARS, MAX_KEY_CHARS + 1,
                                    MAX_MESSAGE_ID])
def test_a_submission_key_has_room_for_any_message_id(length: int) -> None:
    """The prefix keeps a key of up to MAX_KEY_CHARS as it is (every stored key stays found)
    and a longer one as its SHA-256; either way the submission's key, the prefix, a colon and
    a file's hash, fits the 500 characters PostgreSQL holds it in."""
    key = "k" * length
    prefix = dedupe_prefix("email", key)
    if length <= MAX_KEY_CHARS:
        assert prefix == f"email:{key}"
    else:
        assert prefix == "email:sha256:" + hashlib.sha256(key.encode()).hexdigest()
        assert dedupe_prefix("email", key[:-1] + "j") != prefix
    submission_key = f"{prefix}:{'f' * 64}"
    assert len(submission_key) <= cast(String, Submission.__table__.c.dedupe_key.type).length


def test_a_long_key_that_is_no_proper_text_is_still_kept_as_its_hash() -> None:
    """A chat event's key comes from JSON, which may carry a lone surrogate ("\\ud800"): it
    cannot be encoded as it stands, and must not fail the message."""
    key = "\ud800" * (MAX_KEY_CHARS + 1)
    expected = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    assert dedupe_prefix("slack", key) == f"slack:sha256:{expected}"


def test_an_envelope_sender_is_kept_whole_however_long() -> None:
    """RFC 5321 allows a path of 256 characters: nothing of an address is cut, only its
    controls dropped."""
    address = "a" * 240 + "@example.org"
    assert envelope_text(f"{address}\x00") == address
    assert to_envelope_sender(address) == address and to_envelope_sender(None) is None
