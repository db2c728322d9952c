"""The hostile-file guard: hostile fixtures are refused with the right code, ordinary files pass.

Hostile files are in tests/fixtures/hostile/ (built by tests/fixtures/make_hostile.py); ordinary
workbooks are saved here by openpyxl and converted by LibreOffice.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import python_calamine
from openpyxl import Workbook

from kernel import wording
from validation.guards import check_container, inspect_container
from validation.guards_zip import OUT_CHUNK, zip_limits
from validation.issues import Issue

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
MAX_BYTES = 10 * 1024 * 1024
LIMITS = zip_limits(MAX_BYTES)
SIXTY_FOUR_MB = 64 * 1024 * 1024


def unreadable(key: str, **params: object) -> tuple[str, str]:
    return "unreadable-file", wording.guard_reason(key, **params)


def too_large(key: str) -> tuple[str, str]:
    params = {
        "count": LIMITS.max_entries,
        "size": wording.size_label(LIMITS.max_inflated),
        "ratio": LIMITS.max_ratio,
    }
    return "file-too-large", wording.guard_reason(key, **params)


ENCRYPTED = ("encrypted-file", "")

# Each hostile fixture, with the code it must get and the reason its message must give.
EXPECTED: dict[str, tuple[str, str]] = {
    "png_renamed.xlsx": unreadable("png"),
    "pdf_renamed.ods": unreadable("pdf"),
    "html_login_page.xlsx": unreadable("html"),
    "notes.txt": unreadable("type-not-accepted", ext=".txt"),
    "empty_file.csv": unreadable("empty"),
    "nul_bytes.csv": unreadable("nul-bytes"),
    "bad_encoding.csv": unreadable("bad-encoding"),
    "truncated_zip.xlsx": unreadable("damaged"),
    "odd_compression.xlsx": unreadable("odd-compression"),
    "too_many_entries.xlsx": too_large("too-many-parts"),
    "zip_bomb.xlsx": too_large("expands-too-far"),
    "zip_bomb_lying_sizes.xlsx": too_large("expands-too-fast"),
    "zip_bomb_low_ratio.xlsx": too_large("expands-too-far"),
    "password_protected.xlsx": ENCRYPTED,
    "password_protected.xls": ENCRYPTED,
    "password_protected.ods": ENCRYPTED,
}


def guard(data: bytes, name: str, max_bytes: int = MAX_BYTES) -> Issue | None:
    return check_container(data, name, max_bytes=max_bytes)


def assert_refused(issue: Issue | None, code: str, reason: str = "") -> None:
    assert issue is not None, f"expected {code}, but the guard let the file through"
    assert (issue.code, issue.is_hard, issue.is_file_level) == (code, True, True)
    assert reason in issue.message


# --- Hostile fixtures ---------------------------------------------------------------------------


def test_every_hostile_fixture_has_an_expectation() -> None:
    assert sorted(path.name for path in HOSTILE.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_fixture_is_refused(name: str) -> None:
    code, reason = EXPECTED[name]
    assert_refused(guard((HOSTILE / name).read_bytes(), name), code, reason)


def test_size_limit_comes_from_the_caller() -> None:
    data = (HOSTILE / "too_many_entries.xlsx").read_bytes()
    issue = guard(data, "big.xlsx", max_bytes=len(data) - 1)
    assert_refused(issue, "file-too-large", wording.size_label(len(data)))
    assert issue is not None and wording.size_label(len(data) - 1) in issue.message


def measured(name: str) -> tuple[Issue | None, int, int]:
    """The guard's issue, the bytes it inflated and its peak Python memory, for one fixture."""
    data = (HOSTILE / name).read_bytes()
    tracemalloc.start()
    try:
        result = inspect_container(data, name, max_bytes=MAX_BYTES)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result.issue, result.inflated_bytes, peak


def declared_size(name: str, part: str = "xl/worksheets/sheet1.xml") -> int:
    with zipfile.ZipFile(HOSTILE / name) as archive:
        return archive.getinfo(part).file_size


def test_honest_zip_bomb_is_refused_on_its_declared_size_without_inflating() -> None:
    assert declared_size("zip_bomb.xlsx") > 1_900_000_000  # the fixture really is a 2 GB bomb
    issue, inflated, peak = measured("zip_bomb.xlsx")
    assert_refused(issue, *too_large("expands-too-far"))
    assert inflated == 0
    assert peak < SIXTY_FOUR_MB


def test_lying_zip_bomb_is_refused_by_counting_real_bytes() -> None:
    assert declared_size("zip_bomb_lying_sizes.xlsx") == 2048  # the directory lies
    issue, inflated, peak = measured("zip_bomb_lying_sizes.xlsx")
    assert_refused(issue, *too_large("expands-too-fast"))
    # It stopped soon after the ratio check began to apply, far short of the 2 GB inside.
    assert LIMITS.ratio_floor < inflated <= LIMITS.ratio_floor + 2 * OUT_CHUNK
    assert peak < SIXTY_FOUR_MB


def test_low_ratio_bomb_is_stopped_at_the_inflation_bound() -> None:
    issue, inflated, peak = measured("zip_bomb_low_ratio.xlsx")
    assert_refused(issue, *too_large("expands-too-far"))
    assert LIMITS.max_inflated < inflated <= LIMITS.max_inflated + OUT_CHUNK
    assert peak < SIXTY_FOUR_MB


def test_central_directory_claiming_a_larger_part_is_damaged(small_xlsx: bytes) -> None:
    data = with_declared_size(small_xlsx, "xl/worksheets/sheet1.xml", delta=+1)
    assert_refused(guard(data, "lying.xlsx"), *unreadable("damaged"))


def test_encrypted_workbook_is_refused_whatever_its_name() -> None:
    data = (HOSTILE / "password_protected.xlsx").read_bytes()
    for name in ("return.xls", "return.ods", "return.xlsm"):
        assert_refused(guard(data, name), "encrypted-file")


@pytest.mark.parametrize("name", ["export.xls", "export.ods", "export.csv"])
def test_web_page_is_refused_under_any_accepted_name(name: str) -> None:
    data = (HOSTILE / "html_login_page.xlsx").read_bytes()
    assert_refused(guard(data, name), *unreadable("html"))


def test_csv_mentioning_html_in_a_cell_passes() -> None:
    data = b"Marac name,Notes\r\nCroydon,<html> tags pasted from the portal\r\n"
    assert guard(data, "croydon.csv") is None


def test_workbook_saved_with_a_csv_name_is_refused(small_xlsx: bytes) -> None:
    assert_refused(guard(small_xlsx, "return.csv"), *unreadable("workbook-named-csv"))


def test_zip_that_is_not_a_spreadsheet_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(HOSTILE / "notes.txt", "notes.txt")
    assert_refused(guard(buffer.getvalue(), "return.xlsx"), *unreadable("zip-not-spreadsheet"))


def test_ooxml_package_of_another_kind_is_refused(small_xlsx: bytes) -> None:
    # No Word is installed here, so relabel a real package's main part as a Word document's.
    main = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    word = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    data = rewrite_part(small_xlsx, "[Content_Types].xml", lambda xml: xml.replace(main, word))
    assert_refused(guard(data, "letter.xlsx"), *unreadable("word"))


def test_unaccepted_or_missing_extension_is_refused(small_xlsx: bytes) -> None:
    assert_refused(guard(small_xlsx, "return.xlsb"), *unreadable("type-not-accepted", ext=".xlsb"))
    assert_refused(guard(small_xlsx, "return"), *unreadable("no-extension"))


def test_truncated_xls_is_damaged(office: dict[str, bytes]) -> None:
    data = office["xls"]
    assert_refused(guard(data[: len(data) // 2], "cut.xls"), *unreadable("damaged"))


# --- Ordinary files pass ------------------------------------------------------------------------


def test_ordinary_workbooks_pass(small_xlsx: bytes, office: dict[str, bytes]) -> None:
    assert guard(small_xlsx, "croydon-q3.xlsx") is None
    assert guard(small_xlsx, "CROYDON-Q3.XLSX") is None
    for extension, data in office.items():
        assert guard(data, f"croydon-q3.{extension}") is None, extension


def test_ordinary_file_is_inflated_in_full(small_xlsx: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(small_xlsx)) as archive:
        total = sum(info.file_size for info in archive.infolist())
    result = inspect_container(small_xlsx, "croydon.xlsx", max_bytes=MAX_BYTES)
    # Every part once, plus the descriptive part read first to learn what the package is.
    content_types = len(zipfile.ZipFile(io.BytesIO(small_xlsx)).read("[Content_Types].xml"))
    assert result.issue is None
    assert result.inflated_bytes == total + content_types


def test_file_of_exactly_the_limit_passes(small_xlsx: bytes) -> None:
    assert guard(small_xlsx, "croydon.xlsx", max_bytes=len(small_xlsx)) is None


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Marac name,Meeting date,Cases discussed\r\nCroydon,03/10/2024,12\r\n", "utf-8"),
        ("Marac name;Meeting date;Cases discussed\nYnys Môn;03/10/2024;12\n", "utf-8-sig"),
        ("Marac name,Meeting date,Cases discussed\nCroydon – £ é,03/10/2024,12\n", "cp1252"),
    ],
)
def test_ordinary_csv_passes(text: str, encoding: str) -> None:
    assert guard(text.encode(encoding), "croydon.csv") is None


@pytest.mark.parametrize(("real", "named"), [("xlsx", "xls"), ("xls", "xlsx"), ("ods", "xlsx")])
def test_workbook_under_another_workbook_name_passes_and_calamine_reads_it(
    real: str, named: str, small_xlsx: bytes, office: dict[str, bytes]
) -> None:
    # The reader opens bytes, and calamine then detects the format by content, not by name.
    data = small_xlsx if real == "xlsx" else office[real]
    assert guard(data, f"croydon.{named}") is None
    rows = python_calamine.load_workbook(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    assert rows[1][0] == "Croydon"


# --- Helpers and fixtures -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Marac data"
    sheet.append(["Marac name", "Meeting date", "Cases discussed"])
    sheet.append(["Croydon", "03/10/2024", 12])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def office(small_xlsx: bytes, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The small workbook as LibreOffice saves it: .ods, .xls, .xlsm and its own .xlsx."""
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    work = tmp_path_factory.mktemp("office")
    source = work / "source.xlsx"
    source.write_bytes(small_xlsx)
    filters = {
        "ods": "ods",
        "xls": "xls",
        "xlsm": "xlsm:Calc MS Excel 2007 VBA XML",
        "xlsx": "xlsx:Calc MS Excel 2007 XML",
    }
    # A private profile, so concurrent LibreOffice runs elsewhere cannot interfere.
    profile = f"-env:UserInstallation={(work / 'profile').as_uri()}"
    saved = {}
    for extension, target in filters.items():
        outdir = work / extension
        command = [soffice, profile, "--headless", "--convert-to", target, "--outdir", str(outdir)]
        subprocess.run([*command, str(source)], check=True, capture_output=True, timeout=120)
        output = outdir / f"source.{extension}"
        assert output.exists(), f"soffice did not write {output.name}"  # it exits 0 on failure
        saved[extension] = output.read_bytes()
    return saved


def rewrite_part(data: bytes, name: str, change: Callable[[bytes], bytes]) -> bytes:
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            content = source.read(info)
            target.writestr(info, change(content) if info.filename == name else content)
    return buffer.getvalue()


def with_declared_size(data: bytes, name: str, *, delta: int) -> bytes:
    """The same zip, with the central directory's size of one part changed by delta."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        size = archive.getinfo(name).file_size
    record = data.index(b"PK\x01\x02")
    while data[record + 46 : record + 46 + len(name)] != name.encode():
        record = data.index(b"PK\x01\x02", record + 4)
    patched = bytearray(data)
    struct.pack_into("<L", patched, record + 24, size + delta)
    return bytes(patched)
