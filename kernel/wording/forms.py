"""How a meeting entered by hand reads (issue 16): the Slack form and the Teams card, the
messages beside a form's fields, the reply's issue lines, and amendments asked for in words.

A form has no cells or rows, so an issue found in one is said by the field's label instead of
"D7"; the findings themselves come from the same checks as a file's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kernel.wording.common import _cut_text, day_text, fill

FORM_TITLE = "Record a meeting"
FORM_SUBMIT = "Check and record"
FORM_CANCEL = "Cancel"
FORM_OPEN_BUTTON = "Record a meeting"
FORM_MARAC_LABEL = "Marac"
FORM_DATE_LABEL = "Meeting date"
FORM_MARAC_PLACEHOLDER = "Choose the Marac"
FORM_GROUPS = {
    "meeting": "The meeting",
    "referrals": "Referrals by agency",
    "people": "The people",
}
APP_HOME_TEXT = (
    "*Marac data assistant*\nSend your quarterly template here as a file, or record each "
    "meeting as you go with the form; ask about your returns in the Messages tab (type "
    "_help_). `/marac` opens the form from anywhere."
)
FORM_HINT = (
    "Leave a box blank if the figure was not collected; 0 means none. Choosing a meeting "
    "already recorded fills in its figures, so you can change one and send it as an amendment."
)
FORM_NO_MARACS = (
    "You are not registered to send data for any Marac, so there is no form to fill in. "
    "Please ask the data team to add you."
)
FORM_CHANNEL_LABELS = {
    "slack": "Meeting form (Slack)",
    "teams": "Meeting form (Teams)",
    "email": "Amendment by email",
    "cli": "Meeting form",
}
SENTENCE_LABEL = "Amendment in words"
FORM_INTRO = (
    f"Fill in the meeting's figures and press *{FORM_SUBMIT}*: they are checked as a "
    "row of the template would be, and you get the answer here."
)
TEAMS_FORM_REFRESH = "Show figures already recorded"


def form_label(channel: str, *, sentence: bool = False) -> str:
    """What a form or sentence is called where a file's name would stand (outcome, history)."""
    if sentence:
        return SENTENCE_LABEL
    return FORM_CHANNEL_LABELS.get(channel, FORM_CHANNEL_LABELS["cli"])


def form_prefilled_note(marac: str, day: Any) -> str:
    return (
        f"{marac} on {day_text(day)} is already recorded: its figures are filled in. "
        "Change any of them and send the form to amend it; you will be asked to confirm."
    )


# -- beside a field in the form (Slack's response_action "errors"), by issue code -------------
# Short, and about the one field: the form shows each under the box it is about.

FIELD_ERRORS: Mapping[str, str] = {
    "missing-marac": "Please choose the Marac.",
    "unknown-marac": "We do not know a Marac called {value!r}.{suggestion}",
    "not-authorised": "You are not registered to send data for {value}. Ask the data "
    "team{team} to add you.",
    "missing-date": "Please enter the date of the meeting.",
    "invalid-date": "We could not read {value!r} as a date.",
    "future-date": "{value} is in the future. Please check the date.",
    "date-outside-quarter": "{value} is not in {quarter}.",
    "missing-cases": "Please enter how many cases the meeting heard (0 if none).",
    "invalid-count": "Must be a whole number of 0 or more, not {value!r}; leave it blank if "
    "not collected.",
    "exceeds-cases": "{value} is more than the {cases} cases discussed.",
    "ethnicity-exceeds-cases": "The ethnic groups add up to {total}, more than the {cases} "
    "cases discussed.",
    "cases-zero-with-counts": "Cases discussed is 0 but other figures are not. Please correct "
    "it, or clear the other figures.",
}

# For a required field (parameter ``required``: cases discussed), never "leave it blank".
REQUIRED_FIELD_ERRORS: Mapping[str, str] = {
    "invalid-count": "Must be a whole number of 0 or more, not {value!r}; enter how many "
    "cases the meeting heard (0 if none).",
}

# -- the reply's issue lines, for the codes whose file wording names cells or rows ------------

REQUIRED_REPLY_LINES: Mapping[str, str] = {
    code: "{column}: " + text for code, text in REQUIRED_FIELD_ERRORS.items()}

REPLY_LINES: Mapping[str, str] = {
    **{code: "{column}: " + text for code, text in FIELD_ERRORS.items()},
    "referrals-do-not-sum": "The referrals by agency add up to {total}, but cases discussed "
    "is {cases}. Please check them.",
    "children-inconsistent": "{detail} Please check the children figures.",
    "minoritised-below-groups": "The minoritised ethnic groups add up to {total}, more than the "
    "{value} racially minoritised cases. Please check them.",
}


def field_error(code: str, params: dict[str, Any]) -> str | None:
    """The message beside a field for this finding; None for a code no field shows."""
    template = _for_field(FIELD_ERRORS, REQUIRED_FIELD_ERRORS, code, params)
    return None if template is None else _render(template, params)


def _for_field(templates: Mapping[str, str], required: Mapping[str, str], code: str,
               params: dict[str, Any]) -> str | None:
    """The code's template, or its required field's one when the finding says so."""
    if params.get("required") and code in required:
        return required[code]
    return templates.get(code)


FORM_SEVERITY_HEADINGS = {
    "hard": "Must fix",  # the headline has said the meeting was not recorded
    "soft": "Please check",
}

# -- the reply's first line and its confirm paragraph (issue 12's headline, for one meeting) --


def entry_headline(status: str, *, marac: str | None, day: Any, changed: int) -> str:
    """What became of a meeting entered by hand, in words: ``status`` is the report's
    ("accepted", "held", "rejected") or "unchanged"; ``changed`` counts the figures held."""
    meeting = f"{marac}'s meeting of {day_text(day)}" if marac and day else "The meeting"
    if status == "held":
        waits = "1 changed figure waits" if changed == 1 else f"{changed} changed figures wait"
        where = f" ({meeting})" if marac and day else ""
        return f"{waits} for your confirmation{where}."
    if status == "unchanged":
        return f"Nothing new: {meeting} is already recorded with the same figures."
    if status == "rejected":
        return f"{meeting} was not recorded: please fix what is below."
    return f"{meeting} was recorded."


# The confirm paragraph of a held form or sentence starts so (chat puts its buttons there).
FORM_CONFIRM_START = "Until you confirm, we keep the figures we had"


def form_confirm_instructions(held_until: Any) -> str:
    """How to settle a held form or sentence; the change itself is listed above it, so this
    says only what to do (the file's paragraph also explains what a held change is)."""
    until = f" by {day_text(held_until)}" if held_until else ""
    return (
        f"{FORM_CONFIRM_START}. Reply CONFIRM to this email{until} to record the new "
        "figures; reply KEEP, or do nothing, to keep ours."
    )


def form_issue_line(code: str, params: dict[str, Any], *, fallback: str) -> str:
    """One issue of a form in the reply: by the field's label, or the file's own wording
    (``fallback``) where that names no cell (quarter bands). A held change is not one of
    them: the reply lists it under its headline (handlers/form_entry.py)."""
    template = _for_field(REPLY_LINES, REQUIRED_REPLY_LINES, code, params)
    if template is not None:
        return "  " + _render(template, params)
    return "  " + fallback


def _render(template: str, params: dict[str, Any]) -> str:
    shown = {
        k: _cut_text(v) if isinstance(v, str) and k in ("value", "column") else v
        for k, v in params.items()
    }
    return fill(template, shown)


# -- amendments in words ("change Croydon 3 Oct 2024 repeat cases to 9") ----------------------

AMEND_EXAMPLES = (
    "change Croydon 3 Oct 2024 repeat cases to 9",
    "Lambeth 14 Nov: police referrals should be 12",
)


def amend_not_recorded(marac: str, day: Any) -> str:
    return (
        f"We have no meeting for {marac} on {day_text(day)} to change. Please check the "
        "date, or record the meeting with the form."
    )


def amend_ask_back(problem: str) -> str:
    """An amendment we could not pin down: what is missing, and how to say it."""
    examples = "; ".join(f"“{e}”" for e in AMEND_EXAMPLES)
    return (
        f"{problem} Please say which Marac, which meeting date, which figure and its new "
        f"value, e.g. {examples}."
    )


AMEND_NO_MARAC = "Which Marac do you mean?"
AMEND_NO_DATE = "Which meeting do you mean?"
AMEND_NO_FIELD = "Which figure should change?"
AMEND_NO_VALUE = "What should the new figure be?"


def amend_many_fields(headers: Sequence[str]) -> str:
    return f"That could be any of {', '.join(headers)}. Which figure do you mean?"


def amend_many_meetings(marac: str, days: Sequence[Any]) -> str:
    shown = ", ".join(day_text(d) for d in days)
    return f"{marac} has more than one meeting on that date's pattern ({shown}). Which one?"
