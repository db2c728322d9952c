"""A large worksheet read in parts on several cores (validation/sheet_parts.py) gives exactly
calamine's whole read, and any sheet that cannot be cut safely is left to the whole read."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import python_calamine

from tests.hostile_corpus import column_letter
from validation import reader, sheet_parts
from validation.context import ValidationContext
from validation.sheet_parts import Limits, large_sheets, parts_wanted, read_in_parts
from validation.validate import validate_bytes

FIXTURES = Path(__file__).parent / "fixtures"
SHEET = "xl/worksheets/sheet1.xml"
LIMITS = Limits(columns=64, cells=4_000_000)
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def _package(sheet_data: str, *, head: str = "", tail: str = "",
             shared: list[str] | None = None) -> bytes:
    """A minimal .xlsx whose one sheet, "Data", holds ``sheet_data`` inside <sheetData>."""
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats'
            '.org/package/2006/content-types"><Default Extension="rels" ContentType="application'
            '/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}"><Relationship '
            'Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships'
            '/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
            '<sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}"><Relationship '
            f'Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            + (f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" '
               'Target="sharedStrings.xml"/>' if shared else "")
            + "</Relationships>"),
        SHEET: (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN}">{head}'
                f"<sheetData>{sheet_data}</sheetData>{tail}</worksheet>"),
    }
    if shared:
        parts["xl/sharedStrings.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_MAIN}" count="{len(shared)}">'
            + "".join(f"<si><t>{text}</t></si>" for text in shared) + "</sst>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, body in parts.items():
            package.writestr(name, body)
    return out.getvalue()


def _row(number: int | None, cells: dict[int, str], *, refs: bool = True) -> str:
    """A row tag; each cell a number, or text as an inline string when it starts with "'"."""
    inner = []
    for column, value in sorted(cells.items()):
        ref = f' r="{column_letter(column)}{number}"' if refs and number else ""
        if value.startswith("'"):
            inner.append(f'<c{ref} t="inlineStr"><is><t>{value[1:]}</t></is></c>')
        elif value.startswith("#"):
            inner.append(f'<c{ref} t="s"><v>{value[1:]}</v></c>')
        else:
            inner.append(f"<c{ref}><v>{value}</v></c>")
    opening = f'<row r="{number}">' if number else "<row>"
    return opening + "".join(inner) + "</row>"


def _whole(data: bytes, name: str, columns: int = 64) -> list[list[Any]]:
    sheet = python_calamine.load_workbook(io.BytesIO(data)).get_sheet_by_name(name)
    return [row[:columns] for row in sheet.to_python(skip_empty_area=False)]


@pytest.fixture
def cut_any_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sheets of any size are cut, so that small ones show every case."""
    monkeypatch.setattr(sheet_parts, "SPLIT_FROM", 0)


def _rows(numbers: range, columns: range = range(0, 6)) -> str:
    return "".join(_row(n, {c: str(n * 100 + c) for c in columns}) for n in numbers)


CASES = {
    "numbered rows": "".join([_row(1, {0: "'Marac", 1: "'Cases"}), _rows(range(2, 60))]),
    "blank rows across the cuts": _rows(range(1, 5)) + _rows(range(40, 42)) + _rows(
        range(300, 330)),
    "later rows start further right": _rows(range(1, 20)) + _rows(range(20, 40), range(3, 6)),
    "later rows narrower": _rows(range(1, 20)) + _rows(range(20, 40), range(0, 2)),
    "later rows wider": _rows(range(1, 20), range(0, 2)) + _rows(range(20, 40), range(0, 9)),
    "data from C3": _rows(range(3, 40), range(2, 8)),
    "cells with no reference": "".join(_row(n, {0: str(n), 1: "'x"}, refs=False)
                                       for n in range(1, 50)),
    "wider than the columns kept": _rows(range(1, 30), range(0, 70)),
    "shared strings": "".join(_row(n, {0: f"#{n % 3}", 1: str(n)}) for n in range(1, 50)),
}


@pytest.mark.parametrize("parts", [2, 3, 4])
@pytest.mark.parametrize("case", sorted(CASES))
def test_parts_give_the_whole_read(case: str, parts: int, cut_any_size: None) -> None:
    data = _package(CASES[case], head='<dimension ref="A1:BZ9000"/>',
                    shared=["Croydon", "Leeds", "Barking"])
    found = read_in_parts(data, "Data", SHEET, parts, LIMITS)
    assert found is not None
    assert found == _whole(data, "Data")


def test_rows_after_the_first_may_leave_out_their_number(cut_any_size: None) -> None:
    """calamine numbers a row with no r= after the one before it, in either read."""
    rows = "".join(_row(n, {0: str(n)}) if n % 2 else _row(None, {0: str(n)}, refs=False)
                   for n in range(1, 40))
    data = _package(rows)
    found = read_in_parts(data, "Data", SHEET, 2, LIMITS)
    assert found == _whole(data, "Data")


@pytest.mark.parametrize(
    "name",
    ["clean_libreoffice.xlsx", "excel_serial_dates.xlsx", "instructions_sheet_first.xlsx",
     "blank_rows_between.xlsx", "many_issues.xlsx", "lambeth_q3.xlsx"],
)
def test_real_files_read_in_parts_as_whole(name: str, cut_any_size: None) -> None:
    data = (FIXTURES / name).read_bytes()
    sheets = large_sheets(zipfile.ZipFile(io.BytesIO(data)))
    assert sheets, "every fixture has a worksheet"
    cut = 0
    for sheet, path in sheets.items():
        found = read_in_parts(data, sheet, path, 2, LIMITS)
        if found is not None:
            cut += 1
            assert found == _whole(data, sheet)
    assert cut >= 1


def test_the_reader_reads_a_large_sheet_in_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _package("".join(_row(n, {0: "'Croydon", **{c: str(n + c) for c in range(1, 30)}})
                            for n in range(1, 1_500)))
    assert zipfile.ZipFile(io.BytesIO(data)).getinfo(SHEET).file_size >= sheet_parts.SPLIT_FROM
    cut: list[int] = []

    def counted(*args: Any) -> list[list[Any]] | None:
        found = read_in_parts(*args)
        cut.append(0 if found is None else len(found))
        return found

    monkeypatch.setattr(reader, "read_in_parts", counted)
    monkeypatch.setattr(reader, "parts_wanted", lambda: 2)
    book = reader._read_plain(data)
    assert cut == [1_499]
    assert book == reader._read_with_calamine(data, "xlsx", None)


def test_a_validation_in_parts_reports_as_the_whole_one(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    """The whole path: the early read in its capped child, the checks, the report."""
    from bench.validate_bench import make_workbook

    data = make_workbook(600, seed=3)
    context = ValidationContext(today=date(2025, 2, 15))
    monkeypatch.setattr(reader, "parts_wanted", lambda: 2)
    in_parts = validate_bytes(data, "big.xlsx", context)
    monkeypatch.setattr(reader, "parts_wanted", lambda: 1)
    whole = validate_bytes(data, "big.xlsx", context)
    assert in_parts.rows_accepted == 600
    assert (in_parts.rows, in_parts.issues) == (whole.rows, whole.issues)


def _numbered(rows: int = 40) -> str:
    return _rows(range(1, rows))


REFUSED = {
    "a comment in the data": _rows(range(1, 20)) + "<!-- <row r=\"5\"> -->" + _rows(
        range(20, 40)),
    "CDATA in the data": _rows(range(1, 20)) + _row(20, {0: "'<![CDATA[<row r=\"1\">]]>"})
    + _rows(range(21, 40)),
    "a processing instruction": _rows(range(1, 20)) + "<?x <row ?>" + _rows(range(20, 40)),
    "rows that say no number": "".join(_row(None, {0: str(n)}, refs=False)
                                       for n in range(1, 40)),
    "rows out of order": _rows(range(20, 40)) + _rows(range(1, 20)),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_sheets_not_safe_to_cut_are_read_whole(case: str, cut_any_size: None) -> None:
    data = _package(REFUSED[case])
    assert read_in_parts(data, "Data", SHEET, 2, LIMITS) is None


def test_a_prefixed_sheet_is_read_whole(cut_any_size: None) -> None:
    plain = _package(_numbered())
    prefixed = plain_to_prefixed(plain)
    assert read_in_parts(prefixed, "Data", SHEET, 2, LIMITS) is None
    assert read_in_parts(plain, "Data", SHEET, 2, LIMITS) is not None


def plain_to_prefixed(data: bytes) -> bytes:
    """The same package with the sheet's tags written with an "x:" prefix."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename == SHEET:
                body = (body.replace(b"<", b"<x:").replace(b"<x:/", b"</x:")
                        .replace(b"<x:?", b"<?").replace(b'xmlns="', b'xmlns:x="'))
            target.writestr(info, body)
    return out.getvalue()


def test_a_damaged_sheet_is_left_to_the_whole_read(cut_any_size: None) -> None:
    data = bytearray(_package(_numbered(400)))
    at = data.find(b"sheet1.xml") + len(b"sheet1.xml") + 40  # inside its deflated data
    data[at] ^= 0xFF
    assert read_in_parts(bytes(data), "Data", SHEET, 2, LIMITS) is None


def test_one_part_is_no_cut(cut_any_size: None) -> None:
    data = _package(_numbered())
    assert read_in_parts(data, "Data", SHEET, 1, LIMITS) is None
    assert read_in_parts(data, "Data", SHEET, 2, LIMITS) is not None


@pytest.mark.parametrize("parts", [2, 3])
def test_a_sheet_too_large_for_lists_is_left_to_the_streamed_read(parts: int,
                                                                   cut_any_size: None) -> None:
    data = _package(_rows(range(1, 41)))  # 40 rows x 6 columns = 240 cells
    assert read_in_parts(data, "Data", SHEET, parts, Limits(columns=64, cells=240)) is not None
    assert read_in_parts(data, "Data", SHEET, parts, Limits(columns=64, cells=239)) is None


def test_a_part_too_large_for_lists_is_left_to_the_streamed_read(cut_any_size: None) -> None:
    # The second part alone holds a far cell: its own extent is over the limit.
    data = _package(_rows(range(1, 41)) + _row(5_000, {0: "1"}))
    assert read_in_parts(data, "Data", SHEET, 2, Limits(columns=64, cells=30_000)) == _whole(
        data, "Data")
    assert read_in_parts(data, "Data", SHEET, 2, Limits(columns=64, cells=29_000)) is None


def _info(path: str, size: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path)
    info.file_size = size
    return info


def test_only_worksheets_of_a_middling_size_are_cut() -> None:
    low, high = sheet_parts.SPLIT_FROM, sheet_parts.SPLIT_UP_TO
    assert not sheet_parts._worth_cutting(_info(SHEET, low - 1))
    assert sheet_parts._worth_cutting(_info(SHEET, low))
    assert sheet_parts._worth_cutting(_info(SHEET, high))
    assert not sheet_parts._worth_cutting(_info(SHEET, high + 1))
    assert not sheet_parts._worth_cutting(_info("xl/sharedStrings.xml", low))


def test_a_small_sheet_is_not_cut() -> None:
    data = _package(_numbered())
    assert large_sheets(zipfile.ZipFile(io.BytesIO(data))) == {}
    assert read_in_parts(data, "Data", SHEET, 2, LIMITS) is None


def test_large_sheets_are_named_by_their_parts(cut_any_size: None) -> None:
    assert large_sheets(zipfile.ZipFile(io.BytesIO(_package(_numbered())))) == {"Data": SHEET}
    # A workbook whose workbook part is damaged names no sheet: it is read whole.
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as package:
        package.writestr(SHEET, b"x" * 10)
        package.writestr("xl/workbook.xml", b"<not xml")
    assert large_sheets(zipfile.ZipFile(broken)) == {}


@pytest.fixture
def cores(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    found: list[int] = []
    monkeypatch.setattr(sheet_parts.os, "sched_getaffinity", lambda pid: set(found))
    yield found


@pytest.mark.parametrize(("count", "parts"), [(1, 1), (2, 3), (3, 4), (4, 4), (16, 4)])
def test_a_part_more_than_cores_up_to_four(count: int, parts: int, cores: list[int]) -> None:
    cores.extend(range(count))
    assert parts_wanted() == parts


_SNIPPETS = ['<row r="7">', "</row>", "<row>", '<row r="0">', '<row r="99">', "<!--", "-->",
             "<![CDATA[", "]]>", '<c r="B3"><v>1</v></c>', '<c r="ZZ2"><v>5</v></c>', "<c>",
             "</c>", "<v>x</v>", '<row r="3" spans="1:2">', "</sheetData><sheetData>", "&amp;",
             "&bogus;", "<", ">", '"', ' r="12"']


def _mutated(rng: Any, xml: str) -> str:
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(xml))
        action = rng.randrange(3)
        if action == 0:
            xml = xml[:at] + rng.choice(_SNIPPETS) + xml[at:]
        elif action == 1:
            xml = xml[:at] + xml[at + rng.randint(1, 40):]
        else:
            width = rng.randint(1, 80)
            xml = xml[:at] + xml[at:at + width] + xml[at:]
    return xml


def _outcome(fn: Any) -> Any:
    try:
        return fn()
    except BaseException as exc:  # a calamine panic too
        return type(exc).__name__


def test_a_damaged_sheet_never_reads_otherwise_in_parts(cut_any_size: None) -> None:
    """Differential: over hundreds of damaged sheets, reading in parts gives either nothing
    (the whole read decides) or exactly what the whole read gives; never other rows, and
    never rows where the whole read finds the sheet unreadable."""
    import random

    rng = random.Random(20261207)
    base = "".join([_row(1, {0: "'Marac", 1: "'Cases"}), _rows(range(2, 30), range(0, 4))])
    compared = 0
    for _ in range(400):
        data = _package(_mutated(rng, base))
        whole = _outcome(lambda data=data: _whole(data, "Data"))
        for parts in (2, 3):
            found = read_in_parts(data, "Data", SHEET, parts, LIMITS)
            if found is not None:
                compared += 1
                assert found == whole
    assert compared > 60  # enough damage leaves a sheet that can still be cut


def test_without_affinity_the_machine_s_cores_are_counted(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.delattr(sheet_parts.os, "sched_getaffinity")
    monkeypatch.setattr(sheet_parts.os, "cpu_count", lambda: 2)
    assert parts_wanted() == 3
    monkeypatch.setattr(sheet_parts.os, "cpu_count", lambda: None)  # unknown: one core
    assert parts_wanted() == 1


DATA = b'<sheetData><row r="1"/><row r="2"/><row r="3"/><row r="4"/></sheetData>'


def test_cuts_fall_at_row_tags_about_equal_distances_apart() -> None:
    first, last = len(b"<sheetData>"), DATA.index(b"</sheetData>")
    rows = [i for i in range(len(DATA)) if DATA.startswith(b"<row ", i)]
    assert sheet_parts._cuts(DATA, 2) == [first, rows[2], last]
    assert sheet_parts._cuts(DATA, 4) == [first, rows[1], rows[2], rows[3], last]
    assert sheet_parts._cuts(b"<worksheet>" + DATA + b"</worksheet>", 2) == [
        first + 11, rows[2] + 11, last + 11]


@pytest.mark.parametrize("xml", [
    b"<sheetData/>",
    DATA.replace(b"</sheetData>", b""),  # never closed
    b"</sheetData>" + DATA.replace(b"</sheetData>", b""),  # closed only before it opens
    DATA + DATA,  # two of them
    # The row found past the middle says no number, or only in a prefixed attribute.
    b'<sheetData><row r="1" spans="1:2"/><row s="1"/></sheetData>',
    b'<sheetData><row r="1" spans="1:2"/><row x:r="2"/></sheetData>',
    b'<sheetData><row r="1"/></sheetData><row r="9"/>',  # no row in the data's second half
    b'<x><row r="1"/><row r="2"/><row r="3"/></sheetData>',  # closed, never opened
])
def test_sheets_without_clean_cuts_are_not_cut(xml: bytes) -> None:
    assert sheet_parts._cuts(xml, 2) is None


def test_more_parts_than_rows_is_no_cut() -> None:
    """Two cuts at one row would make an empty part: the sheet is read whole instead."""
    assert sheet_parts._cuts(DATA, 4) is not None
    assert sheet_parts._cuts(DATA, 8) is None


def test_markup_that_may_hide_a_row_tag_is_looked_for_in_the_data_only() -> None:
    holds = sheet_parts._holds_markup_text
    assert holds(b"<!-- x -->", 0, 10)
    assert holds(b"!<!", 0, 3)
    assert holds(b"a<?pi?>", 0, 7)
    assert not holds(b'<v>#DIV/0!</v><t>Why?</t>', 0, 26)  # the marks alone are text
    xml = b"<!-- -->DATA<?pi?>"
    assert not holds(xml, 8, 12)  # before and after the data
    assert holds(xml, 0, 12) and holds(xml, 8, 18)
    # "!" and "?" in the data, "<!" and "<?" only around it.
    assert not holds(b"<!-- -->a!b?c<?x?>", 8, 13)


def test_a_comment_outside_the_data_does_not_stop_the_cut(cut_any_size: None) -> None:
    data = _package(_numbered(), head="<!-- made by hand -->", tail="<!-- the end -->")
    assert read_in_parts(data, "Data", SHEET, 2, LIMITS) == _whole(data, "Data")


def test_a_part_s_own_extent_is_bounded(tmp_path: Path) -> None:
    """A part is refused before calamine's lists are made when its own cells (rows x
    columns from its first cell, here C3:E7) pass the bound."""
    rows = "".join(_row(n, {c: str(n) for c in range(2, 5)}) for n in range(3, 8))
    path = tmp_path / "part.xlsx"
    path.write_bytes(_package(rows))
    part = sheet_parts._parsed(str(path), "Data", 15)
    assert part is not None and part.start == (2, 2) and len(part.rows) == 5
    assert sheet_parts._parsed(str(path), "Data", 14) is None


def test_only_what_the_sheet_needs_goes_into_each_part(cut_any_size: None) -> None:
    data = _package(_numbered())
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        for extra in ("xl/worksheets/sheet2.xml", "xl/media/image1.png", "docProps/app.xml",
                      "xl/theme/theme1.xml", "xl/worksheets/_rels/sheet1.xml.rels"):
            target.writestr(extra, b"<x/>")
    cut = sheet_parts._cut(out.getvalue(), SHEET, 2)
    assert cut is not None
    assert sorted(name for name, _ in cut.around) == [
        "[Content_Types].xml", "_rels/.rels", "xl/_rels/workbook.xml.rels", "xl/workbook.xml"]
    assert read_in_parts(out.getvalue(), "Data", SHEET, 2, LIMITS) == _whole(out.getvalue(),
                                                                             "Data")


def test_a_very_large_sheet_is_cut_in_two_at_most() -> None:
    """Each part's thread reserves address space of its own: past 32 MB of XML, two parts."""
    bound = sheet_parts.MANY_PARTS_UP_TO
    assert sheet_parts.parts_for(bound, 4) == 4
    assert sheet_parts.parts_for(bound + 1, 4) == 2
    assert sheet_parts.parts_for(bound + 1, 3) == 2
    assert sheet_parts.parts_for(bound + 1, 1) == 1
