"""Hostile and unusual headers (issue 10, findings 3, 4, 5 and 10), through the stored inbox and
the Worker on a real database, as ``marac-bot run`` handles them.

Every case ends with the message done and answered (or deliberately not answered), never stuck
"processing" and never rolled back: UTF-8 addresses (RFC 6532), CR/LF smuggled into file names
and display names through RFC 2231 or encoded words, and a Reply-To that differs from From.
"""

from __future__ import annotations

import smtplib
import unicodedata
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot.channels.email.address import to_envelope_sender
from bot.channels.email.inbound import to_inbound
from bot.channels.email.outbound import render, to_mime
from bot.channels.email.send import MailSender, RelayConfig, SendError
from bot.channels.email.smtp_listener import start_smtp_listener
from bot.dispatch import Dispatcher
from bot.settings import HostPort, Settings
from kernel.messages import Reply, ThreadRef
from store.db import Store, open_engine, upgrade
from store.models import HeldChange, MeetingVersion, Submission
from store.queue import InboundItem, OutboundItem
from store.registry import import_csv
from store.types import utcnow
from tests.dispatch_support import (
    EMAILS,
    JANE,
    MAILBOX,
    Handled,
    Mailroom,
    attachments_of,
    compose,
    fixture,
    load_registry,
    parse,
)
from tests.smtp_support import HOST, EventLoopThread, SmtpSink
from validation.safe_text import safe_display_text, safe_filename

JDOE = "jdöe@mächine.example"  # NFC, as typed
ATTACKER = "jane.smith.croydon@attacker.example"
CLEANED = "Croydon Q3 2024-25.xlsx"


def settings_for(tmp_path: Path) -> Settings:
    """The defaults: MARAC_TRUSTED_AUTHSERV_ID unset, so From is taken on trust."""
    return Settings(data_dir=tmp_path / "data", mailbox_address=MAILBOX, smtp_listen=None,
                    http_listen=None)


@pytest.fixture
def mailroom(db_store: Store, tmp_path: Path) -> Mailroom:
    with db_store.transaction() as session:
        load_registry(session)
    return Mailroom(db_store, settings_for(tmp_path))


def eml(name: str) -> bytes:
    return (EMAILS / name).read_bytes()


def recipients(mailroom: Mailroom, handled: Handled) -> list[str]:
    """Who the outbox will hand each reply to (the SMTP envelope, not just the To header)."""
    with mailroom.store.transaction() as session:
        rows = session.scalars(select(OutboundItem.recipient)
                               .where(OutboundItem.inbound_id == handled.item_id)).all()
    return [r for row in rows for r in row.split("\n") if r]


def has_surrogates(text: str | None) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text or "")


# ---------------------------------------------------------------------------------------------
# Finding 3: a UTF-8 sender address (RFC 6532).
# ---------------------------------------------------------------------------------------------


def test_a_utf8_address_is_decoded_in_the_converter() -> None:
    message = to_inbound(eml("utf8_sender_rfc6532.eml"), mailbox_address=MAILBOX,
                         trusted_authserv_id=None, received_at=utcnow())
    assert message.sender == JDOE
    assert message.sender_name == "Jöhn Doe"
    assert message.subject == "Säying Hello"
    assert message.thread.address == JDOE
    texts = (message.sender, message.sender_name, message.subject, message.thread.message_id,
             message.dedupe_key, *message.thread.references)
    assert not any(has_surrogates(t) for t in texts)


def test_an_unregistered_utf8_sender_gets_the_refusal(mailroom: Mailroom) -> None:
    handled = mailroom.exchange(eml("utf8_sender_rfc6532.eml"))
    assert (handled.status, handled.outcome) == ("done", "refused-unknown-sender")
    assert handled.reply["To"] == JDOE
    assert recipients(mailroom, handled) == [JDOE]


def test_a_registered_utf8_sender_is_matched_in_any_normal_form(mailroom: Mailroom) -> None:
    with mailroom.store.transaction() as session:
        result = import_csv(session, "name,email,role,maracs,slack_user_id,teams_id,channels\n"
                                     f"Jöhn Doe,{JDOE},coordinator,Croydon,,,email\n")
        assert result.ok, result.summary()
    # macOS mail writes decomposed forms (o + combining diaeresis): still the same person.
    decomposed = unicodedata.normalize("NFD", "JDöe@Mächine.example").encode()
    raw = eml("utf8_sender_rfc6532.eml").replace("jdöe@mächine.example".encode(), decomposed, 1)
    assert decomposed in raw
    handled = mailroom.exchange(raw)
    assert handled.outcome is not None and handled.outcome.startswith("question")
    assert recipients(mailroom, handled) == [JDOE]


@pytest.mark.parametrize("header", [
    b"From: <j\xe9r\xf4me@example.org>",  # Latin-1 bytes: not UTF-8 at all
    b"From: <\xff\xfe@\xc3(.example>",
    b"From: jane smith",  # no address
])
def test_an_address_that_cannot_be_decoded_is_nobody_and_nothing_crashes(
    mailroom: Mailroom, header: bytes
) -> None:
    raw = eml("utf8_sender_rfc6532.eml").replace(
        "From: \"Jöhn Doe\" <jdöe@mächine.example>".encode(), header, 1)
    message = to_inbound(raw, mailbox_address=MAILBOX, trusted_authserv_id=None,
                         received_at=utcnow())
    assert message.sender == ""
    handled = mailroom.exchange(raw)
    assert (handled.status, handled.outcome, handled.replies) == ("done", "ignored-no-sender", [])


@pytest.mark.parametrize(("envelope", "expected"), [
    ("j\udce9r\udcf4me@example.org", "j\ufffdr\ufffdme@example.org"),  # aiosmtpd's escapes
    (JDOE, JDOE),
    ("", ""),
    (None, None),
])
def test_the_smtp_envelope_sender_leaves_the_converter_as_proper_text(
    envelope: str | None, expected: str | None
) -> None:
    assert to_envelope_sender(envelope) == expected


def test_the_smtp_listener_stores_an_undecodable_envelope_sender(tmp_path: Path) -> None:
    """MAIL FROM in Latin-1 (no SMTPUTF8): 250 and stored, where it used to be 451 for ever."""
    engine = open_engine(f"sqlite:///{tmp_path / 'marac.db'}")
    upgrade(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    settings = Settings(smtp_listen=HostPort(HOST, 0), mailbox_address=MAILBOX)
    with EventLoopThread() as loop:
        listener = loop.run(start_smtp_listener(settings, sessions, lambda: None))
        try:
            with smtplib.SMTP(HOST, listener.port, timeout=10) as smtp:
                smtp.ehlo("client.example.org")
                assert smtp.sock is not None
                smtp.sock.sendall(b"MAIL FROM:<j\xe9r\xf4me@example.org>\r\n")
                assert smtp.getreply()[0] == 250
                assert smtp.rcpt(MAILBOX)[0] == 250
                assert smtp.data(eml("no_attachment_question.eml"))[0] == 250
        finally:
            loop.run(listener.close())
    with sessions() as session:
        assert session.scalars(select(InboundItem.envelope_from)).all() == [
            "j\ufffdr\ufffdme@example.org"]
    engine.dispose()


def test_an_undecodable_envelope_sender_is_stored_and_answered(mailroom: Mailroom) -> None:
    """aiosmtpd hands over MAIL FROM bytes that are not UTF-8 as surrogate escapes; they must
    not reach the database (SQLite refuses them: 451 for ever) or the worker."""
    raw = compose(subject="Quick question", body="has Croydon uploaded Q3?\n")
    handled = mailroom.exchange(raw, envelope_from=to_envelope_sender("j\udce9@example.org"))
    assert handled.status == "done"
    assert handled.outcome is not None and handled.outcome.startswith("question")


def test_a_reply_to_a_utf8_address_is_rendered_with_the_address_intact() -> None:
    """RFC 6532: the address itself in UTF-8 (encoded words are not allowed in an address)."""
    reply = Reply(ThreadRef("email", JDOE, "<a@b.example>", (), "Säying Hello"), "Hello")
    message = to_mime(reply, mailbox_address=MAILBOX, message_id_domain="localhost",
                      message_id="reply:1", token="t")
    rendered = render(message)
    assert f"To: {JDOE}\r\n".encode() in rendered
    assert parse(rendered)["To"] == JDOE
    ascii_only = render(to_mime(Reply(ThreadRef("email", JANE, None), "Hello"),
                                mailbox_address=MAILBOX, message_id_domain="localhost",
                                message_id="reply:2", token="t"))
    assert ascii_only.isascii()  # everyone else still gets plain 7-bit headers


def relay(port: int) -> MailSender:
    return MailSender(relay=RelayConfig(HostPort(HOST, port)), outbox_dir=Path("/nonexistent"),
                      timeout=10)


def test_a_relay_with_smtputf8_takes_the_reply_to_a_utf8_address() -> None:
    with SmtpSink() as sink:  # aiosmtpd's controller offers SMTPUTF8, as Postfix does
        relay(sink.port).send(b"Subject: x\r\n\r\nhi\r\n", recipients=[JDOE], sender=MAILBOX)
        (mail,) = sink.wait_for(1)
    assert mail.rcpt_tos == (JDOE,)


def test_a_relay_without_smtputf8_fails_that_reply_for_good_not_the_outbox() -> None:
    """Before, smtplib's UnicodeEncodeError escaped the sender: the item was never marked, so
    it came first again on every round and no reply after it went out."""
    sink = SmtpSink()
    sink.controller.SMTP_kwargs["enable_SMTPUTF8"] = False
    with sink:
        with pytest.raises(SendError) as raised:
            relay(sink.port).send(b"Subject: x\r\n\r\nhi\r\n", recipients=[JDOE],
                                  sender=MAILBOX)
        assert raised.value.permanent
        relay(sink.port).send(b"Subject: x\r\n\r\nhi\r\n", recipients=[JANE], sender=MAILBOX)
        assert [m.rcpt_tos for m in sink.wait_for(1)] == [(JANE,)]


# ---------------------------------------------------------------------------------------------
# Finding 4: CR/LF in an attachment's file name.
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["crlf_in_attachment_name.eml",
                                  "crlf_in_attachment_name_encoded_word.eml"])
def test_crlf_in_a_file_name_is_cleaned_and_the_submission_recorded(
    mailroom: Mailroom, name: str
) -> None:
    raw = eml(name)
    assert [a.filename for a in to_inbound(raw, mailbox_address=MAILBOX,
                                           trusted_authserv_id=None,
                                           received_at=utcnow()).attachments] == [CLEANED]
    handled = mailroom.exchange(raw)
    assert (handled.status, handled.outcome) == ("done", "submission-partially-accepted")
    assert handled.reply["To"] == JANE
    assert set(attachments_of(handled.reply)) == {"Croydon Q3 2024-25-checked.xlsx"}
    with mailroom.store.transaction() as session:
        assert session.scalars(select(Submission.filename)).all() == [CLEANED]
    assert mailroom.count(MeetingVersion) == 3


@pytest.mark.parametrize(("raw", "clean"), [
    ("Croydon Q3\r\n2024-25.xlsx", CLEANED),
    ("Croydon Q3\r\n 2024-25.xlsx", CLEANED),  # a folded line
    ("..\\..\\evil\x00.xlsx", "evil.xlsx"),
    ("/tmp/x\u202egpj.xlsx", "xgpj.xlsx"),  # a right-to-left override disguises the type
    ("Cafe\u0301.xlsx", "Café.xlsx"),  # decomposed (macOS) is composed
    ("\r\n\t", ""),
    ("..", ""),
    ("a" * 500 + ".xlsx", "a" * 145 + ".xlsx"),
])
def test_safe_filename(raw: str, clean: str) -> None:
    assert safe_filename(raw) == clean


def test_safe_display_text() -> None:
    assert safe_display_text("Jane\r\nBcc: x@y.example\x00 Smith\udcc3") == \
        "Jane Bcc: x@y.example Smith"


# ---------------------------------------------------------------------------------------------
# Finding 5: CR/LF in an encoded From display name of a registered coordinator.
# ---------------------------------------------------------------------------------------------


def test_crlf_in_an_encoded_display_name_is_read_and_answered(mailroom: Mailroom) -> None:
    raw = eml("crlf_in_from_display_name.eml")
    message = to_inbound(raw, mailbox_address=MAILBOX, trusted_authserv_id=None,
                         received_at=utcnow())
    assert message.sender == JANE
    assert message.sender_name == "Jane Smith Bcc: someone@elsewhere.example"
    handled = mailroom.exchange(raw)
    assert handled.status == "done"
    assert handled.outcome is not None and handled.outcome.startswith("question")
    assert recipients(mailroom, handled) == [JANE]


def test_controls_in_an_encoded_subject_do_not_stop_the_reply(mailroom: Mailroom) -> None:
    """The subject comes back in the reply's headers; a U+2028 in it made them raise."""
    raw = eml("reply_to_differs_question.eml").replace(
        b"Subject: Quick question", b"Subject: =?UTF-8?Q?Quick=E2=80=A8question=00=0B?=", 1)
    handled = mailroom.exchange(raw)
    assert handled.status == "done"
    assert handled.reply["Subject"] == "Re: Quick question"


# ---------------------------------------------------------------------------------------------
# Finding 10: a Reply-To that differs from From never gets the answer.
# ---------------------------------------------------------------------------------------------


def test_a_question_is_answered_to_the_registered_from_never_reply_to(
    mailroom: Mailroom,
) -> None:
    handled = mailroom.exchange(eml("reply_to_differs_question.eml"))
    assert handled.outcome is not None and handled.outcome.startswith("question")
    assert recipients(mailroom, handled) == [JANE]
    assert handled.reply["To"] == JANE and handled.reply["Cc"] is None


@pytest.mark.parametrize(("sender", "files", "outcome"), [
    (JANE, ["several_issues.xlsx"], "submission-partially-accepted"),  # data in the reply
    ("stranger@elsewhere.example", ["clean_libreoffice.xlsx"], "refused-unknown-sender"),
    (JANE, [], "help"),
])
def test_every_email_reply_goes_to_from_never_reply_to(
    mailroom: Mailroom, sender: str, files: list[str], outcome: str
) -> None:
    raw = compose(sender=sender, subject="Q3 2024/25 return" if files else "Hello",
                  body="Attached.\n" if files else "Hello.\n",
                  files=[fixture(f) for f in files], headers={"Reply-To": ATTACKER})
    handled = mailroom.exchange(raw)
    assert handled.outcome == outcome
    assert recipients(mailroom, handled) == [sender]


def test_a_held_change_confirmation_goes_to_from_never_reply_to(mailroom: Mailroom) -> None:
    first = mailroom.exchange(compose(sender=JANE, files=[fixture("clean_libreoffice.xlsx")]))
    assert first.outcome == "submission-accepted"
    held = mailroom.exchange(compose(sender=JANE, files=[fixture("corrected_d3.xlsx")]))
    assert held.outcome == "submission-held"
    assert recipients(mailroom, held) == [JANE]
    ours = held.reply
    confirm = compose(sender=JANE, subject=f"Re: {ours['Subject']}", body="CONFIRM\n",
                      in_reply_to=str(ours["Message-ID"]), references=[str(ours["Message-ID"])],
                      headers={"Reply-To": ATTACKER})
    handled = mailroom.exchange(confirm)
    assert handled.outcome == "confirmed"
    assert recipients(mailroom, handled) == [JANE]
    assert mailroom.count(HeldChange, HeldChange.status == "pending") == 0


def test_the_dispatcher_answers_a_contact_at_the_registered_address(mailroom: Mailroom) -> None:
    """Whatever a converter put in the thread, an email answer to a contact goes to the
    address the registry holds (here a thread aimed elsewhere, as Reply-To once did)."""
    message = to_inbound(eml("reply_to_differs_question.eml"), mailbox_address=MAILBOX,
                         trusted_authserv_id=None, received_at=utcnow())
    aimed = replace(message, thread=replace(message.thread, address=ATTACKER))
    with mailroom.store.transaction() as session:
        result = Dispatcher(mailroom.settings).dispatch(session, aimed, now=utcnow())
    assert result.outcome.startswith("question")
    assert result.reply is not None and result.reply.thread.address == JANE


def test_nothing_stays_processing(mailroom: Mailroom) -> None:
    """Every fixture of this file ends done: no claim left for the 10-minute takeover."""
    for name in ("utf8_sender_rfc6532.eml", "crlf_in_attachment_name.eml",
                 "crlf_in_attachment_name_encoded_word.eml", "crlf_in_from_display_name.eml",
                 "reply_to_differs_question.eml"):
        mailroom.deliver(eml(name))
    mailroom.work()
    with mailroom.store.transaction() as session:
        statuses = session.scalars(select(InboundItem.status)).all()
    assert statuses == ["done"] * 5
