"""Spec §4: "rules for a quarter are about everything accepted for that Marac and quarter after
this file". A row held for confirmation (changed figures for a meeting already sent) is not
accepted: the quarter's bands see that meeting's stored figures, not the held ones, and
meetings new in the file count as ever. On a real SQLite store holding the clean quarter."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy.orm import Session

from kernel.quarters import Quarter
from store.db import Store, open_engine, session_factory, upgrade
from store.views import validation_context
from tests.store_support import load_registry, record
from validation.report import FileReport
from validation.validate import validate_bytes, validate_path

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "clean_libreoffice.xlsx"
TODAY = date(2025, 2, 15)
Q3 = Quarter.from_label("Q3 2024/25")


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = open_engine(f"sqlite:///{tmp_path / 'marac.db'}")
    upgrade(engine)
    store = Store(engine, session_factory(engine))
    with store.sessions() as session:
        load_registry(session)
        first = validation_context(session, today=TODAY, sender="cara@example.org")
        record(session, validate_path(FIXTURE, first))
        session.commit()
        yield session
    engine.dispose()


def resent(session: Session, *, repeats_of: range, new_rows: int = 0) -> FileReport:
    """The clean quarter again, D (repeat cases) raised to C - 1 on the rows ``repeats_of``
    (sheet rows), and ``new_rows`` new meetings of the same quarter whose D is C - 1 too."""
    book = openpyxl.load_workbook(FIXTURE)
    sheet = book.worksheets[0]
    for row in repeats_of:
        sheet[f"D{row}"] = sheet[f"C{row}"].value - 1
    last = sheet.max_row
    for n in range(new_rows):
        values = [cell.value for cell in sheet[2]]
        values[1] = sheet["B2"].value + timedelta(days=n + 1)
        values[3] = values[2] - 1
        sheet.append(values)
    assert sheet.max_row == last + new_rows
    out = io.BytesIO()
    book.save(out)
    context = validation_context(session, today=TODAY, sender="cara@example.org",
                                 declared_quarter=Q3)
    return validate_bytes(out.getvalue(), "croydon-q3.xlsx", context)


def rate_warnings(report: FileReport) -> list[str]:
    return [str(i.value) for i in report.issues if i.code == "unusual-repeat-rate"]


def test_the_clean_quarter_again_is_unchanged_and_in_its_band(session: Session) -> None:
    report = resent(session, repeats_of=range(0))
    assert report.rows_unchanged == 6 and rate_warnings(report) == []


def test_held_changes_do_not_move_the_quarters_rates(session: Session) -> None:
    report = resent(session, repeats_of=range(2, 8))
    assert report.rows_held == 6 and report.rows_accepted == 0
    assert rate_warnings(report) == []  # the accepted quarter is still the stored one: 34%


def test_new_meetings_count_beside_the_stored_figures_of_held_ones(session: Session) -> None:
    """Three meetings held, three new ones at C - 1: the quarter after this file is the six
    stored meetings (32 repeats of 95 cases) and the three new ones (3 x 13 of 14): 71 of
    137, 52%. Counting the held figures instead would make it 97 of 137, 71%."""
    report = resent(session, repeats_of=range(2, 5), new_rows=3)
    assert (report.rows_held, report.rows_accepted, report.rows_unchanged) == (3, 3, 3)
    assert rate_warnings(report) == ["52%"]
