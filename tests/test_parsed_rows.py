"""A parsed row's counts are made into a dict when first read (validation/report.py), and a
Marac name's cleaning is remembered between files (validation/parse.py): both must read and
behave exactly as before."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from datetime import date
from pathlib import Path

from validation.cells import Status, to_name
from validation.context import ValidationContext
from validation.parse import _name
from validation.report import LaterCounts, ParsedRow, PendingCounts
from validation.validate import validate_path

FIXTURES = Path(__file__).parent / "fixtures"
CONTEXT = ValidationContext(today=date(2025, 2, 15))
DAY = date(2024, 10, 3)


def _pending() -> ParsedRow:
    return ParsedRow(4, "Croydon", DAY, PendingCounts((("cases", "repeat"), [12, None])))


def test_pending_counts_read_as_the_dict_they_stand_for() -> None:
    row = _pending()
    assert row.counts == {"cases": 12, "repeat": None}
    assert type(row.counts) is dict
    assert row.counts is row.counts  # made once
    assert row == ParsedRow(4, "Croydon", DAY, {"cases": 12, "repeat": None})
    assert "counts={'cases': 12, 'repeat': None}" in repr(row)


def test_a_change_to_the_counts_stays() -> None:
    row = _pending()
    row.counts["cases"] = 13
    assert row.counts == {"cases": 13, "repeat": None}
    row.counts = {"cases": 1}
    assert row.counts == {"cases": 1}


def test_copies_pickles_and_dataclass_helpers_see_the_counts() -> None:
    assert pickle.loads(pickle.dumps(_pending())).counts == {"cases": 12, "repeat": None}
    assert copy.deepcopy(_pending()).counts == {"cases": 12, "repeat": None}
    assert dataclasses.asdict(_pending())["counts"] == {"cases": 12, "repeat": None}
    assert dataclasses.replace(_pending(), hard=True).counts == {"cases": 12, "repeat": None}
    assert [f.name for f in dataclasses.fields(ParsedRow)][:4] == [
        "sheet_row", "marac_text", "meeting_date", "counts"]


def test_counts_stay_a_required_field() -> None:
    try:
        ParsedRow(4, "Croydon", DAY)  # type: ignore[call-arg]
    except TypeError as exc:
        assert "counts" in str(exc)
    else:
        raise AssertionError("a row without counts was made")


def test_a_validated_file_gives_every_row_its_counts() -> None:
    report = validate_path(FIXTURES / "blank_vs_zero.xlsx", CONTEXT)
    assert report.rows
    for row in report.rows:
        assert type(row.counts) is dict
        assert len(row.counts) == 30
        assert all(v is None or (type(v) is int and v >= 0) for v in row.counts.values())
    assert any(v is None for row in report.rows for v in row.counts.values())
    assert any(v == 0 for row in report.rows for v in row.counts.values())


def test_a_remembered_name_is_the_same_answer_each_time() -> None:
    for text in ["  Croydon   Marac ", "Croydon Marac", "x\u202eMarac", "   ", "a" * 150]:
        first, again = _name(text), _name(text)
        assert first == again == to_name(text)
    assert _name("  Croydon   Marac ").status is Status.NORMALISED
    assert _name("   ").status is Status.BLANK
    long_text = "b" * 5000  # not remembered, still cleaned and cut
    assert _name(long_text) == to_name(long_text)
    assert _name(12.0) == to_name(12.0)


def test_report_tallies_read_every_flag() -> None:
    """The tallies skip the walk over rows when no row is flagged: with flags set they must
    still count each row once, a rejected row never as held or unchanged, and leave rejected
    rows' Maracs and quarters out."""
    from validation.report import FileReport

    later = date(2025, 1, 9)
    rows = [
        ParsedRow(2, "Croydon", DAY, {}),
        ParsedRow(3, "croydon ", DAY, {}, marac="Croydon"),
        ParsedRow(4, "Sutton", later, {}, hard=True),
        ParsedRow(5, "Merton", later, {}, held=True),
        ParsedRow(6, "Merton", None, {}, unchanged=True),
        ParsedRow(7, "Bromley", later, {}, held=True, hard=True),
        ParsedRow(8, None, None, {}),
    ]
    report = FileReport(file="x.xlsx", rows=rows)
    assert (report.rows_total, report.rows_rejected, report.rows_held,
            report.rows_unchanged, report.rows_accepted) == (7, 2, 1, 1, 3)
    assert [r.sheet_row for r in report.accepted_rows] == [2, 3, 8]
    assert report.maracs == ["Croydon", "Merton"]
    assert [q.label for q in report.quarters] == ["Q3 2024/25", "Q4 2024/25"]
    assert report.status == "held"
    clean = FileReport(file="y.xlsx", rows=[rows[0], rows[1], rows[6]])
    assert (clean.rows_rejected, clean.rows_held, clean.rows_unchanged,
            clean.rows_accepted) == (0, 0, 0, 3)
    assert clean.accepted_rows == [rows[0], rows[1], rows[6]]
    assert clean.accepted_rows is not clean.rows
    assert clean.maracs == ["Croydon"] and clean.status == "accepted"


def test_a_tally_is_every_count_at_once() -> None:
    """``tally()`` counts as the five properties do, each way it can go: no flag, only
    rejected, only held, only unchanged, a rejected row also marked held, all rejected."""
    from validation.report import FileReport, RowTally

    def row(n: int, **flags: bool) -> ParsedRow:
        return ParsedRow(n, "Croydon", DAY, {}, **flags)

    cases = {
        "none": ([], RowTally(0, 0, 0, 0, 0), "accepted"),
        "clean": ([row(2), row(3)], RowTally(2, 2, 0, 0, 0), "accepted"),
        "rejected": ([row(2, hard=True), row(3)], RowTally(2, 1, 1, 0, 0),
                     "partially-accepted"),
        "held": ([row(2, held=True), row(3)], RowTally(2, 1, 0, 1, 0), "held"),
        "unchanged": ([row(2, unchanged=True), row(3), row(4)], RowTally(3, 2, 0, 0, 1),
                      "accepted"),
        "rejected, also held": ([row(2, hard=True, held=True), row(3, unchanged=True),
                                 row(4)], RowTally(3, 1, 1, 0, 1), "partially-accepted"),
        "all rejected": ([row(2, hard=True), row(3, hard=True, unchanged=True)],
                         RowTally(2, 0, 2, 0, 0), "rejected"),
    }
    for name, (rows, expected, status) in cases.items():
        report = FileReport(file="x.xlsx", rows=rows)
        assert report.tally() == expected, name
        assert (report.rows_total, report.rows_accepted, report.rows_rejected,
                report.rows_held, report.rows_unchanged) == tuple(
                    dataclasses.astuple(expected)), name
        assert report.status == status, name
        shown = report.to_dict()
        assert (shown["status"], shown["rows_total"], shown["rows_accepted"],
                shown["rows_rejected"], shown["rows_held"], shown["rows_unchanged"]
                ) == (status, *dataclasses.astuple(expected)), name


def test_a_validated_rows_counts_wait_in_the_table_and_travel_as_their_own() -> None:
    report = validate_path(FIXTURES / "blank_vs_zero.xlsx", CONTEXT)
    first, second = report.rows[0], report.rows[1]
    assert type(first.__dict__["_counts"]) is LaterCounts  # nothing made yet
    copied = pickle.loads(pickle.dumps(second))
    assert copied.counts == second.counts and type(copied.counts) is dict
    assert len(pickle.dumps(second)) < 2_000  # its own values, not the table's
    assert copy.deepcopy(first).counts == first.counts
    assert dataclasses.replace(first, hard=True).counts == first.counts
    assert type(first.__dict__["_counts"]) is dict  # made once, then kept
