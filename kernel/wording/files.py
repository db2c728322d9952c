"""A file's outcome, and why a file was refused before any parser saw it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kernel.wording.common import plural

# ---------------------------------------------------------------------------------------------
# File outcomes, as the CLI and replies state them (interface.md, email behaviour).
# ---------------------------------------------------------------------------------------------


# The outcome line names this many Maracs, and this many quarters, then "and N more": a file
# of the data team's can cover every Marac over years (interface.md: "long lists are capped").
MARACS_LISTED = 5
QUARTERS_LISTED = 4


def _listed(items: Sequence[str], limit: int, separator: str, noun: str) -> str:
    """ "A, B, C" or, past ``limit``, "A, B and 12 more Maracs"."""
    shown = separator.join(items[:limit])
    rest = len(items) - limit
    if rest <= 0:
        return shown
    return f"{shown} and {rest:,} more {noun}{'' if rest == 1 else 's'}"


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
    """One line per file: "croydon-q3.xlsx: 12 of 13 rows accepted for Croydon, Q3 2024/25 (…)";
    at most ``MARACS_LISTED`` Maracs and ``QUARTERS_LISTED`` quarters named, then how many more."""
    if rejected_reason is not None:
        return f"{file}: not accepted. {rejected_reason}"
    where = ", ".join(x for x in (_listed(maracs, MARACS_LISTED, ", ", "Marac"),
                                   _listed(quarters, QUARTERS_LISTED, "; ", "quarter")) if x)
    for_where = f" for {where}" if where else ""
    if rows_total and rows_unchanged == rows_total:
        # A harmless re-send: not "0 of 6 rows accepted".
        return (f"{file}: nothing new{for_where}; "
                f"{'the row is' if rows_total == 1 else f'all {rows_total} rows are'} already "
                "recorded with the same figures.")
    verb = "would be accepted" if checked_only else "accepted"
    line = f"{file}: {rows_accepted} of {plural(rows_total, 'row')} {verb}{for_where}"
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
# ``validate`` stores nothing: it speaks of a check, never of a submission.
CHECK_HEADINGS: dict[str, str] = {
    **SEVERITY_HEADINGS,
    "hard": "Must fix (these rows would not be accepted)",
}


def severity_heading(severity: str, *, checked_only: bool) -> str:
    return (CHECK_HEADINGS if checked_only else SEVERITY_HEADINGS)[severity]

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


