"""The outcome line's lists are capped (interface.md, email behaviour: "long lists are capped
with "and N more""). Every reply, chat message and ``validate`` starts with this line, and a
file of the data team's can cover every Marac over years: it names the first few Maracs and
quarters, then how many more; a name taken from the file's own text is cut like any value
(by reading the rows: validation/cells.py)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from kernel import wording
from reports.text import outcome_line
from tests.fixtures import make_fixtures as mf
from validation.context import ValidationContext
from validation.safe_text import MAX_DISPLAY_TEXT
from validation.validate import validate_bytes

MARACS = wording.MARACS_LISTED
QUARTERS = wording.QUARTERS_LISTED


def line(maracs: list[str], quarters: list[str]) -> str:
    return wording.file_outcome_line(file="all.xlsx", rows_total=9, rows_accepted=9,
                                     rows_held=0, rows_unchanged=0, maracs=maracs,
                                     quarters=quarters)


def names(count: int) -> list[str]:
    return [f"Marac {i:03d}" for i in range(count)]


def quarters(count: int) -> list[str]:
    return [f"Q{i % 4 + 1} {2000 + i // 4}/{(1 + i // 4) % 100:02d}" for i in range(count)]


def test_the_caps_are_a_few_names_not_a_page() -> None:
    assert (MARACS, QUARTERS) == (5, 4)


@pytest.mark.parametrize("count", [1, 2, MARACS])
def test_up_to_the_cap_every_marac_is_named(count: int) -> None:
    assert line(names(count), ["Q3 2024/25"]) == (
        f"all.xlsx: 9 of 9 rows accepted for {', '.join(names(count))}, Q3 2024/25.")


@pytest.mark.parametrize(("count", "more"), [
    (MARACS + 1, "1 more Marac"), (MARACS + 2, "2 more Maracs"), (300, "295 more Maracs"),
    (MARACS + 1234, "1,234 more Maracs"),
])
def test_past_the_cap_the_first_are_named_and_the_rest_counted(count: int, more: str) -> None:
    assert line(names(count), ["Q3 2024/25"]) == (
        f"all.xlsx: 9 of 9 rows accepted for {', '.join(names(MARACS))} and {more}, "
        "Q3 2024/25.")


@pytest.mark.parametrize("count", [1, QUARTERS])
def test_up_to_the_cap_every_quarter_is_named(count: int) -> None:
    assert line(["Croydon"], quarters(count)) == (
        f"all.xlsx: 9 of 9 rows accepted for Croydon, {'; '.join(quarters(count))}.")


@pytest.mark.parametrize(("count", "more"), [
    (QUARTERS + 1, "1 more quarter"), (26, "22 more quarters"),
])
def test_past_the_cap_the_first_quarters_are_named_and_the_rest_counted(count: int,
                                                                         more: str) -> None:
    assert line(["Croydon"], quarters(count)) == (
        f"all.xlsx: 9 of 9 rows accepted for Croydon, {'; '.join(quarters(QUARTERS))} and "
        f"{more}.")


def test_a_resend_of_many_maracs_is_capped_too() -> None:
    text = wording.file_outcome_line(file="all.xlsx", rows_total=9, rows_accepted=0,
                                     rows_held=0, rows_unchanged=9, maracs=names(9),
                                     quarters=quarters(1))
    assert text == (f"all.xlsx: nothing new for {', '.join(names(MARACS))} and 4 more Maracs, "
                    f"{quarters(1)[0]}; all 9 rows are already recorded with the same figures.")


def csv_of(rows: list[list[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(mf.headers())
    for row in rows:
        writer.writerow([v.strftime("%d/%m/%Y") if isinstance(v, date) else v for v in row])
    return out.getvalue().encode()


def test_a_file_of_many_maracs_and_quarters_is_summed_up_in_one_short_line() -> None:
    """Through validation: 8 Maracs (one with a 500-letter name, as no registry checks it
    here) over 6 quarters."""
    long_name = "X" * 500
    maracs = [f"Marac {chr(65 + i)}" for i in range(7)] + [long_name]
    rows = []
    for i, marac in enumerate(maracs):
        row = mf.meeting(0, marac)
        row[1] = date(2023, 4, 3) + timedelta(days=91 * (i % 6))
        rows.append(row)
    report = validate_bytes(csv_of(rows), "all.csv", ValidationContext(today=date(2025, 6, 1)))
    assert report.rows_accepted == 8
    shown_first = ", ".join(f"Marac {c}" for c in "ABCDE")
    assert outcome_line(report, checked_only=True) == (
        f"all.csv: 8 of 8 rows would be accepted for {shown_first} and 3 more Maracs, "
        "Q1 2023/24 (1 Apr – 30 Jun 2023); Q2 2023/24 (1 Jul – 30 Sep 2023); "
        "Q3 2023/24 (1 Oct – 31 Dec 2023); Q4 2023/24 (1 Jan – 31 Mar 2024) and 2 more "
        "quarters.")
    assert long_name not in outcome_line(report, checked_only=True)


def test_a_name_from_the_file_is_no_longer_than_any_value_it_shows() -> None:
    row = mf.meeting(0, "Y" * 500)
    report = validate_bytes(csv_of([row]), "one.csv", ValidationContext(today=date(2025, 6, 1)))
    text = outcome_line(report, checked_only=True)
    assert f"for {'Y' * MAX_DISPLAY_TEXT}, Q" in text
    assert "Y" * (MAX_DISPLAY_TEXT + 1) not in text
