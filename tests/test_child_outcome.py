"""The outcome a capped child sends back (validation/isolated.py ``_framed``): a head, the
pickle's body, and the arrays out of band, read straight into one buffer. It arrives whole and
equal, its arrays aligned and writable; a cut-off or foreign frame is a child that died."""

from __future__ import annotations

import os
import pickle
import threading
import time
import tracemalloc
from typing import Any

import numpy as np
import pytest

from validation import isolated
from validation.isolated import ChildFailed, run_capped


def _arrays(n: int) -> dict[str, Any]:
    block = np.arange(n * 30, dtype=np.float64).reshape(n, 30)
    return {"block": block, "column": block[:, 3], "days": np.arange(n, dtype=np.int64),
            "flags": np.zeros(n, bool), "empty": np.zeros((0, 30)), "text": "é" * 7,
            "names": ["Croydon"] * 3, "odd": np.arange(7, dtype=np.int8)}


def _equal(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.keys() == b.keys() and all(
        np.array_equal(a[k], b[k]) and a[k].dtype == b[k].dtype if isinstance(a[k], np.ndarray)
        else a[k] == b[k] for k in a)


@pytest.mark.parametrize("rows", [0, 1, 13, 2_000, 50_000])
def test_arrays_come_back_equal_aligned_and_writable(rows: int) -> None:
    found = run_capped(_arrays, rows)
    assert _equal(found, _arrays(rows))
    for value in found.values():
        if isinstance(value, np.ndarray):
            assert value.flags.aligned and value.flags.writeable
            assert value.ctypes.data % value.dtype.alignment == 0


def _sent(outcome: tuple[str, Any]) -> bytes:
    return b"".join(bytes(part) for part in isolated._framed(outcome))


def _received(data: bytes, *, close: bool = True) -> tuple[str, Any] | None:
    """``data`` written to a pipe by a thread, read as ``Capped.result`` reads."""
    receiver, sender = os.pipe()

    def write() -> None:
        os.write(sender, data) if data else None
        if close:
            os.close(sender)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        return isolated._receive_outcome(receiver, time.monotonic() + 2.0, 2.0)
    finally:
        writer.join()
        os.close(receiver)
        if not close:
            os.close(sender)


def test_a_whole_frame_is_read_back() -> None:
    outcome = ("ok", _arrays(100))
    found = _received(_sent(outcome))
    assert found is not None and found[0] == "ok" and _equal(found[1], outcome[1])


@pytest.mark.parametrize("keep", [0, 5, 16, 40, -1000, -1])
def test_a_frame_cut_off_anywhere_is_a_child_that_died(keep: int) -> None:
    data = _sent(("ok", _arrays(100)))
    assert _received(data[:keep]) is None


def test_a_frame_that_is_not_ours_is_a_child_that_died() -> None:
    assert _received(b"garbage that is long enough to be a head" * 3) is None
    head = isolated._FRAME.pack(isolated._MAGIC, 1 << 40, 0)  # claims a terabyte
    assert _received(head) is None


def _peak_while_received(data: bytes) -> tuple[tuple[str, Any] | None, int]:
    tracemalloc.start()
    try:
        found = _received(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return found, peak


@pytest.mark.parametrize("magic", [b"garb", isolated._MAGIC])
def test_a_head_claiming_too_many_buffers_is_refused_before_room_is_made(magic: bytes) -> None:
    """A foreign head's count was taken as ours: 1.8 billion sizes, 14 GB zeroed, before its
    magic was looked at. Now neither a foreign head nor ours past the cap gets any room."""
    head = isolated._FRAME.pack(magic, 100, 1_814_066_025)
    found, peak = _peak_while_received(head + b"x" * 64)
    assert found is None
    assert peak < 1 << 16


def test_a_head_at_the_buffer_cap_is_read_and_one_past_it_is_not() -> None:
    body = pickle.dumps(("ok", 1), protocol=5)
    at_cap = isolated._FRAME.pack(isolated._MAGIC, len(body), isolated._MAX_BUFFERS)
    sizes = isolated._SIZE.pack(0) * isolated._MAX_BUFFERS
    padding = b"\0" * (-len(body) % isolated._ALIGN)  # where the (empty) buffers start
    # A frame with as many buffers as the cap allows is read whole ...
    assert _received(at_cap + sizes + body + padding) == ("ok", 1)
    # ... and one past the cap is refused at its head, whatever follows.
    over = isolated._FRAME.pack(isolated._MAGIC, 0, isolated._MAX_BUFFERS + 1)
    found, peak = _peak_while_received(over + isolated._SIZE.pack(0) * 8)
    assert found is None and peak < 1 << 16  # the sizes of 65,537 buffers would be 512 KB


def test_a_frame_claiming_more_than_a_child_can_hold_is_refused_unread() -> None:
    over = isolated.MEMORY_HEADROOM + isolated.PRELOAD_ROOM + 1
    head = isolated._FRAME.pack(isolated._MAGIC, over, 0)
    tracemalloc.start()
    try:
        assert _received(head + b"x" * 64) is None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20  # no room made for the ~450 MB claimed


def test_a_child_that_stops_sending_is_stopped_at_the_deadline() -> None:
    data = _sent(("ok", _arrays(100)))
    with pytest.raises(ChildFailed):
        _received(data[:-10], close=False)
