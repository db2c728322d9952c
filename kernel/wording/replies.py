"""Replies to coordinators: submissions, confirmations, help and refusals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from kernel.wording.common import and_list, day_text, plural

# ---------------------------------------------------------------------------------------------
# Replies to coordinators (email now, chat later): submissions, confirmations, help, refusals.
# ---------------------------------------------------------------------------------------------

SUBMISSION_THANKS = "Thank you for your Marac data return."
# The annotated-copy paragraph starts so, whatever the file names in it (chat swaps it).
ANNOTATED_NOTE_START = "The attached copy of your file"


def annotated_note(names: Sequence[str]) -> str:
    """The paragraph about the annotated copies, naming each one."""
    copies = "copies of your files" if len(names) > 1 else "copy of your file"
    marks = "mark" if len(names) > 1 else "marks"
    return (
        f"The attached {copies} ({and_list(list(names))}) {marks} each problem cell: red must "
        "be fixed, amber please check; a comment on the cell says what to change. Send the "
        "corrected file back to this address; rows already accepted are not recorded twice."
    )


# The HTML reply's findings table.
REPLY_TABLE_COLUMNS = ("Cell", "What is wrong", "What to change")


def submission_headline(*, total: int, recorded: int, held: int, unchanged: int,
                        to_fix: int, unread: Sequence[str], refused: int = 0,
                        not_registered: Sequence[str] = ()) -> str:
    """What happened, in words, first: "All 6 meetings recorded.", "Nothing new: …".
    ``refused``: the meetings of files refused whole because the sender may not send for
    their Maracs (``not_registered``): nothing there to fix."""
    if not total:
        return (f"Nothing recorded: we could not take {and_list(list(unread))}."
                if unread else "Nothing recorded: we found no meetings in your file.")
    not_yours = f"you are not registered to send data for {and_list(list(not_registered))}"
    if refused == total and not unread:
        return f"Nothing recorded: {not_yours}."
    if recorded == total and not unread:
        return "The meeting was recorded." if total == 1 else f"All {total} meetings recorded."
    if unchanged == total and not unread:
        these = "this meeting is" if total == 1 else f"these {total} meetings are"
        return f"Nothing new: {these} already recorded with the same figures."
    if held and held + unchanged == total and not unread:
        head = f"{_meetings_wait(held)} for your confirmation"
        return head + (f"; {unchanged} already recorded with the same figures." if unchanged
                       else ".")
    parts = [f"{recorded} of {plural(total, 'meeting')} recorded" if recorded
             else "Nothing recorded"]
    if to_fix:
        parts.append(f"{to_fix} {'needs' if to_fix == 1 else 'need'} fixing (see below)")
    if held:
        parts.append(f"{_meetings_wait(held)} for your confirmation")
    if refused:
        parts.append(f"{refused} not taken, as {not_yours}")
    if unchanged:
        parts.append(f"{unchanged} already recorded with the same figures")
    if unread:
        parts.append(f"we could not take {and_list(list(unread))}")
    return "; ".join(parts) + "."


def _meetings_wait(held: int) -> str:
    return ("1 meeting with changed figures waits" if held == 1
            else f"{held} meetings with changed figures wait")


# validation.findings.MAX_ISSUES_PER_CODE, as the attached list's readers are told it.
ISSUES_LISTED_PER_KIND = 1000
# A list of sheet rows in a message names this many, then "and N more".
ROWS_LISTED = 10


def row_list(rows: Sequence[int]) -> str:
    """ "2, 3 and 4", or "2, 3, … 11 and 19,990 more": never longer than ``ROWS_LISTED``."""
    shown = [str(n) for n in rows[:ROWS_LISTED]]
    rest = len(rows) - len(shown)
    if rest:
        return f"{', '.join(shown)} and {rest:,} more"
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"


def and_more(n: int, *, all_listed: bool = True) -> str:
    if all_listed:
        return f"  … and {n:,} more (the attached list has them all)."
    return (f"  … and {n:,} more (the attached list has the first {ISSUES_LISTED_PER_KIND:,} "
            "of each kind; fix those and send the file again to see the rest).")


def confirm_instructions(held_until: Any) -> str:
    until = f" by {day_text(held_until)}" if held_until else ""
    return (
        "Some meetings were already sent with different figures. We have kept the figures we "
        f"had and held the new ones. Reply CONFIRM to this email{until} to replace them, or "
        "do nothing to keep the figures we have."
    )


def confirmed_text(count: int) -> str:
    if count == 0:
        return ("There were no changed figures waiting for your confirmation (they may have "
                "been confirmed already, or expired). Nothing has changed.")
    return (f"Thank you: {plural(count, 'meeting')} now {'has' if count == 1 else 'have'} the "
            "new figures you sent. The earlier figures are kept in the history.")


def _held_meetings(meetings: Sequence[tuple[str, str]]) -> str:
    """ "Croydon: 3 Oct 2024 and 17 Oct 2024; Lambeth: 5 Nov 2024"."""
    by_marac: dict[str, list[str]] = {}
    for marac, day in meetings:
        by_marac.setdefault(marac, []).append(day)
    return "; ".join(f"{marac}: {and_list(days)}" for marac, days in by_marac.items())


def held_unclear_text(meetings: Sequence[tuple[str, str]], *,
                      unmatched: Sequence[str] = ()) -> str:
    """A reply in a held-changes thread we could not read as yes or no: ask, never guess."""
    changes = "the held change" if len(meetings) == 1 else f"the {len(meetings)} held changes"
    lead = (f"None of the held changes is for {and_list(list(unmatched))}. "
            if unmatched else "")
    return (f"{lead}Did you mean to confirm {changes} ({_held_meetings(meetings)})? Reply "
            "CONFIRM to use the new figures, or KEEP to keep the figures we have. To settle one "
            "meeting only, name it, e.g. \"CONFIRM 3 Oct\".")


def held_still_waiting(meetings: Sequence[tuple[str, str]]) -> str:
    """After a partial answer ("confirm 3 Oct only"): what still waits."""
    one = len(meetings) == 1
    these = "This change still waits" if one else "These changes still wait"
    return (f"{these} for your answer: {_held_meetings(meetings)}. Reply CONFIRM or KEEP for "
            f"{'it' if one else 'them'}; if you do nothing, we keep the figures we have.")


# A reply names this many files it did not process (past MARAC_MAX_ATTACHMENTS), then "and N more".
FILES_NOT_PROCESSED_LISTED = 10


def not_processed_text(names: Sequence[str], *, limit: int) -> str:
    """The files of one message past ``limit``: named, and neither read nor recorded."""
    shown = ", ".join(names[:FILES_NOT_PROCESSED_LISTED])
    rest = len(names) - len(names[:FILES_NOT_PROCESSED_LISTED])
    more = f" and {rest:,} more" if rest else ""
    return (f"Not processed: {shown}{more}. We take at most {limit} files in one message, so "
            "we have not read or recorded these; please send them again in another message.")


def not_registered_text(file: str, maracs: Sequence[str], team: str) -> str:
    """A file refused whole because its sender may not send for its Maracs: who to ask, and
    nothing to correct. ``team``: " (how to reach the data team)", or empty."""
    whose = ("that Marac's coordinator" if len(maracs) == 1
             else "those Maracs' coordinators")
    return (f"{file}: nothing in this file was recorded, as you are not registered to send "
            f"data for {and_list(list(maracs))}. Please ask {whose} to send it, or ask the "
            f"data team{team} to add you.")


def not_read_text(names: Sequence[str]) -> str:
    """The documents beside a return that are no spreadsheet (a PDF narrative): named, so that
    the one reply covers every attachment."""
    kind = "not spreadsheets" if len(names) > 1 else "not a spreadsheet"
    return f"Not read: {and_list(list(names))} ({kind})."


# Outlook in Rich Text format sends every attachment inside one winmail.dat (TNEF): the
# coordinator attached "Lambeth Q3 return.xlsx" and never saw that name.
OUTLOOK_WRAPPED = (
    "Outlook wrapped the file you attached in winmail.dat, which we cannot open. Please send it "
    "again as an ordinary attachment: send the message in HTML or plain-text format rather "
    "than Rich Text (in Outlook: Format Text, then HTML)."
)


def outlook_wrapped_text() -> str:
    """The reply to a message whose only file came as winmail.dat."""
    return f"Thank you. {OUTLOOK_WRAPPED} Nothing from it has been recorded."


def wrapped_not_read_text(names: Sequence[str]) -> str:
    """A winmail.dat beside a return that was read: named, and what to do about it."""
    return f"Not read: {and_list(list(names))}. {OUTLOOK_WRAPPED}"


HELD_EXPIRED_SUBJECT = "Marac data: changed figures not confirmed in time"


def held_expired_text(lines: Sequence[str]) -> str:
    return ("The changed figures you sent for these meetings were not confirmed in time, so "
            "we kept the figures we had:\n" + "\n".join(f"  {line}" for line in lines) +
            "\nIf the new figures are right, please send the file again and reply CONFIRM.")


# The help's paragraph on sending starts so (chat says it its own way: CHAT_HOW_TO_SEND).
HELP_SEND_START = "To send your Marac's data, email the filled template"


def help_text(mailbox: str) -> str:
    return (
        "Hello. I am the Marac data assistant.\n\n"
        f"{HELP_SEND_START} to {mailbox} as an attachment "
        "(.xlsx, .xlsm, .xls, .ods or .csv). Put the quarter in the subject if you like, e.g. "
        "\"Q3 2024/25 return\": meeting dates outside it are then flagged. You will get a "
        "reply within a minute listing the rows accepted and any problem by cell.\n\n"
        "A blank template is attached: one row per meeting, starting in row 2. Leave a figure "
        "blank only if it was not collected (blank means 'not collected', 0 means 'none').\n\n"
        "You can also ask questions, e.g. \"has Croydon uploaded Q3?\" or \"who is missing "
        "Q2 in London?\"."
    )


def not_a_template_text(names: Sequence[str], mailbox: str, *, thank: bool = True) -> str:
    """``thank``: False after a paragraph that has thanked the sender already."""
    listed = ", ".join(names)
    return (
        f"{'Thank you. ' if thank else ''}The attachment{'s' if len(names) > 1 else ''} {listed} "
        f"{'are' if len(names) > 1 else 'is'} not a spreadsheet we can read. Please send the "
        "Marac data template as .xlsx, .xlsm, .xls, .ods or .csv. A blank template is attached."
    )


def unknown_sender_text(mailbox: str, contact: str | None = None) -> str:
    """The refusal to a sender not in the registry, saying how to reach the data team
    (MARAC_DATA_TEAM_CONTACT, by default the mailbox itself)."""
    return (
        "Thank you for your message. This address is not registered with the Marac data "
        "team, so we cannot accept data or answer questions from it, and nothing you sent has "
        "been recorded. If you are a Marac coordinator, please ask the data team to add you "
        f"(you can reach them at {contact or mailbox}), or send from your registered address "
        f"to {mailbox}."
    )


def chat_unknown_sender_text(contact: str) -> str:
    """The refusal in Slack or Teams: short, and nothing about sending from an address."""
    return ("Sorry, your account is not registered with the Marac data team, so I cannot take "
            "data or answer questions from it; nothing you sent has been recorded. To be added, "
            f"contact the data team: {contact}.")


def unknown_sender_issue(contact: str) -> str:
    """The refusal as the one issue of each file in ``submit --json``."""
    return ("This sender is not registered with the Marac data team, so nothing in this file "
            f"was recorded. Ask the data team ({contact}) to add the sender, or send from a "
            "registered address.")


def incident_text(ref: str) -> str:
    return (f"We hit a problem handling your message (reference {ref}). The data team has been "
            "told and will look into it; you do not need to send it again.")


def fetch_failed_text(ref: str) -> str:
    """A file posted in chat that could not be fetched (deleted, its link expired, or our
    access to it refused): nothing of it was recorded, so it is worth posting again."""
    return (f"We could not fetch the file you posted (reference {ref}): it may have been "
            "deleted, or the link to it no longer works. Nothing from it has been recorded, so "
            "please post it again. If that fails too, the data team has been told and will "
            "look into it.")


def quarantined_text(ref: str) -> str:
    """A message that stopped the assistant each time it was read (set aside, not retried)."""
    return (f"We could not read your message or the file attached to it (reference {ref}): "
            "it stopped our system each time we tried, so we have set it aside. The data team "
            "has been told and will look into it. If you sent a spreadsheet, saving it again "
            "as .xlsx and sending the new copy often helps.")




def passed_to_team_text(said: str, *, contact: str | None, copied: bool,
                        emailed: bool = False) -> str:
    """The reply to a message only a person can deal with ("our coordinator is on leave, so
    Q3 will be late"): kept for the data team. ``contact``: how to reach them, when that is
    not this mailbox; ``copied``: they are copied in on this reply; ``emailed``: a chat
    message, emailed to them at ``contact``."""
    lines = ["Thank you. I have passed this on to the data team, as it needs a person rather "
             f"than me:\n“{said}”\n"]
    if copied:
        lines.append("They are copied in on this reply. ")
    elif emailed and contact:
        lines.append(f"I have emailed it to them at {contact}; they will answer you there. ")
    elif contact:
        lines.append(f"If it is urgent, you can reach them at {contact}. ")
    lines.append("I can still take your data return, or answer questions about returns "
                 "(write \"help\" to see which).")
    return "".join(lines)


def passed_to_team_note(said: str) -> str:
    """Said under an answer, when the message also said something only a person can deal
    with."""
    return f"I have also passed this on to the data team, as it needs a person:\n“{said}”"


# The data team's email of a chat message that needs a person (handlers/for_team.py).
_CHANNEL_TITLES = {"email": "email", "slack": "Slack", "teams": "Teams", "cli": "the command line"}


def channel_title(channel: str) -> str:
    """A channel as a person names it ("Slack", "Teams")."""
    return _CHANNEL_TITLES.get(channel, channel)


def team_email_subject(name: str, channel: str) -> str:
    return f"For the data team: a message from {name} in {channel}"


def team_email_text(*, name: str, address: str, channel: str, received: datetime,
                    text: str) -> str:
    """``received`` in the configured time zone; ``text`` already cut to what is kept."""
    return (f"{name} ({address}) wrote to the Marac data bot in {channel} on "
            f"{day_text(received)} at {received:%H:%M}. It needs a person, so it was passed "
            f"on to you, and they were told so:\n\n{text}\n\n"
            f"Replying to this email reaches {address}. The message is also listed on the "
            "operator page, under \"Messages for the data team\".")
