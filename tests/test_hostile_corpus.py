"""No input takes `marac-bot validate` down (issue 10): a deterministic hostile corpus, run
through the real command in one process, ends with exit 0 or 1 and one well-formed JSON report
per file, in bounded time, memory and output.

The corpus (tests/hostile_corpus.py) is a few hundred mutated templates: shared-string counts,
dimensions, duplicate floods, XML bombs, damage, bad encodings, odd values and .xls byte
mutations. The command runs once for the whole corpus, under an address-space cap, and each
test below checks one promise against that run, so a failure names the promise it broke. To
find which input broke it, run the same inputs through ``python bench/fuzz.py --seed 20251003
--count 400``, which attributes each failure to its file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

from tests import hostile_corpus
from tests.hostile_corpus import CASES, Run, run_validate
from validation.context import ValidationContext
from validation.findings import MAX_ISSUES_PER_FILE
from validation.issues import SEVERITY_OF
from validation.validate import validate_path

SEED = 20251003
COUNT = 400
# A quiet 2-core machine validates the corpus in about 15 s; a hang is anything far past that.
RUN_TIMEOUT = 180.0
MEMORY_CAP = 3 << 30  # address space of the command; its readers cap themselves lower
PEAK_RSS_LIMIT = 500 << 20  # issue 10's bound, for the command and its readers together
# What a person can read in a reply: a message quotes a cell, it does not reproduce one.
MESSAGE_LIMIT = 2_000
# Output linear in the input: a fixed allowance per file plus a small multiple of its bytes.
REPORT_BASE = 64 << 10
REPORT_PER_INPUT_BYTE = 16
# One issue as JSON, with every echo of the file's text cut (60 characters in a message, 200
# in the value): never more than this.
ISSUE_BYTES = 1_500
STATUSES = {"accepted", "partially-accepted", "rejected", "held"}
# Shown to a user by an XXE if a parser resolved one; must never reach the answer.
PASSWD_MARKER = "root:x:0:0:"


@dataclass(frozen=True)
class CorpusRun:
    paths: list[Path]
    run: Run

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.paths]

    def size(self, name: str) -> int:
        return (self.paths[0].parent / name).stat().st_size

    @cached_property
    def reports(self) -> list[dict[str, Any]] | None:
        try:
            reports = json.loads(self.run.stdout)
        except ValueError:
            return None
        return reports if isinstance(reports, list) else None

    @cached_property
    def diagnosis(self) -> str:
        """Why the run failed, with the files that raise when validated in this process (a
        traceback names no file); only computed when a test is already failing."""
        context = ValidationContext(today=date.today())
        raising = []
        for path in self.paths:
            try:  # what the command does with each file, but with the file named
                json.dumps(validate_path(path, context).to_dict(), allow_nan=False)
            except Exception as exc:  # exactly what the test is looking for
                raising.append(f"{path.name}: {type(exc).__name__}: {str(exc)[:200]}")
        stderr = self.run.stderr[-800:].decode(errors="replace")
        return f"exit {self.run.returncode}; raising: {raising}; stderr ends: {stderr}"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("hostile")
    paths = []
    for name, data in hostile_corpus.generate(SEED, COUNT):
        path = folder / name
        path.write_bytes(data)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def corpus_run(corpus: list[Path], tmp_path_factory: pytest.TempPathFactory) -> CorpusRun:
    """The one run of the real command over the whole corpus."""
    work = tmp_path_factory.mktemp("work")
    run = run_validate(corpus, cwd=work, timeout=RUN_TIMEOUT, memory_cap=MEMORY_CAP)
    return CorpusRun(corpus, run)


def _reports(corpus_run: CorpusRun) -> list[dict[str, Any]]:
    """The reports, read leniently (NaN allowed) so that the other promises can still be
    checked when only strictness fails; a run with no JSON at all fails here, with its end."""
    if corpus_run.reports is None:
        pytest.fail(f"no JSON: {corpus_run.diagnosis}")
    return corpus_run.reports


def _by_file(corpus_run: CorpusRun) -> Iterator[tuple[str, dict[str, Any]]]:
    reports = _reports(corpus_run)
    names = corpus_run.names
    assert [r.get("file") for r in reports] == names
    yield from zip(names, reports, strict=True)


def _strict_json(text: bytes) -> Any:
    """JSON as RFC 8259 has it: NaN and Infinity are not JSON, whatever Python writes."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


# --- The corpus itself -------------------------------------------------------------------------


def test_the_corpus_holds_every_case_of_every_family(corpus: list[Path]) -> None:
    made = {hostile_corpus.case_of(p.name).name for p in corpus}
    assert made == {c.name for c in CASES}
    assert len(hostile_corpus.FAMILIES) >= 9


def test_the_corpus_is_the_same_for_the_same_seed() -> None:
    rounds = len(hostile_corpus.schedule())
    first = list(hostile_corpus.generate(SEED, rounds))
    assert list(hostile_corpus.generate(SEED, rounds)) == first
    assert hostile_corpus.one(SEED, 7) == first[7]
    other = list(hostile_corpus.generate(SEED + 1, rounds))
    assert sum(a != b for a, b in zip(first, other, strict=True)) > rounds // 2


def test_corpus_files_are_mostly_small_and_none_is_refused_for_size(corpus: list[Path]) -> None:
    sizes = [p.stat().st_size for p in corpus]
    assert sum(s < 200_000 for s in sizes) >= 0.9 * len(sizes)
    # Under the 10 MB attachment limit: a file refused for its size tests nothing.
    assert max(sizes) < 10 << 20


# --- The run's promises ------------------------------------------------------------------------


def test_the_command_ends_with_exit_0_or_1_in_time(corpus_run: CorpusRun) -> None:
    run = corpus_run.run
    assert not run.timed_out, f"still running after {RUN_TIMEOUT:.0f} s"
    # An uncaught exception exits 1 too: only the missing traceback tells it from a hard issue.
    ended_well = run.returncode in {0, 1} and b"Traceback" not in run.stderr
    if not ended_well:
        pytest.fail(corpus_run.diagnosis)


def test_the_output_is_strict_json_with_one_report_per_file_in_order(
    corpus_run: CorpusRun,
) -> None:
    reports = _strict_json(corpus_run.run.stdout)
    assert [r["file"] for r in reports] == corpus_run.names


def test_the_command_and_its_readers_stay_under_500_mb(corpus_run: CorpusRun) -> None:
    peak_mb = corpus_run.run.peak_rss >> 20
    assert peak_mb < PEAK_RSS_LIMIT >> 20


def test_every_report_has_a_known_status_and_known_issue_codes(corpus_run: CorpusRun) -> None:
    wrong = []
    for name, report in _by_file(corpus_run):
        if report["status"] not in STATUSES:
            wrong.append((name, report["status"]))
        for issue in report["issues"]:
            if SEVERITY_OF.get(issue["code"]) != issue["severity"]:
                wrong.append((name, issue["code"], issue["severity"]))
    assert not wrong


def test_no_value_in_a_report_is_nan_or_infinite(corpus_run: CorpusRun) -> None:
    wrong = [(name, issue["code"], issue["cell"], issue["value"])
             for name, report in _by_file(corpus_run) for issue in report["issues"]
             if isinstance(issue["value"], float) and not math.isfinite(issue["value"])]
    assert not wrong


def test_no_issue_message_is_longer_than_a_person_can_read(corpus_run: CorpusRun) -> None:
    wrong = sorted({(name, issue["code"], len(issue["message"]))
                    for name, report in _by_file(corpus_run) for issue in report["issues"]
                    if len(issue["message"]) > MESSAGE_LIMIT})
    assert not wrong


def test_each_report_is_linear_in_its_file_or_held_by_the_caps(corpus_run: CorpusRun) -> None:
    # A small file can still hold many findings (one long shared string in every cell): then
    # the caps bound the report, at most MAX_ISSUES_PER_FILE issues of at most ISSUE_BYTES each.
    # No cap covers the rest of the report (file, maracs, quarters): it must be linear itself,
    # or a 6 KB file with a million-character Marac name answers with megabytes of "maracs".
    wrong = []
    for name, report in _by_file(corpus_run):
        linear = REPORT_BASE + REPORT_PER_INPUT_BYTE * corpus_run.size(name)
        issues = [len(json.dumps(i, ensure_ascii=False).encode()) for i in report["issues"]]
        rest = {key: value for key, value in report.items() if key != "issues"}
        rest_size = len(json.dumps(rest, ensure_ascii=False).encode())
        capped = len(issues) <= MAX_ISSUES_PER_FILE + 2 and max(issues, default=0) <= ISSUE_BYTES
        if rest_size > linear or (rest_size + sum(issues) > linear and not capped):
            wrong.append((name, corpus_run.size(name), rest_size, sum(issues)))
    assert not wrong


def test_untouched_files_are_still_accepted(corpus_run: CorpusRun) -> None:
    # Proves the caps leave room for real work: a run that refused everything would pass the rest.
    controls = [(name, report["status"]) for name, report in _by_file(corpus_run)
                if hostile_corpus.case_of(name).family == "control"]
    assert controls
    assert {status for _, status in controls} == {"accepted"}


def test_no_external_entity_reaches_the_output(corpus_run: CorpusRun) -> None:
    assert any(hostile_corpus.case_of(n).name == "xxe" for n in corpus_run.names)
    assert PASSWD_MARKER.encode() not in corpus_run.run.stdout


# --- Issue 10, finding 2: duplicates were quadratic ----------------------------------------------


def test_20000_identical_rows_answer_in_small_json_quickly(tmp_path: Path) -> None:
    """One Marac, one date, 20,000 times: was 10 GB RSS and 2 GB of cut-off JSON."""
    path = tmp_path / "flood.xlsx"
    path.write_bytes(hostile_corpus.flood_xlsx(20_000))
    run = run_validate([path], cwd=tmp_path, timeout=60.0, memory_cap=MEMORY_CAP)
    assert not run.timed_out
    assert run.returncode == 1, run.stderr[-1500:].decode(errors="replace")
    assert run.stdout_size < 256 << 10
    [report] = _strict_json(run.stdout)
    assert report["status"] == "rejected"
    assert report["rows_total"] == report["rows_rejected"] == 20_000
    assert {i["code"] for i in report["issues"]} <= {"duplicate-meeting", "registry-not-checked"}
    peak_mb = run.peak_rss >> 20
    assert peak_mb < PEAK_RSS_LIMIT >> 20
