"""How replies read in Slack and Teams, and the operator's chat warnings."""

from __future__ import annotations

from typing import Any

from kernel.wording.common import day_text, plural
from kernel.wording.forms import FORM_CONFIRM_START

# ---------------------------------------------------------------------------------------------
# Slack and Teams (bot/channels/{slack,teams,chat}/): how replies read in chat,
# the held-changes buttons, and the operator's warnings about chat settings.
# ---------------------------------------------------------------------------------------------

CHAT_CONFIRM_BUTTON = "Confirm new figures"
CHAT_KEEP_BUTTON = "Keep our figures"
CHAT_ANNOTATED_NOTE = (
    "The checked copy of your file marks each problem cell: red must be fixed, amber please "
    "check; a comment on the cell says what to change. Post the corrected file here; rows "
    "already accepted are not recorded twice."
)
CHAT_HOW_TO_SEND = (
    "To send your Marac's data, drop the filled template here (.xlsx, .xlsm, .xls, .ods or "
    ".csv); I answer in the thread with the rows accepted and any problem by cell."
)
TEAMS_FILES_BY_EMAIL_NOTE = (
    "Teams cannot carry the checked copy of your file, so we have emailed it to your "
    "registered address."
)
TEAMS_EMAIL_SUBJECT = "Your Marac data return, sent in Teams: the checked copy"
TEAMS_ANONYMOUS_WARNING = (
    "MARAC_TEAMS_ANONYMOUS=1 and no MARAC_TEAMS_APP_ID: Teams messages at /api/messages are "
    "taken WITHOUT authentication (requests that carry a bearer token are still checked). "
    "Use this for local testing only, never where the endpoint can be reached from outside."
)


def chat_held_note(held_until: Any) -> str:
    """What replaces the email's "reply CONFIRM" paragraph when buttons are offered."""
    until = f" by {day_text(held_until)}" if held_until else ""
    return (
        "Some meetings were already sent with different figures. We have kept the figures we "
        f"had and held the new ones. Press *{CHAT_CONFIRM_BUTTON}*{until} to replace them, or "
        f"*{CHAT_KEEP_BUTTON}* to keep the figures we have (doing nothing keeps them too)."
    )


def chat_form_held_note(held_until: Any) -> str:
    """A held form or sentence's confirm paragraph when buttons are offered."""
    until = f" by {day_text(held_until)}" if held_until else ""
    return (f"{FORM_CONFIRM_START}. Press *{CHAT_CONFIRM_BUTTON}*{until} to record the new "
            f"figures, or *{CHAT_KEEP_BUTTON}* (doing nothing keeps them too).")


def chat_only_submitter_text() -> str:
    return ("Only the person who sent this file can confirm or keep its changed figures. "
            "Nothing has changed.")


def kept_text(count: int) -> str:
    if count == 0:
        return ("There were no changed figures waiting (they may have been confirmed, kept or "
                "expired already). Nothing has changed.")
    return (f"Thank you: we kept the figures we had for {plural(count, 'meeting')}; the new "
            "figures you sent were set aside.")


def chat_attachment_title(filename: str) -> str:
    return f"{filename} (from the Marac data assistant)"


def slack_listening(socket_mode: bool, port: int | None) -> str:
    if socket_mode:
        return "Slack via Socket Mode"
    return f"Slack events at /slack/events (port {port})"


def teams_listening(port: int | None, *, anonymous: bool) -> str:
    mode = "ANONYMOUS, testing only" if anonymous else "Bot Framework tokens checked"
    return f"Teams at /api/messages (port {port}, {mode})"


