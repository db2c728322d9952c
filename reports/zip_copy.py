"""A zip package copied member by member, the unchanged members' compressed bytes as they are.

``zipfile`` can only write a member by compressing it afresh, so copying a package through it
inflates and deflates every part, even the ones nobody changed (the theme, document properties,
pictures). For the annotated copy of a six-row return that was most of the time spent writing.
Here a kept member's compressed bytes go into the copy untouched, behind a local header written
anew from what the central directory says (name, method, CRC, sizes, time), so whatever the
source's local header carried (a data descriptor, zip64 or other extra fields) does not matter.

Each copied member is still inflated once and checked against its CRC and size: the copy never
passes on a part that would not read back, and a damaged one makes the caller fall back. Only
what Excel and LibreOffice write is handled (stored or deflated, not encrypted) and the copy is
a plain zip (no zip64): anything else raises ``zipfile.BadZipFile`` or ``zipfile.LargeZipFile``.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Sequence

_LOCAL = struct.Struct("<4sHHHHHLLLHH")
_CENTRAL = struct.Struct("<4sHHHHHHLLLHHHHHLL")
_END = struct.Struct("<4sHHHHLLH")
_LOCAL_SIGNATURE = b"PK\x03\x04"
_CENTRAL_SIGNATURE = b"PK\x01\x02"
_END_SIGNATURE = b"PK\x05\x06"
_VERSION = 20  # "version needed to extract" of deflate, as zipfile writes it
_MADE_BY = 3 << 8 | _VERSION  # on Unix, as zipfile on Linux says
_ATTRIBUTES = 0o600 << 16  # rw-------, what zipfile gives a member written from bytes
_UTF8_NAME = 0x800
# Encrypted, "compressed patched data" and strongly encrypted members are not copied.
_UNSUPPORTED_FLAGS = 0x1 | 0x20 | 0x40
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_LIMIT = 0xFFFFFFFF  # sizes and offsets past this need zip64
_MAX_MEMBERS = 0xFFFF
# zlib's level for the parts deflated here. On a 2 MB worksheet level 6 (zipfile's default)
# takes 26 ms and gives 210 KB, level 2 7.7 ms and 271 KB (level 1 7.0 ms, 297 KB); on the
# nine small parts of a six-row return's copy, 268 us against 192 us.
LEVEL = 2
DateTime = tuple[int, int, int, int, int, int]
NEW_PART_TIME: DateTime = (1980, 1, 1, 0, 0, 0)


class ZipSource:
    """A package in memory: its members' names, content (checked) and compressed bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            self.infos = archive.infolist()
        self.names = [info.filename for info in self.infos]
        self._by_name = {info.filename: info for info in self.infos}
        if len(self._by_name) != len(self.infos):
            raise zipfile.BadZipFile("a member name twice")
        self._checked: set[str] = set()

    def info(self, name: str) -> zipfile.ZipInfo:
        return self._by_name[name]

    def read(self, name: str) -> bytes:
        """A member's content, inflated and checked against its size and CRC."""
        info = self._by_name[name]
        compressed = self.compressed(info)
        if info.compress_type == zipfile.ZIP_STORED:
            content = bytes(compressed)
        else:
            inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            try:  # at most one byte more than declared: a lying size is caught, not obeyed
                content = inflater.decompress(compressed, info.file_size + 1)
            except zlib.error as exc:
                raise zipfile.BadZipFile(f"{name}: {exc}") from exc
            if not inflater.eof:
                raise zipfile.BadZipFile(f"{name}: the deflate stream does not end")
        if len(content) != info.file_size or zlib.crc32(content) != info.CRC:
            raise zipfile.BadZipFile(f"{name}: size or CRC does not match")
        self._checked.add(name)
        return content

    def check(self, name: str) -> None:
        """Raise unless the member reads back whole with its CRC (inflated once at most)."""
        if name not in self._checked:
            self.read(name)

    def compressed(self, info: zipfile.ZipInfo) -> memoryview:
        """A member's bytes as stored, found through its local header."""
        if info.flag_bits & _UNSUPPORTED_FLAGS or info.compress_type not in _METHODS:
            raise zipfile.BadZipFile(f"{info.filename}: encrypted or an odd compression")
        offset = info.header_offset
        header = self.data[offset : offset + _LOCAL.size]
        if len(header) != _LOCAL.size or not header.startswith(_LOCAL_SIGNATURE):
            raise zipfile.BadZipFile(f"{info.filename}: no local header")
        fields = _LOCAL.unpack(header)
        flags, name_length, extra_length = fields[2], fields[9], fields[10]
        name_start = offset + _LOCAL.size
        encoded = self.data[name_start : name_start + name_length]
        # As zipfile checks when it reads a member: the local header names the same part.
        try:
            local_name = encoded.decode("utf-8" if flags & _UTF8_NAME else "cp437")
        except UnicodeDecodeError as exc:
            raise zipfile.BadZipFile(f"{info.filename}: {exc}") from exc
        if local_name != info.orig_filename:
            raise zipfile.BadZipFile(f"{info.filename}: its local header names another part")
        start = name_start + name_length + extra_length
        end = start + info.compress_size
        if end > len(self.data):
            raise zipfile.BadZipFile(f"{info.filename}: cut off")
        return memoryview(self.data)[start:end]


class ZipWriter:
    """A new package: members deflated here, or copied compressed from a ``ZipSource``."""

    def __init__(self) -> None:
        self._pieces: list[bytes | memoryview] = []
        self._directory: list[bytes] = []
        self._offset = 0

    def add(self, name: str, content: bytes, when: DateTime = NEW_PART_TIME) -> None:
        """A member deflated here (at ``LEVEL``)."""
        compressed = zlib.compress(content, LEVEL, -zlib.MAX_WBITS)
        crc = zlib.crc32(content)
        self._add(name, when, zipfile.ZIP_DEFLATED, crc, compressed, len(content))

    def copy(self, source: ZipSource, name: str) -> None:
        """A member of ``source`` with its compressed bytes as they are (once checked)."""
        info = source.info(name)
        source.check(name)  # inflated once to check its CRC; never recompressed
        compressed = source.compressed(info)
        self._add(name, info.date_time, info.compress_type, info.CRC, compressed, info.file_size)

    def _add(
        self,
        name: str,
        when: DateTime,
        method: int,
        crc: int,
        compressed: bytes | memoryview,
        size: int,
    ) -> None:
        if max(size, len(compressed), self._offset) >= _LIMIT:
            raise zipfile.LargeZipFile("the copy would need zip64")
        try:
            encoded, flags = name.encode("ascii"), 0
        except UnicodeEncodeError:
            encoded, flags = name.encode("utf-8"), _UTF8_NAME
        time, day = _dos_time(when)
        common = (_VERSION, flags, method, time, day, crc, len(compressed), size, len(encoded))
        header = _LOCAL.pack(_LOCAL_SIGNATURE, *common, 0)
        # The central entry: the same fields, no extra field, comment, disk or internal
        # attributes, then where the local header is.
        central = (_MADE_BY, *common, 0, 0, 0, 0, _ATTRIBUTES, self._offset)
        self._directory.append(_CENTRAL.pack(_CENTRAL_SIGNATURE, *central) + encoded)
        self._pieces.extend((header, encoded, compressed))
        self._offset += len(header) + len(encoded) + len(compressed)

    def getvalue(self) -> bytes:
        directory = b"".join(self._directory)
        count = len(self._directory)
        if count >= _MAX_MEMBERS or self._offset + len(directory) >= _LIMIT:
            raise zipfile.LargeZipFile("the copy would need zip64")
        end = _END.pack(_END_SIGNATURE, 0, 0, count, count, len(directory), self._offset, 0)
        return b"".join([*self._pieces, directory, end])


def _dos_time(when: Sequence[int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = when
    if not 1980 <= year <= 2107:
        raise ValueError(f"a zip cannot hold the year {year}")
    return hour << 11 | minute << 5 | second // 2, (year - 1980) << 9 | month << 5 | day
