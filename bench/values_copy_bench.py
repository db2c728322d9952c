"""Benchmark (not a test): the annotated copy of files that are copied by value (.csv, .ods).

    python bench/values_copy_bench.py [--repeat N]

Times ``annotate_workbook`` on a 6-row, a 2,000-row and a 50,000-row CSV of a return's 32
columns, and on the hostile corpus's 15 KB .ods whose repeated rows unfold to 16,389 rows.
Each has a hard issue on row 5 and one far down. Prints the median wall time and the copy's
size. Before reports/values_package.py (openpyxl's write-only workbook) this machine gave
24 ms, 1.1 s, 24.8 s and 7.6 s; with it, 2.7 ms, 0.17 s and 1.0 s for all but the 50,000 rows,
which at 1.6 million cells is past ``VALUES_PACKAGE_MAX_CELLS`` and still copied by openpyxl.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reports.annotate import annotate_workbook  # noqa: E402
from tests import hostile_corpus  # noqa: E402
from tests.test_hostile_corpus import SEED  # noqa: E402
from validation.issues import Issue  # noqa: E402
from validation.report import FileReport  # noqa: E402


def return_csv(rows: int, seed: int = 3) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([f"Column {i}" for i in range(32)])
    for n in range(rows):
        writer.writerow(["Croydon", f"{n % 28 + 1:02d}/10/2024",
                         *[rng.randint(0, 30) for _ in range(30)]])
    return out.getvalue().encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    ods_name, ods = hostile_corpus.one(SEED, 126)
    inputs = [("csv, 6 rows", "six.csv", return_csv(6), "six"),
              ("csv, 2,000 rows", "two.csv", return_csv(2_000), "two"),
              ("csv, 50,000 rows", "fifty.csv", return_csv(50_000), "fifty"),
              (".ods, 15 KB, 16,389 rows", ods_name, ods, "Marac data")]
    for label, name, data, sheet in inputs:
        issues = [Issue.make("exceeds-cases", sheet=sheet, cell=cell, row=row, value=25,
                             cases=20) for cell, row in (("D5", 5), ("D6000", 6000))]
        report = FileReport(file=name, sheet=sheet, issues=issues)
        times = []
        for _ in range(args.repeat if len(data) < 1_000_000 else max(1, args.repeat // 2)):
            started = time.perf_counter()
            copy = annotate_workbook(data, name, report)
            times.append(time.perf_counter() - started)
        print(f"{label:26} {statistics.median(times) * 1000:9.1f} ms  {len(copy) / 1e6:6.2f} MB")


if __name__ == "__main__":
    main()
