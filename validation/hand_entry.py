"""A meeting entered by hand, checked as a file row (issue 16).

The entry becomes a one-row sheet (the template's headers in the edition asked for, the values
as entered below them) and goes through ``validate_workbook``: the same reading of names,
dates and counts, the same check units, the stored meetings (held changes) and the quarter's
bands. Nothing here decides anything a file's row would not: a form, a card and a sentence
get exactly the issues the same figures get in a spreadsheet.
"""

from __future__ import annotations

import hashlib
import re

from kernel.entry import MeetingEntry
from validation.columns import COUNT_KEYS, FIELDS, Edition
from validation.context import ValidationContext
from validation.issues import Issue
from validation.reader import SheetData, Workbook
from validation.report import FileReport
from validation.validate import validate_workbook

# The entry's place in its one-row sheet: headers in row 1, the meeting in row 2.
ENTRY_ROW = 2
_LETTERS = re.compile(r"[A-Z]+")
_KEY_BY_LETTER = {f.letter: f.key for f in FIELDS}


def entry_sheet(entry: MeetingEntry, *, edition: Edition, name: str) -> SheetData:
    """The entry as the reader would hand over a sheet holding it. Text-native, like a CSV:
    a form's "12" is typed text, not a number Excel stored as text worth a note."""
    headers: list[object] = [f.header(edition) for f in FIELDS]
    values: list[object] = [entry.marac, entry.meeting_date]
    values += [entry.counts.get(key) for key in COUNT_KEYS]
    return SheetData(name, [(1, headers), (ENTRY_ROW, values)], text_native=True)


def validate_entry(
    entry: MeetingEntry, context: ValidationContext, *, label: str, edition: Edition = Edition.UK
) -> FileReport:
    """The report a file holding just this meeting would get, named ``label``."""
    report = validate_workbook(
        Workbook([entry_sheet(entry, edition=edition, name=label)]), label, context
    )
    report.sha256 = hashlib.sha256(entry.to_json()).hexdigest()
    return report


def field_of(issue: Issue) -> str | None:
    """The field an issue is about ("marac", "meeting_date", "repeat_cases", …), read from its
    cell in the one-row sheet; None for a finding about no one field."""
    found = _LETTERS.match(issue.cell or "")
    return _KEY_BY_LETTER.get(found.group(0)) if found else None
