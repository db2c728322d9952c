"""What a handler hands back to the dispatcher: one recorded outcome and at most one reply."""

from __future__ import annotations

from dataclasses import dataclass

from kernel.messages import Reply
from validation.report import FileReport


@dataclass(frozen=True)
class HandlerResult:
    """``outcome`` is recorded on the inbound message ("submission-accepted", "help", …)."""

    outcome: str
    reply: Reply | None = None
    # A submission's files as checked and recorded (the command line prints them).
    reports: tuple[FileReport, ...] = ()
