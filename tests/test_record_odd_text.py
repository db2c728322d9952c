"""A file whose cells carry odd characters is recorded like any other, on both databases.

The hostile corpus (tests/hostile_corpus.py) puts control characters, bidi overrides, NUL,
non-characters and formula text into a cell; ``marac-bot validate`` has long answered for each
(tests/test_hostile_corpus.py). Recording them is another matter: an issue quotes the cell, and
PostgreSQL's text cannot hold a NUL character. Such a file once failed its whole recording
there, and its sender got an apology instead of an answer. Now each is recorded, its issues as
the report has them (a NUL kept as U+FFFD on PostgreSQL).
"""

from __future__ import annotations

from datetime import date
from typing import cast

import pytest
from sqlalchemy import String, Table, select
from sqlalchemy.orm import Session

from store.models import HeldChange, MeetingVersion, SubmissionIssue
from store.views import validation_context
from tests.hostile_corpus import CONTROL_TEXT, clean_grid, handmade_xlsx
from tests.store_support import load_registry, record
from validation.validate import validate_bytes

TODAY = date(2025, 2, 15)


def _with_text(text: str, column: int) -> bytes:
    grid = [list(r) for r in clean_grid()]
    grid[2][column] = text
    return handmade_xlsx(grid)


@pytest.mark.parametrize("column", [0, 2], ids=["marac-name", "a-count"])
@pytest.mark.parametrize("text", CONTROL_TEXT, ids=lambda t: t.encode().hex()[:16])
def test_a_cell_of_odd_characters_is_recorded_with_its_issues(
    db_session: Session, text: str, column: int
) -> None:
    load_registry(db_session)
    data = _with_text(text, column)
    report = validate_bytes(data, "odd.xlsx", validation_context(db_session, today=TODAY))
    assert report.issues, "the odd cell is remarked on"
    submission = record(db_session, report, raw=data)
    db_session.commit()
    stored = db_session.execute(
        select(SubmissionIssue.code, SubmissionIssue.cell, SubmissionIssue.value,
               SubmissionIssue.message)
        .where(SubmissionIssue.submission_id == submission.id)
        .order_by(SubmissionIssue.position)).all()
    postgresql = db_session.get_bind().dialect.name == "postgresql"

    def as_stored(value: object) -> object:
        if value is None:
            return None
        value = str(value)
        return value.replace("\x00", "\ufffd") if postgresql else value

    assert [tuple(r) for r in stored] == [
        (i.code, i.cell, as_stored(i.to_dict()["value"]), as_stored(i.message))
        for i in report.issues]
    assert (submission.rows_total, submission.rows_accepted) == (
        report.rows_total, report.rows_accepted)


def test_a_sheet_named_past_the_column_is_recorded_with_its_name_cut(db_session: Session) -> None:
    """Excel names a sheet in at most 31 characters; a hand-made file may use thousands, which
    PostgreSQL refused to store (SQLite took them), failing the whole recording. The name is
    cut to the column's length, with an ellipsis, wherever it is stored: the versions, a held
    change and the issues (here a held change, and a count that is not a number)."""
    load_registry(db_session)
    name = "Marac data " + "x" * 3000
    grid = [list(r) for r in clean_grid()]
    first = handmade_xlsx(grid, sheet_name=name.encode())
    record(db_session, validate_bytes(first, "long.xlsx",
                                      validation_context(db_session, today=TODAY)), raw=first)
    db_session.commit()
    grid[2][2] = "twelve"  # a count that is not a number: a hard issue on that row
    grid[3][2] = int(grid[3][2]) + 1  # type: ignore[call-overload]  # changed: held
    again = handmade_xlsx(grid, sheet_name=name.encode())
    report = validate_bytes(again, "long-again.xlsx", validation_context(db_session, today=TODAY))
    assert report.rows_held == 1 and report.rows_rejected == 1
    record(db_session, report, raw=again, dedupe_key="again")
    db_session.commit()
    cut = name[:199] + "…"
    assert set(db_session.scalars(select(MeetingVersion.sheet))) == {cut}
    assert set(db_session.scalars(select(HeldChange.sheet))) == {cut}
    assert cut in set(db_session.scalars(select(SubmissionIssue.sheet)))


def test_what_a_version_and_its_held_change_keep_of_a_sheet_is_as_long() -> None:
    """Recording cuts a sheet's name once, to the versions' length, for both tables."""
    versions = cast(String, cast(Table, MeetingVersion.__table__).c.sheet.type)
    held = cast(String, cast(Table, HeldChange.__table__).c.sheet.type)
    assert versions.length == held.length == 200


@pytest.mark.parametrize("extra", [0, 1])
def test_a_sheet_name_as_long_as_its_column_is_kept_whole(db_session: Session,
                                                          extra: int) -> None:
    load_registry(db_session)
    name = "S" * (200 + extra)
    data = handmade_xlsx([list(r) for r in clean_grid()], sheet_name=name.encode())
    report = validate_bytes(data, "s.xlsx", validation_context(db_session, today=TODAY))
    record(db_session, report, raw=data)
    db_session.commit()
    kept = name if not extra else name[:199] + "…"
    assert set(db_session.scalars(select(MeetingVersion.sheet))) == {kept}
