"""Text from a file quoted back as a person reads it: never a Python escape such as "\\xa0"."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from kernel import wording
from kernel.quarters import Quarter
from kernel.wording import web
from tests.fixtures import make_fixtures as mf
from validation.context import ValidationContext
from validation.validate import validate_path

ESCAPE = "\\"  # what repr leaves in a quote: "Croydon\xa0", "\t", "\u200b"


@pytest.mark.parametrize(("text", "shown"), [
    ("Croydon\xa0", "'Croydon ' (with a non-breaking space)"),
    ("Croy\u200bdon", "'Croydon' (with an invisible character)"),
    ("Croydon\t", "'Croydon ' (with an unusual space)"),
    ("Croydon\nMarac", "'Croydon Marac' (with a line break)"),
    ("Children's", '"Children\'s"'),
    ("twelve", "'twelve'"),
])
def test_a_quote_shows_the_text_plainly_and_names_what_cannot_be_seen(
        text: str, shown: str) -> None:
    assert wording.quoted(text) == shown
    assert wording.echoed(text) == shown


def test_no_template_quotes_with_an_escape() -> None:
    said = wording.issue_message("normalised-value", value="Croydon\xa0", cell="A3",
                                 normalised="Croydon")
    assert said == "A3: we read 'Croydon ' (with a non-breaking space) as Croydon."
    assert ESCAPE not in wording.registry_error("registry-bad-email", value="a\u00a0@b")
    assert ESCAPE not in web.unknown_marac("Croydon\xa0")
    # A date the file holds but no meeting can have is said as a date, not as Python's.
    assert "1 Jan 1800" in wording.issue_message("invalid-date", value=date(1800, 1, 1), cell="B3")


def test_a_name_with_a_non_breaking_space_is_noted_in_words(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    mf.to_workbook({mf.DATA_SHEET: mf.put(mf.baseline_grid(), "A3", "Croydon\xa0")}).save(path)
    report = validate_path(path, ValidationContext(today=date(2025, 2, 15),
                                                   declared_quarter=Quarter(2024, 3)))
    [note] = [i for i in report.issues if i.code == "normalised-value" and i.cell == "A3"]
    assert "'Croydon ' (with a non-breaking space)" in note.message
    assert all(ESCAPE not in issue.message for issue in report.issues)
