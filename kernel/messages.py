"""The normalised messages every channel speaks (DESIGN.md "One path for every submission").

A channel turns what arrives into an ``InboundMessage`` and delivers a ``Reply`` through the
message's ``ThreadRef``. Handlers see only these types, never a transport library.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from kernel.entry import FormRequest, MeetingEntry

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLS_TYPE = "application/vnd.ms-excel"
# The spreadsheet types a file may be declared as, each with the ending it is read by.
SPREADSHEET_TYPES = {
    XLS_TYPE: ".xls",
    XLSX_TYPE: ".xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.12": ".xlsm",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
    "text/csv": ".csv",
}
SPREADSHEET_SUFFIXES = tuple(SPREADSHEET_TYPES.values())
# Outlook's Rich Text wrapper: the file the sender attached is inside it, out of our reach.
TNEF_TYPE = "application/ms-tnef"


class Channel(StrEnum):
    """Where a message came from and its reply goes (equal to its plain name: "email")."""

    EMAIL = "email"
    SLACK = "slack"
    TEAMS = "teams"
    CLI = "cli"


@dataclass(frozen=True)
class ButtonPress:
    """A Confirm / Keep press on a held-changes reply in chat."""

    action: Literal["confirm", "keep"] | str  # anything else is refused as unknown
    submitter: str  # the contact's email the buttons were offered to: only they may press
    submission_ids: tuple[int, ...]
    presser: str = ""  # the platform user who pressed (told privately when refused)


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    content_type: str = "application/octet-stream"
    # Shown in the HTML body at ``cid:<inline_id>`` (the grid's picture), not offered as a file.
    inline_id: str | None = None

    @property
    def spreadsheet_name(self) -> str | None:
        """The name to read the file by, or None if neither its name nor its type says it is a
        spreadsheet: its own name when that ends as a spreadsheet's; else, when the name says no
        other type (no ending, or one no type is known by), the name with its declared type's
        ending ("Lambeth Q3 return" sent as an .xlsx). Only which reader to try: the guard and
        the reader still decide what the bytes are. The name shown to people stays its own."""
        if self.filename.lower().endswith(SPREADSHEET_SUFFIXES):
            return self.filename
        suffix = SPREADSHEET_TYPES.get(self.content_type.lower())
        if suffix is None or mimetypes.guess_type(self.filename, strict=False)[0] is not None:
            return None  # "notes.pdf" declared as a spreadsheet is still a PDF by its name
        return self.filename + suffix

    @property
    def outlook_wrapped(self) -> bool:
        """Outlook's winmail.dat (TNEF): what the sender attached is inside, unreadable."""
        return (self.content_type.lower() == TNEF_TYPE
                or self.filename.strip().lower() == "winmail.dat")


@dataclass(frozen=True)
class ThreadRef:
    """Where a reply goes: email Message-ID + References, Slack channel + ts, Teams reference."""

    channel: str  # "email" | "slack" | "teams" | "cli"
    address: str  # email address, Slack channel id, Teams conversation id, "-" for the CLI
    message_id: str | None = None  # the inbound Message-ID / Slack ts / Teams activity id
    references: tuple[str, ...] = ()
    subject: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # The address is the sender's own mail address (email): an answer goes to the address
    # the registry holds for the contact instead, whatever the message's headers said.
    by_address: bool = False


@dataclass(frozen=True)
class InboundMessage:
    """What arrived, whatever the channel."""

    channel: str
    sender: str  # email address (lower case) or platform user id
    thread: ThreadRef
    subject: str = ""
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    received_at: datetime | None = None
    sender_name: str | None = None
    dedupe_key: str | None = None  # Message-ID, Slack event id, Teams activity id
    # Email: why this message must never be answered (auto-reply, bounce, list, our own).
    automatic_reason: str | None = None
    # Email: False when MARAC_TRUSTED_AUTHSERV_ID is set and the sender is not vouched for.
    sender_verified: bool = True
    declared_quarter_text: str | None = None
    raw: bytes | None = None
    # Chat: a Confirm / Keep button pressed (no text, no files).
    button: ButtonPress | None = None
    # The command line: ``marac-bot ask`` says its text is a question (no guessing), and
    # without --as it is the local operator asking, who may ask about every Marac.
    is_question: bool = False
    asked_by_operator: bool = False
    # The command line: ``submit --confirm`` applies changed figures at once, and every file
    # it names is a data return to check, whatever its type (email ignores a PDF or a logo).
    confirm: bool = False
    files_are_returns: bool = False
    # Chat: the dedupe keys of the messages this one answers (a reply in a Slack thread: the
    # thread's first message), so a "yes" there is read against what that message held.
    replies_to: tuple[str, ...] = ()
    # Chat: one meeting entered by hand (a Slack form, a Teams card), checked as a file row.
    entry: MeetingEntry | None = None
    # Chat: the form asked for ("record a meeting", a card's refresh).
    form_request: FormRequest | None = None


def dedupe_prefix(channel: str, key: str) -> str:
    """What a message's recorded submissions are found by ("email:<Message-ID>",
    "slack:<channel>:<ts>"): a later CONFIRM looks them up under it.

    A key past MAX_KEY_CHARS (a Message-ID may run to 998 characters) is kept as its SHA-256:
    a submission's key, this and the file's hash, has room for 500, and PostgreSQL refused
    the message's whole recording past that."""
    if len(key) > MAX_KEY_CHARS:
        key = "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{channel}:{key}"


# With the channel's name, a colon and a file's 64-character hash: within the 500 of
# store.models.Submission.dedupe_key.
MAX_KEY_CHARS = 400


@dataclass(frozen=True)
class Reply:
    """An answer as data; each channel renders it (email text + HTML, Slack blocks, Teams)."""

    thread: ThreadRef
    text: str
    html: str | None = None
    subject: str | None = None
    attachments: tuple[Attachment, ...] = ()
    cc: tuple[str, ...] = ()
    # Email: where an answer to this reply should go, when not back to the mailbox (a message
    # passed on to the data team: its sender and the team talk to each other, not to the bot).
    reply_to: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)
    # Said to this platform user alone (Slack: an ephemeral message), not to the thread.
    private_to: str | None = None
