"""Benchmark (not a test): recording a file, by the file's size (store/meetings.py).

    python bench/record_bench.py [--sizes 0.006,2,20] [--backends sqlite,postgresql]
                                 [--repeat 7]

``record_submission`` of the 13-row fixture's report with a file of each size in MB (random
bytes: the store keeps a file as it came), each in its own transaction, committed, as the
worker does. The rows are those of tests/fixtures/clean_libreoffice.xlsx; no registry is
loaded, so they are recorded as rejected: what is timed is the submission's own writes, the
file among them. On SQLite this is time under the one write lock every worker shares.
Median ms per file. PostgreSQL runs in a fresh database of the server at
MARAC_BENCH_POSTGRES_URL.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from burst_support import database  # noqa: E402

from store.db import Store  # noqa: E402
from store.meetings import record_submission  # noqa: E402
from store.types import utcnow  # noqa: E402
from validation.context import ValidationContext  # noqa: E402
from validation.report import FileReport  # noqa: E402
from validation.validate import validate_path  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get(
    "MARAC_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
FIXTURE = ROOT / "tests" / "fixtures" / "clean_libreoffice.xlsx"


def record_ms(store: Store, report: FileReport, size: int, repeat: int) -> float:
    raw = os.urandom(size)
    times = []
    for n in range(repeat):
        started = time.perf_counter()
        with store.transaction() as session:
            record_submission(session, report=report, raw=raw, channel="email",
                              sender="coordinator@example.org", received_at=utcnow(),
                              declared_quarter=None, dedupe_key=f"bench:{n}", confirm=False,
                              held_expiry=timedelta(days=14))
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0.006,2,20", help="file sizes in MB")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    report = validate_path(FIXTURE, ValidationContext(today=date(2025, 2, 15)))
    print(f"{'backend':<11} {'file':>8} {'ms per file':>12}")
    for backend in args.backends.split(","):
        for size in (float(s) for s in args.sizes.split(",")):
            with tempfile.TemporaryDirectory() as folder, \
                    database(backend, Path(folder), POSTGRES_ADMIN_URL) as url:
                store = Store.open(url)
                try:
                    ms = record_ms(store, report, int(size * 1_000_000), args.repeat)
                finally:
                    store.close()
            print(f"{backend:<11} {size:>6g}MB {ms:>12.2f}", flush=True)


if __name__ == "__main__":
    main()
