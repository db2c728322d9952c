"""The command line as a channel: ``marac-bot submit`` and ``marac-bot ask`` each build one
``InboundMessage`` (pure functions of their arguments) and hand it to the same dispatcher as
email and chat; the command prints what comes back instead of sending it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from kernel.messages import Attachment, Channel, InboundMessage, ThreadRef
from validation.safe_text import safe_filename

# A reply "goes" nowhere: the command prints it.
_THREAD = ThreadRef(Channel.CLI, "-")


def submission_message(paths: list[Path], *, sender: str, quarter_text: str | None,
                       confirm: bool, received_at: datetime) -> InboundMessage:
    """Files sent as ``sender`` would send them by email, in one message."""
    files = tuple(Attachment(safe_filename(p.name) or "file", p.read_bytes()) for p in paths)
    return InboundMessage(Channel.CLI, sender.strip().lower(), _THREAD, attachments=files,
                          received_at=received_at, declared_quarter_text=quarter_text,
                          confirm=confirm, files_are_returns=True)


def question_message(question: str, *, as_email: str | None, received_at: datetime
                     ) -> InboundMessage:
    """A question, as a registered contact (``as_email``) or as the local operator."""
    return InboundMessage(Channel.CLI, (as_email or "").strip().lower(), _THREAD, text=question,
                          received_at=received_at, is_question=True,
                          asked_by_operator=as_email is None)
