"""What a handler hands back to the dispatcher: one recorded outcome and at most one reply."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kernel.messages import Reply
from validation.report import FileReport


class Outcome(StrEnum):
    """What became of a message, recorded on its inbox item and logged (plain values stored).

    The IMAP watcher files a message by its outcome: "refused-…", "ignored-…" and failures go
    to Rejected, the rest to Processed.
    """

    SUBMISSION_ACCEPTED = "submission-accepted"
    SUBMISSION_PARTIALLY_ACCEPTED = "submission-partially-accepted"
    SUBMISSION_HELD = "submission-held"
    SUBMISSION_REJECTED = "submission-rejected"
    CONFIRMED = "confirmed"
    CONFIRM_NOTHING_PENDING = "confirm-nothing-pending"
    CONFIRMED_NOTHING_PENDING = "confirmed-nothing-pending"  # a Confirm button, nothing held
    KEPT = "kept"
    KEPT_NOTHING_PENDING = "kept-nothing-pending"
    HELD_REPLY_UNCLEAR = "held-reply-unclear"  # asked back: "did you mean to confirm…?"
    HELD_ACTION_REFUSED = "held-action-refused"
    HELD_ACTION_UNKNOWN = "held-action-unknown"
    QUESTION_HAS_UPLOADED = "question-has-uploaded"
    QUESTION_MISSING = "question-missing"
    QUESTION_STATUS = "question-status"
    QUESTION_FIGURE = "question-figure"
    QUESTION_SUMMARY = "question-summary"
    QUESTION_GRID = "question-grid"
    QUESTION_TEMPLATE = "question-template"
    QUESTION_HISTORY = "question-history"  # issue 13: where figures came from
    QUESTION_EXPORT = "question-export"  # issue 13: the meetings as a file
    WITHDRAWN = "withdrawn"  # issue 13: a submission withdrawn on request
    WITHDRAW_REFUSED = "withdraw-refused"  # not theirs, past due, already withdrawn, …
    WITHDRAW_HOW = "withdraw-how"  # "please delete the wrong file": how, and their latest files
    EXPLAINED = "explained"  # issue 13: a soft issue answered with a reason
    EXPLAIN_NOTHING = "explain-nothing"  # no such check in their latest file, or no reason
    QUESTION_HOW_TO = "question-how-to"
    QUESTION_MEANING = "question-meaning"
    QUESTION_HELP = "question-help"
    QUESTION_REFUSED = "question-refused"
    QUESTION_NOT_UNDERSTOOD = "question-not-understood"
    NOT_A_TEMPLATE = "not-a-template"
    # A meeting entered by hand (issue 16): the form shown, or not (no Marac to record for);
    # an amendment in words asked back, or naming no recorded meeting.
    FORM_OFFERED = "form-offered"
    FORM_NOT_OFFERED = "form-not-offered"
    AMEND_ASKED_BACK = "amend-asked-back"
    AMEND_NOTHING_RECORDED = "amend-nothing-recorded"
    NO_ATTACHMENT = "no-attachment"  # its words say a file is attached; none is
    THANKS = "thanks"  # thanks and pleasantries: recorded, not answered
    # Needs a person ("our coordinator is on leave"): kept for the data team, sender told.
    FOR_THE_TEAM = "for-the-team"
    HELP = "help"
    REFUSED_UNKNOWN_SENDER = "refused-unknown-sender"
    DUPLICATE_MESSAGE = "duplicate-message"
    IGNORED_NO_SENDER = "ignored-no-sender"
    # Automatic input, never answered (the channels' reasons).
    IGNORED_OWN_MAIL = "ignored-own-mail"
    IGNORED_DELIVERY_REPORT = "ignored-delivery-report"
    IGNORED_BOUNCE = "ignored-bounce"
    IGNORED_AUTO_SUBMITTED = "ignored-auto-submitted"
    IGNORED_AUTO_REPLY = "ignored-auto-reply"
    IGNORED_BULK = "ignored-bulk"
    IGNORED_MAILING_LIST = "ignored-mailing-list"
    IGNORED_BOT_MESSAGE = "ignored-bot-message"
    IGNORED_NO_USER = "ignored-no-user"
    IGNORED_TEAMS_CONVERSATION_UPDATE = "ignored-teams-conversation-update"

    @classmethod
    def ignored(cls, reason: str) -> Outcome:
        """The outcome of automatic input for a channel's reason ("auto-reply", …)."""
        return cls(f"ignored-{reason}")

    @classmethod
    def question(cls, intent: str) -> Outcome:
        """The outcome of an answered question of ``intent`` ("has-uploaded", …)."""
        return cls(f"question-{intent}")


@dataclass(frozen=True)
class HandlerResult:
    """``outcome`` is recorded on the inbound message ("submission-accepted", "help", …)."""

    outcome: Outcome
    reply: Reply | None = None
    # A submission's files as checked and recorded (the command line prints them).
    reports: tuple[FileReport, ...] = ()
    # Messages to others than the sender, queued with the reply (a chat message for the data
    # team, emailed to them). The command line does not send them.
    also: tuple[Reply, ...] = ()
