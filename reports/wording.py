"""All user-facing wording, in one place (STYLE.md 10).

Tone: plain English, say what to change. Tests call these functions rather than copying text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
    "duplicate-meeting": "{marac} on {value} appears more than once in this file (rows "
    "{rows}). Please keep one row per meeting.",
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


def issue_message(code: str, **params: Any) -> str:
    """The message for an issue code; missing parameters render as blanks, never crash."""
    template = ISSUE_TEMPLATES[code]
    return template.format_map(_Defaulting(params))


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
    return "DEMO registry: made-up Maracs contacts at example.org, for trying the bot out."


Formatter = Callable[..., str]


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


def and_more(n: int) -> str:
    return f"  … and {n} more (the attached list has them all)."


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


def question_not_yet_text() -> str:
    return ("Thank you for your question. Answering questions by email is not available yet; "
            "please ask the Marac data team directly.")


def incident_text(ref: str) -> str:
    return (f"We hit a problem handling your message (reference {ref}). The data team has been "
            "told and will look into it; you do not need to send it again.")


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
