"""Benchmark (not a test): the annotated copy of an .xlsx, patched package against openpyxl.

    python bench/annotate_bench.py [--repeat N] [--against REV]

Both ways run in the same process on the same report, so the ratio holds on a busy machine:
``reports.xlsx_patch.patched_copy`` (what ``annotate_workbook`` now does first) against
``reports.annotate._styled_copy`` (openpyxl load and save, the way before issue 14). Inputs: the
6-row return of the burst bench (one soft issue) and the 2,000-row validation bench workbook.
Prints medians of wall and CPU time and the load average.

``--against REV`` also times the patcher as it was at a git revision (reports/xlsx_patch.py and
reports/zip_copy.py from REV, all else from the working tree), run by turns with today's so
that a change's before and after see the same load; the copy's size is printed for both.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import subprocess
import sys
import tempfile
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


Patcher = Callable[[bytes, FileReport], bytes | None]


def _by_turns(
    first: Callable[[], object], second: Callable[[], object], repeat: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Median wall and CPU seconds of each, run by turns (which goes first alternates)."""
    times: tuple[list[tuple[float, float]], list[tuple[float, float]]] = ([], [])
    for round_ in range(repeat):
        order = (0, 1) if round_ % 2 == 0 else (1, 0)
        for which in order:
            wall, cpu = time.perf_counter(), time.process_time()
            (first, second)[which]()
            times[which].append((time.perf_counter() - wall, time.process_time() - cpu))
    medians = [
        (statistics.median(w for w, _ in found), statistics.median(c for _, c in found))
        for found in times
    ]
    return medians[0], medians[1]


def _patcher_at(revision: str) -> Patcher:
    """patched_copy as reports/xlsx_patch.py and reports/zip_copy.py (if there was one) were at
    ``revision``; the modules they import besides come from the working tree."""
    folder = Path(tempfile.mkdtemp(prefix="annotate-bench-")) / "reports_at_revision"
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    for name in ("xlsx_patch.py", "zip_copy.py"):
        shown = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{revision}:reports/{name}"],
            capture_output=True,
            text=True,
        )
        if shown.returncode == 0:
            own = "from reports_at_revision.zip_copy"
            (folder / name).write_text(shown.stdout.replace("from reports.zip_copy", own))
        elif name == "xlsx_patch.py":
            raise SystemExit(f"no reports/xlsx_patch.py at {revision}: {shown.stderr.strip()}")
    sys.path.insert(0, str(folder.parent))
    patcher: Patcher = importlib.import_module("reports_at_revision.xlsx_patch").patched_copy
    return patcher


def _compare(
    label: str, data: bytes, report: FileReport, repeat: int, against: tuple[str, Patcher] | None
) -> None:
    assert patched_copy(data, report) is not None, "the patch path declined this file"
    annotate_workbook(data, "x.xlsx", report)  # warm: imports
    ours = _median(lambda: patched_copy(data, report), repeat)
    before = _median(lambda: _styled_copy(data, report), repeat)
    whole = _median(lambda: annotate_workbook(data, "x.xlsx", report), repeat)
    print(f"{label}: {len(report.issues)} issues")
    rows = [
        ("openpyxl load+save (before)", before),
        ("patched package (after)", ours),
        ("annotate_workbook now", whole),
    ]
    ratios = [f"ratio before/after (cpu): {before[1] / ours[1]:.1f}x"]
    if against is not None:
        revision, theirs = against
        old_copy, new_copy = theirs(data, report), patched_copy(data, report)
        assert old_copy is not None, f"the patch path at {revision} declined this file"
        now, then = _by_turns(
            lambda: patched_copy(data, report), lambda: theirs(data, report), repeat * 4
        )
        rows += [("patched, by turns: now", now), (f"patched, by turns: {revision}", then)]
        ratios.append(
            f"ratio {revision}/now (cpu): {then[1] / now[1]:.2f}x;"
            f" copy {len(old_copy):,} -> {len(new_copy or b''):,} bytes"
        )
    for name, (wall, cpu) in rows:
        print(f"  {name:30s} wall {wall * 1000:8.2f} ms   cpu {cpu * 1000:8.2f} ms")
    for line in ratios:
        print(f"  {line}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--against", metavar="REV", help="also time the patcher of a git revision")
    args = parser.parse_args()
    against = (args.against, _patcher_at(args.against)) if args.against else None
    print(f"load average before: {os.getloadavg()}")
    quarter = QUARTER_STARTS[1]
    small = return_workbook(marac_name(0), quarter)
    context = ValidationContext(today=date(2025, 10, 20))
    _compare("6-row return", small, validate_bytes(small, "r.xlsx", context), args.repeat, against)
    large = workbook_file(2_000).read_bytes()
    report = validate_bytes(large, "b.xlsx", ValidationContext(today=date.today()))
    _compare("2,000-row bench workbook", large, report, max(3, args.repeat // 3), against)
    # The same with cells to mark, so the big sheet itself is rewritten (one hard issue in a
    # middle row, one soft at the end, one info below the data).
    marked = FileReport(file="b.xlsx", sheet=report.sheet, issues=[
        *report.issues,
        Issue.make("invalid-count", sheet=report.sheet, cell="E1000", row=1000, value="x"),
        Issue.make("referrals-do-not-sum", sheet=report.sheet, cell="C2001", row=2001),
        Issue.make("normalised-value", sheet=report.sheet, cell="B2005", value="x"),
    ])
    few = max(3, args.repeat // 3)
    _compare("2,000-row bench workbook, 3 cells marked", large, marked, few, against)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
