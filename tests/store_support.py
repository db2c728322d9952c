"""Building blocks for the store tests: a small registry, report rows as validation makes them,
and recording a report the way the submit path will."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from store.meetings import record_submission
from store.models import Submission
from store.registry import import_csv
from store.views import DbStoredMeetings
from validation.columns import COUNT_KEYS, Edition
from validation.report import FileReport, ParsedRow

MARACS_CSV = "\n".join(
    [
        "name,aliases,police_force_area,region,nation,local_authorities,adult_female_population",
        "Croydon,Croydon Borough,Metropolitan Police,London,England,London Borough of Croydon,"
        "160300",
        "Barking and Dagenham,LBBD,Metropolitan Police,London,England,"
        "London Borough of Barking and Dagenham,89800",
        "Leeds,,West Yorkshire Police,Yorkshire and the Humber,England,"
        "Leeds City Council;Leeds Health,",
        "Kirklees,,West Yorkshire Police,Yorkshire and the Humber,England,Kirklees Council,180000",
    ]
)

CONTACTS_CSV = """name,email,role,maracs,slack_user_id,teams_id,channels
Cara Coordinator,cara@example.org,coordinator,Croydon,U001,,email;slack
Chris Chair,chris@example.org,chair,Croydon Marac,,,
Dana Dual,dana@example.org,coordinator,Barking & Dagenham;Leeds,,aad-dana,teams
Mo Manager,mo@example.org,manager,West Yorkshire Police,,,email
Lena London,lena@example.org,manager,London,,,email
Ada Admin,ada@example.org,admin,*,,,email
"""

T0 = datetime(2024, 11, 1, 9, 0, tzinfo=UTC)


def load_registry(session: Session) -> None:
    for text in (MARACS_CSV, CONTACTS_CSV):
        result = import_csv(session, text)
        assert result.ok, result.summary()
    session.commit()


def counts(**overrides: int | None) -> dict[str, int | None]:
    """A plausible meeting: 12 cases, some fields blank (not collected), some 0."""
    base: dict[str, int | None] = {key: None for key in COUNT_KEYS}
    base.update(
        cases=12,
        repeat_cases=4,
        children=15,
        cases_with_children=7,
        ref_police=6,
        ref_idva=3,
        ref_housing=0,
        minoritised=2,
        male=1,
    )
    base.update(overrides)
    return base


def row(sheet_row: int, marac: str, day: date, **overrides: int | None) -> ParsedRow:
    return ParsedRow(sheet_row, marac, day, counts(**overrides), marac=marac)


def report(*rows: ParsedRow, file: str = "croydon-q3.xlsx") -> FileReport:
    return FileReport(file, edition=Edition.UK, sheet="Marac data", rows=list(rows))


def flag_as_validation_would(session: Session, report_: FileReport) -> None:
    """Set held/unchanged from the stored meetings, as validation's history check does."""
    stored = DbStoredMeetings(session)
    for r in report_.rows:
        assert r.marac is not None and r.meeting_date is not None
        previous = stored.current(r.marac, r.meeting_date)
        if previous is not None:
            same = dict(previous) == {k: r.counts.get(k) for k in COUNT_KEYS}
            r.unchanged, r.held = same, not same


def record(
    session: Session,
    report_: FileReport,
    *,
    sender: str = "cara@example.org",
    confirm: bool = False,
    now: datetime = T0,
    dedupe_key: str | None = None,
    raw: bytes = b"PK\x03\x04 pretend workbook",
) -> Submission:
    return record_submission(
        session,
        report=report_,
        raw=raw,
        channel="email",
        sender=sender,
        received_at=now - timedelta(minutes=1),
        declared_quarter=None,
        dedupe_key=dedupe_key,
        confirm=confirm,
        held_expiry=timedelta(days=14),
        now=now,
    )


@contextmanager
def executed(engine: Engine, keep: Callable[[str], bool] = lambda _statement: True
             ) -> Iterator[list[str]]:
    """The SQL statements the engine runs inside the block (those ``keep`` says), in order."""
    seen: list[str] = []

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        if keep(statement):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def write_lock_free(database: Path) -> bool:
    """Whether another connection to the SQLite file can take its write lock right now
    (no wait at all): what a worker's recording needs."""
    with closing(sqlite3.connect(database, timeout=0, isolation_level=None)) as other:
        try:
            other.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return False
        other.execute("COMMIT")
        return True


def insert_sizes(session: Session, into: str, work: Callable[[], object]) -> list[int]:
    """Rows in each INSERT into table ``into`` that ``work`` sent: an executemany's list, a
    JSON text's array, or one row's own parameters."""
    sizes: list[int] = []

    def seen(_conn: object, _cursor: object, statement: str, parameters: Any,
             _context: object, executemany: bool) -> None:
        if not statement.lstrip().startswith(f"INSERT INTO {into} "):
            return
        if executemany:
            sizes.append(len(parameters))
        elif isinstance(parameters, dict) and "rows" in parameters:
            sizes.append(len(json.loads(parameters["rows"])))
        else:
            sizes.append(1)

    with watching_statements(session, seen):
        work()
    return sizes


@contextmanager
def watching_statements(session: Session, listener: Callable[..., None]) -> Iterator[None]:
    """``listener`` hears every statement the session's engine sends meanwhile
    (SQLAlchemy's before_cursor_execute)."""
    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", listener)
