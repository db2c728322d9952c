"""Yearless quarter phrases and senseless years (handlers/questions/when.py), pinned where a
mutation run found them loose: an em dash, a full stop after a month, the quarters that end in
June and September, "the most recent quarter", two quarters named at once, and a day before a
senseless year."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.questions.when import quarter_without_year, senseless_year
from kernel.quarters import Quarter

TODAY = date(2025, 6, 1)  # Q1 2025/26 has started


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("oct\u2014dec", "Q3 2024/25"),  # an em dash
        ("oct. to dec.", "Q3 2024/25"),  # abbreviations with a full stop
        ("quarter ending june", "Q1 2025/26"),
        ("the september quarter", "Q2 2024/25"),
        ("the most recent quarter", "Q4 2024/25"),  # the last one that ended
    ],
)
def test_more_month_phrases(phrase: str, expected: str) -> None:
    assert quarter_without_year(phrase, today=TODAY) == Quarter.from_label(expected)


def test_two_quarters_named_are_said_back_both() -> None:
    # "june quarter" inside the range is skipped, and the phrase after it is still read.
    said = quarter_without_year("april-june quarter and the december quarter", today=TODAY)
    assert said == "Q1 2025/26 and Q3 2024/25"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("q3 2024 / 25", None),  # spaces round the slash: still 2024/25
        ("fy 3/10", None),  # a one-digit part is a day, "fy" or not
        ("meeting of 3/10 in q3 2024/26", "2024/26"),  # a day first, then a bad year
    ],
)
def test_years_written_loosely(text: str, said: str | None) -> None:
    assert senseless_year(text, today=TODAY) == said
