"""The workbooks the bot writes: the annotated copy, its issue list, the template."""

from __future__ import annotations

from collections.abc import Sequence

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


