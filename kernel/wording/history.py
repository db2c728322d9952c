"""Wording of a meeting's history, exports and withdrawals (issue 13): every version with where
its figures came from, for coordinators, managers and the data team alike."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from kernel.wording.common import day_text, echoed, plural

__all__ = [
    "EXPLAIN_BUTTON",
    "EXPLAIN_CELL_LABEL",
    "EXPLAIN_REASON_LABEL",
    "EXPLAIN_SUBMIT",
    "EXPLAIN_TITLE",
    "already_explained_text",
    "as_of_note",
    "explain_empty_text",
    "explain_no_issue_text",
    "explain_no_submission_text",
    "explained_text",
    "explanation_note",
    "export_answer_text",
    "export_refused_text",
    "export_written",
    "history_empty",
    "history_explanation_line",
    "history_figures_line",
    "history_held_line",
    "history_meeting_heading",
    "history_no_figures",
    "history_unknown_marac",
    "history_version_line",
    "moment_text",
    "submission_ids_note",
    "withdraw_how_text",
    "withdraw_refused_text",
    "withdraw_unknown_asker",
    "withdrawn_notice_subject",
    "withdrawn_notice_text",
    "withdrawn_text",
]


def moment_text(moment: datetime) -> str:
    """ "5 Nov 2024 10:00" (the caller passes it in the configured time zone)."""
    return f"{day_text(moment)} {moment:%H:%M}"


def history_meeting_heading(
    marac: str, meeting_date: date, quarter: str, versions: int, as_of: date | None
) -> str:
    when = f" as it stood at the end of {day_text(as_of)}" if as_of else ""
    return (
        f"{marac}, meeting of {day_text(meeting_date)} ({quarter}){when}: "
        f"{plural(versions, 'version')}."
    )


def history_version_line(
    *,
    version: int,
    kind: str,
    filename: str,
    submission_id: int,
    sheet_row: int | None,
    sender: str,
    received: datetime,
    recorded_by: str,
    recorded: datetime,
    withdrawal_of: int | None,
    withdrawn: datetime | None,
    until: datetime | None,
) -> str:
    """One version and its provenance, in a sentence or two."""
    row = f", row {sheet_row}" if sheet_row is not None else ""
    source = (
        f"from {filename} (submission {submission_id}{row}), sent by {sender} on "
        f"{moment_text(received)}"
    )
    if kind == "restored":
        how = (
            f"the figures from before submission {withdrawal_of}, put back by {recorded_by} on "
            f"{moment_text(recorded)} when it was withdrawn; first {source}"
        )
    elif kind == "confirmed":
        how = f"a change confirmed by {recorded_by} on {moment_text(recorded)}, {source}"
    else:
        how = f"first figures, {source}"
    state = "Current." if until is None else f"Replaced on {moment_text(until)}."
    gone = f" Submission {submission_id} was withdrawn on {moment_text(withdrawn)}." if (
        withdrawn) else ""
    return f"Version {version}: {how}. {state}{gone}"


def history_figures_line(
    figures: Sequence[tuple[str, str, int | None, int | None]], *, first: bool, blank: int
) -> str:
    """ "Figures: C Number of cases 12; …" for a first version, or the changes after it
    ("C Number of cases 12 → 14"); blank stays the word blank, never 0."""
    if first:
        shown = "; ".join(f"{letter} {header} {_value(new)}" for letter, header, _, new in figures)
        tail = f"; {plural(blank, 'column')} blank" if blank else ""
        return f"  Figures: {shown or 'all blank'}{tail}."
    if not figures:
        return "  Same figures as the version before."
    changed = "; ".join(
        f"{letter} {header} {_value(old)} → {_value(new)}" for letter, header, old, new in figures
    )
    return f"  Changed: {changed}."


def _value(value: int | None) -> str:
    return "blank" if value is None else str(value)


def history_held_line(
    *, filename: str, submission_id: int, sender: str, created: datetime, status: str,
    resolved: datetime | None, changes: str,
) -> str:
    """A change held for confirmation and what became of it."""
    fate = {
        "pending": "waiting for confirmation",
        "confirmed": "confirmed",
        "kept": "not applied: the stored figures were kept",
        "expired": "not applied: it expired unconfirmed",
        "superseded": "replaced by a later change from the same sender",
        "withdrawn": "not applied: its submission was withdrawn",
    }.get(status, status)
    when = f" on {moment_text(resolved)}" if resolved and status != "pending" else ""
    return (
        f"Held change from {filename} (submission {submission_id}), sent by {sender} on "
        f"{moment_text(created)}: {fate}{when}. {changes}"
    ).rstrip()


def history_explanation_line(
    *, cell: str | None, column: str | None, text: str, by: str, at: datetime
) -> str:
    """An explanation in a meeting's history: the cell and its column, never the check's code."""
    where = f" at {cell}" if cell else ""
    what = f" ({column})" if column else ""
    return f"Explained{where}{what} by {by} on {moment_text(at)}: “{text}”"


def history_no_figures() -> str:
    return "No figures now: the only ones sent were withdrawn."


def history_empty(marac: str, what: str | None) -> str:
    scope = f" for {what}" if what else ""
    return f"No meetings of {marac} are recorded{scope}."


def history_unknown_marac(text: str, suggestions: Sequence[str]) -> str:
    from kernel.wording.common import did_you_mean

    return f"There is no Marac called “{text[:60]}” in the registry.{did_you_mean(suggestions)}"


def as_of_note(day: date) -> str:
    return f"Figures as they stood at the end of {day_text(day)}."


def export_written(count: int, out: str, as_of: date | None) -> str:
    when = f", as they stood at the end of {day_text(as_of)}" if as_of else ""
    return f"Wrote {plural(count, 'meeting')} to {out}{when}."


def export_answer_text(place: str | None, period: str, meetings: int, filename: str | None
                       ) -> str:
    where = place or "every Marac"
    if not meetings:
        return f"No meetings of {where} are recorded for {period}, so there is nothing to send."
    return (f"Here are the {plural(meetings, 'meeting')} of {where} for {period}, one row each "
            f"with its current figures and where they came from: {filename}. Blank cells "
            "were left blank in the return; they are not 0.")


def export_refused_text() -> str:
    return (
        "Only the data team (admins) and managers can have the meeting data sent as a file; "
        "a manager gets the Maracs in their scope. Ask the data team if you need it."
    )


# ---------------------------------------------------------------------------------------------
# Withdrawing a submission (store/withdraw.py, handlers/withdraw.py).
# ---------------------------------------------------------------------------------------------


def _meeting_fate(marac: str, day: date, fate: str, restored_from: int | None) -> str:
    when = f"{marac}, {day_text(day)}"
    if fate == "restored":
        return f"{when}: back to the figures of submission {restored_from}."
    if fate == "cleared":
        return f"{when}: no figures now (this file gave its first ones)."
    return f"{when}: left as it is, because a later file has changed it since."


def _withdrawal_lines(
    meetings: Sequence[tuple[str, date, str, int | None]], held_dropped: int
) -> list[str]:
    lines = [f"- {_meeting_fate(*m)}" for m in meetings]
    if held_dropped:
        lines.append(f"- {plural(held_dropped, 'held change')} from it will not be applied.")
    if not lines:
        lines.append("- It had not changed any figures.")
    return lines


def withdrawn_text(
    *, submission_id: int, filename: str, sender: str, received: datetime,
    meetings: Sequence[tuple[str, date, str, int | None]], held_dropped: int,
) -> str:
    """The reply to whoever withdrew a submission: what happened to each meeting."""
    head = (f"Submission {submission_id} ({filename}, sent by {sender} on "
            f"{moment_text(received)}) is withdrawn.")
    tail = ("Nothing is deleted: the history of each meeting shows the withdrawn figures "
            "and the ones put back.")
    return "\n".join([head, *_withdrawal_lines(meetings, held_dropped), tail])


WITHDRAWN_NOTICE_SUBJECT = "Your Marac data submission was withdrawn"


def withdrawn_notice_subject() -> str:
    return WITHDRAWN_NOTICE_SUBJECT


def withdrawn_notice_text(
    *, submission_id: int, filename: str, received: datetime, by: str, at: datetime,
    meetings: Sequence[tuple[str, date, str, int | None]], held_dropped: int,
    reason: str | None,
) -> str:
    """The submitter's notice when someone else withdrew their file."""
    head = (f"Your submission {submission_id} ({filename}, sent on {moment_text(received)}) "
            f"was withdrawn by {by} on {moment_text(at)}.")
    why = [f"Reason given: {reason[:500]}"] if reason else []
    tail = "If its figures were right, please send the file again."
    return "\n".join([head, *why, *_withdrawal_lines(meetings, held_dropped), tail])


_WITHDRAW_REFUSALS = {
    "not-found": "There is no submission {id}. The number is in the reply to each file sent.",
    "already": "Submission {id} was already withdrawn.",
    "not-allowed": (
        "Only the data team can withdraw a submission, and a coordinator their own latest "
        "one for a quarter before it is due. Ask the data team to withdraw submission {id}."
    ),
    "not-yours": (
        "Submission {id} was sent by someone else, so you cannot withdraw it. Ask the data "
        "team if it is wrong."
    ),
    "not-latest": (
        "You have sent a later file for the same quarter, so submission {id} cannot be "
        "withdrawn on its own. Withdraw the later one first, or ask the data team."
    ),
    "past-due": (
        "Submission {id} is for {quarter}, which was due on {due}; after the due date only "
        "the data team can withdraw it. Send corrected figures instead, or ask the data team."
    ),
}


def withdraw_unknown_asker(email: str) -> str:
    return (f"{echoed(email)} is not a registered contact, so nothing was withdrawn. Leave out "
            "--as to withdraw as the data team.")


def withdraw_refused_text(
    reason: str, submission_id: int, *, quarter: str | None = None, due: date | None = None
) -> str:
    return _WITHDRAW_REFUSALS[reason].format(
        id=submission_id, quarter=quarter or "", due=day_text(due) if due else ""
    )


def withdraw_how_text(recent: Sequence[tuple[int, str, date]]) -> str:
    """The answer to "I sent the wrong file, please delete it" with no number: how to withdraw
    or correct, and the asker's latest files (number, name, day received), newest first."""
    lines = ["To withdraw a file you sent, reply with withdraw and its number, for example "
             f"\"withdraw {recent[0][0] if recent else 12}\". To correct figures instead, send "
             "the corrected file: changed meetings wait for your confirmation."]
    if recent:
        lines.append("Your latest files:")
        lines += [f"- {number}: {name}, received {day_text(day)}" for number, name, day in recent]
    else:
        lines.append("You have no file recorded that could be withdrawn.")
    lines.append("A coordinator can withdraw their latest file for a quarter until that "
                 "quarter's data is due; after that, the data team can.")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Explaining a soft issue instead of changing the figure (store/explanations.py).
# ---------------------------------------------------------------------------------------------

EXPLAIN_EXAMPLE = "EXPLAIN D7: a new police referral pathway started in October"
# The chat button and its modal (Slack: bot/channels/slack/explain_view.py).
EXPLAIN_BUTTON = "Explain a check"
EXPLAIN_TITLE = "Explain a check"  # Slack: at most 24 characters
EXPLAIN_SUBMIT = "Send"
EXPLAIN_CELL_LABEL = "Which cell"
EXPLAIN_REASON_LABEL = "Why the figure is right"


def explained_text(
    *, cell: str, marac: str | None, meeting_date: date | None, filename: str,
    submission_id: int, text: str,
) -> str:
    where = (f" with {marac}'s meeting of {day_text(meeting_date)}"
             if marac and meeting_date else "")
    return (
        f"Thank you. Your explanation for {cell} is recorded{where} ({filename}, submission "
        f"{submission_id}): “{text[:300]}”. The figure stays as it is; the data team will see "
        "why, and the check counts as answered."
    )


def explain_no_issue_text(
    *, cell: str, filename: str, submission_id: int, cells: Sequence[str]
) -> str:
    can = (f" Checks you can explain there: {', '.join(cells[:20])}." if cells
           else " It has no checks to explain.")
    return (
        f"Your latest file, {filename} (submission {submission_id}), has no check at "
        f"{cell[:12]} to explain.{can} Write EXPLAIN, the cell, a colon and why, e.g. "
        f"{EXPLAIN_EXAMPLE}."
    )


def explain_no_submission_text() -> str:
    return ("There is no file from you to explain anything in. Send your return first; its "
            "reply lists any checks, and you can answer one with, e.g., "
            f"{EXPLAIN_EXAMPLE}.")


def explain_empty_text(cell: str) -> str:
    return (f"Please say why the figure at {cell[:12]} is right, after the cell, e.g. "
            f"{EXPLAIN_EXAMPLE}.")


def explanation_note(
    *, marac: str | None, meeting_date: date | None, cell: str | None, column: str | None,
    text: str, by: str,
) -> str:
    """One explanation as the overview's notes list it for analysts."""
    where = f"{marac} {day_text(meeting_date)}" if marac and meeting_date else "A file"
    at = f", {cell}" if cell else ""
    what = f" ({column})" if column else ""
    return f"Explained: {where}{at}{what} by {by}: “{text[:300]}”"


def already_explained_text(
    *, cell: str, marac: str, meeting_date: date, by: str, at: datetime, text: str
) -> str:
    """A soft issue found again on a meeting whose figure was explained before."""
    where = f"{cell}: " if cell else ""
    return (f"{where}already explained for {marac}'s meeting of {day_text(meeting_date)} by "
            f"{by} on {moment_text(at)} (“{text[:200]}”), so there is nothing more to do "
            "about it.")


def submission_ids_note(files: Sequence[tuple[int, str]], *, soft: bool,
                        due: date | None = None, past_due: bool = False) -> str:
    """ "Recorded as submission 42 (croydon-q3.xlsx). …": what to quote to withdraw a file
    sent in error (``due``: the quarter's due date, None when the file recorded nothing), or
    to explain a checked figure that is right."""
    named = ", ".join(f"submission {i} ({name})" for i, name in files)
    first = files[0][0]
    explain = (" If a checked figure is right, reply EXPLAIN, its cell and why, e.g. "
               f"{EXPLAIN_EXAMPLE}.") if soft else ""
    if due is None:
        withdraw = ""
    elif past_due:
        withdraw = (f" Sent in error? The quarter was due on {day_text(due)}, so ask the data "
                    f"team to withdraw submission {first}.")
    else:
        withdraw = (f" Sent in error? Reply WITHDRAW {first} by {day_text(due)}, when the "
                    "quarter is due.")
    return f"Recorded as {named}.{withdraw}{explain}"
