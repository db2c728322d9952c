"""Benchmark (not a test): full validation against a bare python-calamine read of the same file.

    python bench/validate_bench.py [--repeat N]

For workbooks of 13, 2,000 and 50,000 rows: the median time of our whole validation and of a
bare ``python_calamine`` read (every row materialised), in the same run, and the peak RSS of a
fresh process validating each file. Targets (issue 2): validation within 1.5x the bare read at
2,000 and 50,000 rows; 50,000 rows under 300 MB peak RSS; a 13-row quarter under 50 ms.
"via reader" is the same validation with the reader process ``run`` starts
(validation/reader_process.py): the capped child is forked from that small process, not from
this one.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import python_calamine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from validation.columns import FIELDS
from validation.context import ValidationContext
from validation.validate import validate_bytes

SIZES = (13, 2_000, 50_000)


def make_workbook(rows: int, seed: int = 7) -> bytes:
    """A realistic return: consistent counts, many Maracs, fortnightly meetings."""
    rng = random.Random(seed)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Marac data")
    sheet.append([f.uk_header for f in FIELDS])
    start = date(2000, 4, 1)
    for i in range(rows):
        cases = rng.randint(5, 30)
        referrals = [0] * 14
        for _ in range(cases):
            referrals[rng.randrange(14)] += 1
        bounded = [rng.randint(0, cases // 3) for _ in range(7)]
        groups = [rng.randint(0, cases // 6) for _ in range(5)]
        sheet.append([f"Marac {i % 300}", start + timedelta(days=14 * (i // 300)), cases,
                      rng.randint(0, cases // 2), rng.randint(cases, cases * 2), cases // 2,
                      *referrals, sum(groups) + 1, *bounded[1:], *groups])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def bare_read(data: bytes) -> int:
    book = python_calamine.load_workbook(io.BytesIO(data))
    return len(book.get_sheet_by_index(0).to_python())


def full_validation(data: bytes) -> int:
    report = validate_bytes(data, "bench.xlsx", ValidationContext(today=date(2025, 2, 15)))
    return report.rows_accepted


def median_seconds(fn: object, data: bytes, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(data)  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def peak_rss_mb(path: Path) -> float:
    code = (
        "import resource,sys; from datetime import date; from pathlib import Path;"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r});"
        "from validation.validate import validate_path;"
        "from validation.context import ValidationContext;"
        f"validate_path(Path({str(path)!r}), ValidationContext(today=date(2025, 2, 15)));"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{'rows':>7} {'bare read':>11} {'validation':>11} {'ratio':>6} {'via reader':>11}"
          f" {'ratio':>6} {'peak RSS':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for rows in SIZES:
            data = make_workbook(rows)
            path = Path(tmp) / f"bench-{rows}.xlsx"
            path.write_bytes(data)
            accepted = full_validation(data)
            assert accepted == rows, f"expected every row accepted, got {accepted} of {rows}"
            repeat = args.repeat if rows < 50_000 else max(3, args.repeat // 2)
            bare = median_seconds(bare_read, data, repeat)
            full = median_seconds(full_validation, data, repeat)
            from validation import reader_process  # here: run_all imports this module too

            reader_process.start()
            try:
                full_validation(data)  # warm: the reader process imports once
                via = median_seconds(full_validation, data, repeat)
            finally:
                reader_process.stop()
            rss = peak_rss_mb(path)
            print(f"{rows:>7} {bare * 1000:>9.1f}ms {full * 1000:>9.1f}ms {full / bare:>6.2f}"
                  f" {via * 1000:>9.1f}ms {via / bare:>6.2f} {rss:>7.0f}MB")


if __name__ == "__main__":
    main()
