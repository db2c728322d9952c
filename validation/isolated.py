"""Running a parser where a damaged file cannot take the bot down with it.

python-calamine's readers (every format) trust sizes written inside the file: a damaged one
can make them ask for terabytes, and Rust aborts the whole process on a failed allocation,
which no ``except`` can catch (found by fuzzing: a damaged .xls; a 15 KB .xlsx whose shared
strings claim 4,294,967,295 entries). Those reads run in a forked child whose address space
is capped and whose time is limited; if the child dies or overruns, the file is unreadable
and the bot carries on.

A bare ``os.fork`` and a pipe, not ``multiprocessing``: the child needs no process object,
manager or resource tracker, and importing and starting one cost a 13-row validation more
than reading the file does (issue 14).
"""

from __future__ import annotations

import contextlib
import faulthandler
import functools
import gc
import importlib
import os
import pickle
import resource
import selectors
import signal
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from validation import reader_process

T = TypeVar("T")

# Room for the parse on top of what the parent already maps: a 99,000-row template needs
# about 300 MB, 50,000 rows of any content about 200 MB; a file that wants more than this is
# broken or hostile, and its child dies, not the bot. Kept low so that no process of the bot
# (which shares its pages with the forked child) passes 500 MB on any input.
MEMORY_HEADROOM = 320 << 20
TIMEOUT_SECONDS = 30.0
# What a child's ``preload`` maps on top (``Capped``): validation.prepare brings numpy and its
# libraries, ~80 MB of address space with one BLAS thread (~120 MB with a pool), few of them
# ever resident. The parse's own room stays ``MEMORY_HEADROOM``.
PRELOAD_ROOM = 128 << 20
# A larger pipe than the default 64 KB: a 50,000-row sheet comes back in ~15 MB.
_PIPE_BYTES = 1 << 20
# The outcome's frame (``_framed``): magic, body size, buffer count; then each buffer's size.
_FRAME = struct.Struct("<4sQI")
_SIZE = struct.Struct("<Q")
_MAGIC = b"MRC1"
_ALIGN = 64  # each buffer's start, for the arrays made on it
_MAX_BUFFERS = 1 << 16
# A child cannot make more than its cap lets it allocate, so a frame that claims more is not
# one: refused before this process allocates room for it.
_MAX_OUTCOME = MEMORY_HEADROOM + PRELOAD_ROOM
_F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ (Linux), named in the fcntl module only from 3.10


class ChildFailed(Exception):
    """The child died (killed by the memory cap, a crash) or took too long."""


class ChildRaised(Exception):
    """The function raised in the child: its exception type name and message."""

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name


def run_capped(fn: Callable[..., T], *args: Any, timeout: float = TIMEOUT_SECONDS) -> T:
    """``fn(*args)`` in a forked child with capped memory; its result, pickled back."""
    return Capped(fn, *args, timeout=timeout).result()


class Capped(Generic[T]):
    """``fn(*args)`` started at once in a forked, capped child: take its ``result()``, or
    ``cancel()`` it when the answer is no longer wanted (it is killed, never left behind).

    ``preload``: modules ``fn`` will import that this process has not (a one-shot command
    starts the read before it loads validation's own modules): a forked child imports them in
    a thread from its start, while the parser works without the GIL, and its memory cap
    grows by what they map (``PRELOAD_ROOM``), so that the parse keeps the room it has always
    had. ``run``'s reader process has them loaded already."""

    def __init__(self, fn: Callable[..., T], *args: Any, timeout: float = TIMEOUT_SECONDS,
                 preload: tuple[str, ...] = ()) -> None:
        self._call = (fn, args, preload)
        self._timeout = timeout
        self._reader: reader_process.ReaderProcess | None = None
        self._answer: reader_process.Answer | None = None  # the reader process's, unread
        self._pid: int | None = None
        self._started_again = False
        self._start(through_reader=True)

    def _start(self, *, through_reader: bool) -> None:
        fn, args, preload = self._call
        self._deadline = time.monotonic() + self._timeout
        started = _start_in_reader(fn, args, self._timeout) if through_reader else None
        if started is not None:  # ``run``'s reader process forks the child
            self._reader, self._answer, self._receiver = started
            return
        self._reader = None
        receiver, sender = _pipe()
        missing = tuple(name for name in preload if name not in sys.modules)
        pid = os.fork()
        if pid == 0:  # the child: never returns into the caller's code
            os.close(receiver)
            _child(sender, fn, args, self._timeout, missing)
        os.close(sender)
        self._pid = pid
        self._receiver = receiver

    def result(self) -> T:
        """The child's return value; ChildRaised if it raised, ChildFailed if it died or
        overran its time."""
        self._resolve()
        if self._pid is None:
            raise ChildFailed("cancelled")
        sent: tuple[str, Any] | None = None
        try:
            sent = _receive_outcome(self._receiver, self._deadline, self._timeout)
        finally:
            self._finish(answered=sent is not None)
        if sent is None:
            raise ChildFailed("the child reading it died (past its memory cap, or a crash)")
        outcome, value = sent
        if outcome == "raised":
            raise ChildRaised(*value)
        result: T = value
        return result

    def cancel(self) -> None:
        self._resolve(start_again=False)
        if self._pid is not None:
            self._finish()

    def _resolve(self, *, start_again: bool = True) -> None:
        """The reader process's answer to our request, read now that it is needed: the
        child's pid. If it refused the call, the call is started again in a fork of ours;
        if it died or stopped answering, in its replacement once, then in a fork. With
        ``start_again`` False (cancelling) nothing is started."""
        answer, self._answer = self._answer, None
        if answer is None:
            return
        assert self._reader is not None
        try:
            self._pid = self._reader.wait(answer)
            through_reader = False  # refused: that process cannot take it
        except reader_process.ReaderGone:
            reader_process.replace(self._reader)  # its children died with it, or will
            through_reader = not self._started_again
        if self._pid is not None:
            return
        os.close(self._receiver)
        if start_again:
            self._started_again = True
            self._start(through_reader=through_reader)
            self._resolve()

    def _finish(self, *, answered: bool = False) -> None:
        assert self._pid is not None
        os.close(self._receiver)
        pending: list[Callable[[], None]] | None = getattr(_deferred, "pending", None)
        if self._reader is None:
            if answered and pending is not None:
                # It has closed the pipe and is leaving.
                pending.append(functools.partial(_reap, self._pid))
            else:
                _reap(self._pid)
        elif answered and pending is not None:
            # Its outcome is in: telling the reader process so (a round trip to it, and
            # from it to the serving child) can wait until the rows are checked.
            pending.append(functools.partial(_finish_in_reader, self._reader, self._pid))
        else:
            _finish_in_reader(self._reader, self._pid, answered=answered)
        self._pid = None


def _finish_in_reader(reader: reader_process.ReaderProcess, pid: int, *,
                      answered: bool = True) -> None:
    with contextlib.suppress(reader_process.ReaderGone):  # its children died with it
        reader.finish(pid, answered=answered)


def _pipe() -> tuple[int, int]:
    receiver, sender = os.pipe()
    _widen(receiver)
    return receiver, sender


def _start_in_reader(fn: Callable[..., Any], args: tuple[Any, ...], timeout: float
                     ) -> tuple[reader_process.ReaderProcess, reader_process.Answer, int] | None:
    """The call sent to this process's reader process (reader_process.py), if ``run`` started
    one: (that process, its answer to come, the pipe to read). A reader process found dead
    is replaced once; None when there is none, or ``fn`` cannot be sent."""
    reader = reader_process.current()
    for _ in range(2):
        if reader is None:
            return None
        receiver, sender = _pipe()
        try:
            answer = reader.start(sender, fn, args, timeout)
        except reader_process.ReaderGone:
            answer = None
            reader = reader_process.replace(reader)
        else:
            if answer is None:
                reader = None
        finally:
            os.close(sender)  # the child has its own copy, or there is no child
        if answer is not None and reader is not None:
            return reader, answer, receiver
        os.close(receiver)
    return None


def _widen(fd: int) -> None:
    try:
        import fcntl

        fcntl.fcntl(fd, _F_SETPIPE_SZ, _PIPE_BYTES)
    except OSError:  # a smaller system limit: the default size works, only slower
        pass


def _receive_outcome(fd: int, deadline: float, timeout: float) -> tuple[str, Any] | None:
    """The outcome the child sends (``_framed``); None if the pipe closes before all of it
    came (the child died); ChildFailed past ``deadline``. Its buffers (the table's arrays) are
    read straight into one bytearray that the arrays then use: no chunks joined, no second
    copy by pickle (~15 ms of fresh pages and copies at 50,000 rows in a new process)."""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)

        def fill(view: memoryview) -> bool:
            got = 0
            while got < len(view):
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    raise ChildFailed(f"no answer within {timeout:.0f} s")
                n = os.readv(fd, [view[got:]])
                if n == 0:
                    return False
                got += n
            return True

        head = bytearray(_FRAME.size)
        if not fill(memoryview(head)):
            return None
        magic, body_size, count = _FRAME.unpack(head)
        # Checked before any room is made: a foreign head's count, taken as ours, asked for
        # up to 32 GB of zeroed sizes (found by a 17-second test).
        if magic != _MAGIC or count > _MAX_BUFFERS:
            return None
        sizes = bytearray(_SIZE.size * count)
        if not fill(memoryview(sizes)):
            return None
        lengths = [size for (size,) in _SIZE.iter_unpack(sizes)]
        places, end = _layout(body_size, lengths)
        if end > _MAX_OUTCOME:
            return None
        data = bytearray(end)
        view = memoryview(data)
        if not fill(view):
            return None
        body = view[:body_size]
        buffers = [view[start:start + size] for start, size in zip(places, lengths, strict=True)]
        sent: tuple[str, Any] = pickle.loads(body, buffers=buffers)
        return sent


def _layout(body_size: int, lengths: list[int]) -> tuple[list[int], int]:
    """Where each buffer starts, counted from the body's start (the start of the bytearray
    they are read into), each aligned for the arrays made on it; and where the last ends."""
    places = []
    offset = body_size
    for size in lengths:
        offset += -offset % _ALIGN
        places.append(offset)
        offset += size
    return places, offset


def _framed(outcome: tuple[str, Any]) -> list[bytes | memoryview]:
    """What ``run_and_send`` writes: a head (magic, body size, buffer count, each buffer's
    size), the pickle's body, then each buffer the pickle left out of band (numpy arrays,
    protocol 5), as they lie in memory, each padded to ``_ALIGN`` from the body's start."""
    kept: list[pickle.PickleBuffer] = []
    body = pickle.dumps(outcome, protocol=5, buffer_callback=kept.append)
    raws = [buffer.raw() for buffer in kept]
    lengths = [raw.nbytes for raw in raws]
    head = _FRAME.pack(_MAGIC, len(body), len(raws)) + b"".join(
        _SIZE.pack(size) for size in lengths)
    places, _ = _layout(len(body), lengths)
    parts: list[bytes | memoryview] = [head, body]
    offset = len(body)
    for start, raw in zip(places, raws, strict=True):
        if start > offset:
            parts.append(bytes(start - offset))
        parts.append(raw)
        offset = start + raw.nbytes
    return parts


def _reap(pid: int) -> None:
    """Wait for the child; one still running (it overran) is killed first."""
    done, _ = os.waitpid(pid, os.WNOHANG)
    if done == 0:
        with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def _child(sender: int, fn: Callable[..., Any], args: tuple[Any, ...],
           timeout: float = TIMEOUT_SECONDS, preload: tuple[str, ...] = ()) -> None:
    """Run in the forked child: write the pickled outcome and leave at once with ``_exit``,
    so nothing of the parent (atexit handlers, buffered output, the event loop) runs twice.
    ``preload``: modules to import in a thread meanwhile (``Capped``)."""
    code = 1
    try:
        # The child lives for one read and makes no cycles: the collector would only walk the
        # tens of thousands of row lists (and the parent's inherited objects, copying their
        # pages) again and again, ~7% of a 50,000-row read. The memory cap still holds.
        gc.disable()
        _cap_address_space(PRELOAD_ROOM if preload else 0)
        _cap_cpu_time(timeout)
        _silence_stderr()  # a Rust abort prints a long backtrace; the parent logs one line
        if preload:
            threading.Thread(target=_import_all, args=(preload,), daemon=True).start()
        run_and_send(sender, fn, args)
        code = 0
    finally:
        os._exit(code)


def run_and_send(sender: int, fn: Callable[..., Any], args: tuple[Any, ...]) -> bool:
    """In a capped child: ``fn(*args)``'s pickled outcome written to ``sender``, then closed.
    True when it returned, False when it raised. What ``fn`` gave to ``keep_until_sent`` is
    still held: ``release_kept`` frees it, or the child's exit does."""
    try:
        outcome: tuple[str, Any] = ("ok", fn(*args))
    except BaseException as exc:  # a pyo3 panic is a BaseException too
        outcome = ("raised", (type(exc).__name__, str(exc)[:500]))
    parts = _framed(outcome)
    with open(sender, "wb", closefd=True) as pipe:
        for part in parts:
            pipe.write(part)
    return outcome[0] == "ok"


_kept: list[Any] = []


def keep_until_sent(value: Any) -> None:
    """In a capped child: hold ``value`` until the outcome is written. Freeing a large
    workbook's cells (1.6 million objects at 50,000 rows, 15-20 ms) then happens after the
    caller has its answer (``release_kept``), or never, when the child leaves with
    ``_exit``."""
    _kept.append(value)


def release_kept() -> None:
    _kept.clear()


@contextlib.contextmanager
def reaping_later() -> Iterator[None]:
    """Within this block (in this thread), a forked child whose whole outcome was read is
    reaped when the block ends, not the moment its answer is in: it is still tearing down its
    memory then (2-4 ms), and meanwhile the caller can check what it sent. Likewise ``run``'s
    reader process hears that a child's outcome was read (so that its serving child may take
    the next file) when the block ends. Every child is reaped, or handed back, as ever, before
    the block is left, whatever happens in it."""
    pending: list[Callable[[], None]] = []
    outer = getattr(_deferred, "pending", None)
    _deferred.pending = pending
    try:
        yield
    finally:
        _deferred.pending = outer
        for finish in pending:
            finish()


_deferred = threading.local()


def cap_serving_child() -> None:
    """The caps of a child that reads one file after another (reader_process.py): memory as
    for one, CPU raised before each file by ``cap_cpu_from_now``."""
    gc.disable()
    _cap_address_space()
    _silence_stderr()


def cap_cpu_from_now(timeout: float) -> None:
    """The CPU backstop for the next file: what was used so far plus ``timeout`` and 5 s.
    Only the soft limit moves (raising a hard limit needs privileges the bot may not have)."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    seconds = int(used.ru_utime + used.ru_stime + timeout) + 5
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = seconds if hard == resource.RLIM_INFINITY else min(seconds, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _silence_stderr() -> None:
    # faulthandler (pytest turns it on) writes to a copy of stderr taken earlier: off too.
    faulthandler.disable()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)


def _cap_cpu_time(timeout: float) -> None:
    """A backstop to the caller's timeout: should the caller (or the reader process) die
    first, a runaway child is still stopped by the kernel, not left spinning."""
    seconds = int(timeout) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))


def _import_all(names: tuple[str, ...]) -> None:
    """In a child's thread: import ``names``; should one fail, ``fn``'s own import raises
    the error where it is handled."""
    for name in names:
        with contextlib.suppress(Exception):
            importlib.import_module(name)


def _cap_address_space(room: int = 0) -> None:
    limit = _mapped_bytes() + MEMORY_HEADROOM + room
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _mapped_bytes() -> int:
    """The process's current virtual size (VmSize), which the cap must leave room above."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 4 << 30
