"""A small long-lived process that forks the capped readers, so that ``run`` does not fork itself
once per file (issue 14).

Forking the bot costs what its address space costs to copy the page tables of: ~1 ms for a bare
Python, 5-9 ms for ``run`` with every channel loaded (120 MB, 1,500 modules), and a fork from a
process with worker threads is only as safe as the locks the other threads held at that moment.
This process is started from a fresh interpreter that imports only the reader (python-calamine,
the scan), one thread, no store: a fork of it is cheap and clean.

Files are read in a capped child of this process (the memory cap and time limit of
``validation.isolated``), which writes its pickled result straight into a pipe the caller made.
A fork costs 5-10 ms of a 6-row file here (the fork, then the first touch of every page it
copies), so one child, a ``Serving`` child, reads files one after another: up to
``FILES_PER_CHILD`` of them, each outcome sent before the next file comes, nothing of a file
kept. It is replaced by a fresh fork the moment a file raises, is cancelled, overruns its time
or kills it (an abort, the memory cap): a file can still only take down the child reading it,
and a child that saw a failure reads nothing more. A second file asked for while it is busy
gets a child of its own. If this process itself dies, the next read starts a new one; if even
that fails, ``validation.isolated`` forks the caller as it always has.

Protocol over a Unix socket pair, requests in turn (a lock on the caller's side), each answered
in the order asked; the caller reads an answer only when it needs it (``Answer``), so that it
need not wait while this process wakes:
``R`` + pickled (fn, args, timeout), with the pipe's write end attached, is answered with the
child's pid; ``F`` + pid + whether its whole outcome was read (the caller is done with that
child: a serving child whose file went well may take the next, any other is killed if still
running and reaped) is answered ``F``. A request that cannot be unpickled here is answered
``N``: the caller then forks itself.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import pickle
import signal
import socket
import struct
import sys
import threading
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

_HEADER = struct.Struct("!cQ")  # kind, payload length
_FINISH = struct.Struct("!q?")  # pid, its outcome read in full
# A serving child reads at most this many files before it is replaced by a fresh fork: what
# one file's read leaves behind (freed arenas, caches) never builds up for long.
FILES_PER_CHILD = 100
# After its outcome was read, a serving child says within this long whether it takes more.
READY_AGAIN_SECONDS = 1.0
_REFUSED = -1
# It answers each request as soon as it has forked or reaped (a millisecond): one that takes
# longer than this is stuck, and is replaced.
ANSWER_SECONDS = 5.0
# Its first word, once it has imported the reader: a fresh interpreter on a busy machine.
READY_SECONDS = 30.0


class ReaderGone(Exception):
    """The reader process died or answered nonsense: start another, or fork."""


class ReaderProcess:
    """The caller's handle on one reader process."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = dict(os.environ)
        # The same import path as ours, so that what we send by reference unpickles there.
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))
        # One thread: numpy's BLAS would start a pool at import that no read uses, and this
        # process is meant to fork from a single thread.
        env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = "1"
        code = f"from validation.reader_process import serve; serve({theirs.fileno()})"
        import subprocess  # here: a one-shot command forks instead, and never needs it

        # -P: not the working directory first on its path, which would win over PYTHONPATH
        # (a checkout of other code where run was started would answer our requests).
        self._process = subprocess.Popen(
            [sys.executable, "-P", "-c", code], pass_fds=(theirs.fileno(),), env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        theirs.close()
        self._socket = ours
        self._lock = threading.Lock()
        self._ready = False
        self._owed: collections.deque[Answer] = collections.deque()  # answers not yet read
        self.owner = os.getpid()

    @property
    def pid(self) -> int:
        return self._process.pid

    def start(self, sender: int, fn: Callable[..., Any], args: tuple[Any, ...],
              timeout: float) -> Answer | None:
        """Have a capped child run ``fn(*args)`` and write its outcome to ``sender``. What it
        is owed, read when needed (``wait``: the child's pid, or None when this process
        cannot take the call); None at once when it cannot be sent (the caller forks)."""
        args, attached = _detached(args)
        try:
            try:
                payload = pickle.dumps((fn, args, timeout), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # a lambda, a local function: not ours to send
                return None
            return self._send(b"R", payload, [sender, *attached])
        finally:
            for fd in attached:
                os.close(fd)

    def finish(self, pid: int, *, answered: bool = False) -> None:
        """Done with that child: ``answered`` (its whole outcome was read), a serving child
        may take the next file; otherwise it is killed if still running, and reaped."""
        self.wait(self._send(b"F", _FINISH.pack(pid, answered)))

    def wait(self, answer: Answer) -> int | None:
        """What this process owes for a request (answers come in the order asked, whichever
        thread reads them): a pid, or None for a refused request. ReaderGone if it died or
        stopped answering, for this request and every other still owed."""
        with self._lock:
            while answer.value is None and answer.error is None:
                self._read_next()
        if answer.error is not None:
            raise ReaderGone(answer.error)
        return None if answer.value == _REFUSED else answer.value

    def alive(self) -> bool:
        return self._process.poll() is None

    def stop(self, grace: float = 5.0) -> None:
        """Close the socket (the process then ends, killing any child it still has) and wait;
        past ``grace`` seconds it is killed."""
        with contextlib.suppress(OSError):
            self._socket.close()
        import subprocess

        try:
            self._process.wait(grace)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def _send(self, kind: bytes, payload: bytes, fds: list[int] | None = None) -> Answer:
        """Send a request without waiting for its answer: the process wakes and forks while
        the caller goes on (on a VM an idle process takes 1-2 ms to wake, issue 14)."""
        with self._lock:
            try:
                if not self._ready:  # asked before it has started: wait for its first word
                    self._socket.settimeout(READY_SECONDS)
                    if _receive_exact(self._socket, 9)[:1] != b"S":
                        raise ReaderGone("no start word")
                    self._ready = True
                self._socket.settimeout(ANSWER_SECONDS)
                header = _HEADER.pack(kind, len(payload))
                if fds is None:
                    self._socket.sendall(header)
                else:
                    socket.send_fds(self._socket, [header], fds)
                self._socket.sendall(payload)
            except OSError as exc:
                raise ReaderGone(str(exc)) from exc
            answer = Answer(kind)
            self._owed.append(answer)
            return answer

    def _read_next(self) -> None:
        """The next answer, given to the request first owed; on any failure every request
        owed fails (the stream can no longer be trusted)."""
        owed = self._owed[0]  # ``wait`` asks only for an answer still owed, so one is
        try:
            self._socket.settimeout(ANSWER_SECONDS)
            reply, value = struct.unpack("!cq", _receive_exact(self._socket, 9))
            if reply not in {owed.kind, b"N"}:
                raise ReaderGone(f"unexpected answer {reply!r}")
        except (OSError, ReaderGone) as exc:
            for failed in self._owed:
                failed.error = str(exc) or type(exc).__name__
            self._owed.clear()
            return
        self._owed.popleft()
        owed.value = _REFUSED if reply == b"N" else int(value)


class Answer:
    """What the reader process owes for one request, once read (``ReaderProcess.wait``)."""

    __slots__ = ("error", "kind", "value")

    def __init__(self, kind: bytes) -> None:
        self.kind = kind
        self.value: int | None = None
        self.error: str | None = None


def _receive_exact(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ReaderGone("the reader process closed its socket")
        data += chunk
    return bytes(data)


# --- this process's reader, if ``run`` started one -------------------------------------------

_current: ReaderProcess | None = None
_current_lock = threading.Lock()


def start() -> None:
    """Start the reader process for this process (``run`` does, once, at start-up). If it
    cannot be started, files are read in forks of this process, as before."""
    global _current
    with _current_lock:
        if _current is None or not _usable(_current):
            _current = _started()


def stop() -> None:
    """Stop this process's reader process, if any: later reads fork this process again."""
    global _current
    with _current_lock:
        reader, _current = _current, None
    if reader is not None and reader.owner == os.getpid():
        reader.stop()


def current() -> ReaderProcess | None:
    """The reader process to use, started again if it died; None when none was started here
    (a one-shot command forks itself: starting an interpreter would cost it more)."""
    global _current
    reader = _current
    if reader is None or reader.owner != os.getpid():  # a fork of ours: not its socket
        return None
    if reader.alive():
        return reader
    with _current_lock:
        if _current is reader:
            _current = _started()
        return _current


def replace(dead: ReaderProcess) -> ReaderProcess | None:
    """Another reader process in place of one that stopped answering."""
    global _current
    with _current_lock:
        if _current is not dead:
            return _current
        dead.stop(grace=0)  # it failed a request: no use waiting for it
        _current = _started()
        return _current


def _started() -> ReaderProcess | None:
    try:
        return ReaderProcess()
    except OSError as exc:  # no process to spare, say: reads fork this process instead
        logger.warning("could not start the reader process: %s", exc)
        return None


def _usable(reader: ReaderProcess) -> bool:
    return reader.owner == os.getpid() and reader.alive()


# --- the reader process itself ---------------------------------------------------------------


def serve(fd: int) -> None:
    """The reader process's loop: fork a capped child per request, reap on request, and end
    (killing the children still running) when the caller closes its end."""
    import validation.prepare  # noqa: F401 - loaded once here, so every child starts warm
    from validation.isolated import _child

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal: the bot decides
    sock = socket.socket(fileno=fd)
    children: set[int] = set()
    serving: Serving | None = None
    try:
        sock.sendall(struct.pack("!cq", b"S", os.getpid()))
        serving = Serving.fork(sock)
        while True:
            try:
                header, fds = _receive_header(sock)
            except ReaderGone:
                return
            kind, length = _HEADER.unpack(header)
            payload = _receive_exact(sock, length)
            if kind == b"R":
                pid = serving.take(payload, fds) if serving is not None else None
                if pid is None:  # none idle (busy or gone): a child for this file alone
                    if serving is not None and not serving.busy:
                        _retired(serving)  # it is gone, or cannot take what we send
                        serving = None
                    pid = _fork_child(sock, payload, fds, _child)
                    if pid != _REFUSED:
                        children.add(pid)
                sock.sendall(struct.pack("!cq", b"R" if pid != _REFUSED else b"N", pid))
            elif kind == b"F":
                pid, answered = _FINISH.unpack(payload)
                if serving is not None and pid == serving.pid:
                    if not (answered and serving.ready_again()):
                        _retired(serving)
                        serving = None
                elif pid in children:
                    children.discard(pid)
                    _reap(pid)
                sock.sendall(struct.pack("!cq", b"F", pid))
                if serving is None:  # between two files, while the caller checks the last one
                    serving = Serving.fork(sock)
            else:
                return
    except (ReaderGone, OSError):
        return
    finally:
        _retired(serving)
        for pid in children:
            _reap(pid)


class Serving:
    """A capped child that reads one file after another: the fork and the first touches of
    memory after it (5-10 ms a file on a VM) are paid once per ``FILES_PER_CHILD`` files, not
    for every file. It holds nothing of a file once its outcome is sent. Any file that raises,
    is cancelled, or overruns its time ends the child (a fresh fork serves the next one); an
    abort or the memory cap kills only it, as before."""

    def __init__(self, pid: int, conn: socket.socket) -> None:
        self.pid, self.conn = pid, conn
        self.busy = False

    @classmethod
    def fork(cls, sock: socket.socket) -> Serving | None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            pid = os.fork()
        except OSError:  # no process to spare: files fork a child each as they come
            ours.close()
            theirs.close()
            return None
        if pid == 0:  # the serving child: never returns
            sock.close()
            ours.close()
            _serve_files(theirs)
        theirs.close()
        return cls(pid, ours)

    def take(self, payload: bytes, fds: list[int]) -> int | None:
        """Hand it a request; its pid, or None when it cannot take one (busy, gone, or a
        request to refuse, which ``_fork_child`` then refuses)."""
        if self.busy or not fds or not _loadable(payload) or _ended(self.pid):
            return None
        try:
            socket.send_fds(self.conn, [_HEADER.pack(b"R", len(payload))], fds)
            self.conn.sendall(payload)
        except OSError:
            return None
        for fd in fds:
            os.close(fd)
        self.busy = True
        return self.pid

    def ready_again(self) -> bool:
        """After a file whose outcome was read: True if it takes another."""
        self.conn.settimeout(READY_AGAIN_SECONDS)
        try:
            word = self.conn.recv(1)
        except OSError:
            return False
        self.busy = word != b"d"
        return not self.busy

    def close(self) -> None:
        """It ends when its socket closes; reaped (killed if still reading)."""
        self.conn.close()
        _reap(self.pid)


def _retired(serving: Serving | None) -> None:
    if serving is not None:
        serving.close()


def _ended(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        return os.waitpid(pid, os.WNOHANG)[0] != 0
    return True


def _loadable(payload: bytes) -> bool:
    try:
        pickle.loads(payload)
    except Exception:
        return False
    return True


def _serve_files(conn: socket.socket) -> None:
    """The serving child's loop: a file per request, the outcome to the pipe that came with
    it, then ``d`` (ready for another) or the end."""
    from validation.isolated import (
        cap_cpu_from_now,
        cap_serving_child,
        release_kept,
        run_and_send,
    )

    code = 1
    try:
        cap_serving_child()
        for served in range(1, FILES_PER_CHILD + 1):
            header, fds = _receive_header(conn)
            _, length = _HEADER.unpack(header)
            fn, args, timeout = pickle.loads(_receive_exact(conn, length))
            args = _attached(args, fds[1:])
            for fd in fds[1:]:
                os.close(fd)
            cap_cpu_from_now(timeout)
            if not run_and_send(fds[0], fn, args) or served == FILES_PER_CHILD:
                break
            conn.sendall(b"d")  # ready: the file's cells are freed while the caller checks
            del fn, args
            release_kept()
        code = 0
    except BaseException:
        pass
    finally:
        os._exit(code)


def _receive_header(sock: socket.socket) -> tuple[bytes, list[int]]:
    data, fds, _, _ = socket.recv_fds(sock, _HEADER.size, 1 + _MAX_ATTACHED)
    if not data:
        raise ReaderGone("the caller closed its socket")
    if len(data) < _HEADER.size:
        data += _receive_exact(sock, _HEADER.size - len(data))
    return data, fds


def _fork_child(sock: socket.socket, payload: bytes, fds: list[int],
                child: Callable[..., None]) -> int:
    try:
        if not fds:
            return _REFUSED
        try:
            fn, args, timeout = pickle.loads(payload)
        except Exception:  # something we cannot import here: the caller forks
            return _REFUSED
        pid = os.fork()
        if pid == 0:  # the capped child: never returns
            sock.close()
            child(fds[0], fn, _attached(args, fds[1:]), timeout)
        return pid
    finally:
        for fd in fds:
            os.close(fd)


class _Attached:
    """In a request, an argument sent beside it as a file (``_detached``)."""

    __slots__ = ()


# The file's bytes (up to megabytes) travel as a memory file passed with the request, not in
# the pickled request: through the sockets to this process and on to the serving child they
# were copied some eight times, in pieces of the socket's buffer (25 ms at 50,000 rows,
# before the parse could start; a fork of the caller is 5 ms).
_ATTACH_BYTES = 64 << 10
_MAX_ATTACHED = 4


def _detached(args: tuple[Any, ...]) -> tuple[tuple[Any, ...], list[int]]:
    """``args`` with each large ``bytes`` replaced by ``_Attached()``, and a memory file
    holding each, in order (the caller closes them once sent)."""
    if not hasattr(os, "memfd_create"):
        return args, []
    out: list[Any] = list(args)
    fds: list[int] = []
    try:
        for i, value in enumerate(args):
            if type(value) is bytes and len(value) >= _ATTACH_BYTES and len(fds) < _MAX_ATTACHED:
                fd = os.memfd_create("marac-file", os.MFD_CLOEXEC)
                fds.append(fd)
                with open(fd, "wb", closefd=False) as file:
                    file.write(value)
                out[i] = _Attached()
    except OSError:  # no memory file to be had: the bytes go in the request as before
        for fd in fds:
            os.close(fd)
        return args, []
    return tuple(out), fds


def _attached(args: tuple[Any, ...], fds: list[int]) -> tuple[Any, ...]:
    """``args`` with each ``_Attached()`` back as the bytes of the next memory file."""
    files = iter(fds)
    return tuple(_read_attached(next(files)) if type(value) is _Attached else value
                 for value in args)


def _read_attached(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    return os.pread(fd, size, 0)


def _reap(pid: int) -> None:
    """Wait for a child; one still running is killed first."""
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == 0:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
