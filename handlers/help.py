"""Replies that need no data: how to submit, not a template, unknown sender, incidents."""

from __future__ import annotations

from collections.abc import Sequence

from kernel import wording
from kernel.messages import XLSX_TYPE, Attachment, InboundMessage, Reply
from reports.template_file import write_template
from validation.columns import Edition

TEMPLATE_NAME = "marac-data-template.xlsx"


def blank_template() -> Attachment:
    return Attachment(TEMPLATE_NAME, write_template(Edition.UK), XLSX_TYPE)


def how_to_submit(message: InboundMessage, *, mailbox: str) -> Reply:
    return Reply(message.thread, wording.help_text(mailbox), attachments=(blank_template(),))


def not_a_template(message: InboundMessage, names: Sequence[str], *, mailbox: str) -> Reply:
    return Reply(message.thread, wording.not_a_template_text(names, mailbox),
                 attachments=(blank_template(),))


def unknown_sender(message: InboundMessage, *, mailbox: str) -> Reply:
    return Reply(message.thread, wording.unknown_sender_text(mailbox))


def incident(message: InboundMessage, ref: str) -> Reply:
    return Reply(message.thread, wording.incident_text(ref))


def quarantined(message: InboundMessage, ref: str) -> Reply:
    """The answer to a message set aside after it was in hand when the process died twice."""
    return Reply(message.thread, wording.quarantined_text(ref))
