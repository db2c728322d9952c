"""``Reply`` -> RFC 822 message (STYLE.md 2: the outgoing converter; sending is email_send.py).

A rendered message is stored in the outbox (store/queue.py) before it is sent, and its
Message-ID is derived from the outbox key, so a re-send after a crash is the same message and
the recipient's client shows it once; and from the store's random token and the Message-ID
of the message answered, so that no other installation, nor this one with its database made
anew, ever sends another message under it (RFC 5322 §3.6.4).
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from email.generator import BytesGenerator
from email.message import EmailMessage, MIMEPart
from email.policy import EmailPolicy, Policy
from email.utils import format_datetime
from io import BytesIO

from bot.channels.email import policy
from bot.channels.email.auto import BOT_HEADER
from kernel.messages import XLSX_TYPE, Attachment, Reply

logger = logging.getLogger(__name__)

# A subject already marked as a reply the spec's way ("Re:", "RE:", "re:", Outlook's "Re[2]:"):
# "Re: " is not put in front again. Other languages' marks ("AW:", "SV:", "Antw:") are not
# "Re:", and get it.
_ALREADY_RE = re.compile(r"^\s*re(\[\d+\])?\s*:", re.IGNORECASE)
_LINE_END = re.compile(r"\r\n|\r|\n")  # email.generator's NLCRE
_LIST_ITEM = re.compile(r"^\s*(?:[-•*])\s+(.*)$")
# Keep References short: the first (thread root) and the most recent ids, as RFC 5322 §3.6.4
# suggests clients may; a year of replies must not grow a header without bound.
MAX_REFERENCES = 20
BOUNDARY_PREFIX = "=_marac_"
# Values _set_verbatim stores as written: format_datetime's dates, and ids such as
# <marac.1f2e@example.org> (ASCII dot-atoms either side of the @).
_DATE = re.compile(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}")
_ATOM = r"[A-Za-z0-9_+-]+"
_DOT_ATOM_ID = re.compile(rf"<{_ATOM}(?:\.{_ATOM})*@{_ATOM}(?:\.{_ATOM})*>")


def make_message_id(key: str, *, domain: str, token: str, answering: str | None = None) -> str:
    """The Message-ID of the outbox item ``key``, made with the store's random ``token``
    (store.facts.message_ids) and the Message-ID of the email it answers, if any.

    The same item always gets the same id: rendered again after a crash, or sent again as
    stored, it is the same message, which the recipient's client shows once; and
    bot/channels/email/threads.py finds which of our messages a reply names by making it
    again. The token makes it this store's alone (another installation, or this one after its
    database was made anew, has another); the answered id, the answered message's alone (a
    copy of the database restored elsewhere answers other messages).
    """
    material = json.dumps([token, key, answering or ""])  # ASCII: any surrogate escaped
    digest = hashlib.sha256(material.encode("ascii")).hexdigest()[:32]
    return f"<marac.{digest}@{domain}>"


def to_mime(
    reply: Reply,
    *,
    mailbox_address: str,
    message_id_domain: str,
    message_id: str,
    token: str | None = None,
    date: datetime | None = None,
) -> EmailMessage:
    """Render a reply as an email threaded on ``reply.thread``.

    ``message_id`` is either a complete "<id@domain>" or the outbox key, which
    ``make_message_id`` turns into one under ``message_id_domain`` with the store's ``token``
    and the Message-ID ``reply`` answers. ``reply.subject`` is used as given; without it the
    subject is "Re: " + the thread's subject.
    """
    message = EmailMessage(policy=_policy_for((reply.thread.address, *reply.cc,
                                               *reply.reply_to)))
    message["From"] = mailbox_address
    message["To"] = reply.thread.address
    if reply.cc:
        message["Cc"] = ", ".join(reply.cc)
    if reply.reply_to:
        message["Reply-To"] = ", ".join(reply.reply_to)
    message["Subject"] = reply.subject or reply_subject(reply.thread.subject or "")
    _set_verbatim(message, "Date", format_datetime(date or datetime.now(UTC)), _DATE)
    _set_verbatim(message, "Message-ID",
                  _full_message_id(message_id, message_id_domain, token, reply.thread.message_id),
                  _DOT_ATOM_ID)
    _thread_headers(message, reply)
    # RFC 3834: mark it automatic, so well-behaved responders do not answer it; and our own
    # header, so that it is never taken for a submission if it comes back to us.
    message["Auto-Submitted"] = "auto-replied" if reply.thread.message_id else "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"  # Exchange: no out-of-office replies to us
    message[BOT_HEADER] = "1"
    # The tree set_content, add_alternative and add_attachment make, built straight rather than
    # converted twice, and each multipart given its boundary (the generator would otherwise
    # compile a regular expression per boundary to check it): the same bytes but boundaries.
    text_part = MIMEPart(policy=message.policy)
    text_part.set_content(reply.text)
    html_part = EmailMessage(policy=message.policy)  # as add_alternative: with MIME-Version
    html_part.set_content(reply.html or text_to_html(reply.text), subtype="html")
    inline = [a for a in reply.attachments if a.inline_id and reply.html]
    for attachment in inline:  # pictures the HTML shows (cid:): related to it, not files
        maintype, _, subtype = attachment.content_type.partition("/")
        html_part.add_related(attachment.data, maintype=maintype, subtype=subtype,
                              cid=f"<{attachment.inline_id}>", filename=attachment.filename,
                              disposition="inline")
    files = [_attachment_part(a, message.policy) for a in reply.attachments if a not in inline]
    # Every leaf's payload is its encoded text (set_content encodes).
    contents = [str(leaf.get_payload()) for part in (text_part, html_part, *files)
                for leaf in part.walk() if not leaf.is_multipart()]
    message["MIME-Version"] = "1.0"
    if files:
        body = EmailMessage(policy=message.policy)
        _make_multipart(body, "alternative", [text_part, html_part], contents)
        _make_multipart(message, "mixed", [body, *files], contents)
    else:
        _make_multipart(message, "alternative", [text_part, html_part], contents)
    return message


def email_renderer(mailbox_address: str) -> Callable[..., bytes]:
    """Reply -> RFC 822 bytes from ``mailbox_address``, for the reminder handler (which must
    not know MIME): ``render_email(reply, message_id=key, token=token, date=now)``, ``token``
    the store's (store.facts.message_ids)."""
    domain = mailbox_address.rpartition("@")[2]

    def render_email(reply: Reply, *, message_id: str, token: str, date: datetime) -> bytes:
        return render(to_mime(reply, mailbox_address=mailbox_address, message_id_domain=domain,
                              message_id=message_id, token=token, date=date))

    return render_email


def render(message: EmailMessage) -> bytes:
    """The bytes to store in the outbox and hand to the relay (CRLF line ends): what
    ``message.as_bytes`` writes, by a generator that writes each body at once."""
    utf8 = getattr(message.policy, "utf8", False)
    out = BytesIO()
    _Generator(out, mangle_from_=False,
               policy=policy.SMTPUTF8 if utf8 else policy.SMTP).flatten(message)
    return out.getvalue()


class _Generator(BytesGenerator):
    """The stdlib's, but a body's line ends are replaced in one pass and written in one
    write, not split into lines written one by one (two writes and encodes per line of a
    workbook's base64); the same bytes (joining the split lines with the line end is
    replacing each line end)."""

    def _write_lines(self, lines: str) -> None:
        if lines:  # the line end of the policy flatten() writes with (its _NL)
            assert self.policy is not None
            self.write(_LINE_END.sub(self.policy.linesep, lines))


def _policy_for(recipients: tuple[str, ...]) -> EmailPolicy[EmailMessage]:
    """RFC 6532: an internationalised address is written in UTF-8, since an encoded word is
    not allowed inside an address; every other message keeps plain 7-bit headers."""
    if all(address.isascii() for address in recipients):
        return policy.SMTP
    return policy.SMTPUTF8


def reply_subject(original: str) -> str:
    """ "Re: " + the original subject, without stacking "Re: Re:" (a subject starting "Re:" in
    any case is kept as it is); "AW: Q3 return" gets "Re: AW: Q3 return"."""
    original = original.strip()
    if _ALREADY_RE.match(original):
        return original
    return f"Re: {original}".strip()


def _full_message_id(message_id: str, domain: str, token: str | None,
                     answering: str | None) -> str:
    if re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", message_id):
        return message_id
    if token is None:  # the key alone is every installation's: never an id by itself
        raise ValueError(f"the Message-ID of {message_id!r} needs the store's token")
    return make_message_id(message_id, domain=domain, token=token, answering=answering)


def _thread_headers(message: EmailMessage, reply: Reply) -> None:
    thread = reply.thread
    if not thread.message_id:
        return
    message["In-Reply-To"] = thread.message_id
    references = list(thread.references)
    if thread.message_id not in references:
        references.append(thread.message_id)
    if len(references) > MAX_REFERENCES:
        references = references[:1] + references[-(MAX_REFERENCES - 1) :]
    message["References"] = " ".join(references)


def _set_verbatim(message: MIMEPart, name: str, value: str, form: re.Pattern[str]) -> None:
    """A value we made, stored as written (``set_raw``) when it has a ``form`` the stdlib
    writes exactly as it is and fits on one line: then it is neither parsed nor folded per
    message (only if read). Anything else is set as usual."""
    limit = message.policy.max_line_length
    if (not limit or len(name) + 2 + len(value) <= limit) and form.fullmatch(value):
        message.set_raw(name, value)
    else:
        message[name] = value


def _make_multipart(message: MIMEPart, subtype: str, parts: list[MIMEPart],
                    contents: list[str]) -> None:
    # Written as the stdlib folds it (the boundary's parameter on a line of its own: the one
    # line would pass 78 characters), so it is written out as it stands. A test compares both.
    message.set_raw("Content-Type",
                    f'multipart/{subtype};\n boundary="{new_boundary(contents)}"')
    for part in parts:
        message.attach(part)


def new_boundary(contents: list[str]) -> str:
    """A MIME boundary found in none of ``contents`` (the parts' encoded text).

    "=_" cannot occur in quoted-printable or base64 text, and 128 random bits cannot be guessed
    into a text sent as it is; each content is still searched, once, and a boundary found in
    one is drawn again.
    """
    while True:
        boundary = BOUNDARY_PREFIX + secrets.token_hex(16)
        if not any(boundary in content for content in contents):
            return boundary


def _attachment_part(attachment: Attachment, policy: Policy[EmailMessage]) -> EmailMessage:
    """The part add_attachment would make for ``attachment``."""
    content_type = attachment.content_type
    if content_type == "application/octet-stream" and attachment.filename.lower().endswith(
        ".xlsx"
    ):
        content_type = XLSX_TYPE
    maintype, _, subtype = content_type.partition("/")
    part = EmailMessage(policy=policy)
    part.set_content(attachment.data, maintype=maintype, subtype=subtype or "octet-stream",
                     filename=attachment.filename)
    if "content-disposition" not in part:
        part["Content-Disposition"] = "attachment"
    return part


def text_to_html(text: str) -> str:
    """The plain text as simple HTML: escaped, line breaks kept, "- " lines as a list."""
    blocks: list[str] = []
    items: list[str] = []
    lines: list[str] = []

    def flush() -> None:
        if items:
            blocks.append("<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>")
            items.clear()
        if lines:
            blocks.append("<p>" + "<br>\n".join(lines) + "</p>")
            lines.clear()

    for raw_line in text.splitlines():
        item = _LIST_ITEM.match(raw_line)
        if item:
            if lines:
                flush()
            items.append(html.escape(item.group(1)))
        elif not raw_line.strip():
            flush()
        else:
            if items:
                flush()
            lines.append(html.escape(raw_line))
    flush()
    body = "\n".join(blocks)
    return (f'<!DOCTYPE html>\n<html><body style="font-family: sans-serif">\n{body}\n'
            "</body></html>\n")
