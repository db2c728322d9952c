"""The hostile-file guard: look at a file's raw bytes before any spreadsheet parser does.

python-calamine and the csv module trust what they are given. A renamed PNG, a sign-in page that
Slack served instead of the file, a truncated download, a password-protected workbook or a zip
bomb must each become one file-level ``Issue`` here, cheaply and in bounded memory, instead of a
parser crash, a hang or gigabytes of RAM later.

Tolerance: the reader opens workbooks from bytes (``python_calamine.load_workbook(BytesIO)``),
and calamine then recognises the format by content, not by name. So any spreadsheet container
(OOXML zip, OpenDocument spreadsheet zip, BIFF compound file) is accepted under any of the
workbook endings: an .xls that is really an .xlsx, or an .xlsx that is really a BIFF .xls, both
of which real applications and export tools produce. Anything with no spreadsheet container is
refused.
"""

from __future__ import annotations

import io
import logging
import struct
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import olefile

from kernel import wording
from validation.guards_zip import (
    ZipBudget,
    ZipLimits,
    ZipRefusal,
    iter_entry,
    zip_limits,
)
from validation.issues import Issue, declared

logger = logging.getLogger(__name__)

WORKBOOK_EXTENSIONS = frozenset({".xlsx", ".xlsm", ".xls", ".ods"})
ACCEPTED_EXTENSIONS = WORKBOOK_EXTENSIONS | {".csv"}
# The codes a refusal may carry (the check units and the reader declare theirs).
GUARD_CODES = declared("unreadable-file", "encrypted-file", "file-too-large")

_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# Magic numbers of files people send by mistake, each mapped to its reason in kernel/wording/.
_FOREIGN_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"%PDF-", "pdf"),
    (b"{\\rtf", "rtf"),
)

# [Content_Types].xml names the main part of an OOXML package; these are the spreadsheet ones
# (xlsx, xltx, xlsm, xltm, xlsb) that calamine reads. Content types are case-insensitive (OPC).
_SPREADSHEET_MAIN_TYPES = (
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    b"application/vnd.ms-excel.sheet.macroenabled.main+xml",
    b"application/vnd.ms-excel.template.macroenabled.main+xml",
    b"application/vnd.ms-excel.sheet.binary.macroenabled.main",
)
_OTHER_OFFICE_TYPES = (
    (b"wordprocessingml.document.main+xml", "word"),
    (b"presentationml.presentation.main+xml", "powerpoint"),
)
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"

# The small parts that say what a package is; read (capped) before anything else is inflated.
_CONTENT_TYPES = "[Content_Types].xml"
_ODF_MIMETYPE = "mimetype"
_ODF_MANIFEST = "META-INF/manifest.xml"
_MARKER_CAP = 1 << 20

# BIFF record types (MS-XLS 2.3): FILEPASS marks an encrypted workbook; it sits in the globals
# substream, which ends at the first EOF record.
_BIFF_FILEPASS = 0x002F
_BIFF_EOF = 0x000A


@dataclass(frozen=True)
class GuardResult:
    """What the guard decided, and how much it inflated to decide it (for tests and logs)."""

    issue: Issue | None
    inflated_bytes: int = 0


Observer = Callable[[str, bytes], None]


class _Refused(Exception):
    """Carries the first decisive problem out of the nested checks."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.code)
        self.issue = issue


def check_container(
    data: bytes, filename: str, *, max_bytes: int, observe: Observer | None = None
) -> Issue | None:
    """None when the bytes may be handed to the parser, else the file-level issue refusing them.

    ``observe(part_name, chunk)`` sees every inflated chunk of a zip package, so the reader's
    own look inside the worksheets costs no second inflation.
    """
    return inspect_container(data, filename, max_bytes=max_bytes, observe=observe).issue


def inspect_container(
    data: bytes, filename: str, *, max_bytes: int, observe: Observer | None = None
) -> GuardResult:
    """Like ``check_container``, also reporting how many bytes were inflated to decide."""
    budget = ZipBudget(zip_limits(max_bytes))
    try:
        _check(data, filename, max_bytes=max_bytes, budget=budget, observe=observe)
    except _Refused as refused:
        logger.info("refused %r before parsing: %s", filename, refused.issue.message)
        return GuardResult(refused.issue, budget.inflated)
    return GuardResult(None, budget.inflated)


def sniffed_extension(data: bytes) -> str | None:
    """The workbook ending a file sent as "application/octet-stream" under a name with no
    ending looks like: ".xls" for a compound file (OLE2), ".xlsx" for a zip whose
    [Content_Types].xml names a spreadsheet main part; None for anything else. A cheap hint
    for which reader to try, never more: ``check_container`` still decides."""
    if data.startswith(_OLE_MAGIC):
        return ".xls"
    if not data.startswith(_ZIP_MAGIC):
        return None
    budget = ZipBudget(zip_limits(len(data)))
    try:
        entries = _zip_entries(data, budget)  # refuses a directory of too many parts unread
        marker = next((e for e in entries if e.filename == _CONTENT_TYPES), None)
        content_types = _read_marker(data, marker, budget).lower()  # the first megabyte only
    except ZipRefusal:
        return None
    return ".xlsx" if any(kind in content_types for kind in _SPREADSHEET_MAIN_TYPES) else None


def _check(
    data: bytes, filename: str, *, max_bytes: int, budget: ZipBudget, observe: Observer | None
) -> None:
    extension = _extension(filename)
    if extension not in ACCEPTED_EXTENSIONS:
        key = "type-not-accepted" if extension else "no-extension"
        raise _unreadable(key, ext=extension)
    if len(data) > max_bytes:
        raise _too_large("over-limit", max_bytes, size=wording.size_label(len(data)))
    if not data:
        raise _unreadable("empty")
    if extension == ".csv":
        _check_csv(data)
    elif data.startswith(_OLE_MAGIC):
        _check_compound_file(data)
    elif data.startswith((_ZIP_MAGIC, _EMPTY_ZIP_MAGIC)):
        _check_zip(data, budget, max_bytes=max_bytes, observe=observe)
    else:
        raise _unreadable(_foreign_reason(data))


def _extension(filename: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return "." + name.rsplit(".", 1)[1].lower() if "." in name.strip(".") else ""


def _unreadable(key: str, **params: object) -> _Refused:
    reason = wording.guard_reason(key, **params)
    return _Refused(Issue.make("unreadable-file", reason=reason))


def _too_large(key: str, max_bytes: int, **params: object) -> _Refused:
    # The limit users are told is the attachment size: that is the one thing they control.
    reason = wording.guard_reason(key, **params)
    limit = wording.size_label(max_bytes)
    return _Refused(Issue.make("file-too-large", reason=reason, limit=limit))


def _foreign_reason(data: bytes) -> str:
    for magic, key in _FOREIGN_MAGIC:
        if data.startswith(magic):
            return key
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    # XHTML may open with an XML declaration before its <html>.
    if head.startswith((b"<!doctype html", b"<html")) or (
        head.startswith(b"<?xml") and b"<html" in head
    ):
        return "html"
    if head.startswith(b"<?xml"):
        return "xml"
    return "not-spreadsheet"


# --- CSV --------------------------------------------------------------------------------------


def _check_csv(data: bytes) -> None:
    if data.startswith((_ZIP_MAGIC, _OLE_MAGIC)):
        raise _unreadable("workbook-named-csv")
    foreign = _foreign_reason(data)
    if foreign not in {"not-spreadsheet", "xml"}:
        raise _unreadable(foreign)
    # A CSV saved as "Unicode text" (UTF-16) is full of NULs; the csv module rejects NUL anyway.
    if b"\x00" in data:
        raise _unreadable("nul-bytes")
    if not _decodes(data, "utf-8") and not _decodes(data, "cp1252"):
        raise _unreadable("bad-encoding")


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


# --- OLE compound files: .xls (BIFF) and every encrypted OOXML workbook -------------------------


def _check_compound_file(data: bytes) -> None:
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            # Stream names in a compound file are case-insensitive.
            streams = {"/".join(path).lower(): path for path in ole.listdir()}
            # Office encrypts an .xlsx into an OLE file with these two streams, whatever its name.
            if {"encryptioninfo", "encryptedpackage"} & streams.keys():
                raise _Refused(Issue.make("encrypted-file"))
            workbook = streams.get("workbook") or streams.get("book")  # BIFF8, or BIFF5
            if workbook is None:
                raise _unreadable("office-not-spreadsheet")
            globals_stream = ole.openstream(workbook).read()
    except _Refused:
        raise
    except Exception as exc:  # olefile fails in many ways on hostile bytes: all mean "damaged"
        logger.debug("compound file unreadable: %r", exc)
        raise _unreadable("damaged") from exc
    if _has_filepass(globals_stream):
        raise _Refused(Issue.make("encrypted-file"))


def _has_filepass(stream: bytes) -> bool:
    """True when the BIFF globals substream holds a FILEPASS record (the workbook is encrypted)."""
    position = 0
    while position + 4 <= len(stream):
        record, size = struct.unpack_from("<HH", stream, position)
        if record == _BIFF_FILEPASS:
            return True
        if record == _BIFF_EOF:
            return False
        position += 4 + size
    return False


# --- Zip packages: .xlsx, .xlsm and .ods --------------------------------------------------------


def _check_zip(
    data: bytes, budget: ZipBudget, *, max_bytes: int, observe: Observer | None
) -> None:
    try:
        entries = _zip_entries(data, budget)
        _check_package_kind(data, entries, budget)
        # Every part is inflated, not only those whose declared sizes look suspicious: it costs
        # about 7% of a calamine read (50,000-row xlsx: 70 ms against 1.06 s), and it is the
        # only check a lying central directory cannot get past.
        for entry in entries:
            for chunk in iter_entry(data, entry, budget):
                if observe is not None:
                    observe(entry.filename, chunk)
    except ZipRefusal as refusal:
        if refusal.reason == "damaged":
            raise _unreadable("damaged") from refusal
        if refusal.reason == "odd-compression":
            raise _unreadable("odd-compression") from refusal
        if refusal.reason == "encrypted":
            raise _Refused(Issue.make("encrypted-file")) from refusal
        raise _too_large(refusal.reason, max_bytes, **_size_params(budget.limits)) from refusal


def _size_params(limits: ZipLimits) -> dict[str, object]:
    return {
        "count": limits.max_entries,
        "size": wording.size_label(limits.max_inflated),
        "ratio": limits.max_ratio,
    }


def _zip_entries(data: bytes, budget: ZipBudget) -> list[zipfile.ZipInfo]:
    budget.check_directory(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    # NotImplementedError: zipfile's answer to a damaged "version needed to extract" field.
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError,
            NotImplementedError) as exc:
        raise ZipRefusal("damaged") from exc
    budget.check_declared(entries)
    return entries


def _check_package_kind(data: bytes, entries: list[zipfile.ZipInfo], budget: ZipBudget) -> None:
    """Refuse a zip that is not an OOXML or OpenDocument spreadsheet, or an encrypted .ods."""
    markers = {entry.filename: entry for entry in entries}
    content_types = _read_marker(data, markers.get(_CONTENT_TYPES), budget).lower()
    if any(kind in content_types for kind in _SPREADSHEET_MAIN_TYPES):
        return
    for kind, key in _OTHER_OFFICE_TYPES:
        if kind in content_types:
            raise _unreadable(key)
    if content_types:
        raise _unreadable("office-not-spreadsheet")
    mimetype = _read_marker(data, markers.get(_ODF_MIMETYPE), budget).strip()
    if not mimetype:
        raise _unreadable("zip-not-spreadsheet")
    if not mimetype.startswith(_ODS_MIMETYPE):
        raise _unreadable("opendocument-not-spreadsheet")
    # An encrypted .ods keeps its zip, but the manifest describes how each part is encrypted.
    if b"encryption-data" in _read_marker(data, markers.get(_ODF_MANIFEST), budget):
        raise _Refused(Issue.make("encrypted-file"))


def _read_marker(data: bytes, entry: zipfile.ZipInfo | None, budget: ZipBudget) -> bytes:
    """The first megabyte of a small descriptive part, inflated under the same budget."""
    if entry is None:
        return b""
    return b"".join(_capped(iter_entry(data, entry, budget), _MARKER_CAP))


def _capped(chunks: Iterator[bytes], cap: int) -> Iterator[bytes]:
    taken = 0
    for chunk in chunks:
        yield chunk[: cap - taken]
        taken += len(chunk)
        if taken >= cap:
            return
