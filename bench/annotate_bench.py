"""Benchmark (not a test): the annotated copy of an .xlsx, patched package against openpyxl.

    python bench/annotate_bench.py [--repeat N]

Both ways run in the same process on the same report, so the ratio holds on a busy machine:
``reports.xlsx_patch.patched_copy`` (what ``annotate_workbook`` now does first) against
``reports.annotate._styled_copy`` (openpyxl load and save, the way before issue 14). Inputs: the
6-row return of the burst bench (one soft issue) and the 2,000-row validation bench workbook.
Prints medians of wall and CPU time and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from burst_support import QUARTER_STARTS, marac_name, return_workbook  # noqa: E402
from run_all import workbook_file  # noqa: E402

from reports.annotate import _styled_copy, annotate_workbook  # noqa: E402
from reports.xlsx_patch import patched_copy  # noqa: E402
from validation.context import ValidationContext  # noqa: E402
from validation.issues import Issue  # noqa: E402
from validation.report import FileReport  # noqa: E402
from validation.validate import validate_bytes  # noqa: E402


def _median(work: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``work``."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def _compare(label: str, data: bytes, report: FileReport, repeat: int) -> None:
    assert patched_copy(data, report) is not None, "the patch path declined this file"
    annotate_workbook(data, "x.xlsx", report)  # warm: imports
    ours = _median(lambda: patched_copy(data, report), repeat)
    before = _median(lambda: _styled_copy(data, report), repeat)
    whole = _median(lambda: annotate_workbook(data, "x.xlsx", report), repeat)
    print(f"{label}: {len(report.issues)} issues")
    for name, (wall, cpu) in (
        ("openpyxl load+save (before)", before),
        ("patched package (after)", ours),
        ("annotate_workbook now", whole),
    ):
        print(f"  {name:30s} wall {wall * 1000:8.1f} ms   cpu {cpu * 1000:8.1f} ms")
    print(f"  ratio before/after (cpu): {before[1] / ours[1]:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    quarter = QUARTER_STARTS[1]
    small = return_workbook(marac_name(0), quarter)
    context = ValidationContext(today=date(2025, 10, 20))
    _compare("6-row return", small, validate_bytes(small, "r.xlsx", context), args.repeat)
    large = workbook_file(2_000).read_bytes()
    report = validate_bytes(large, "b.xlsx", ValidationContext(today=date.today()))
    _compare("2,000-row bench workbook", large, report, max(3, args.repeat // 3))
    # The same with cells to mark, so the big sheet itself is rewritten (one hard issue in a
    # middle row, one soft at the end, one info below the data).
    marked = FileReport(file="b.xlsx", sheet=report.sheet, issues=[
        *report.issues,
        Issue.make("invalid-count", sheet=report.sheet, cell="E1000", row=1000, value="x"),
        Issue.make("referrals-do-not-sum", sheet=report.sheet, cell="C2001", row=2001),
        Issue.make("normalised-value", sheet=report.sheet, cell="B2005", value="x"),
    ])
    _compare("2,000-row bench workbook, 3 cells marked", large, marked, max(3, args.repeat // 3))
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
