"""Replies that need no data: how to submit, not a template, unknown sender, incidents; and
reading what a message without a file is (a file forgotten, an out-of-office, thanks)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from handlers import letter
from handlers.result import HandlerResult, Outcome
from kernel import wording
from kernel.messages import XLSX_TYPE, Attachment, Channel, InboundMessage, Reply
from reports.template_file import write_template
from validation.columns import Edition

TEMPLATE_NAME = "marac-data-template.xlsx"


def blank_template() -> Attachment:
    return Attachment(TEMPLATE_NAME, write_template(Edition.UK), XLSX_TYPE)


def how_to_submit(message: InboundMessage, *, mailbox: str, role: str | None = None) -> Reply:
    text = f"{wording.help_text(mailbox)}\n\n{actions(message, role)}"
    return Reply(message.thread, text, attachments=(blank_template(),))


def actions(message: InboundMessage, role: str | None) -> str:
    """What the asker can do besides asking, worded for the channel the message came by."""
    chat = message.channel in (Channel.SLACK, Channel.TEAMS)
    return wording.help_actions(chat=chat, slack=message.channel == Channel.SLACK, role=role)


def with_actions(result: HandlerResult, message: InboundMessage,
                 role: str | None) -> HandlerResult:
    """The answer to "help" with what can be done put before what can be asked: the list of
    questions alone reads as if the bot only answered them."""
    if result.outcome is not Outcome.QUESTION_HELP or result.reply is None:
        return result
    reply = result.reply
    said = tuple(wording.QUESTION_HELP_TOPICS[t] for t in wording.HELP_DO_TOPICS)
    asked = "\n".join(line for line in reply.text.splitlines() if not line.endswith(said))
    text = f"{actions(message, role)}\n\n{asked}"
    return replace(result, reply=replace(reply, text=text, html=None))


def not_a_template(message: InboundMessage, documents: Sequence[Attachment], *,
                   mailbox: str) -> Reply:
    """Files that are no spreadsheet: a blank template to fill. Outlook's winmail.dat gets its
    own words: the sender attached a spreadsheet, and never saw that name."""
    wrapped, others = _wrapped_apart(documents)
    paragraphs = [wording.outlook_wrapped_text()] if wrapped else []
    if others:
        paragraphs.append(wording.not_a_template_text(others, mailbox, thank=not wrapped))
    return Reply(message.thread, "\n\n".join(paragraphs),
                 attachments=(blank_template(),) if others else ())


def unread_notes(documents: Sequence[Attachment]) -> list[str]:
    """The lines of a submission's reply naming the documents beside the return that were
    not read, winmail.dat in words of its own."""
    wrapped, others = _wrapped_apart(documents)
    return (([wording.not_read_text(others)] if others else [])
            + ([wording.wrapped_not_read_text(wrapped)] if wrapped else []))


def _wrapped_apart(documents: Sequence[Attachment]) -> tuple[list[str], list[str]]:
    """The names of Outlook's winmail.dat files, and of the other documents."""
    return ([d.filename for d in documents if d.outlook_wrapped],
            [d.filename for d in documents if not d.outlook_wrapped])


def unknown_sender(message: InboundMessage, *, mailbox: str) -> Reply:
    return Reply(message.thread, wording.unknown_sender_text(mailbox))


def incident(message: InboundMessage, ref: str) -> Reply:
    return Reply(message.thread, wording.incident_text(ref))


def fetch_failed(message: InboundMessage, ref: str) -> Reply:
    return Reply(message.thread, wording.fetch_failed_text(ref))


def quarantined(message: InboundMessage, ref: str) -> Reply:
    """The answer to a message set aside after it was in hand when the process died twice."""
    return Reply(message.thread, wording.quarantined_text(ref))


# The words of a message that says a file is with it: "please find attached", "enclosed".
_SAYS_ATTACHED = re.compile(
    r"\b(?:attached|attaching|attachment|enclosed|enclosing)\b|\bplease find\b"
    r"|\bhere(?: is| are|'s|s) (?:the |our |my )?(?:\w+ )?(?:\w+ )?(?:return|data|figures|file"
    r"|spreadsheet|template|submission)s?\b"
    r"|\b(?:i am|i'm|we are|we're) (?:now )?sending (?:you )?(?:over )?(?:the |our |my )?"
    r"(?:\w+ )?(?:return|data|figures|file|spreadsheet)s?\b",
    re.IGNORECASE,
)
_SENT_BEFORE = re.compile(
    r"\b(?:i|we) (?:attached|sent|emailed|uploaded)\b|\bdid you (?:get|receive)\b"
    r"|\bhave you (?:got|had|received)\b|\b(?:yesterday|last week|earlier)\b",
    re.IGNORECASE,
)
_OUT_OF_OFFICE_SUBJECT = re.compile(
    r"^\s*(?:automatic reply|auto(?:matic)?[- ]?reply|out of (?:the )?office|ooo|"
    r"absence|away)\b", re.IGNORECASE)
# Said of oneself ("I am on leave"), so "our chair is on leave: has Croydon sent Q3?" is not one.
_OUT_OF_OFFICE_BODY = re.compile(
    r"\b(?:i am|i'm|im|i will be|i'll be)(?: currently| now)? (?:out of (?:the )?office|on "
    r"(?:annual |maternity |paternity |sick |study )?leave|away from (?:the|my) (?:office|desk)"
    r"|away (?:until|till|from|this|next)|not (?:in|at work) until|back on)\b"
    r"|\blimited access to (?:my )?e-?mail\b",
    re.IGNORECASE)
_THANKS = re.compile(
    r"^\W*(?:(?:many |thanks? |so |very )*(?:thanks|thank you|thankyou|ta|cheers)"
    r"|(?:that's|thats|that is) (?:great|brilliant|perfect|lovely|helpful|fab|fantastic)"
    r"|(?:great|brilliant|perfect|lovely|got it|noted|received)\b)", re.IGNORECASE)
_GREETING = re.compile(r"^\W*(?:hi|hello|hiya|hey|dear|good (?:morning|afternoon))\b[^.!?]*$",
                       re.IGNORECASE)
# A thank-you is short: more words than this is a message with something in it.
_THANKS_MAX_WORDS = 30
_WORD = re.compile(r"[a-z']+")


def says_attached(message: InboundMessage) -> bool:
    """The words say a file is attached ("please find attached our Q3 return"), and none
    other than a pasted picture is: a forgotten attachment, not a question ("did you get the
    file I attached yesterday?" is about one sent before)."""
    if any(not a.content_type.startswith("image/") for a in message.attachments):
        return False
    text = f"{message.subject}\n{message.text}"
    return bool(_SAYS_ATTACHED.search(text)) and not _SENT_BEFORE.search(text)


def no_attachment(message: InboundMessage, *, mailbox: str) -> Reply:
    # interface.md: no attachment and no question gets how to submit "with a blank template";
    # a forgotten file is that case, and the blank is there in case theirs is not to hand.
    return Reply(message.thread, wording.no_attachment_text(
        mailbox, by_email=message.thread.by_address), attachments=(blank_template(),))


def is_out_of_office(message: InboundMessage) -> bool:
    """An out-of-office written by hand or sent without the automatic-mail headers. By its
    body alone, only when it asks nothing: "I'm on leave from Friday. Has Croydon's Q3
    arrived?" is a person writing before they go, and was ignored."""
    if _OUT_OF_OFFICE_SUBJECT.search(message.subject):
        return True
    said = "\n".join(_first_lines(message.text))
    return bool(_OUT_OF_OFFICE_BODY.search(message.text)) and "?" not in said


def is_thanks(message: InboundMessage) -> bool:
    """Only thanks and pleasantries ("Thanks, that's great!"): nothing to answer. What follows
    the thanks is read without its signature block and the sender's mail-system notices (an
    Outlook signature has no "-- " above it), so that a thank-you with a council's signature
    and disclaimer under it is still one."""
    lines = [line for line in _first_lines(message.text) if line.strip()]
    lines = [line for line in lines if not _GREETING.match(line)]
    if not lines or not _THANKS.match(lines[0]):
        return False
    text = " ".join((lines[0], letter.said(lines[1:])))
    return "?" not in text and len(_WORD.findall(text.lower())) <= _THANKS_MAX_WORDS


def _first_lines(text: str) -> list[str]:
    """The lines before a quoted reply or a signature."""
    kept: list[str] = []
    for line in text.splitlines():
        if line.startswith(">") or line.strip() in ("--", "-- ") or re.match(
                r"^\s*On .+wrote:\s*$", line) or line.startswith("From:"):
            break
        kept.append(line)
    return kept
