"""Fuzz campaign (not a test): thousands of hostile inputs through the validator, on demand.

    python bench/fuzz.py [--count 10000] [--seed N] [--batch 200] [--timeout 10]
                         [--families a,b] [--failures DIR]

Inputs come from tests/hostile_corpus.py (the generator the suite uses, with more seeds and
inputs). Each batch is written to a temporary folder and checked two ways:

- the real command, ``python -m bot validate --json`` over the whole batch, under a 3 GB
  address-space cap: exit 0 or 1 with no traceback, strict JSON (no NaN/Infinity), one report
  per file in order. A batch that fails is run again file by file, to name the culprit.
- every file alone in a long-lived worker process calling ``validate_bytes``: its time, and
  the worker's and its reader children's peak RSS after it. The worker is what ``marac-bot
  run`` is: a process that validates in itself and forks capped readers. If it dies or stops
  answering, the file in hand is the culprit and a new worker carries on.

Printed: inputs, process deaths (exit not 0/1, a signal, a traceback), hangs (over --timeout
seconds), invalid JSON, peak RSS of the command runs, the worker and its readers, and the
slowest inputs by case. Exit status 1 when anything died, hung, or answered invalid JSON, or
a peak RSS passed --rss-limit; failing inputs are copied to --failures. Issue 10's bar: 10,000
inputs, 0 deaths, 0 hangs over 10 s, peak RSS under 500 MB, every output valid JSON.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import select
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TextIO

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests import hostile_corpus  # noqa: E402
from tests.hostile_corpus import Run, run_validate  # noqa: E402

MB = 1 << 20
MEMORY_CAP = 3 << 30  # the command's and the worker's address space; readers cap lower
STARTUP_ALLOWANCE = 15.0  # seconds for one command to start, on top of its files' time


# --- Findings ------------------------------------------------------------------------------------


@dataclass
class Timing:
    name: str
    seconds: float
    outcome: str  # "ok", or what went wrong in the worker
    report_bytes: int = 0
    longest_message: int = 0


@dataclass
class Campaign:
    inputs: int = 0
    families: Counter[str] = field(default_factory=Counter)
    # Each finding as (input, where and what): where is "command" or "in process".
    deaths: list[tuple[str, str]] = field(default_factory=list)
    hangs: list[tuple[str, str]] = field(default_factory=list)
    invalid_json: list[tuple[str, str]] = field(default_factory=list)
    raised: list[tuple[str, str]] = field(default_factory=list)  # escaped validate_bytes
    timings: list[Timing] = field(default_factory=list)
    command_peak_rss: int = 0
    command_seconds: float = 0.0
    worker_peak_rss: int = 0
    reader_peak_rss: int = 0
    rss_raisers: list[tuple[int, str]] = field(default_factory=list)  # (new peak, input)
    reader_rss_raisers: list[tuple[int, str]] = field(default_factory=list)

    @property
    def failing_files(self) -> set[str]:
        return {name for found in (self.deaths, self.hangs, self.invalid_json, self.raised)
                for name, _ in found}

    @property
    def failed(self) -> bool:
        return bool(self.failing_files)


# --- The real command, a batch at a time ---------------------------------------------------------


def check_batch(paths: list[Path], work: Path, timeout: float, campaign: Campaign) -> None:
    """The command over the batch, the files the worker already flagged each on their own:
    one run per suspect instead of a halving search for each."""
    suspects = campaign.failing_files
    for path in paths:
        if path.name in suspects:
            check_command([path], work, timeout, campaign)
    check_command([p for p in paths if p.name not in suspects], work, timeout, campaign)


def check_command(paths: list[Path], work: Path, timeout: float, campaign: Campaign) -> int:
    """The command over the batch; a failing batch is halved until each culprit runs alone
    (a few runs per culprit instead of one per file). Returns the culprits found."""
    if not paths:
        return 0
    run = run_validate(paths, cwd=work, timeout=STARTUP_ALLOWANCE + timeout * len(paths),
                       memory_cap=MEMORY_CAP)
    campaign.command_peak_rss = max(campaign.command_peak_rss, run.peak_rss)
    campaign.command_seconds += run.seconds
    problem = _problem(run, [p.name for p in paths])
    if problem is None:
        return 0
    kind, detail = problem
    found = {"death": campaign.deaths, "hang": campaign.hangs, "invalid-json":
             campaign.invalid_json}[kind]
    if len(paths) == 1:
        found.append((paths[0].name, f"command: {detail}"))
        return 1
    middle = len(paths) // 2
    culprits = (check_command(paths[:middle], work, timeout, campaign)
                + check_command(paths[middle:], work, timeout, campaign))
    if not culprits:  # fails together, passes apart: name the whole batch
        found.append((f"{len(paths)} files from {paths[0].name}", f"command: {detail}"))
    return culprits


def _problem(run: Run, names: list[str]) -> tuple[str, str] | None:
    """What went wrong with a command run, as (kind, detail), or None."""
    if run.timed_out:
        return "hang", f"the command was killed after {run.seconds:.0f} s"
    if run.returncode not in {0, 1}:
        return "death", f"exit {run.returncode}{_stderr_tail(run)}"
    if b"Traceback" in run.stderr:
        return "death", f"uncaught exception{_stderr_tail(run)}"
    try:
        reports = json.loads(run.stdout, parse_constant=_refuse_constant)
    except ValueError as exc:
        return "invalid-json", f"{exc} ({run.stdout_size:,} bytes)"
    if [r.get("file") for r in reports] != names:
        return "invalid-json", "not one report per file in order"
    return None


def _refuse_constant(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def _stderr_tail(run: Run) -> str:
    lines = run.stderr.decode(errors="replace").strip().splitlines()
    return f": {lines[-1][:300]}" if lines else ""


# --- The in-process worker: time and memory per input ---------------------------------------------


def worker_main() -> None:
    """Read file paths on stdin; validate each in this process; answer one JSON line each."""
    from validation.context import ValidationContext
    from validation.validate import validate_bytes

    # The same cap as the command: a runaway allocation here is a finding, not a dead machine.
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, resource.RLIM_INFINITY))
    context = ValidationContext(today=date.today())
    for line in sys.stdin:
        path = Path(line.rstrip("\n"))
        started = time.perf_counter()
        outcome, size, longest = "ok", 0, 0
        try:
            report = validate_bytes(path.read_bytes(), path.name, context).to_dict()
        except Exception as exc:  # the finding: validate_bytes must never raise
            outcome = _raised(exc)
        else:
            longest = max((len(i["message"]) for i in report["issues"]), default=0)
            try:  # as the command writes it, but refusing what RFC 8259 refuses
                size = len(json.dumps(report, ensure_ascii=False, allow_nan=False).encode())
            except ValueError as exc:
                outcome = f"not JSON: {exc}"
        seconds = time.perf_counter() - started
        self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        print(json.dumps({"seconds": seconds, "outcome": outcome, "rss": self_rss,
                          "children_rss": child_rss, "report_bytes": size,
                          "longest_message": longest}), flush=True)


def _raised(exc: BaseException) -> str:
    where = traceback.extract_tb(exc.__traceback__)[-1]
    return (f"raised {type(exc).__name__}: {str(exc)[:200]} "
            f"({Path(where.filename).name}:{where.lineno})")


class Worker:
    """The worker process, restarted whenever an input kills it or makes it hang."""

    def __init__(self, log: TextIO) -> None:
        self.log = log
        self.proc: subprocess.Popen[str] | None = None

    def validate(self, path: Path, kill_after: float) -> dict[str, Any] | str:
        """The worker's answer for one file, or "died …" / "hung" when it gave none."""
        proc = self._running()
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(f"{path}\n")
        proc.stdin.flush()
        ready, _, _ = select.select([proc.stdout], [], [], kill_after)
        line = proc.stdout.readline() if ready else ""
        if line:
            answer: dict[str, Any] = json.loads(line)
            return answer
        if not ready:
            self.stop()
            return "hung"
        code = proc.wait()
        self.proc = None
        return f"died (exit {code})"

    def _running(self) -> subprocess.Popen[str]:
        if self.proc is None:
            self.proc = subprocess.Popen(
                [sys.executable, __file__, "--worker"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=self.log, text=True, cwd=REPO)
        return self.proc

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def check_in_process(paths: list[Path], worker: Worker, timeout: float,
                     campaign: Campaign) -> None:
    kill_after = max(60.0, 3 * timeout)  # the readers give up at 30 s on their own
    for path in paths:
        answer = worker.validate(path, kill_after)
        if isinstance(answer, str):
            seconds = kill_after if answer == "hung" else 0.0
            target = campaign.hangs if answer == "hung" else campaign.deaths
            target.append((path.name, f"in process: the validating process {answer}"))
            campaign.timings.append(Timing(path.name, seconds, answer))
            continue
        _record(path.name, answer, timeout, campaign)


def _record(name: str, answer: dict[str, Any], timeout: float, campaign: Campaign) -> None:
    seconds, outcome = answer["seconds"], answer["outcome"]
    campaign.timings.append(Timing(name, seconds, outcome, answer["report_bytes"],
                                   answer["longest_message"]))
    if outcome != "ok":
        target = campaign.invalid_json if outcome.startswith("not JSON") else campaign.raised
        target.append((name, f"in process: {outcome}"))
    if seconds > timeout:
        campaign.hangs.append((name, f"in process: {seconds:.1f} s"))
    if answer["rss"] > campaign.worker_peak_rss:
        campaign.rss_raisers.append((answer["rss"], name))
        campaign.worker_peak_rss = answer["rss"]
    if answer["children_rss"] > campaign.reader_peak_rss:
        campaign.reader_rss_raisers.append((answer["children_rss"], name))
        campaign.reader_peak_rss = answer["children_rss"]


# --- The campaign --------------------------------------------------------------------------------


def batches(seed: int, count: int, size: int, families: list[str] | None
            ) -> Iterator[list[tuple[str, bytes]]]:
    batch: list[tuple[str, bytes]] = []
    for item in hostile_corpus.generate(seed, count, families):
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def run_campaign(args: argparse.Namespace, work: Path) -> Campaign:
    campaign = Campaign()
    families = args.families.split(",") if args.families else None
    inputs = work / "inputs"
    started = time.monotonic()
    with open(work / "worker-stderr.log", "w") as log:
        worker = Worker(log)
        try:
            for batch in batches(args.seed, args.count, args.batch, families):
                paths = _write(inputs, batch)
                check_in_process(paths, worker, args.timeout, campaign)
                check_batch(paths, work, args.timeout, campaign)
                _keep_failures(paths, campaign, args.failures)
                campaign.inputs += len(paths)
                campaign.families.update(hostile_corpus.case_of(p.name).family for p in paths)
                shutil.rmtree(inputs)
                print(f"  {campaign.inputs:>6} inputs, {time.monotonic() - started:>5.0f} s, "
                      f"{len(campaign.failing_files)} failing", file=sys.stderr, flush=True)
        finally:
            worker.stop()
    return campaign


def _write(folder: Path, batch: list[tuple[str, bytes]]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in batch:
        path = folder / name
        path.write_bytes(data)
        paths.append(path)
    return paths


def _keep_failures(paths: list[Path], campaign: Campaign, folder: Path) -> None:
    for path in paths:
        if path.name in campaign.failing_files:
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, folder / path.name)


# --- Report ---------------------------------------------------------------------------------------


def report(campaign: Campaign, args: argparse.Namespace, seconds: float) -> None:
    worst_rss = max(campaign.command_peak_rss, campaign.worker_peak_rss,
                    campaign.reader_peak_rss)
    print(f"inputs:            {campaign.inputs:,} (seed {args.seed}) in {seconds:.0f} s")
    print("families:          " + ", ".join(f"{f} {n}" for f, n in campaign.families.items()))
    print(f"process deaths:    {_count(campaign.deaths)}")
    print(f"hangs > {args.timeout:g} s:      {_count(campaign.hangs)}")
    print(f"invalid JSON:      {_count(campaign.invalid_json)}")
    print(f"raised in process: {len({name for name, _ in campaign.raised})} "
          "(validate_bytes or to_dict raised in the worker)")
    print(f"peak RSS:          command runs {campaign.command_peak_rss / MB:.0f} MB "
          f"(with their readers), in-process worker {campaign.worker_peak_rss / MB:.0f} MB, "
          f"its readers {campaign.reader_peak_rss / MB:.0f} MB; bench itself "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print(f"command time:      {campaign.command_seconds:.0f} s for {campaign.inputs:,} inputs")
    _print_list("slowest inputs (in process)", [
        f"{t.seconds:7.2f} s  {t.name}" for t in
        sorted(campaign.timings, key=lambda t: t.seconds, reverse=True)[: args.show]])
    for title, raisers in (("inputs that raised the worker's peak RSS", campaign.rss_raisers),
                           ("inputs that raised its readers' peak RSS",
                            campaign.reader_rss_raisers)):
        _print_list(title, [f"{rss / MB:7.0f} MB  {name}" for rss, name in
                            raisers[-args.show:]])
    _print_list("largest reports", [
        f"{t.report_bytes / MB:7.1f} MB  longest message {t.longest_message:,}  {t.name}"
        for t in sorted(campaign.timings, key=lambda t: t.report_bytes,
                        reverse=True)[: args.show]])
    _print_slowest_cases(campaign)
    _print_findings(campaign, args.failures)
    if worst_rss >= args.rss_limit * MB:
        print(f"\nPEAK RSS {worst_rss / MB:.0f} MB is over the {args.rss_limit} MB limit")


def _print_findings(campaign: Campaign, folder: Path) -> None:
    """Findings grouped by case and by what went wrong, with an example each; every one is
    written to findings.txt beside the failing inputs."""
    everything = [(title, name, what) for title, found in (
        ("DEATH", campaign.deaths), ("HANG", campaign.hangs),
        ("INVALID JSON", campaign.invalid_json), ("RAISED", campaign.raised))
        for name, what in found]
    if not everything:
        return
    groups: dict[tuple[str, str, str], list[str]] = {}
    for title, name, what in everything:
        case = hostile_corpus.case_of(name).name if name[:5].isdigit() else "batch"
        groups.setdefault((title, case, _gist(what)), []).append(name)
    print(f"\nfindings by case ({len(groups)} groups):")
    for (title, case, what), names in sorted(groups.items(), key=lambda g: -len(g[1])):
        print(f"  {len(names):>5}  {title:<12} {case:<18} {what}\n"
              f"         e.g. {names[0]}")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "findings.txt").write_text(
        "".join(f"{title}\t{name}\t{what}\n" for title, name, what in everything))
    print(f"\nevery finding: {folder / 'findings.txt'}; the inputs beside it; rebuild one "
          f"with tests.hostile_corpus.one(SEED, INDEX) (INDEX: its name's first field)")


def _gist(what: str) -> str:
    """What went wrong without the sizes and places that differ from input to input."""
    return re.sub(r"\(\d[\d,]* bytes\)|\d+(\.\d+)? s\b", "", what).strip()[:120]


def _count(found: list[tuple[str, str]]) -> str:
    """Distinct inputs, and how many the command and the in-process worker each showed."""
    names = {name for name, _ in found}
    command = {name for name, what in found if what.startswith("command")}
    worker = {name for name, what in found if what.startswith("in process")}
    return f"{len(names)} (the command: {len(command)}; in-process worker: {len(worker)})"


def _print_list(title: str, entries: list[str]) -> None:
    if entries:
        print(f"\n{title} ({len(entries)}):")
        for entry in entries:
            print(f"  {entry}")


def _print_slowest_cases(campaign: Campaign) -> None:
    """Per case: the median and worst time, so a slow family shows even without a hang."""
    by_case: dict[str, list[float]] = {}
    for timing in campaign.timings:
        by_case.setdefault(hostile_corpus.case_of(timing.name).name, []).append(timing.seconds)
    rows = sorted(by_case.items(), key=lambda item: max(item[1]), reverse=True)[:10]
    _print_list("slowest cases (median / worst, in process)", [
        f"{sorted(times)[len(times) // 2]:6.2f} / {max(times):6.2f} s  {case} ({len(times)})"
        for case, times in rows])


def main() -> int:
    if sys.argv[1:] == ["--worker"]:
        worker_main()
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds per input past which it counts as a hang")
    parser.add_argument("--families", help="comma-separated families (default: all)")
    parser.add_argument("--rss-limit", type=int, default=500, help="MB")
    parser.add_argument("--show", type=int, default=10, help="entries in each top list")
    parser.add_argument("--failures", type=Path,
                        default=Path(tempfile.gettempdir()) / "marac-fuzz-failures")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="marac-fuzz-") as work:
        campaign = run_campaign(args, Path(work))
    report(campaign, args, time.monotonic() - started)
    worst_rss = max(campaign.command_peak_rss, campaign.worker_peak_rss,
                    campaign.reader_peak_rss)
    return 1 if campaign.failed or worst_rss >= args.rss_limit * MB else 0


if __name__ == "__main__":
    sys.exit(main())
