"""What each racing process runs (importable, for multiprocessing's spawn start method)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from store.db import Store
from store.reconcile import expected_outcome
from tests.store_support import T0, record, report, row

# (sheet row, Marac, ISO date, count overrides): plain data, so it pickles across processes.
RowSpec = tuple[int, str, str, dict[str, int | None]]


def record_in_process(
    url: str,
    specs: list[RowSpec],
    sender: str,
    results: Any,
    *,
    start: Any = None,
    recorded: Any = None,
    commit: Any = None,
) -> None:
    """Record one file in its own transaction and put (sender, outcomes, error) on ``results``.

    ``start`` (a Barrier) lines the processes up; ``recorded`` (an Event) is set once the rows
    are written but not committed, and ``commit`` (an Event) is awaited before committing.
    """
    store = Store.open(url, upgrade_schema=False)
    rows = [row(n, marac, date.fromisoformat(day), **over) for n, marac, day, over in specs]
    file = report(*rows, file=f"{sender}.xlsx")
    try:
        if start is not None:
            start.wait(timeout=60)
        with store.transaction() as session:
            record(session, file, sender=sender, now=T0 + timedelta(minutes=len(sender)))
            if recorded is not None:
                recorded.set()
            if commit is not None and not commit.wait(timeout=60):
                raise TimeoutError("never told to commit")
        results.put((sender, [(r.sheet_row, expected_outcome(r)) for r in rows], None))
    except BaseException as exc:  # reported to the test, which fails on it
        results.put((sender, None, repr(exc)))
    finally:
        store.close()
