"""Building blocks for the conversation tests: real RFC 822 messages, a stored inbox and outbox
on a real database, and the Worker that takes messages from one and answers into the other."""

from __future__ import annotations

import email
import email.policy
import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from bot.channels.email.smtp_listener import message_id_of
from bot.settings import Settings
from bot.worker import Worker
from store.db import Store
from store.queue import InboundItem, OutboundItem, enqueue_inbound
from store.registry import import_csv
from store.types import utcnow

FIXTURES = Path(__file__).parent / "fixtures"
EMAILS = FIXTURES / "email"
DEMO = Path(__file__).resolve().parent.parent / "store" / "demo"
MAILBOX = "marac@localhost"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

COORDINATOR = "croydon.coordinator@example.org"
# The sender of the Authentication-Results fixtures (dmarc_pass.eml, dmarc_fail.eml).
JANE = "jane.smith@croydon.gov.uk"
EXTRA_CONTACTS = f"""name,email,role,maracs,slack_user_id,teams_id,channels
Jane Smith,{JANE},coordinator,Croydon,,,email
"""


def load_registry(session: Session) -> None:
    """The demo registry (London Maracs, made-up contacts) plus Jane Smith for Croydon."""
    for source in (DEMO / "maracs.csv", DEMO / "contacts.csv", EXTRA_CONTACTS):
        result = import_csv(session, source)
        assert result.ok, result.summary()


@dataclass(frozen=True)
class File:
    """An attachment to put in a test message."""

    filename: str
    data: bytes
    content_type: str = XLSX
    inline: bool = False


def fixture(name: str) -> File:
    return File(name, (FIXTURES / name).read_bytes())


def compose(
    *,
    sender: str = COORDINATOR,
    subject: str = "Q3 2024/25 return - Croydon",
    body: str = "Hello,\n\nPlease find our Marac data attached.\n\nKind regards\n",
    files: Sequence[File] = (),
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    headers: dict[str, str] | None = None,
) -> bytes:
    """A message as a mail client sends it: text body, attachments, threading headers."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = f"Demo Coordinator <{sender}>"
    message["To"] = f"Marac data <{MAILBOX}>"
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = message_id or make_msgid(domain=sender.rpartition("@")[2])
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = " ".join(references)
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    for file in files:
        maintype, _, subtype = file.content_type.partition("/")
        # A signature logo goes inline with a Content-ID, as Outlook and Gmail send it.
        message.add_attachment(file.data, maintype=maintype, subtype=subtype,
                               filename=file.filename,
                               disposition="inline" if file.inline else "attachment",
                               cid=make_msgid(domain="signature.example") if file.inline else None)
    return message.as_bytes()


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def body_of(message: EmailMessage) -> str:
    """The text part, with the wire's CRLF line ends made plain newlines."""
    part = message.get_body(("plain",))
    assert part is not None, "no text/plain part"
    text = part.get_content()
    assert isinstance(text, str)
    return text.replace("\r\n", "\n")


def html_of(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None, "no text/html part"
    text = part.get_content()
    assert isinstance(text, str)
    return text


def attachments_of(message: EmailMessage) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for part in message.iter_attachments():
        assert isinstance(part, EmailMessage)
        data = part.get_payload(decode=True)
        assert isinstance(data, bytes)
        found[part.get_filename() or ""] = data
    return found


def matplotlib_file(kind: str) -> bytes:
    """A real PDF or PNG, as a chart program saves it."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(2, 1))
    figure.add_subplot().plot([1, 2, 3], [3, 1, 2])
    buffer = io.BytesIO()
    figure.savefig(buffer, format=kind)
    return buffer.getvalue()


@dataclass(frozen=True)
class Handled:
    """What became of one inbound message: its recorded outcome and the replies queued."""

    item_id: int
    status: str
    outcome: str | None
    error: str | None
    replies: list[EmailMessage] = field(default_factory=list)

    @property
    def reply(self) -> EmailMessage:
        assert len(self.replies) == 1, f"{len(self.replies)} replies"
        return self.replies[0]


@dataclass
class Mailroom:
    """The stored inbox and outbox of one database, and the Worker between them."""

    store: Store
    settings: Settings

    def deliver(self, raw: bytes, *, envelope_from: str | None = None,
                source_key: str | None = None) -> int:
        """Store a message as the SMTP listener or IMAP watcher would; its inbox id."""
        with self.store.transaction() as session:
            return enqueue_inbound(
                session, channel="email", raw=raw,
                source_key=source_key or f"test:{uuid.uuid4().hex}",
                envelope_from=envelope_from, recipients=[MAILBOX], received_at=utcnow(),
                message_id=message_id_of(raw),
            )

    def work(self) -> None:
        """Process every waiting message, as ``marac-bot run``'s worker does."""
        worker = Worker(self.store, self.settings)
        while worker.process_one():
            pass

    def exchange(self, raw: bytes, *, envelope_from: str | None = None) -> Handled:
        item_id = self.deliver(raw, envelope_from=envelope_from)
        self.work()
        return self.handled(item_id)

    def handled(self, item_id: int) -> Handled:
        with self.store.transaction() as session:
            item = session.get_one(InboundItem, item_id)
            payloads = session.scalars(
                select(OutboundItem.payload).where(OutboundItem.inbound_id == item_id)
                .order_by(OutboundItem.id)
            ).all()
            return Handled(item_id, item.status, item.outcome, item.last_error,
                           [parse(p) for p in payloads])

    def count(self, model: type, *where: ColumnElement[bool]) -> int:
        query = select(func.count()).select_from(model).where(*where)
        with self.store.transaction() as session:
            return session.scalar(query) or 0

    def outbox_size(self) -> int:
        return self.count(OutboundItem)


def registered_mailroom(store: Store, folder: Path) -> Mailroom:
    """A mailroom on ``store`` with the test registry loaded, its data under ``folder``."""
    with store.transaction() as session:
        load_registry(session)
    return Mailroom(store, Settings(data_dir=folder / "data", mailbox_address=MAILBOX,
                                    smtp_listen=None, http_listen=None))
