"""The email channel's policies: the stdlib's rules, with each header value parsed once.

Remembering is only worth it if it changes nothing: the same header objects' text, the same
folding, the same bytes out, and a memory that stays within its bounds whatever comes in.
"""

from __future__ import annotations

import email
import email.policy
from email.headerregistry import AddressHeader, BaseHeader, HeaderRegistry
from email.message import EmailMessage

import pytest

from bot.channels.email import policy
from bot.channels.email.policy import MAX_REMEMBERED, MAX_REMEMBERED_VALUE, RememberingRegistry

RAW = (
    b"From: =?utf-8?q?J=C3=B6_Smith?= <jo@croydon.gov.uk>\n"
    b"To: marac@example.org\n"
    b"Subject: =?utf-8?b?UTMgcmV0dXJuIOKAkyBDcm95ZG9u?=\n"
    b"Message-ID: <abc@croydon.gov.uk>\n"
    b"MIME-Version: 1.0\n"
    b'Content-Type: multipart/mixed; boundary="b"\n\n'
    b"--b\nContent-Type: text/plain; charset=utf-8\n\nHello\n"
    b"--b\nContent-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\n"
    b"Content-Disposition: attachment; filename*=utf-8''Croydon%20Q3.xlsx\n"
    b"Content-Transfer-Encoding: base64\n\nUEsDBA==\n--b--\n"
)


def _headers(message: EmailMessage) -> list[tuple[str, str, str, tuple[str, ...]]]:
    out = []
    for part in message.walk():
        for name, value in part.items():
            # Each registry makes its own header classes: compare them by name.
            out.append((name, str(value), type(value).__name__,
                        tuple(type(d).__name__ for d in value.defects)))
    return out


def test_parsing_gives_what_the_default_policy_gives() -> None:
    ours = email.message_from_bytes(RAW, policy=policy.PARSE)
    stdlib = email.message_from_bytes(RAW, policy=email.policy.default)
    assert isinstance(ours, EmailMessage) and isinstance(stdlib, EmailMessage)
    assert _headers(ours) == _headers(stdlib)
    attached = [p.get_filename() for p in ours.iter_attachments()]
    assert attached == ["Croydon Q3.xlsx"]
    assert ours.as_bytes(policy=policy.SMTP) == stdlib.as_bytes(policy=email.policy.SMTP)


def test_a_header_read_again_is_not_parsed_again() -> None:
    registry = RememberingRegistry()
    first = registry("Content-Type", "text/plain; charset=utf-8")
    assert registry("Content-Type", "text/plain; charset=utf-8") is first
    # The name as written is kept (it is written out again): another spelling is its own entry.
    other = registry("content-type", "text/plain; charset=utf-8")
    assert other is not first and other.name == "content-type" and first.name == "Content-Type"
    assert registry.remembered == 2


def test_header_classes_are_made_once_per_kind_of_header() -> None:
    registry = RememberingRegistry()
    made = registry["X-Anything"]
    # The stdlib makes a new class on every lookup; we keep one per registered class.
    assert registry["x-anything"] is made and registry["X-Other"] is made
    assert registry["To"] is registry["Cc"] is not made
    assert (made.__name__, made.max_count) == ("_UnstructuredHeader", None)
    assert (registry["Subject"].__name__, registry["Subject"].max_count) == (
        "_UniqueUnstructuredHeader", 1)
    stdlib = HeaderRegistry()
    for name in ("Subject", "To", "Date", "Content-Type", "Message-ID", "X-Anything"):
        assert registry[name].__bases__ == stdlib[name].__bases__
    # A class registered later is used from then on.
    registry.map_to_type("X-Anything", stdlib["To"].__bases__[0])
    assert registry["X-Anything"] is registry["To"]
    assert isinstance(registry("X-Anything", "a@b.org"), AddressHeader)


def test_long_values_are_parsed_each_time() -> None:
    registry = RememberingRegistry()
    at_limit = "x" * MAX_REMEMBERED_VALUE
    over = "x" * (MAX_REMEMBERED_VALUE + 1)
    assert registry("Subject", at_limit) is registry("Subject", at_limit)
    assert registry("Subject", over) is not registry("Subject", over)
    assert str(registry("Subject", over)) == over  # parsed all the same
    assert registry.remembered == 1


def test_a_full_memory_starts_again() -> None:
    registry = RememberingRegistry()
    for n in range(MAX_REMEMBERED):
        registry("Subject", f"s{n}")
    assert registry.remembered == MAX_REMEMBERED
    kept = registry("Subject", "s0")
    assert registry("Subject", "s0") is kept and registry.remembered == MAX_REMEMBERED
    registry("Subject", "one more")
    assert registry.remembered == 1


def test_a_header_that_cannot_be_stored_still_raises() -> None:
    message = EmailMessage(policy=policy.SMTP)
    with pytest.raises(ValueError):
        message["Subject"] = "two\nlines"
    assert policy.PARSE.header_factory("Subject", "fine") == "fine"


@pytest.mark.parametrize("written", [policy.SMTP, policy.SMTPUTF8])
def test_writing_matches_the_stdlib(written: email.policy.EmailPolicy[EmailMessage]) -> None:
    stdlib = email.policy.SMTPUTF8 if written.utf8 else email.policy.SMTP

    def build(p: email.policy.EmailPolicy[EmailMessage]) -> bytes:
        message = EmailMessage(policy=p)
        message["From"] = "marac@example.org"
        message["To"] = "jö@croydon.gov.uk" if p.utf8 else "jo@croydon.gov.uk"
        message["Subject"] = "Re: Q3 return – Croydon " + "long words " * 12
        message.set_content("Thank you.")
        message.add_alternative("<p>Thank you.</p>", subtype="html")
        message.add_attachment(b"PK\x03\x04", maintype="application", subtype="octet-stream",
                               filename="Croydon Q3-checked.xlsx")
        return message.as_bytes(policy=p)

    ours, theirs = build(written), build(stdlib)
    # The MIME boundaries are random: compare with them taken out.
    assert without_boundaries(ours) == without_boundaries(theirs)


def test_a_header_is_folded_once_per_way_of_writing(monkeypatch: pytest.MonkeyPatch) -> None:
    value = "Re: Q4 return – Croydon, folded once " + "long words " * 12
    subject = policy.PARSE.header_factory("Subject", value)
    folded: list[email.policy.Policy] = []
    fold = type(subject).fold

    def counted(self: BaseHeader, *, policy: email.policy.Policy) -> str:
        folded.append(policy)
        return fold(self, policy=policy)

    monkeypatch.setattr(type(subject), "fold", counted)
    narrow = policy.SMTP.clone(max_line_length=40)
    ways = [(policy.SMTP, email.policy.SMTP), (policy.SMTPUTF8, email.policy.SMTPUTF8),
            (narrow, email.policy.SMTP.clone(max_line_length=40)),
            (policy.PARSE, email.policy.default)]
    for _ in range(3):
        for ours, stdlib in ways:
            expected = stdlib.fold_binary("Subject", stdlib.header_factory("Subject", value))
            assert ours.fold_binary("Subject", subject) == expected
    assert folded == [ours for ours, _ in ways]
    assert len({expected for _, expected in ways}) > 1  # the ways do differ
    # A value as parsed (not a header object) is written as it came, nothing kept.
    assert policy.SMTP.fold_binary("X-Raw", "as  it\n came") == b"X-Raw: as  it\r\n came\r\n"


def without_boundaries(raw: bytes) -> bytes:
    """The message with each MIME boundary written BOUNDARY, and a Content-Type header folded
    before its boundary unfolded (where it folds depends on the boundary's length)."""
    raw = raw.replace(b";\r\n boundary=", b"; boundary=")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    boundaries = {p.get_boundary() for p in message.walk() if p.is_multipart()}
    for boundary in boundaries:
        assert boundary
        raw = raw.replace(boundary.encode(), b"BOUNDARY")
    return raw
