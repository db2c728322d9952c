"""Reminders, escalations and the managers' digest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kernel.wording.common import day_text, plural

# ---------------------------------------------------------------------------------------------
# Reminders, escalation and the managers' digest (handlers/reminders.py, issue 6), and
# `marac-bot remind`. Stages: quarter-ended, due-soon, overdue, second-quarter-missing. Quarters
# arrive described ("Q3 2024/25 (1 Oct – 31 Dec 2024)") or as labels ("Q3 2024/25").
# ---------------------------------------------------------------------------------------------

REMINDER_SIGN_OFF = "Marac data assistant"


def reminder_subject(stage: str, *, marac: str, quarter: str, previous: str, due: Any) -> str:
    subjects = {
        "quarter-ended": f"{marac} Marac: {quarter} data due by {day_text(due)}",
        "due-soon": f"{marac} Marac: {quarter} data due on {day_text(due)}",
        "overdue": f"Overdue: {marac} Marac's {quarter} data (was due {day_text(due)})",
        "second-quarter-missing": (
            f"Action needed: no data from {marac} Marac for {previous} or {quarter}"
        ),
    }
    return subjects[stage]


def _reminder_opening(stage: str, *, marac: str, quarter: str, previous: str, due: Any,
                      working_days: int) -> str:
    due_text = day_text(due)
    # Spec §5: the national rule for missing data, which reminders and escalations state.
    rule = (f"the national figures fill the gap with {marac}'s previous quarter; a Marac that "
            "misses two quarters in a row drops out of them.")
    openings = {
        "quarter-ended": (
            f"{quarter} has ended. Please send {marac} Marac's data for it by {due_text}: one "
            "row per meeting held in the quarter. We have not received any meetings for "
            f"{marac} in it yet. If it has not reached us by then, {rule}"
        ),
        "due-soon": (
            f"{marac} Marac's data for {quarter} is due on {due_text}, "
            f"{plural(working_days, 'working day')} from today, and we have not received it "
            f"yet. If it has not reached us by then, {rule}"
        ),
        "overdue": (
            f"{marac} Marac's data for {quarter} was due on {due_text} and has not reached us. "
            f"Please send it as soon as you can. Until it arrives, {rule}"
        ),
        "second-quarter-missing": (
            f"We have not received {marac} Marac's data for {quarter}, due on {due_text}, nor "
            f"for the quarter before it, {previous}. The national figures fill one missed "
            "quarter with the quarter before it, but a Marac that misses two quarters in a row "
            f"drops out of them, so {marac} would not be counted in them. Please send both "
            "quarters as soon as you can."
        ),
    }
    return openings[stage]


def how_to_submit(*, mailbox: str, chat: bool) -> str:
    if chat:
        return (f"How to submit: email the completed template to {mailbox}, or post the file "
                "here. Ask me for a \"template\" to get a blank one.")
    return (f"How to submit: fill in the attached blank template (one row per meeting; leave a "
            f"figure blank only if it was not collected) and email it to {mailbox}. The reply "
            "lists any problems by cell.")


def reminder_copied(names: Sequence[str]) -> str:
    joined = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f"A copy of this message has gone to {joined}."


def reminder_text(stage: str, *, marac: str, quarter: str, previous: str, due: Any,
                  working_days: int, mailbox: str, copied: Sequence[str], chat: bool) -> str:
    """The body of one reminder; ``copied`` names those copied in ("Chris Chair (chair)")."""
    parts = [
        "Hello,",
        _reminder_opening(stage, marac=marac, quarter=quarter, previous=previous, due=due,
                          working_days=working_days),
        how_to_submit(mailbox=mailbox, chat=chat),
    ]
    if copied:
        parts.append(reminder_copied(copied))
    parts.append("If you have sent it in the last few hours, thank you, and please ignore this "
                 "message.")
    parts.append(REMINDER_SIGN_OFF)
    return "\n\n".join(parts)


def copied_name(name: str, role: str) -> str:
    return f"{name} ({role})"


def reminder_template_filename(marac: str) -> str:
    slug = "-".join("".join(c if c.isalnum() else " " for c in marac.lower()).split())
    return f"marac-template-{slug or 'blank'}.xlsx"


def digest_subject(*, quarter: str, due: Any, missing: int, total: int) -> str:
    return (f"Marac uploads for {quarter}: {missing} of {plural(total, 'Marac')} still missing, "
            f"due {day_text(due)}")


def digest_text(*, quarter: str, due: Any, uploaded: int, total: int, table: str) -> str:
    """The managers' digest: the summary line, then the upload grid of the Maracs in scope."""
    return "\n\n".join([
        "Hello,",
        f"The data for {quarter} is due on {day_text(due)}. {uploaded} of "
        f"{plural(total, 'Marac')} in your scope {'has' if uploaded == 1 else 'have'} uploaded "
        "it so far.",
        table,
        "Coordinators of the Maracs still missing are reminded automatically; overdue Maracs' "
        "chairs are copied in.",
        REMINDER_SIGN_OFF,
    ])


def remind_cli_line(*, marac: str | None, quarter: str, stage: str, contact: str, role: str,
                    channel: str, sent: bool, dry_run: bool) -> str:
    """One line of `marac-bot remind`: who gets what."""
    if dry_run:
        outcome = "would be sent"
    else:
        outcome = "queued" if sent else "already sent by another process"
    return (f"{marac or 'digest'} | {quarter} | {stage} | {contact} ({role}) | {channel} | "
            f"{outcome}")


def remind_cli_summary(count: int, *, dry_run: bool, delivered: int | None) -> str:
    if count == 0:
        return "Nothing to send for that day: every reminder due was sent already, or none is due."
    if dry_run:
        return f"{plural(count, 'reminder')} would be sent (dry run: nothing was sent)."
    if delivered is None:
        return f"{plural(count, 'reminder')} queued; the running bot delivers them."
    return (f"{plural(count, 'reminder')} queued; {plural(delivered, 'email')} from the outbox "
            "sent now (Slack and Teams reminders wait for the running bot).")


