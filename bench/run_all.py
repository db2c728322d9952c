"""Every speed figure of issue 14 in one run, each beside its baseline measured in the same run.

    python bench/run_all.py [--small] [--only startup,validation,frictionless,burst,
                             per-message,questions,grid] [--json FILE]

Rows: start-up (``--help``, ``validate`` of a 13-row return, ``run`` until its SMTP port
answers; baseline an empty ``python -c pass``), validation in-process at 2,000 and 50,000 rows
and whole-process at 50,000 (baseline a bare python-calamine read, in-process and whole
process), frictionless-py's ``validate`` of the 2,000-row file (``pip install
'.[bench]'``), the deadline-day burst over SMTP on SQLite and PostgreSQL (1,100 returns:
275 Maracs x 4 quarters, six meetings and one soft issue each), the work per message in one
in-process worker, question p95s at 10 years x 300 Maracs x 26 meetings, and grid images.
``--small``: 110 returns, fewer repeats, for a quick look (about a minute and a half).

Medians unless a row says p95; a ratio is ours / the baseline. The machine's load average is
printed first: on a busy machine every figure grows, the ratios less so.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

FIXTURE_13 = ROOT / "tests" / "fixtures" / "clean_libreoffice.xlsx"
CACHE = Path(os.environ.get("MARAC_BENCH_CACHE", Path.home() / ".cache" / "marac-bench"))
POSTGRES_ADMIN_URL = os.environ.get(
    "MARAC_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SECTIONS = ("startup", "validation", "frictionless", "burst", "per-message", "questions", "grid")


@dataclass
class Row:
    what: str
    ours: float  # seconds
    baseline: float | None  # seconds, measured in the same run
    baseline_is: str
    target: str
    met: bool | None

    def line(self) -> str:
        base = "" if self.baseline is None else _fmt(self.baseline)
        ratio = "" if not self.baseline else f"{self.ours / self.baseline:5.2f}x"
        verdict = {True: "met", False: "NOT met", None: ""}[self.met]
        return (f"{self.what:52} {_fmt(self.ours):>9} {base:>9} {ratio:>7}  "
                f"{self.target:18} {verdict:8} {self.baseline_is}")


def _fmt(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def median_of(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def process_seconds(args: list[str], repeat: int) -> tuple[float, float]:
    """Median wall seconds of a fresh process, and its largest peak RSS in MB. It runs in an
    empty folder with no MARAC_* settings: a coordinator's own check, with no database to
    open (a marac-data/ left in the checkout would otherwise be found and used)."""
    from tests.run_e2e_support import bot_environment

    times, peak = [], 0.0
    env = bot_environment({})
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            child = subprocess.Popen(args, cwd=folder, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
            _, _, usage = os.wait4(child.pid, 0)
            times.append(time.perf_counter() - started)
        peak = max(peak, usage.ru_maxrss / 1024)
        child.returncode = 0
    return statistics.median(times), peak


def _python(*code: str) -> list[str]:
    return [sys.executable, *code]


def _bare_read_code(path: Path) -> list[str]:
    return _python("-c", "import python_calamine as c; c.load_workbook(open("
                   f"{str(path)!r}, 'rb')).get_sheet_by_index(0).to_python()")


# --- start-up -----------------------------------------------------------------------------------


def startup(repeat: int) -> list[Row]:
    empty, _ = process_seconds(_python("-c", "pass"), repeat)
    help_s, _ = process_seconds(_python("-m", "bot", "--help"), repeat)
    validate_s, _ = process_seconds(
        _python("-m", "bot", "validate", str(FIXTURE_13), "--json"), repeat)
    bare_s, _ = process_seconds(_bare_read_code(FIXTURE_13), repeat)
    run_s = statistics.median(run_until_smtp() for _ in range(max(3, repeat // 2)))
    return [
        Row("marac-bot --help", help_s, empty, "python -c pass", "<= 0.2 s", help_s <= 0.2),
        Row("marac-bot validate, 13-row return, whole process", validate_s, bare_s,
            "bare calamine read, whole process", "<= 0.25 s", validate_s <= 0.25),
        Row("marac-bot run until the SMTP port answers", run_s, empty, "python -c pass",
            "<= 1 s", run_s <= 1.0),
    ]


def run_until_smtp() -> float:
    from tests.run_e2e_support import bot_environment

    with tempfile.TemporaryDirectory() as folder:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = bot_environment({"MARAC_DATA_DIR": f"{folder}/data",
                               "MARAC_MAILBOX_ADDRESS": "marac@example.org",
                               "MARAC_SMTP_LISTEN": f"127.0.0.1:{port}",
                               "MARAC_HTTP_LISTEN": "127.0.0.1:0"})
        started = time.perf_counter()
        bot = subprocess.Popen(_python("-m", "bot", "run"), cwd=folder, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    return time.perf_counter() - started
                except OSError:
                    if bot.poll() is not None:
                        raise SystemExit("marac-bot run exited before listening") from None
                    time.sleep(0.005)
        finally:
            bot.terminate()
            bot.wait(30)


# --- validation -----------------------------------------------------------------------------


def workbook_file(rows: int) -> Path:
    """The bench workbook of ``rows`` rows, made once and kept (openpyxl takes a while)."""
    from validate_bench import make_workbook

    path = CACHE / f"bench-{rows}.xlsx"
    if not path.is_file():
        CACHE.mkdir(parents=True, exist_ok=True)
        path.write_bytes(make_workbook(rows))
    return path


def validation(repeat: int) -> list[Row]:
    """Ours and the bare read taken by turns (ours, bare, ours, bare...), so that a neighbour's
    load falls on both alike; each row beside the bare read of its own turns. The label also
    gives both sides' CPU (every process of ours: the forked or serving child, the reader
    process), which a busy machine hardly moves."""
    from validate_bench import bare_read, full_validation

    from validation import reader_process

    rows = []
    for size in (2_000, 50_000):
        data = workbook_file(size).read_bytes()
        times = max(3, repeat // (1 if size < 50_000 else 3))
        if size < 50_000:
            times *= 3  # 30-70 ms each: more turns for a steadier median
        for how in ("fork per file", "reader process"):  # one-shot commands / run
            if how == "reader process":
                reader_process.start()
            try:
                full_validation(data)  # warm: imports, the first fork
                bare_read(data)
                (ours, ours_cpu), (bare, bare_cpu) = by_turns(
                    [partial(full_validation, data), partial(bare_read, data)], times)
            finally:
                reader_process.stop()
            rows.append(Row(f"validation in-process, {size:,} rows, {how}"
                            f" (CPU {ours_cpu / bare_cpu:.2f}x)", ours, bare,
                            "bare calamine read, in-process", "<= 1.15x",
                            ours <= 1.15 * bare))
    path = workbook_file(50_000)
    # Ten turns each (five with --small), not six (three): the row's margin is a few per
    # cent, and a slow turn or two of either side moved a median of six by as much.
    whole = 10 if repeat > 3 else 5
    (ours_s, ours_mb, ours_cpu), (bare_s, bare_mb, bare_cpu) = processes_by_turns(
        [_python("-m", "bot", "validate", str(path)), _bare_read_code(path)], whole)
    rows.append(Row(f"validation whole process, 50,000 rows (peak {ours_mb:.0f} MB vs "
                    f"{bare_mb:.0f} MB, CPU {ours_cpu / bare_cpu:.2f}x)", ours_s, bare_s,
                    "bare calamine read, whole process", "<= 1.2x", ours_s <= 1.2 * bare_s))
    return rows


def by_turns(fns: list[Callable[[], Any]], repeat: int) -> list[tuple[float, float]]:
    """Each function's median wall seconds and median CPU seconds (this process, its reaped
    children and every live descendant), the functions run by turns ``repeat`` times."""
    walls: list[list[float]] = [[] for _ in fns]
    cpus: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, wall, cpu in zip(fns, walls, cpus, strict=True):
            before, started = tree_cpu_seconds(), time.perf_counter()
            fn()
            wall.append(time.perf_counter() - started)
            cpu.append(tree_cpu_seconds() - before)
    return [(statistics.median(w), statistics.median(c)) for w, c in zip(walls, cpus,
                                                                         strict=True)]


def tree_cpu_seconds() -> float:
    """CPU seconds of this process, its reaped children, and its live descendants (from
    /proc, in clock ticks: a median over many turns smooths them)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = own.ru_utime + own.ru_stime + reaped.ru_utime + reaped.ru_stime
    tick = os.sysconf("SC_CLK_TCK")
    pending, seen = _children_of(os.getpid()), set()
    while pending:
        pid = pending.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:  # it ended meanwhile
            continue
        total += sum(int(f) for f in fields[11:15]) / tick  # utime stime cutime cstime
        pending.extend(_children_of(pid))
    return total


def _children_of(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as listing:
                found.extend(int(child) for child in listing.read().split())
    except OSError:
        pass
    return found


def processes_by_turns(commands: list[list[str]], repeat: int
                       ) -> list[tuple[float, float, float]]:
    """As ``process_seconds`` for each command, the commands run by turns: median wall
    seconds, largest peak RSS in MB, median CPU seconds (the process and its children)."""
    from tests.run_e2e_support import bot_environment

    env = bot_environment({})
    walls: list[list[float]] = [[] for _ in commands]
    cpus: list[list[float]] = [[] for _ in commands]
    peaks = [0.0 for _ in commands]
    for _ in range(repeat):
        for i, args in enumerate(commands):
            with tempfile.TemporaryDirectory() as folder:
                started = time.perf_counter()
                child = subprocess.Popen(args, cwd=folder, env=env, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
                _, _, usage = os.wait4(child.pid, 0)
                walls[i].append(time.perf_counter() - started)
            child.returncode = 0
            cpus[i].append(usage.ru_utime + usage.ru_stime)
            peaks[i] = max(peaks[i], usage.ru_maxrss / 1024)
    return [(statistics.median(w), peak, statistics.median(c))
            for w, peak, c in zip(walls, peaks, cpus, strict=True)]


def frictionless_row(repeat: int) -> list[Row]:
    from validate_bench import full_validation

    try:
        import frictionless
    except ImportError:
        print("  (frictionless not installed: pip install '.[bench]')")
        return []
    path = workbook_file(2_000)
    data = path.read_bytes()

    def theirs_once() -> None:
        # A relative path under a base path: frictionless refuses absolute paths as unsafe.
        report = frictionless.Resource(path=path.name, basepath=str(path.parent)).validate()
        assert report.valid and report.tasks[0].stats["rows"] == 2_000, report.flatten()

    from validation import reader_process

    theirs = median_of(theirs_once, max(3, repeat // 2))
    rows = []
    for how in ("fork per file", "reader process"):  # one-shot commands / run
        if how == "reader process":
            reader_process.start()
        try:
            full_validation(data)
            ours = median_of(lambda: full_validation(data), max(3, repeat // 2))
        finally:
            reader_process.stop()
        rows.append(Row(f"ours ({how}) vs frictionless validate, 2,000 rows", ours, theirs,
                        "frictionless-py validate (types only)", ">= 10x faster",
                        theirs >= 10 * ours))
    return rows


# --- the burst and the work per message ---------------------------------------------------------


def burst_rows(count: int) -> list[Row]:
    import burst_support as b

    maracs = (count + 3) // 4
    mail = b.returns(count)
    rows = []
    for backend in ("sqlite", "postgresql"):
        with tempfile.TemporaryDirectory() as folder:
            result = b.burst(backend, mail, maracs, Path(folder), POSTGRES_ADMIN_URL)
        ok = result.replies >= count and 0 <= result.answered_s <= 20
        rows.append(Row(f"burst {count:,} returns over SMTP, {backend}: every reply written",
                        result.answered_s, result.accepted_s,
                        f"all accepted by SMTP ({result.retries} sender retries)", "<= 20 s",
                        ok))
        rows.append(Row(f"  bot CPU per return in that burst, {backend}",
                        result.bot_cpu_s / count, None, "all its processes, start to stop",
                        "", None))
        if result.server_cpu_s is not None:
            rows.append(Row("  PostgreSQL server CPU per return in that burst",
                            result.server_cpu_s / count, None,
                            "its processes on this machine (anything else using it counts too)",
                            "", None))
    return rows


def per_message_rows(count: int) -> list[Row]:
    import burst_support as b

    mail = b.returns(count)
    rows = []
    for backend in ("sqlite", "postgresql"):
        with tempfile.TemporaryDirectory() as folder:
            seconds = b.per_message(backend, mail, (count + 3) // 4, Path(folder),
                                    POSTGRES_ADMIN_URL)
        rows.append(Row(f"per-message work, 6-row return, 1 soft issue, {backend}", seconds,
                        None, "", "<= 15 ms", seconds <= 0.015))
    return rows


# --- questions and grid images ---------------------------------------------------------------


def question_rows(repeat: int, grid_only: bool = False) -> list[Row]:
    import ask_bench as a

    rows = []
    for backend, opener in (("sqlite", a.sqlite_store), ("postgresql", a.postgres_store)):
        with opener() as store:
            filled = a.fill(store)
            if backend == "postgresql":
                with store.engine.begin() as conn:
                    conn.execute(a.text("ANALYZE"))
            a.settle_like_run()
            if not grid_only:
                for kind, times in a.time_questions(store, filled["names"], repeat).items():
                    p95 = a.percentile(times, 0.95)
                    rows.append(Row(f"question p95, {backend}: {kind}", p95, None, "",
                                    "<= 20 ms", p95 <= 0.020))
            for kind, times in a.time_grid_image(store, 3).items():
                limit = 0.2 if "region" in kind else 0.5
                seconds = statistics.median(times)
                rows.append(Row(f"{kind}, {backend} (answer and picture)", seconds, None, "",
                                f"<= {limit} s", seconds <= limit))
    return rows


# --- the table ------------------------------------------------------------------------------


PACKAGES = ("bot", "handlers", "validation", "store", "reports", "kernel")


def compile_checkout() -> str:
    """Our modules compiled to bytecode first, as ``pip install .`` leaves an installed
    release (and as the bare read's python_calamine lies in site-packages). Without it, a
    checkout run with PYTHONDONTWRITEBYTECODE=1 (set on some machines and in many
    containers) compiles every module it imports at every start of every process timed
    here, and writes none of them: ours would pay what no installed bot pays."""
    import compileall

    if not all(compileall.compile_dir(ROOT / package, quiet=1) for package in PACKAGES):
        raise SystemExit("a module of ours does not compile")
    unset = "PYTHONDONTWRITEBYTECODE is set" if sys.dont_write_bytecode else "as Python would"
    return f"our modules compiled to bytecode before timing ({unset}), as installed"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="110 returns, fewer repeats")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections of {', '.join(SECTIONS)}")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    args = parser.parse_args()
    only = set(args.only.split(","))
    repeat, returns = (3, 110) if args.small else (7, 1_100)
    compiled = compile_checkout()
    load = os.getloadavg()
    print(compiled)
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores, "
          f"{date.today().isoformat()}\n")
    sections: list[tuple[str, Callable[[], list[Row]]]] = [
        ("startup", lambda: startup(repeat)),
        ("validation", lambda: validation(repeat)),
        ("frictionless", lambda: frictionless_row(repeat)),
        ("burst", lambda: burst_rows(returns)),
        ("per-message", lambda: per_message_rows(min(returns, 110))),
        ("questions", lambda: question_rows(20 if args.small else 60)),
    ]
    if "grid" in only and "questions" not in only:
        sections.append(("grid", lambda: question_rows(0, grid_only=True)))
    print(f"{'what':52} {'ours':>9} {'baseline':>9} {'ratio':>7}  {'target':18} {'':8} "
          "baseline is")
    found: list[Row] = []
    for name, section in sections:
        if name not in only:
            continue
        started = time.perf_counter()
        for row in section():
            print(row.line(), flush=True)
            found.append(row)
        print(f"  ({name}: {time.perf_counter() - started:.0f} s)", flush=True)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in found], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
