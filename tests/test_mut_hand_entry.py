"""A meeting entered by hand, checked as a one-row sheet (validation/hand_entry.py), pinned
where a mutation run found it loose: the findings name the entry's label as their sheet, a
finding about no cell is about no field, and the kept fingerprint follows the values."""

from __future__ import annotations

from datetime import date

from kernel.config import Bands
from kernel.entry import MeetingEntry
from validation.context import ValidationContext
from validation.hand_entry import field_of, validate_entry

CONTEXT = ValidationContext(today=date(2025, 1, 10), bands=Bands())
DAY = date(2024, 10, 3)


def test_findings_name_the_entry_and_the_field() -> None:
    report = validate_entry(
        MeetingEntry("Croydon", DAY, {"cases": "lots"}), CONTEXT, label="form from Cara"
    )
    about = {issue.code: (issue.sheet, field_of(issue)) for issue in report.issues}
    assert about["invalid-count"] == ("form from Cara", "cases")
    # No registry to check against: a finding about the whole entry, so about no one field.
    assert about["registry-not-checked"] == (None, None)


def test_the_fingerprint_is_the_values_entered() -> None:
    def fingerprint(cases: int) -> str | None:
        entry = MeetingEntry("Croydon", DAY, {"cases": cases})
        return validate_entry(entry, CONTEXT, label="form").sha256

    first = fingerprint(12)
    assert first is not None and len(first) == 64
    assert fingerprint(12) == first  # the same figures again: the same "file"
    assert fingerprint(13) != first
