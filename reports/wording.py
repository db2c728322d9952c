"""All user-facing wording, in one place (STYLE.md 10).

Tone: plain English, say what to change. Tests call these functions rather than copying text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# ---------------------------------------------------------------------------------------------
# Validation issues (spec §4). Each template may use {value}, {column}, {cell} and the extra
# parameters its check passes in.
# ---------------------------------------------------------------------------------------------

ISSUE_TEMPLATES: dict[str, str] = {
    "unreadable-file": "We could not read this file: {reason}. Please send the Marac data "
    "template as .xlsx, .xlsm, .xls, .ods or .csv.",
    "encrypted-file": "This file is password protected, so we cannot open it. Please remove the "
    "password (File > Info > Protect Workbook in Excel) and send it again.",
    "file-too-large": "This file is too large to check safely ({reason}). Please send only the "
    "Marac data sheet, under {limit}.",
    "unknown-template": "We could not find the Marac data template in this file. {reason} Please "
    "copy your figures into the current template (ask us for a blank one) and send it again.",
    "duplicate-column": "The column {column!r} appears more than once (cells {cells}). Please "
    "delete the extra column so each figure appears once.",
    "no-data-rows": "The template has its headers but no meetings. Please add one row per "
    "meeting, starting in row 2.",
    "missing-marac": "The Marac name in {cell} is blank. Please enter the Marac's name.",
    "unknown-marac": "We do not know a Marac called {value!r} ({cell}).{suggestion} Please use "
    "the Marac's registered name.",
    "not-authorised": "You are not registered to send data for {value} ({cell}). Please ask "
    "that Marac's coordinator to send it, or ask the data team to add you.",
    "missing-date": "The meeting date in {cell} is blank. Please enter the date of the meeting.",
    "invalid-date": "We could not read {value!r} in {cell} as a date. Please enter the meeting "
    "date as a date, e.g. 03/10/2024.",
    "future-date": "The meeting date {value} in {cell} is in the future. Please check the date.",
    "date-outside-quarter": "The meeting date {value} in {cell} is not in {quarter}. Please "
    "check the date, or send this meeting with its own quarter's return.",
    "missing-cases": "Cases discussed ({cell}) is blank. Please enter how many cases the "
    "meeting heard (0 if none).",
    "invalid-count": "{column} ({cell}) must be a whole number of 0 or more, not {value!r}. "
    "Please correct it, or leave it blank if the figure was not collected.",
    "exceeds-cases": "{column} ({cell}) is {value}, more than the {cases} cases discussed "
    "({cases_cell}). Please correct one of them.",
    "ethnicity-exceeds-cases": "The ethnic groups ({cells}) add up to {total}, more than the "
    "{cases} cases discussed ({cases_cell}). Please correct them.",
    "duplicate-meeting": "{marac} on {value} appears {times} times in this file (rows {rows}), "
    "so none of those rows was taken. Please keep one row per meeting.",
    "cases-zero-with-counts": "Cases discussed ({cell}) is 0 but {others} are not. Please "
    "correct the cases discussed, or clear the other figures.",
    "referrals-do-not-sum": "The referral sources (G–T) in row {row} add up to {total}, but "
    "cases discussed ({cell}) is {cases}. Please check them.",
    "children-inconsistent": "Row {row}: {detail} Please check the children figures (E and F).",
    "minoritised-below-groups": "The minoritised ethnic groups (AB, AC, AD, AF) in row {row} "
    "add up to {total}, more than the {value} in {cell}. Please check them.",
    "unusual-repeat-rate": "{marac}'s repeat rate for {quarter} would be {rate}, outside the "
    "usual {low}–{high}. Please check the repeat cases (column D).",
    "unusual-police-share": "{marac}'s police referrals for {quarter} would be {rate} of cases, "
    "above the usual {high}. Please check the referral sources.",
    "unusual-volume": "{marac} would have {cases} cases for {quarter}, {comparison} the "
    "{expected} expected for its population. Please check the cases discussed.",
    "changed-from-previous": "{marac} on {meeting_date} was already sent with different "
    "figures: {changes}. These changes are held until you confirm them.",
    "unchanged": "{marac} on {meeting_date} was already sent with the same figures: nothing to "
    "do.",
    "normalised-value": "{cell}: we read {value!r} as {normalised}.",
    "ignored-column": "Columns we do not use were ignored: {columns}.",
    "ignored-sheet": "The sheet {value!r} was ignored.",
    "registry-not-checked": "Marac names were not checked against the registry (no registry "
    "is loaded here).",
}


# What a person wrote is echoed back at most this long: a 50 KB "name" is not repeated whole.
ECHO_CHARS = 60


def issue_message(code: str, **params: Any) -> str:
    """The message for an issue code; missing parameters render as blanks, never crash. What
    the file holds (the value, its column header) is quoted at most ``ECHO_CHARS`` long."""
    template = ISSUE_TEMPLATES[code]
    for key in _FROM_THE_FILE:
        if isinstance(params.get(key), str):
            params[key] = _cut_text(params[key])
    return template.format_map(_Defaulting(params))


# The parameters whose text comes from the submitted file rather than from us.
_FROM_THE_FILE = ("value", "column")


class _Defaulting(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def did_you_mean(suggestions: Sequence[str]) -> str:
    if not suggestions:
        return ""
    if len(suggestions) == 1:
        return f" Did you mean {suggestions[0]}?"
    return f" Did you mean {', '.join(suggestions[:-1])} or {suggestions[-1]}?"


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


# ---------------------------------------------------------------------------------------------
# File outcomes, as the CLI and replies state them (interface.md, email behaviour).
# ---------------------------------------------------------------------------------------------


def file_outcome_line(
    *,
    file: str,
    rows_total: int,
    rows_accepted: int,
    rows_held: int,
    rows_unchanged: int,
    maracs: Sequence[str],
    quarters: Sequence[str],
    rejected_reason: str | None = None,
    checked_only: bool = False,
) -> str:
    """One line per file: "croydon-q3.xlsx: 12 of 13 rows accepted for Croydon, Q3 2024/25 (…)"."""
    if rejected_reason is not None:
        return f"{file}: not accepted. {rejected_reason}"
    verb = "would be accepted" if checked_only else "accepted"
    line = f"{file}: {rows_accepted} of {plural(rows_total, 'row')} {verb}"
    where = ", ".join(x for x in (", ".join(maracs), "; ".join(quarters)) if x)
    if where:
        line += f" for {where}"
    extras = []
    if rows_held:
        rows = "row" if rows_held == 1 else "rows"
        extras.append(f"{rows_held} changed {rows} held for confirmation")
    if rows_unchanged:
        extras.append(f"{rows_unchanged} unchanged")
    if extras:
        line += f" ({'; '.join(extras)})"
    return line + "."


SEVERITY_HEADINGS: dict[str, str] = {
    "hard": "Must fix (these rows were not accepted)",
    "soft": "Please check",
    "info": "For your information",
}

ANNOTATED_SHEET_TITLE = "Issues"
ANNOTATED_COLUMNS = (
    "Severity", "Code", "Sheet", "Cell", "Row", "Column", "Value", "What to change",
)
TEMPLATE_INSTRUCTIONS_TITLE = "Instructions"
TEMPLATE_INSTRUCTIONS: tuple[str, ...] = (
    "Marac data return: how to fill this template",
    "One row per Marac meeting, starting in row 2 of the data sheet. Do not change the headers.",
    "Column A: the Marac's name. Column B: the meeting date (e.g. 03/10/2024).",
    "Columns C–AF: whole numbers of 0 or more. Leave a cell blank only if the figure was not "
    "collected: blank means 'not collected', 0 means 'none'.",
    "Column E counts children (people); every other column counts cases.",
    "Send the file to the Marac data mailbox, or drop it on the bot in Slack or Teams. You will "
    "get a reply listing any problems by cell.",
)


def demo_label() -> str:
    return "DEMO registry: made-up Marac contacts at example.org, for trying the bot out."



def children_detail(*, children: int, with_children: int, children_cell: str,
                    with_children_cell: str) -> str:
    """Why E and F disagree, or "" when they are consistent."""
    if with_children > 0 and children == 0:
        return (f"{with_children_cell} says {with_children} cases had children, but "
                f"{children_cell} says there were no children.")
    if children > 0 and with_children == 0:
        return (f"{children_cell} says there were {children} children, but {with_children_cell} "
                "says no cases had children.")
    if children < with_children:
        return (f"{children_cell} ({children} children) is fewer than {with_children_cell} "
                f"({with_children} cases with children); each such case has at least one child.")
    return ""


def changes_text(changes: list[tuple[str, str, int | None, int | None]]) -> str:
    """ "D Number of repeat cases 5 → 6; E … blank → 3" for a held change."""
    return "; ".join(
        f"{letter} {header}: {_figure(old)} → {_figure(new)}"
        for letter, header, old, new in changes
    )


def _figure(value: int | None) -> str:
    return "blank" if value is None else str(value)


# ---------------------------------------------------------------------------------------------
# File guard (validation/guards.py): the {reason} phrase of unreadable-file, encrypted-file and
# file-too-large when a file is refused before any parser sees it. Each completes "We could not
# read this file: …" or "This file is too large to check safely (…)".
# ---------------------------------------------------------------------------------------------

GUARD_REASONS: dict[str, str] = {
    "type-not-accepted": "files ending {ext} are not accepted",
    "no-extension": "the file name has no ending such as .xlsx, so we cannot tell its type",
    "empty": "the file is empty",
    "damaged": "the file is damaged or incomplete",
    "png": "it is a PNG image, not a spreadsheet",
    "jpeg": "it is a JPEG image, not a spreadsheet",
    "gif": "it is a GIF image, not a spreadsheet",
    "pdf": "it is a PDF document, not a spreadsheet",
    "rtf": "it is a Rich Text document, not a spreadsheet",
    "html": "it is a web page (perhaps a sign-in page saved by mistake), not a spreadsheet",
    "xml": "it is an XML file, not a workbook (save it from Excel as .xlsx)",
    "not-spreadsheet": "it is not a spreadsheet",
    "zip-not-spreadsheet": "it is a zip archive, not a spreadsheet",
    "word": "it is a Word document, not a spreadsheet",
    "powerpoint": "it is a PowerPoint presentation, not a spreadsheet",
    "office-not-spreadsheet": "it is an Office document, but not a spreadsheet",
    "opendocument-not-spreadsheet": "it is an OpenDocument file, but not a spreadsheet",
    "odd-compression": "it is compressed in a way we cannot read",
    "workbook-named-csv": "it is a workbook saved with a .csv name",
    "nul-bytes": "it contains NUL bytes, so it is not plain CSV text (save it as 'CSV UTF-8')",
    "bad-encoding": "its text is neither UTF-8 nor Windows-1252",
    "over-limit": "it is {size}",
    "too-many-parts": "it holds more than {count:,} parts, far more than any workbook needs",
    "expands-too-far": "it expands to more than {size} when opened",
    "expands-too-fast": "it expands more than {ratio:,} times when opened",
}


def guard_reason(key: str, **params: Any) -> str:
    """The plain-English reason a file was refused before parsing."""
    return GUARD_REASONS[key].format(**params)


def size_label(n_bytes: int) -> str:
    """A byte count as people read it: "10 MB", "12.4 MB", "850 KB" (1 MB = 1024 x 1024 bytes)."""
    megabytes = n_bytes / (1024 * 1024)
    if megabytes >= 100:
        return f"{round(megabytes):,} MB"
    if megabytes >= 1:
        return f"{megabytes:.3g} MB"
    return f"{max(1, round(n_bytes / 1024))} KB"


# ---------------------------------------------------------------------------------------------
# Dates as people read them (fixed English month names: strftime follows the process locale).
# ---------------------------------------------------------------------------------------------

_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_text(day: Any) -> str:
    """ "3 Oct 2024"."""
    return f"{day.day} {_MONTH_ABBR[day.month - 1]} {day.year}"


def counts_line(*, total: int, accepted: int, rejected: int, held: int, unchanged: int,
                checked_only: bool) -> str:
    verb = "would be accepted" if checked_only else "accepted"
    parts = [f"{accepted} {verb}", f"{rejected} rejected"]
    if held:
        parts.append(f"{held} held")
    if unchanged:
        parts.append(f"{unchanged} unchanged")
    return f"Rows: {total} in all; {', '.join(parts)}."


# ---------------------------------------------------------------------------------------------
# Workbooks the bot writes (reports/annotate.py, reports/template_file.py): the annotated copy
# of a submitted file, its full issue list, and the blank template.
# ---------------------------------------------------------------------------------------------

# How each severity is named in the annotated copy's comments, its Issues sheet and the CSV list.
ANNOTATED_SEVERITY_LABELS: dict[str, str] = {
    "hard": "Must fix",
    "soft": "Please check",
    "info": "Note",
}
ANNOTATION_AUTHOR = "Marac data assistant"


def annotation_comment(entries: Sequence[tuple[str, str]], *, earlier: str | None = None) -> str:
    """One cell's comment: each (severity, message) as its own paragraph, then any comment the
    submitter had already put on that cell."""
    parts = [f"{ANNOTATED_SEVERITY_LABELS[severity]}: {message}" for severity, message in entries]
    if earlier:
        parts.append(f"Your earlier comment: {earlier}")
    return "\n\n".join(parts)


TEMPLATE_DATA_SHEET_TITLE = "Marac data"
TEMPLATE_EDITION_NAMES: dict[str, str] = {"uk": "UK 2025 edition", "scotland": "Scotland edition"}
# Excel caps a data validation's error title at 32 characters and its message at 255.
TEMPLATE_COUNT_ERROR_TITLE = "Whole number needed"
TEMPLATE_COUNT_ERROR = (
    "Enter a whole number of 0 or more. Leave the cell blank only if the figure was not "
    "collected: blank means 'not collected', 0 means 'none'."
)
TEMPLATE_MARAC_ERROR_TITLE = "Marac name"


def template_edition_line(edition: str) -> str:
    """Instructions line naming the template's edition ("uk" or "scotland")."""
    return f"This is the {TEMPLATE_EDITION_NAMES[edition]} of the template."


def template_marac_line(marac: str) -> str:
    """Instructions line of a template made for one Marac."""
    return (
        f"This template is for {marac}. Choose the name from the list in column A on each "
        "meeting row."
    )


def template_marac_error(marac: str) -> str:
    """Error shown when column A of a one-Marac template holds another name."""
    return f"This template is for {marac}: choose that name from the list."


# ---------------------------------------------------------------------------------------------
# Registry import and export (store/registry*.py; `marac-bot registry import`): row-numbered
# problems in a Maracs or contacts CSV file, and the one-line outcome. Row 1 is the header.
# ---------------------------------------------------------------------------------------------

REGISTRY_ERRORS: dict[str, str] = {
    "registry-header": "the header is neither a Maracs file ({maracs}) nor a contacts file "
    "({contacts}).",
    "registry-duplicate-column": "the column {column} appears more than once.",
    "registry-unknown-column": "{column!r} is not a column of a {kind} file.",
    "registry-missing-column": "a {kind} file needs a {column} column.",
    "registry-extra-cells": "this row has more cells than the header has columns.",
    "registry-blank": "{column} is blank.",
    "registry-semicolon": "the name {value!r} contains ';', which separates names in lists.",
    "registry-empty-name": "the name {value!r} has no letters or digits.",
    "registry-bad-number": "{column} must be a whole number, not {value!r}.",
    "registry-duplicate-row": "{value!r} is already in row {other} of this file.",
    "registry-name-clash": "{value!r} is already a name or alias of {other}.",
    "registry-bad-email": "{value!r} is not an email address.",
    "registry-bad-role": "role must be one of {roles}, not {value!r}.",
    "registry-bad-channel": "channels may be {channels}, not {value!r}.",
    "registry-channel-needs-id": "the {value} channel needs a {id_column}.",
    "registry-no-maracs": "a {role} must list at least one Marac in maracs.",
    "registry-scope-not-allowed": "{value!r} is a region, a police force area or '*'; only a "
    "manager or admin may list one. List this {role}'s Maracs by name.",
    "registry-unknown-marac": "{value!r} is not a Marac in the registry.{suggestion}",
    "registry-unknown-scope": "{value!r} is not a Marac, region or police force area in the "
    "registry.{suggestion}",
    "registry-taken-id": "{column} {value!r} already belongs to {other}.",
}


def registry_error(code: str, **params: Any) -> str:
    """The message of a registry import problem; missing parameters render blank."""
    return REGISTRY_ERRORS[code].format_map(_Defaulting(params))


def registry_error_line(row: int, message: str) -> str:
    return f"Row {row}: {message}"


def registry_import_summary(kind: str, inserted: int, updated: int) -> str:
    """ "Imported 33 Maracs: 30 new, 3 updated." """
    noun = "Marac" if kind == "maracs" else "contact"
    return f"Imported {plural(inserted + updated, noun)}: {inserted} new, {updated} updated."


def registry_import_failed(lines: Sequence[str]) -> str:
    """The problems of a refused import, one per line, after a line saying nothing changed."""
    head = f"Nothing was imported: {plural(len(lines), 'problem')} to fix first."
    return "\n".join([head, *lines])


# ---------------------------------------------------------------------------------------------
# Replies to coordinators (email now, chat later): submissions, confirmations, help, refusals.
# ---------------------------------------------------------------------------------------------

SUBMISSION_OPENING = "Thank you for your Marac data return. Here is what we found."
ANNOTATED_NOTE = (
    "The attached copy of your file (-checked.xlsx) marks each problem cell: red must be "
    "fixed, amber please check; a comment on the cell says what to change. Send the corrected "
    "file back to this address; rows already accepted are not recorded twice."
)


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


# A reply names this many files it did not process (past MARAC_MAX_ATTACHMENTS), then "and N more".
FILES_NOT_PROCESSED_LISTED = 10


def not_processed_text(names: Sequence[str], *, limit: int) -> str:
    """The files of one message past ``limit``: named, and neither read nor recorded."""
    shown = ", ".join(names[:FILES_NOT_PROCESSED_LISTED])
    rest = len(names) - len(names[:FILES_NOT_PROCESSED_LISTED])
    more = f" and {rest:,} more" if rest else ""
    return (f"Not processed: {shown}{more}. We take at most {limit} files in one message, so "
            "we have not read or recorded these; please send them again in another message.")


HELD_EXPIRED_SUBJECT = "Marac data: changed figures not confirmed in time"


def held_expired_text(lines: Sequence[str]) -> str:
    return ("The changed figures you sent for these meetings were not confirmed in time, so "
            "we kept the figures we had:\n" + "\n".join(f"  {line}" for line in lines) +
            "\nIf the new figures are right, please send the file again and reply CONFIRM.")


def help_text(mailbox: str) -> str:
    return (
        "Hello. I am the Marac data assistant.\n\n"
        f"To send your Marac's data, email the filled template to {mailbox} as an attachment "
        "(.xlsx, .xlsm, .xls, .ods or .csv). Put the quarter in the subject if you like, e.g. "
        "\"Q3 2024/25 return\": meeting dates outside it are then flagged. You will get a "
        "reply within a minute listing the rows accepted and any problem by cell.\n\n"
        "A blank template is attached: one row per meeting, starting in row 2. Leave a figure "
        "blank only if it was not collected (blank means 'not collected', 0 means 'none').\n\n"
        "You can also ask questions, e.g. \"has Croydon uploaded Q3?\" or \"who is missing "
        "Q2 in London?\"."
    )


def not_a_template_text(names: Sequence[str], mailbox: str) -> str:
    listed = ", ".join(names)
    return (
        f"Thank you. The attachment{'s' if len(names) > 1 else ''} {listed} "
        f"{'are' if len(names) > 1 else 'is'} not a spreadsheet we can read. Please send the "
        "Marac data template as .xlsx, .xlsm, .xls, .ods or .csv. A blank template is attached."
    )


def unknown_sender_text(mailbox: str) -> str:
    return (
        "Thank you for your message. This address is not registered with the Marac data "
        "team, so we cannot accept data or answer questions from it, and nothing you sent has "
        "been recorded. If you are a Marac coordinator, please ask the data team to add you, "
        f"or send from your registered address to {mailbox}."
    )


def incident_text(ref: str) -> str:
    return (f"We hit a problem handling your message (reference {ref}). The data team has been "
            "told and will look into it; you do not need to send it again.")


def quarantined_text(ref: str) -> str:
    """A message that stopped the assistant each time it was read (set aside, not retried)."""
    return (f"We could not read your message or the file attached to it (reference {ref}): "
            "it stopped our system each time we tried, so we have set it aside. The data team "
            "has been told and will look into it. If you sent a spreadsheet, saving it again "
            "as .xlsx and sending the new copy often helps.")


# ---------------------------------------------------------------------------------------------
# Operator messages of `marac-bot run`.
# ---------------------------------------------------------------------------------------------

DEMO_REGISTRY_LOADED = (
    "The registry was empty, so the DEMO registry was loaded (London Maracs with made-up "
    "contacts at example.org). Import your own with `marac-bot registry import FILE.csv`."
)
SENDERS_ON_TRUST = (
    "MARAC_TRUSTED_AUTHSERV_ID is not set: sender addresses are taken on trust (anyone who "
    "can forge a From header can submit as a registered coordinator)."
)


def started_text(parts: Sequence[str]) -> str:
    return "Marac data assistant running: " + "; ".join(parts) + ". Ctrl-C stops it."


def unknown_sender_cli(sender: str) -> str:
    return (f"{sender} is not a registered contact: nothing was recorded (the refused files "
            "are kept for the audit trail). Import the contact with `marac-bot registry "
            "import`.")


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
    openings = {
        "quarter-ended": (
            f"{quarter} has ended. Please send {marac} Marac's data for it by {due_text}: one "
            "row per meeting held in the quarter. We have not received any meetings for "
            f"{marac} in it yet."
        ),
        "due-soon": (
            f"{marac} Marac's data for {quarter} is due on {due_text}, "
            f"{plural(working_days, 'working day')} from today, and we have not received it yet."
        ),
        "overdue": (
            f"{marac} Marac's data for {quarter} was due on {due_text} and has not reached us. "
            f"Please send it as soon as you can. Until it arrives, the national figures fill "
            f"the gap with {marac}'s previous quarter; a Marac that misses two quarters in a "
            "row drops out of them."
        ),
        "second-quarter-missing": (
            f"We have not received {marac} Marac's data for {quarter}, due on {due_text}, nor "
            f"for the quarter before it, {previous}. A Marac that misses two quarters in a row "
            f"drops out of the national figures, so {marac} would not be counted in them. "
            "Please send both quarters as soon as you can."
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


# ---------------------------------------------------------------------------------------------
# Slack and Teams (bot/slack_*.py, bot/teams_*.py, bot/chat_*.py): how replies read in chat,
# the held-changes buttons, and the operator's warnings about chat settings.
# ---------------------------------------------------------------------------------------------

CHAT_CONFIRM_BUTTON = "Confirm new figures"
CHAT_KEEP_BUTTON = "Keep our figures"
CHAT_ANNOTATED_NOTE = (
    "The checked copy of your file (-checked.xlsx) marks each problem cell: red must be fixed, "
    "amber please check; a comment on the cell says what to change. Post the corrected file "
    "here; rows already accepted are not recorded twice."
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


# ---------------------------------------------------------------------------------------------
# Dashboard questions (handlers/questions, reports/answers.py, reports/grid.py): "has Croydon
# uploaded Q3?", "who hasn't uploaded Q2?", a Marac's year, the figures of spec §5, the upload
# grid, help, and refusals. Handlers hand over numbers and dates; these functions word them.
# ---------------------------------------------------------------------------------------------

QUESTION_HELP_INTRO = "Ask me about Marac data returns in your own words, for example:"
QUESTION_HELP_TOPICS: dict[str, str] = {
    "template": "a blank data template to fill in",
    "grid": "which Maracs have sent which quarters of a year (an image in chat)",
    "missing": "the Maracs that have not sent a quarter, with their coordinators",
    "summary": "Maracs that sent figures, cases, children, per 10,000 adult women, repeat and "
    "partner-agency rates",
    "figure": "cases, repeats, children, police or partner-agency referrals, per 10,000, Idva "
    "and administrator capacity, for a Marac or an area",
    "has-uploaded": "whether a Marac has sent a quarter: when, by whom, meetings, cases and "
    "changes waiting for confirmation",
    "status": "each quarter of a Marac's financial year",
    "help": "this list",
}
QUESTION_HELP_PERIODS = (
    "Quarters can be written Q3, Q3 2024/25, Oct-Dec 2024, quarter ending December 2024, last "
    "quarter or this quarter; years as 2024/25, this year or last year. Without one I answer "
    "for the last quarter that ended. Places can be a Marac, a region, a police force area or "
    "a nation."
)
QUESTION_NOT_UNDERSTOOD = "Sorry, I did not understand that question."
QUESTION_NEED_MARAC = "Which Marac do you mean? For example: has Croydon uploaded Q3?"
QUARTER_DEFAULTED = "(No quarter was named, so this is the last one that ended.)"
YEAR_DEFAULTED = (
    "(No year was named, so this is the financial year of the last quarter that ended.)"
)
ANSWER_RESTRICTED = "Only the Maracs you may ask about are included."
HELD_NONE = "No changed figures are waiting for confirmation."

METRIC_LABELS: dict[str, str] = {
    "cases": "Cases discussed",
    "meetings": "Meetings",
    "children": "Children in the households",
    "cases_with_children": "Cases with children in the household",
    "repeat_rate": "Repeat rate",
    "police_share": "Police referrals",
    "partner_share": "Partner-agency referrals",
    "per_10k": "Cases per 10,000 adult women",
    "idva_fte": "Recommended Idva capacity",
    "admin_fte": "Recommended Marac administrator",
    "minoritised": "Black, Asian and racially minoritised victims",
    "lgbtq": "LGBTQ+ victims",
    "disabled": "Disabled victims",
    "male": "Male victims",
    "aged_16_17": "Victims aged 16 or 17",
    "aged_65_plus": "Victims aged 65 or over",
    "harming_under_18": "Cases where the person causing harm is under 18",
}

_Q_AREA_KINDS = {"region": "{name}", "police_force_area": "{name} area", "nation": "{name}"}


def percent(value: float) -> str:
    """A share as people write it: "31.2%", and "28%" rather than "28.0%"."""
    text = f"{value * 100:.1f}"
    return (text[:-2] if text.endswith(".0") else text) + "%"


def _q_num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _q_day(iso: str) -> str:
    """ "2025-01-28" (or the date of an ISO time) as "28 Jan 2025"."""
    year, month, day = (int(part) for part in iso[:10].split("-"))
    return f"{day} {_MONTH_ABBR[month - 1]} {year}"


def _q_when(iso: str) -> str:
    """ "2025-01-20T10:00+00:00" as "20 Jan 2025 at 10:00" (already in local time)."""
    return f"{_q_day(iso)} at {iso[11:16]}"


def quarter_text(period: dict[str, Any]) -> str:
    """ "Q3 2024/25 (1 Oct – 31 Dec 2024)": a quarter with its date range, stated once."""
    return f"{period['label']} ({period['range']})"


def place_name(place: dict[str, Any], *, start: bool = False) -> str:
    """What an answer is about: a Marac, an area, or the asker's Maracs (capitalised to
    ``start`` a sentence)."""
    if place.get("marac"):
        return str(place["marac"])
    area = place.get("area")
    if area:
        return _Q_AREA_KINDS[area["kind"]].format(name=area["name"])
    name = "your Maracs" if place.get("restricted") else "all Maracs"
    return name[0].upper() + name[1:] if start else name


def due_sentence(period: dict[str, Any], *, many: bool = False) -> str:
    """When a quarter's data is (or was) due, and whether that has passed."""
    due = _q_day(period["due"])
    if not period["started"]:
        return f"That quarter has not started yet; its data will be due by {due}."
    if period["overdue"]:
        return f"Data was due by {due}: {'they are' if many else 'it is'} overdue."
    if period["ended"]:
        return f"Data is due by {due}."
    return f"The quarter is still running; data is due by {due}."


# --- has Croydon uploaded Q3? ----------------------------------------------------------------


def uploaded_yes(marac: str, period: dict[str, Any], meetings: int, cases: int | None) -> str:
    figures = plural(meetings, "meeting")
    if cases is not None:
        figures += f", {plural(cases, 'case')}"
    return f"{marac} has uploaded {quarter_text(period)}: {figures}."


def uploaded_no(marac: str, period: dict[str, Any]) -> str:
    return f"{marac} has not uploaded {quarter_text(period)}."


def received_line(received: dict[str, Any]) -> str:
    who = received["by"]
    if received.get("by_name"):
        who = f"{received['by_name']} ({who})"
    line = (f"Last received {_q_when(received['at'])} from {who}: {received['file']}, by "
            f"{received['channel']}.")
    if received["files"] > 1:
        line += f" The figures come from {plural(received['files'], 'file')}."
    return line


def held_head(count: int) -> str:
    return f"{plural(count, 'changed meeting')} waiting for confirmation:"


def held_line(held: dict[str, Any]) -> str:
    return (f"- the meeting of {_q_day(held['meeting_date'])}: sent by {held['sender']} on "
            f"{_q_day(held['created_at'])}; expires {_q_day(held['expires_at'])} unless confirmed")


def cases_blank_note(blank: int) -> str:
    return f"Cases discussed were blank at {plural(blank, 'meeting')}."


# --- who hasn't uploaded Q2? -----------------------------------------------------------------


def missing_head(
    place: str, period: dict[str, Any], missing: int, uploaded: Sequence[str], asked: int
) -> str:
    where = f"{quarter_text(period)}, {place}"
    if asked == 0:
        return f"{where}: there are no Maracs to ask about."
    if missing == 0:
        if asked == 1:
            return f"{where}: {uploaded[0]} has uploaded."
        return f"{where}: all {plural(asked, 'Marac')} have uploaded."
    verb = "has" if missing == 1 else "have"
    return f"{where}: {missing} of {plural(asked, 'Marac')} {verb} not uploaded."


def uploaded_head(place: str, period: dict[str, Any], names: Sequence[str], asked: int) -> str:
    """ "Who has uploaded Q3?": the Maracs that have, named."""
    where = f"{quarter_text(period)}, {place}"
    if asked == 0:
        return f"{where}: there are no Maracs to ask about."
    if not names:
        return f"{where}: none of the {plural(asked, 'Marac')} has uploaded."
    if len(names) == asked == 1:
        return f"{where}: {names[0]} has uploaded."
    if len(names) == asked:
        return f"{where}: all {plural(asked, 'Marac')} have uploaded."
    verb = "has" if len(names) == 1 else "have"
    return f"{where}: {len(names)} of {plural(asked, 'Marac')} {verb} uploaded: {', '.join(names)}."


def not_yet_heading(count: int) -> str:
    return f"Not uploaded ({count}):"


def missing_line(detail: dict[str, Any], previous_quarter: str, *, ended: bool) -> str:
    """A Marac that has not uploaded, with its coordinators; when the quarter has ended and
    the one before was missed too, that it drops out of the national figures (spec §5)."""
    people = detail["coordinators"]
    if people:
        who = "; ".join(f"{p['name']} <{p['email']}>" for p in people)
        line = f"- {detail['marac']}: coordinator {who}"
    else:
        line = f"- {detail['marac']}: no coordinator registered"
    if detail["missed_previous"]:
        line += f"; also missed {previous_quarter}"
        if ended:
            line += ": two quarters in a row leave it out of the national figures"
    return line


# --- a Marac's year --------------------------------------------------------------------------


def status_head(marac: str, year: dict[str, Any]) -> str:
    return f"{marac}, {year['label']} ({year['range']}):"


def status_line(quarter: dict[str, Any]) -> str:
    name = f"- {quarter['label'].split()[0]} ({quarter['range']})"
    due = _q_day(quarter["due"])
    state = quarter["state"]
    if state in ("accepted", "held"):
        text = f"uploaded: {plural(quarter['meetings'], 'meeting')}"
        if quarter["cases"] is not None:
            text += f", {plural(quarter['cases'], 'case')}"
        if quarter["held"]:
            text += f"; {plural(quarter['held'], 'changed meeting')} waiting for confirmation"
    elif state == "overdue":
        text = f"not uploaded: overdue (due by {due})"
    elif state == "missing":
        text = f"not uploaded yet: due by {due}"
    else:
        text = f"not due yet (due by {due})"
    return f"{name}: {text}"


def status_total(meetings: int, cases: int) -> str:
    return f"The year so far: {plural(meetings, 'meeting')}, {plural(cases, 'case')}."


# --- figures (spec §5) -----------------------------------------------------------------------


def figure_head(place: dict[str, Any], period_text: str, *, summary: bool) -> str:
    if not summary:
        return f"{place_name(place, start=True)}, {period_text}:"
    if not place.get("marac") and not place.get("area") and not place.get("restricted"):
        return f"National picture, {period_text}:"
    return f"The picture for {place_name(place)}, {period_text}:"


def submitted_line(submitted: int, asked: int) -> str:
    return f"{submitted} of {plural(asked, 'Marac')} sent figures."


def no_figures(place: dict[str, Any], period_text: str) -> str:
    return f"No figures have been sent for {place_name(place)}, {period_text}."


def blank_note(blank: int, meetings: int) -> str:
    """How many meetings left a figure blank (blank means not collected, never 0)."""
    if not blank:
        return ""
    return f" (left blank at {blank} of {plural(meetings, 'meeting')}, which are not counted)"


def cases_line(cases: int, meetings: int, blank: int) -> str:
    return (f"{METRIC_LABELS['cases']}: {cases:,} at {plural(meetings, 'meeting')}"
            f"{blank_note(blank, meetings)}.")


def total_line(key: str, total: int, blank: int, meetings: int) -> str:
    return f"{METRIC_LABELS[key]}: {total:,}{blank_note(blank, meetings)}."


def rate_line(key: str, rate: dict[str, Any], meetings: int) -> str:
    label = METRIC_LABELS[key]
    if rate["value"] is None:
        return f"{label}: not known (left blank at every meeting)."
    share = percent(rate["value"])
    line = (f"{label}: {share} of cases ({rate['count']:,} of {rate['of_cases']:,})"
            f"{blank_note(rate['blank_meetings'], meetings)}.")
    if rate.get("low") is not None:
        line += f" Usual range {percent(rate['low'])}–{percent(rate['high'])}: {_q_position(rate)}."
    elif rate.get("high") is not None:
        line += f" Usual maximum {percent(rate['high'])}: {_q_position(rate)}."
    if rate.get("national") is not None:
        line += f" National {percent(rate['national'])}."
    return line


def _q_position(rate: dict[str, Any]) -> str:
    return {"within": "within it", "below": "below it", "above": "above it"}[rate["position"]]


def partner_line(partner: dict[str, Any], meetings: int) -> str:
    label = METRIC_LABELS["partner_share"]
    if partner["value"] is None:
        return f"{label}: not known (police referrals left blank at every meeting)."
    return (f"{label}: {percent(partner['value'])} of cases"
            f"{blank_note(partner['blank_meetings'], meetings)}. "
            f"National {percent(partner['national'])}.")


def per_10k_line(volume: dict[str, Any], place: str) -> str:
    label = METRIC_LABELS["per_10k"]
    if volume["value"] is None:
        return f"{label}: not known (no adult female population is recorded for {place})."
    line = (f"{label}: {volume['value']:.1f} a year ({volume['annual_cases']:,.0f} cases a year, "
            f"annualised from the quarters sent, over {volume['population']:,} adult women")
    if volume["maracs_without_population"]:
        line += (f"; {plural(volume['maracs_without_population'], 'Marac')} without a population "
                 "figure left out")
    expected, national = _q_num(volume["expected"]), _q_num(volume["national"])
    return line + f"). Expected {expected}; national {national}."


def fte_line(key: str, fte: dict[str, Any]) -> str:
    label = METRIC_LABELS[key]
    if fte["actual"] is None:
        return f"{label}: not known."
    line = (f"{label}: {fte['actual']:.1f} FTE for {fte['annual_cases']:,.0f} cases a year "
            f"(one FTE per {_q_num(fte['cases_per_fte'])})")
    if fte["expected"] is not None:
        line += (f"; {fte['expected']:.1f} FTE for the {fte['expected_cases']:,.0f} expected "
                 "for the population")
    return line + "."


def few_cases_note(minimum: int) -> str:
    return f"Fewer than {minimum} cases: read the rates with care."


# --- the upload grid -------------------------------------------------------------------------

GRID_STATE_LABELS: dict[str, str] = {
    "accepted": "accepted",
    "held": "held",
    "missing": "missing",
    "overdue": "overdue",
    "not-due": "not due",
}
GRID_MARAC_HEADING = "Marac"
GRID_CSV_HEADINGS = ("Marac", "Region", "Police force area")
GRID_EMPTY = "No Maracs to show."
GRID_KEY = (
    "Key: held = figures stored, changed figures waiting for confirmation; missing = not sent "
    "yet, not yet overdue; not due = the quarter has not ended."
)


def grid_title(area: str | None, year: str, year_range: str, as_of: Any) -> str:
    return f"Upload grid, {area or 'all Maracs'}, {year} ({year_range}), as at {day_text(as_of)}"


def grid_quarter_line(quarter: dict[str, Any]) -> str:
    return (f"{quarter['label'].split()[0]}: {quarter['range']}, due by "
            f"{_q_day(quarter['due'])}")


def grid_tally(maracs: int, counts: dict[str, int]) -> str:
    parts = [f"{n} {GRID_STATE_LABELS[state]}" for state, n in counts.items() if n]
    return f"{plural(maracs, 'Marac')}: {', '.join(parts) or 'nothing to show'}."


def grid_cell_label(state: str, meetings: int) -> str:
    """A grid image cell's words (the colour says it too): "✓ 6" is 6 meetings accepted."""
    if state == "accepted":
        return f"✓ {meetings}"
    if state == "held":
        return f"held ({meetings})"
    return "" if state == "not-due" else GRID_STATE_LABELS[state]


def _q_slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def grid_filename(area: str | None, year: str) -> str:
    return f"upload-grid-{_q_slug(area or 'all maracs')}-{_q_slug(year)}.png"


def template_filename(marac: str | None) -> str:
    return f"marac-data-template-{_q_slug(marac)}.xlsx" if marac else "marac-data-template.xlsx"


def template_answer(marac: str | None, edition: str) -> str:
    who = f" for {marac}" if marac else ""
    return (f"Here is a blank data template{who} ({edition} edition), attached. One row per "
            "meeting; leave a count blank only if it was not collected.")


# --- not answered ----------------------------------------------------------------------------


# A list of things from a file (headers, columns) names this many, then "and N more".
ITEMS_LISTED = 10


def short_list(items: Sequence[str]) -> str:
    """Items from a file as a list to read: each cut to ``ECHO_CHARS``, at most
    ``ITEMS_LISTED`` of them, then "and N more"."""
    shown = [_cut_text(str(item)) for item in items[:ITEMS_LISTED]]
    rest = len(items) - len(shown)
    return ", ".join(shown) + (f" and {rest:,} more" if rest else "")


def _cut_text(text: str) -> str:
    return text if len(text) <= ECHO_CHARS else text[: ECHO_CHARS - 1].rstrip() + "…"


def echoed(text: str) -> str:
    """``text`` as quoted back to its writer: cut to ``ECHO_CHARS`` with "…", in quotes."""
    return repr(_cut_text(text))


def unknown_name_text(name: str, suggestions: Sequence[str]) -> str:
    return f"I do not know a Marac or area called {echoed(name)}.{did_you_mean(suggestions)}"


def several_names_text(names: Sequence[str], kind: str) -> str:
    return f"Please ask about one {kind} at a time (you named {' and '.join(names)})."


def unclear_period_text(phrase: str) -> str:
    return (f"I could not tell which quarter {echoed(phrase)} means. Please write it like "
            "Q3 2024/25, Oct-Dec 2024 or last quarter.")


def _q_scope_text(scope: dict[str, Any]) -> str:
    if scope.get("everything"):
        return "every Marac"
    names = [*scope.get("scopes", []), *scope.get("own", [])]
    return ", ".join(names) if names else "no Marac"


def question_refusal(
    reason: str,
    *,
    scope: dict[str, Any] | None = None,
    marac: str | None = None,
    area: str | None = None,
) -> str:
    """Why a question was refused (spec §6: who may ask about what)."""
    if reason == "not-registered":
        return ("You are not registered with the Marac data team, so I cannot answer questions "
                "about Marac data. Please ask the data team to add you.")
    scope = scope or {}
    if reason == "no-maracs":
        return (f"You are registered as a {scope.get('role', 'contact')} but for no Marac, so "
                "there is nothing I can show you. Please ask the data team.")
    allowed = _q_scope_text(scope)
    subject = marac or area or "that"
    if scope.get("role") == "manager":
        return f"{subject} is outside your scope ({allowed}), so I cannot answer that."
    return (f"You can ask about your own Maracs ({allowed}); {subject} is not one of them, so I "
            "cannot answer that.")


# ---------------------------------------------------------------------------------------------
# Reports: the national picture, the overview, the grid as a workbook (marac-bot report …)
# ---------------------------------------------------------------------------------------------

REPORT_BLANK = "–"  # a figure nobody sent, or a rate with no cases to take it over
REPORT_FIGURE_HEADING = "Figure"
REPORT_YEAR_HEADING = "Year"
REPORT_NATIONAL_HEADING = "National reference"
GRID_XLSX_SHEET = "Upload grid"
NATIONAL_XLSX_SHEET = "National picture"
OVERVIEW_XLSX_SHEET = "Overview"
# The rows of the national picture, in order (keys are handlers.questions.figures' keys).
NATIONAL_ROWS: dict[str, str] = {
    "maracs_submitted": "Maracs that sent figures",
    "meetings": "Meetings",
    "cases": "Cases discussed",
    "children": "Children in the households",
    "per_10k": "Cases per 10,000 adult women (a year)",
    "repeat_rate": "Repeat cases",
    "partner_share": "Referred by partner agencies (not police)",
}
NATIONAL_CHART_Y = "Cases discussed"
OVERVIEW_HEADINGS = (
    "Marac",
    "Region",
    "Police force area",
    "Quarters uploaded",
    "Which quarters",
    "Meetings",
    "Cases",
    "Repeat cases",
    "Police referrals",
    "Cases per 10,000 a year",
    "Held changes open",
)
REPORT_KINDS = {
    "grid": "the upload grid",
    "national": "the national picture",
    "overview": "the overview",
}


def national_title(area: str | None, year: str, year_range: str) -> str:
    return f"{'National picture' if area is None else area}, {year} ({year_range})"


def national_chart_title(area: str | None, year: str) -> str:
    return f"Cases discussed each quarter, {area or 'all Maracs'}, {year}"


def national_notes(maracs_asked: int, min_cases: int) -> tuple[str, ...]:
    """What a reader of the national picture needs to read its figures right."""
    return (
        f"Out of {plural(maracs_asked, 'Marac')} in the registry for this area.",
        "Rates are taken over the meetings that filled in both figures; a blank is not a zero.",
        "Cases per 10,000 adult women are annualised per Marac (cases × 4 ÷ the quarters it "
        "sent), over the Maracs whose population is known.",
        f"Rates over fewer than {min_cases} cases are too few to read much into.",
    )


def overview_title(area: str | None, year: str, year_range: str) -> str:
    return f"Overview, {area or 'all Maracs'}, {year} ({year_range})"


OVERVIEW_NOTE = (
    "Rates are taken over the meetings that filled in both figures; cases per 10,000 adult "
    "women are annualised (cases × 4 ÷ the quarters sent) and blank where the population is "
    "not known."
)


def report_written(kind: str, area: str | None, year: str, out: object) -> str:
    return f"Wrote {REPORT_KINDS[kind]} ({area or 'all Maracs'}, {year}) to {out}"


def report_bad_out(out: object, suffixes: Sequence[str]) -> str:
    *rest, last = suffixes
    return f"--out: {out} must end {', '.join(rest)} or {last}" if rest else (
        f"--out: {out} must end {last}")


def report_bad_year(text: str) -> str:
    return f"--year: {text!r} is not a financial year (try 2024/25)"
