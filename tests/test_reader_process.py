"""The reader process ``run`` starts (validation/reader_process.py): files are read in capped
children it forks, with the isolation of a fork of our own, and it is replaced when it dies."""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import socket
import sys
import time
import types
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from validation import isolated, reader_process
from validation.context import ValidationContext
from validation.isolated import Capped, ChildFailed, ChildRaised, reaping_later, run_capped
from validation.validate import validate_bytes, validate_path

FIXTURES = Path(__file__).parent / "fixtures"
CONTEXT = ValidationContext(today=date(2025, 2, 15))


@pytest.fixture
def reader(monkeypatch: pytest.MonkeyPatch) -> Iterator[reader_process.ReaderProcess]:
    # The process imports this test module to take its functions: on a loaded machine that
    # can pass the usual 5 s, and the read would be forked here instead.
    monkeypatch.setattr(reader_process, "ANSWER_SECONDS", 60.0)
    reader_process.start()
    started = reader_process.current()
    assert started is not None
    try:
        yield started
    finally:
        reader_process.stop()


def _allocate(n_bytes: int) -> int:
    return len(bytearray(n_bytes))


def _pid() -> int:
    return os.getpid()


def _parent_pid() -> int:
    return os.getppid()


def _children_of(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as listing:
        return [int(child) for child in listing.read().split()]


def _sleep_then(seconds: float, value: int) -> int:
    time.sleep(seconds)  # the work of a slow read, not a wait for a condition
    return value


def test_without_it_the_caller_forks_its_own_child() -> None:
    assert reader_process.current() is None
    assert run_capped(_parent_pid) == os.getpid()


def test_the_child_is_forked_by_the_reader_process(
        reader: reader_process.ReaderProcess) -> None:
    assert run_capped(_parent_pid) == reader.pid
    assert run_capped(_pid) not in {os.getpid(), reader.pid}


@pytest.mark.parametrize("name", ["clean_libreoffice.xlsx", "clean_libreoffice.xls",
                                  "clean_libreoffice.ods", "clean_libreoffice.xlsm",
                                  "formula_no_value_g4.xlsx", "huge_claimed_rows.xlsx",
                                  "blank_rows_between.xlsx"])
def test_a_file_reads_the_same_through_the_reader_process(name: str) -> None:
    forked = validate_path(FIXTURES / name, CONTEXT).to_dict()
    reader_process.start()
    try:
        assert reader_process.current() is not None
        assert validate_path(FIXTURES / name, CONTEXT).to_dict() == forked
    finally:
        reader_process.stop()


def test_a_child_that_dies_costs_that_file_only_and_the_process_is_reused(
        reader: reader_process.ReaderProcess) -> None:
    serving = run_capped(_pid)
    with pytest.raises(ChildFailed):
        run_capped(os.abort)
    report = validate_path(FIXTURES / "damaged" / "xls_huge_allocation.xls", CONTEXT)
    assert [(i.cell, i.code) for i in report.issues] == [(None, "unreadable-file")]
    assert reader_process.current() is reader  # the same process serves the next file
    assert validate_path(FIXTURES / "clean_libreoffice.xlsx", CONTEXT).rows_accepted == 6
    fresh = run_capped(_pid)
    assert fresh != serving  # the child that aborted was not used again
    assert _children_of(reader.pid) == [fresh]  # every other child reaped


def test_files_in_a_row_are_read_by_one_child_until_one_raises(
        reader: reader_process.ReaderProcess) -> None:
    first = run_capped(_pid)
    assert run_capped(_pid) == first == run_capped(_pid)
    with pytest.raises(ChildRaised):
        run_capped(_raise, "broken")
    after = run_capped(_pid)
    assert after != first and run_capped(_pid) == after


def test_a_second_read_while_the_serving_child_is_busy_gets_a_child_of_its_own(
        reader: reader_process.ReaderProcess) -> None:
    serving = run_capped(_pid)
    slow = Capped(_sleep_then, 0.5, 7)  # the serving child reads this one
    other = Capped(_pid)
    assert other.result() not in {serving, reader.pid, os.getpid()}
    assert slow.result() == 7  # not disturbed by the other read
    assert run_capped(_pid) == serving


def test_within_reaping_later_the_reader_process_hears_of_an_answer_when_the_block_ends(
        reader: reader_process.ReaderProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    """Telling the reader process that an outcome was read (a round trip to it and on to the
    serving child) waits until the rows are checked; the serving child then takes the next
    file as before, also after a block that failed."""
    told: list[tuple[int, bool]] = []
    finish = reader_process.ReaderProcess.finish

    def recorded(self: reader_process.ReaderProcess, pid: int, *, answered: bool = False
                 ) -> None:
        told.append((pid, answered))
        finish(self, pid, answered=answered)

    monkeypatch.setattr(reader_process.ReaderProcess, "finish", recorded)
    serving = run_capped(_pid)
    told.clear()
    with reaping_later():
        assert run_capped(_pid) == serving
        assert told == []  # not yet
    assert told == [(serving, True)]
    with pytest.raises(RuntimeError), reaping_later():
        assert run_capped(_pid) == serving
        raise RuntimeError("a check failed")
    assert told == [(serving, True)] * 2
    cancelled = Capped(_sleep_then, 0.3, 1)
    with reaping_later():
        cancelled.cancel()  # not an answer: the reader process hears of it at once
        assert told[-1] == (serving, False)
    assert run_capped(_pid) != serving  # a cancelled child reads nothing more


def test_a_serving_child_takes_files_up_to_its_limit_then_ends(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Driven from here: ``Serving`` forks the child from this process, so the limit can be
    set low; each file's outcome arrives on its own pipe."""
    monkeypatch.setattr(reader_process, "FILES_PER_CHILD", 3)
    with socket.socket() as unused:  # what the reader process would close in the child
        serving = reader_process.Serving.fork(unused)
    assert serving is not None
    try:
        answers = []
        for _ in range(3):
            receiver, sender = os.pipe()
            payload = pickle.dumps((_pid, (), 10.0))
            assert serving.take(payload, [sender]) == serving.pid
            assert serving.take(payload, [sender]) is None  # busy until its answer is read
            assert _outcome(receiver) == ("ok", serving.pid)
            answers.append(serving.ready_again())
        assert answers == [True, True, False]
    finally:
        serving.close()


def _raise(message: str) -> None:
    raise ValueError(message)


def _outcome(fd: int) -> tuple[str, object] | None:
    """What a child sent down ``fd``, read as ``Capped.result`` reads it."""
    try:
        return isolated._receive_outcome(fd, time.monotonic() + 10.0, 10.0)
    finally:
        os.close(fd)


def test_the_memory_cap_holds_in_its_children(reader: reader_process.ReaderProcess) -> None:
    with pytest.raises(ChildRaised) as raised:
        run_capped(_allocate, 8 << 30)
    assert raised.value.type_name == "MemoryError"
    assert run_capped(_allocate, 1 << 20) == 1 << 20


def test_a_hang_is_killed_at_the_timeout(reader: reader_process.ReaderProcess) -> None:
    serving = run_capped(_pid)
    started = time.monotonic()
    with pytest.raises(ChildFailed):
        run_capped(_sleep_then, 60, 1, timeout=0.5)
    assert time.monotonic() - started < 30
    fresh = run_capped(_pid)
    assert fresh != serving  # killed and reaped, not left sleeping
    assert _children_of(reader.pid) == [fresh]
    assert run_capped(_allocate, 10) == 10


def test_a_cancelled_read_is_killed(reader: reader_process.ReaderProcess) -> None:
    serving = run_capped(_pid)  # up and waiting: it takes the next file
    child = Capped(_sleep_then, 60, 1)
    reading = set(_children_of(reader.pid))
    assert serving in reading
    child.cancel()
    left = set(_children_of(reader.pid))
    assert reading.isdisjoint(left) and len(left) <= 1  # at most a fresh child, waiting
    with pytest.raises(ChildFailed):
        child.result()


def test_a_dead_reader_process_is_replaced_at_the_next_file(
        reader: reader_process.ReaderProcess) -> None:
    os.kill(reader.pid, signal.SIGKILL)
    os.waitpid(reader.pid, 0)
    assert validate_path(FIXTURES / "clean_libreoffice.xlsx", CONTEXT).rows_accepted == 6
    replacement = reader_process.current()
    assert replacement is not None and replacement.pid != reader.pid
    assert run_capped(_parent_pid) == replacement.pid


def test_a_reader_process_that_never_says_it_started_is_replaced(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopped before its first word (it takes a tenth of a second to import the reader):
    the first request waits READY_SECONDS for that word, then the file is read elsewhere."""
    reader_process.start()
    stuck = reader_process.current()
    assert stuck is not None
    os.kill(stuck.pid, signal.SIGSTOP)
    try:
        monkeypatch.setattr(reader_process, "READY_SECONDS", 0.5)
        parent = run_capped(_parent_pid)
        replacement = reader_process.current()
        assert replacement is not None and replacement is not stuck
        # Read by the new process, or (should it, too, be slow to start) by a fork of ours.
        assert parent in {replacement.pid, os.getpid()}
        assert not stuck.alive()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(stuck.pid, signal.SIGCONT)
        reader_process.stop()


def test_a_reader_process_that_stops_answering_is_replaced(
        reader: reader_process.ReaderProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    # Still running as far as poll() knows, but it answers nothing: the request times out, the
    # stuck process is killed and a new one takes the file.
    assert run_capped(_parent_pid) == reader.pid  # started and answering
    monkeypatch.setattr(reader_process, "ANSWER_SECONDS", 0.5)
    os.kill(reader.pid, signal.SIGSTOP)
    assert run_capped(_allocate, 7) == 7
    replacement = reader_process.current()
    assert replacement is not None and replacement is not reader
    assert not reader.alive()
    # A fresh process imports this test module to take its functions: give it time for that.
    monkeypatch.setattr(reader_process, "ANSWER_SECONDS", 60.0)
    assert run_capped(_parent_pid) == replacement.pid


def test_a_read_in_hand_finishes_when_the_reader_process_dies(
        reader: reader_process.ReaderProcess) -> None:
    child = Capped(_sleep_then, 0.3, 42)
    os.kill(reader.pid, signal.SIGKILL)
    assert child.result() == 42  # the child writes to our pipe, not through that process


def test_what_it_cannot_import_is_read_in_a_fork_of_ours(
        reader: reader_process.ReaderProcess) -> None:
    local = 5
    assert run_capped(lambda: local + os.getppid()) == 5 + os.getpid()
    assert reader_process.current() is reader


def test_what_it_cannot_unpickle_is_read_in_a_fork_of_ours(
        reader: reader_process.ReaderProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sent, since it pickles here, but refused there: the refusal is read with the result
    (the caller does not wait for it at the start), and the call runs in a fork of ours."""
    only_here = types.ModuleType("marac_module_only_in_this_process")
    exec("import os\ndef parent():\n    return os.getppid()\n", only_here.__dict__)
    monkeypatch.setitem(sys.modules, only_here.__name__, only_here)
    assert run_capped(only_here.parent) == os.getpid()
    assert reader_process.current() is reader  # refusing is no fault: it stays
    assert run_capped(_parent_pid) == reader.pid


def test_starting_a_read_does_not_wait_for_the_reader_process(
        reader: reader_process.ReaderProcess) -> None:
    """An idle process takes a millisecond or two to wake on a VM (issue 14): the caller sends
    the request and goes on, and reads the answer with the outcome."""
    assert run_capped(_parent_pid) == reader.pid  # started and answering
    os.kill(reader.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        child = Capped(_parent_pid)
        assert time.monotonic() - started < 30  # the fixture gives an answer 60 s
    finally:
        os.kill(reader.pid, signal.SIGCONT)
    assert child.result() == reader.pid
    assert reader_process.current() is reader


def test_a_fork_of_the_caller_does_not_use_its_reader_process(
        reader: reader_process.ReaderProcess) -> None:
    receiver, sender = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(sender, b"1" if reader_process.current() is None else b"0")
        finally:
            os._exit(0)
    os.close(sender)
    os.waitpid(pid, 0)
    assert os.read(receiver, 1) == b"1"
    os.close(receiver)


def test_stopping_ends_the_process_and_reads_fork_again() -> None:
    reader_process.start()
    started = reader_process.current()
    assert started is not None
    reader_process.stop()
    assert not started.alive()
    assert reader_process.current() is None
    assert run_capped(_parent_pid) == os.getpid()


def test_a_hostile_workbook_through_the_reader_process_is_unreadable_not_fatal(
        reader: reader_process.ReaderProcess) -> None:
    # As tests/test_reader_isolated.py: calamine aborts in the capped child, nowhere else.
    data = (FIXTURES / "damaged" / "xls_huge_allocation.xls").read_bytes()
    report = validate_bytes(data, "x.xls", CONTEXT)
    assert report.status == "rejected"
    assert reader.alive()


def test_a_reader_process_that_cannot_start_leaves_reads_to_forks(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader_process.sys, "executable", "/nonexistent/python")
    reader_process.start()  # logged, not raised: run starts all the same
    try:
        assert reader_process.current() is None
        assert run_capped(_parent_pid) == os.getpid()
        assert validate_path(FIXTURES / "clean_libreoffice.xlsx", CONTEXT).rows_accepted == 6
    finally:
        reader_process.stop()


def test_a_dead_reader_process_that_cannot_be_replaced_leaves_reads_to_forks(
        reader: reader_process.ReaderProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    os.kill(reader.pid, signal.SIGKILL)
    os.waitpid(reader.pid, 0)
    monkeypatch.setattr(reader_process.sys, "executable", "/nonexistent/python")
    assert run_capped(_parent_pid) == os.getpid()
    assert reader_process.current() is None


def _digest_of(label: str, data: bytes, more: bytes) -> tuple[str, int, str, str]:
    import hashlib

    return label, len(data), hashlib.sha256(data).hexdigest(), hashlib.sha256(more).hexdigest()


def _open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def test_large_bytes_travel_beside_the_request_and_arrive_whole(
        reader: reader_process.ReaderProcess) -> None:
    """A file's bytes go as memory files passed with the request, not pickled through two
    sockets: the serving child and a child forked for a second read both get them whole,
    small arguments still travel in the request, and no descriptor is left open here."""
    import hashlib

    big, other = os.urandom(3 << 20), bytes(range(256)) * 1024
    want = ("x", len(big), hashlib.sha256(big).hexdigest(), hashlib.sha256(other).hexdigest())
    before = _open_fds()
    run_capped(_pid)  # the reader process has started and forked its serving child
    theirs = set(os.listdir(f"/proc/{reader.pid}/fd"))
    assert run_capped(_digest_of, "x", big, other) == want  # the serving child
    slow = Capped(_sleep_then, 0.5, 7)
    assert run_capped(_digest_of, "x", big, other) == want  # a child of its own
    assert slow.result() == 7
    assert run_capped(_digest_of, "x", b"small", b"") == (
        "x", 5, hashlib.sha256(b"small").hexdigest(), hashlib.sha256(b"").hexdigest())
    assert _open_fds() <= before
    assert set(os.listdir(f"/proc/{reader.pid}/fd")) <= theirs
    detached, fds = reader_process._detached(("x", big, other, b"small"))
    try:
        assert len(fds) == 2 and detached[0] == "x" and detached[3] == b"small"
        assert reader_process._attached(detached, fds) == ("x", big, other, b"small")
    finally:
        for fd in fds:
            os.close(fd)


def test_the_reader_process_runs_our_code_whatever_the_working_directory_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Started where another ``validation`` package lies (a checkout of other code), the
    reader process still imports ours, and reads."""
    decoy = tmp_path / "validation"
    decoy.mkdir()
    (decoy / "__init__.py").write_text("raise ImportError('the decoy was imported')\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(reader_process, "ANSWER_SECONDS", 60.0)
    reader_process.start()
    try:
        started = reader_process.current()
        assert started is not None
        assert run_capped(_parent_pid) == started.pid  # it answered: our code, not the decoy
    finally:
        reader_process.stop()
