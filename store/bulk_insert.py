"""Many rows into one table in as few statements as each database does best (issue 14).

SQLite: the driver's executemany, CHUNK rows at a time; sqlite3 runs it in C and a statement
costs no round trip.

PostgreSQL: psycopg's executemany is one pipeline but one INSERT per row on the server, each
parsed, executed and, on ``meeting_versions``, running the totals' statement trigger (migration
0013) once per row. Here the rows go JSON_CHUNK at a time as one JSON text that the server
turns into rows of the table's own type (``json_populate_recordset``): one statement, whose
text never changes, so psycopg prepares it once per connection. One array per column
(``unnest``) was one statement too, but psycopg dumps arrays in Python, element by element.
Per call for a file's first versions, by turns (medians of 30): 6 rows 1.48 ms executemany,
1.28 ms unnest, 0.77 ms JSON; 200 rows 42.9, 14.4 and 10.4 ms.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Insert, Table, TextClause, insert, text
from sqlalchemy.orm import Session

# Rows (or keys) per statement: its parameters stay well under SQLite's 32,766 and
# PostgreSQL's 65,535 limits.
CHUNK = 500
# A few MB of JSON a statement: a national file's rows in a handful.
JSON_CHUNK = 5_000


def insert_many(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (each with the same keys, column names) into ``table``, in the
    caller's transaction. Times must carry their zone, as for any write to the store."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        for start in range(0, len(rows), CHUNK):
            session.execute(_insert(table), list(rows[start:start + CHUNK]))
        return
    statement = _from_json(table, tuple(rows[0]))
    for start in range(0, len(rows), JSON_CHUNK):
        session.execute(statement, {"rows": _json_text(rows[start:start + JSON_CHUNK])})


def _json_text(rows: Sequence[Mapping[str, Any]]) -> str:
    """The rows as JSON. PostgreSQL's text holds no NUL character, which a cell of a file can
    carry (an issue quotes the cell); there each becomes U+FFFD, the stand-in for a character
    that cannot be shown, rather than the whole recording failing. Looked for in the JSON text,
    so the rows are walked again only when one may have it."""
    payload = json.dumps(list(rows), default=_json_value, separators=(",", ":"))
    if "\\u0000" not in payload:
        return payload
    return json.dumps([{key: value.replace("\x00", "\ufffd") if isinstance(value, str) else value
                        for key, value in row.items()} for row in rows],
                      default=_json_value, separators=(",", ":"))


@cache  # built once per table, not for every message (issue 14)
def _insert(table: Table) -> Insert:
    return insert(table)


@cache  # built once per (table, columns): the same few every message (issue 14)
def _from_json(table: Table, columns: tuple[str, ...]) -> TextClause:
    from sqlalchemy.dialects import postgresql  # only where PostgreSQL is the store

    quote = postgresql.dialect().identifier_preparer.quote  # "column" is a keyword there
    names = ", ".join(quote(column) for column in columns)
    return text(f"INSERT INTO {quote(table.name)} ({names}) SELECT {names} "
                f"FROM json_populate_recordset(NULL::{quote(table.name)}, CAST(:rows AS json))")


def _json_value(value: object) -> str:
    """What json.dumps cannot write itself: times in UTC, days, as ISO text."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            # As store.types.UTCDateTime refuses it: guessing its zone would corrupt history.
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware time")
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot go into a JSON row")
