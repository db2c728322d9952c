"""Running a parser where a damaged file cannot take the bot down with it.

python-calamine's readers (every format) trust sizes written inside the file: a damaged one
can make them ask for terabytes, and Rust aborts the whole process on a failed allocation,
which no ``except`` can catch (found by fuzzing: a damaged .xls; a 15 KB .xlsx whose shared
strings claim 4,294,967,295 entries). Those reads run in a forked child whose address space
is capped and whose time is limited; if the child dies or overruns, the file is unreadable
and the bot carries on.
"""

from __future__ import annotations

import faulthandler
import multiprocessing
import os
import resource
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

T = TypeVar("T")

# Room for the parse on top of what the parent already maps: a 99,000-row template needs
# about 300 MB, 50,000 rows of any content about 200 MB; a file that wants more than this is
# broken or hostile, and its child dies, not the bot. Kept low so that no process of the bot
# (which shares its pages with the forked child) passes 500 MB on any input.
MEMORY_HEADROOM = 320 << 20
TIMEOUT_SECONDS = 30.0


class ChildFailed(Exception):
    """The child died (killed by the memory cap, a crash) or took too long."""


class ChildRaised(Exception):
    """The function raised in the child: its exception type name and message."""

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name


def run_capped(fn: Callable[..., T], *args: Any, timeout: float = TIMEOUT_SECONDS) -> T:
    """``fn(*args)`` in a forked child with capped memory; its result, pickled back."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(sender, fn, args), daemon=True)
    child.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            raise ChildFailed(f"no answer within {timeout:.0f} s")
        outcome, value = receiver.recv()
    except EOFError:
        raise ChildFailed("the reader process died") from None
    finally:
        receiver.close()
        child.join(5)
        if child.is_alive():
            child.kill()
            child.join()
    if outcome == "raised":
        raise ChildRaised(*value)
    result: T = value
    return result


def _child(sender: Connection, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    _cap_address_space()
    _silence_stderr()  # a Rust abort prints a long backtrace; the parent logs one line
    try:
        sender.send(("ok", fn(*args)))
    except BaseException as exc:  # a pyo3 panic is a BaseException too
        sender.send(("raised", (type(exc).__name__, str(exc)[:500])))
    finally:
        sender.close()


def _silence_stderr() -> None:
    # faulthandler (pytest turns it on) writes to a copy of stderr taken earlier: off too.
    faulthandler.disable()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)


def _cap_address_space() -> None:
    limit = _mapped_bytes() + MEMORY_HEADROOM
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _mapped_bytes() -> int:
    """The process's current virtual size (VmSize), which the cap must leave room above."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 4 << 30
