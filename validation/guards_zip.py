"""Zip-bomb defence for the file guard: inflate every part in bounded chunks, counting real bytes.

A zip's central directory states each part's sizes, but those numbers are written by whoever
made the file and can lie. So the declared sizes only give an early, cheap refusal; the decision
rests on inflating each part with zlib in fixed-size chunks, counting the bytes that really come
out and stopping the moment a bound is crossed. The inflated data is never kept.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

_MB = 1024 * 1024
_IN_CHUNK = 64 * 1024
OUT_CHUNK = _MB  # the most inflated data held at once, per part

_LOCAL_HEADER = b"PK\x03\x04"
_LOCAL_HEADER_SIZE = 30
_END_RECORD = b"PK\x05\x06"
_END_RECORD_SIZE = 22
_END_SEARCH = _END_RECORD_SIZE + 0xFFFF  # the record, then at most a 64 KB comment
_ZIP64_COUNT = 0xFFFF
_ENCRYPTED_FLAG = 0x1

# Stored and deflated are what Excel, LibreOffice, Google Sheets and Numbers write. Anything else
# (deflate64, bzip2, lzma, zstd, ...) we cannot stream with zlib, so it is refused.
_STREAMABLE_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})


@dataclass(frozen=True)
class ZipLimits:
    """Bounds for one zip package."""

    max_entries: int = 2000
    max_inflated: int = 200 * _MB
    # Deflate tops out near 1032:1; real worksheet XML inflates 5-30 times, and even sheets of
    # identical formatted empty rows stay far below this. Judged only past `ratio_floor`, so
    # small, very repetitive parts (styles, empty sheets) never trip it.
    max_ratio: int = 500
    ratio_floor: int = 32 * _MB


def zip_limits(max_bytes: int) -> ZipLimits:
    """The bounds for a file of at most max_bytes: 200 MB inflated, or 40 times the file limit."""
    return ZipLimits(max_inflated=max(200 * _MB, 40 * max_bytes))


class ZipRefusal(Exception):
    """Why a zip package is refused: damaged, encrypted, odd-compression, too-many-parts,
    expands-too-far or expands-too-fast."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ZipBudget:
    """Counts inflated bytes across a whole package and refuses once a bound is crossed."""

    def __init__(self, limits: ZipLimits) -> None:
        self.limits = limits
        self.inflated = 0

    def check_directory(self, data: bytes) -> None:
        """Refuse before parsing the central directory when its end record says too many parts."""
        end = data.rfind(_END_RECORD, max(0, len(data) - _END_SEARCH))
        if end < 0 or end + _END_RECORD_SIZE > len(data):
            raise ZipRefusal("damaged")  # a cut-off download loses the end record first
        (count,) = struct.unpack_from("<H", data, end + 10)
        # Zip64 stores the real count elsewhere; zipfile reads it and check_declared counts.
        if count != _ZIP64_COUNT and count > self.limits.max_entries:
            raise ZipRefusal("too-many-parts")

    def check_declared(self, entries: list[zipfile.ZipInfo]) -> None:
        """The cheap checks on what the central directory declares."""
        if len(entries) > self.limits.max_entries:
            raise ZipRefusal("too-many-parts")
        if sum(entry.file_size for entry in entries) > self.limits.max_inflated:
            raise ZipRefusal("expands-too-far")
        if any(entry.flag_bits & _ENCRYPTED_FLAG for entry in entries):
            raise ZipRefusal("encrypted")
        if any(entry.compress_type not in _STREAMABLE_METHODS for entry in entries):
            raise ZipRefusal("odd-compression")

    def spend(self, size: int, *, produced: int, consumed: int) -> None:
        """Count `size` new bytes of a part that has produced/consumed so much so far."""
        self.inflated += size
        if self.inflated > self.limits.max_inflated:
            raise ZipRefusal("expands-too-far")
        if produced > self.limits.ratio_floor and produced > self.limits.max_ratio * consumed:
            raise ZipRefusal("expands-too-fast")


def iter_entry(data: bytes, entry: zipfile.ZipInfo, budget: ZipBudget) -> Iterator[bytes]:
    """Yield a part's content in chunks of at most OUT_CHUNK bytes, spending from the budget."""
    start = _data_start(data, entry)
    end = start + entry.compress_size
    if end > len(data):
        raise ZipRefusal("damaged")
    view = memoryview(data)[start:end]
    if entry.compress_type == zipfile.ZIP_STORED:
        yield from _stored(view, entry, budget)
    else:
        yield from _inflated(view, entry, budget)


def _data_start(data: bytes, entry: zipfile.ZipInfo) -> int:
    offset = entry.header_offset
    if data[offset : offset + 4] != _LOCAL_HEADER or offset + _LOCAL_HEADER_SIZE > len(data):
        raise ZipRefusal("damaged")
    name_length, extra_length = struct.unpack_from("<HH", data, offset + 26)
    return offset + _LOCAL_HEADER_SIZE + name_length + extra_length


def _stored(view: memoryview, entry: zipfile.ZipInfo, budget: ZipBudget) -> Iterator[bytes]:
    if len(view) != entry.file_size:
        raise ZipRefusal("damaged")
    for offset in range(0, len(view), OUT_CHUNK):
        chunk = view[offset : offset + OUT_CHUNK]
        budget.spend(len(chunk), produced=offset + len(chunk), consumed=offset + len(chunk))
        yield chunk.tobytes()


def _inflated(view: memoryview, entry: zipfile.ZipInfo, budget: ZipBudget) -> Iterator[bytes]:
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate: zip parts have no zlib header
    produced = 0
    for offset in range(0, len(view), _IN_CHUNK):
        consumed = min(offset + _IN_CHUNK, len(view))
        pending: bytes | memoryview = view[offset:consumed]
        while True:
            chunk = _inflate_step(inflater, pending)
            pending = inflater.unconsumed_tail
            produced += len(chunk)
            budget.spend(len(chunk), produced=produced, consumed=consumed)
            yield chunk
            # A full chunk may leave output inside zlib even when all input is taken.
            if inflater.eof or (not pending and len(chunk) < OUT_CHUNK):
                break
        if inflater.eof:
            break
    # A cut-off stream, or a central directory that lies about the size, is a damaged file.
    if not inflater.eof or produced != entry.file_size:
        raise ZipRefusal("damaged")


def _inflate_step(inflater: zlib._Decompress, pending: bytes | memoryview) -> bytes:
    try:
        return inflater.decompress(pending, OUT_CHUNK)
    except zlib.error as exc:
        raise ZipRefusal("damaged") from exc
