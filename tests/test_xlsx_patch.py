"""The annotated copy made by patching the .xlsx package (reports.xlsx_patch).

Each patched copy is compared with what the openpyxl path (``annotate._styled_copy``, the way
before issue 14) makes of the same file and report: the same values, fills, comments and
Issues sheet. Inputs are the real fixtures (saved by LibreOffice) with the validator's own
reports, and fixtures changed here to hold what the patcher must handle or refuse.
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import python_calamine
from openpyxl import Workbook, load_workbook

from kernel import wording
from reports import annotate
from reports.annotate import annotate_workbook, cell_positions
from reports.xlsx_cells import SEVERITY_COLOURS
from reports.xlsx_patch import patched_copy
from tests.reports_support import sample_issues, soffice_convert
from validation.context import ValidationContext
from validation.issues import Issue, Severity
from validation.report import FileReport
from validation.validate import validate_bytes

FIXTURES = Path(__file__).parent / "fixtures"
SHEET = "Marac data"
NO_FILL = "00000000"
SHEET_PART = "xl/worksheets/sheet1.xml"


def _report(issues: list[Issue], sheet: str | None = SHEET) -> FileReport:
    return FileReport(file="x.xlsx", sheet=sheet, issues=issues)


def _fill(cell: Any) -> str:
    return str(cell.fill.fgColor.rgb) if cell.fill.fill_type == "solid" else NO_FILL


def _cells(data: bytes) -> dict[str, dict[str, tuple[Any, str, str | None, str | None]]]:
    """Every sheet's cells as (value, fill, comment text, comment author), as openpyxl reads
    them (formulas as their stored values)."""
    book = load_workbook(io.BytesIO(data), data_only=True)
    found = {}
    for sheet in book.worksheets:
        found[sheet.title] = {
            cell.coordinate: (
                cell.value,
                _fill(cell),
                cell.comment.text if cell.comment else None,
                cell.comment.author if cell.comment else None,
            )
            # Only the cells the file holds: iter_rows() would walk every empty row up to a
            # styled row far below (huge_claimed_rows.xlsx has one at row 1,048,576).
            for cell in sheet._cells.values()
            if cell.value is not None or cell.comment is not None or _fill(cell) != NO_FILL
        }
    return found


def _assert_same_as_openpyxl(data: bytes, report: FileReport) -> bytes:
    """The patched copy shows what the openpyxl copy shows; returns the patched copy."""
    patched = patched_copy(data, report)
    assert patched is not None, "the patcher declined a file it should handle"
    expected = annotate._styled_copy(data, report)
    assert expected is not None
    assert (
        load_workbook(io.BytesIO(patched)).sheetnames
        == load_workbook(io.BytesIO(expected)).sheetnames
    )
    assert _cells(patched) == _cells(expected)
    return patched


def _calamine(data: bytes) -> dict[str, list[list[Any]]]:
    book = python_calamine.load_workbook(io.BytesIO(data))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def _validated(fixture: str) -> tuple[bytes, FileReport]:
    data = (FIXTURES / fixture).read_bytes()
    return data, validate_bytes(data, fixture, ValidationContext(today=date(2025, 2, 1)))


def _with_part(data: bytes, name: str, change: Callable[[bytes], bytes]) -> bytes:
    """The package with one member changed (added when ``name`` is not there)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as out:
        for info in source.infolist():
            content = source.read(info)
            out.writestr(info, change(content) if info.filename == name else content)
        if name not in source.namelist():
            out.writestr(name, change(b""))
    return buffer.getvalue()


def _sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(SHEET_PART).decode()


def _several_issues() -> bytes:
    return (FIXTURES / "several_issues.xlsx").read_bytes()


@pytest.mark.parametrize(
    "fixture",
    sorted(p.name for p in FIXTURES.glob("*.xls[xm]")),
)
def test_every_fixture_looks_as_the_openpyxl_copy_would(fixture: str) -> None:
    data, report = _validated(fixture)
    patched = _assert_same_as_openpyxl(data, report)
    values = _calamine(data)
    # Values are untouched; the Issues sheet is added last.
    assert {k: v for k, v in _calamine(patched).items() if k in values} == values
    assert list(_calamine(patched))[-1] == wording.ANNOTATED_SHEET_TITLE


def test_fills_comments_and_issues_sheet_of_a_hand_made_report() -> None:
    data = _several_issues()
    issues = [*sample_issues(), Issue.make("missing-date", sheet=SHEET, cell="B40", row=40)]
    patched = _assert_same_as_openpyxl(data, _report(issues))
    ws = load_workbook(io.BytesIO(patched))[SHEET]
    assert _fill(ws["D7"]) == SEVERITY_COLOURS[Severity.HARD]  # worst of hard and info
    assert _fill(ws["F5"]) == SEVERITY_COLOURS[Severity.SOFT]
    text = ws["D7"].comment.text
    assert text.index(issues[2].message) < text.index(issues[3].message)
    assert ws["D7"].comment.author == wording.ANNOTATION_AUTHOR
    # B40 is below the data: its row is made, in order, with the blank marked cell in it.
    assert ws["B40"].value is None and ws["B40"].comment is not None
    rows = [int(r) for r in re.findall(r'<row r="(\d+)"', _sheet_xml(patched))]
    assert rows == sorted(rows) and 40 in rows


def test_the_issues_sheet_matches_the_openpyxl_one_row_for_row() -> None:
    issues = [
        *sample_issues(),
        Issue.make("invalid-date", sheet=SHEET, cell="B3", row=3, value=datetime(2025, 1, 2)),
        Issue.make("invalid-date", sheet=SHEET, cell="B4", row=4, value=datetime(2025, 1, 2, 9)),
        Issue.make("invalid-count", sheet=SHEET, cell="C4", row=4, value=2.5),
        Issue.make("invalid-count", sheet=SHEET, cell="C5", row=5, value=True),
        Issue.make("invalid-count", sheet=SHEET, cell="C6", row=6, value="  <b>&amp;  "),
    ]
    report = _report(issues)
    patched = patched_copy(_several_issues(), report)
    expected = annotate._styled_copy(_several_issues(), report)
    assert patched is not None and expected is not None
    ours = load_workbook(io.BytesIO(patched))[wording.ANNOTATED_SHEET_TITLE]
    theirs = load_workbook(io.BytesIO(expected))[wording.ANNOTATED_SHEET_TITLE]
    assert list(ours.iter_rows(values_only=True)) == list(theirs.iter_rows(values_only=True))
    for mine, other in zip(ours.iter_rows(), theirs.iter_rows(), strict=True):
        assert [c.number_format for c in mine] == [c.number_format for c in other]
        assert [_fill(c) for c in mine] == [_fill(c) for c in other]
        assert [bool(c.font.b) for c in mine] == [bool(c.font.b) for c in other]
        assert [c.alignment.wrap_text for c in mine] == [c.alignment.wrap_text for c in other]
    assert ours.freeze_panes == "A2"
    assert ours.auto_filter.ref == f"A1:H{len(issues) + 1}"
    assert ours.column_dimensions["H"].width == 90


def test_users_issues_sheet_gets_a_unique_title() -> None:
    def add_sheet(workbook: bytes) -> bytes:
        return workbook.replace(
            b"</sheets>", b'<sheet name="issues" sheetId="9" r:id="rId1"/></sheets>'
        )

    data = _with_part(_several_issues(), "xl/workbook.xml", add_sheet)
    patched = patched_copy(data, _report(sample_issues()))
    assert patched is not None
    assert load_workbook(io.BytesIO(patched)).sheetnames == [SHEET, "issues", "Issues (2)"]


def test_unchanged_parts_are_copied_byte_for_byte() -> None:
    data, report = _validated("instructions_sheet_first.xlsx")
    patched = patched_copy(data, report)
    assert patched is not None
    changed = {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels"}
    changed |= {"xl/styles.xml", "xl/worksheets/sheet2.xml", "xl/worksheets/_rels/sheet2.xml.rels"}
    with zipfile.ZipFile(io.BytesIO(data)) as old, zipfile.ZipFile(io.BytesIO(patched)) as new:
        kept = [n for n in old.namelist() if n not in changed]
        assert kept and all(old.read(n) == new.read(n) for n in kept)
        # The marked sheet differs only in the marked cells and the legacy drawing.
        before, after = old.read("xl/worksheets/sheet2.xml"), new.read("xl/worksheets/sheet2.xml")
    stripped = re.sub(rb' s="\d+"|<legacyDrawing [^>]*/>|<c r="[A-Z]+\d+"/>', b"", after)
    assert stripped == re.sub(rb' s="\d+"', b"", before)


def test_limits_are_the_same_on_both_paths() -> None:
    """MAX_CELLS_PER_ISSUE caps a huge range; a mark far below the data is drawn by both
    styled paths (MARK_ROWS_PAST_DATA only spares the values copy writing empty rows)."""
    issues = [
        Issue.make("ethnicity-exceeds-cases", sheet=SHEET, cell="A1:XFD1048576", row=1, total=9),
        Issue.make("missing-date", sheet=SHEET, cell="B1500", row=1500),
    ]
    patched = _assert_same_as_openpyxl(_several_issues(), _report(issues))
    marked = [k for k, v in _cells(patched)[SHEET].items() if v[2] is not None]
    assert len(marked) == annotate.MAX_CELLS_PER_ISSUE + 1
    assert "B1500" in marked and annotate.MARK_ROWS_PAST_DATA < 1500 - 8


def test_a_mark_inside_a_merge_lands_on_its_top_left_cell() -> None:
    def merge(xml: bytes) -> bytes:
        return xml.replace(
            b"</sheetData>",
            b'</sheetData><mergeCells count="1"><mergeCell ref="C7:D8"/></mergeCells>',
            1,
        )

    data = _with_part(_several_issues(), SHEET_PART, merge)
    patched = _assert_same_as_openpyxl(data, _report(sample_issues()))
    ws = load_workbook(io.BytesIO(patched))[SHEET]
    assert _fill(ws["C7"]) == SEVERITY_COLOURS[Severity.HARD] and ws["C7"].comment is not None


def test_formulas_become_their_stored_values() -> None:
    def formulas(xml: bytes) -> bytes:
        row = (
            b'<row r="30"><c r="A30"><f>2*21</f><v>42</v></c>'
            b'<c r="B30" t="str"><f t="shared" ref="B30:C30" si="0">"a"&amp;"b"</f><v>ab</v></c>'
            b'<c r="C30" t="str"><f t="shared" si="0"/><v>ab</v></c>'
            b'<c r="D30"><f>NOW()</f></c>'
            b'<c r="E30" t="str"><f>" x "</f><v xml:space="preserve"> x </v></c></row>'
        )
        return xml.replace(b"</sheetData>", row + b"</sheetData>", 1)

    data = _with_part(_several_issues(), SHEET_PART, formulas)
    data = _with_part(data, "xl/calcChain.xml", lambda _: b'<calcChain xmlns="x"/>')
    data = _with_part(
        data,
        "xl/_rels/workbook.xml.rels",
        lambda xml: xml.replace(
            b"</Relationships>",
            b'<Relationship Id="rIdC" Type="http://schemas.openxmlformats.org/officeDocument/'
            b'2006/relationships/calcChain" Target="calcChain.xml"/></Relationships>',
        ),
    )
    issues = [Issue.make("invalid-count", sheet=SHEET, cell="C30", row=30, value="ab")]
    patched = _assert_same_as_openpyxl(data, _report(issues))
    ws = load_workbook(io.BytesIO(patched))[SHEET]  # formulas would read back as "=..."
    values = [ws[r].value for r in ("A30", "B30", "C30", "D30", "E30")]
    assert values == [42, "ab", "ab", None, " x "]
    assert ws["A30"].data_type == "n" and "<f" not in _sheet_xml(patched)
    with zipfile.ZipFile(io.BytesIO(patched)) as archive:
        assert "xl/calcChain.xml" not in archive.namelist()
        assert b"calcChain" not in archive.read("xl/_rels/workbook.xml.rels")


def test_macros_are_dropped_and_the_copy_is_a_plain_workbook() -> None:
    macro = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
    plain = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    vba = b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>'
    data = (FIXTURES / "clean_libreoffice.xlsm").read_bytes()
    data = _with_part(data, "xl/vbaProject.bin", lambda _: b"\xd0\xcf\x11\xe0 not really")
    data = _with_part(
        data,
        "[Content_Types].xml",
        lambda xml: xml.replace(plain.encode(), macro.encode()).replace(b"</Types>", vba),
    )
    data = _with_part(
        data,
        "xl/_rels/workbook.xml.rels",
        lambda xml: xml.replace(
            b"</Relationships>",
            b'<Relationship Id="rIdVba" Target="vbaProject.bin" Type="http://schemas.microsoft'
            b'.com/office/2006/relationships/vbaProject"/></Relationships>',
        ),
    )
    patched = patched_copy(data, _report(sample_issues()))
    assert patched is not None
    with zipfile.ZipFile(io.BytesIO(patched)) as archive:
        assert not any("vbaproject" in n.lower() for n in archive.namelist())
        types = archive.read("[Content_Types].xml").decode()
        rels = archive.read("xl/_rels/workbook.xml.rels").decode()
    assert "macroEnabled" not in types and "vbaProject" not in types and plain in types
    assert "vbaProject" not in rels
    assert _cells(patched)[SHEET]["D7"][1] == SEVERITY_COLOURS[Severity.HARD]


def test_template_flag_is_dropped() -> None:
    template = b"application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml"
    plain = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    data = _with_part(
        _several_issues(), "[Content_Types].xml", lambda xml: xml.replace(plain, template)
    )
    patched = patched_copy(data, _report(sample_issues()))
    assert patched is not None
    with zipfile.ZipFile(io.BytesIO(patched)) as archive:
        types = archive.read("[Content_Types].xml")
    assert plain in types and template not in types


def _own_comments(data: bytes) -> bytes:
    book = load_workbook(io.BytesIO(data))
    from openpyxl.comments import Comment

    book[SHEET]["A2"].comment = Comment("Checked with Sam", "Coordinator")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("what", "make"),
    [
        ("comments already", _own_comments),
        (
            "strict OOXML",
            lambda d: _with_part(
                d,
                SHEET_PART,
                lambda x: x.replace(
                    b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
                    b"http://purl.oclc.org/ooxml/spreadsheetml/main",
                ),
            ),
        ),
        (
            "a row twice",
            lambda d: _with_part(
                d, SHEET_PART, lambda x: x.replace(b'<row r="3"', b'<row r="2"', 1)
            ),
        ),
        (
            "a row without r",
            lambda d: _with_part(
                d, SHEET_PART, lambda x: re.sub(rb'<row r="3"', b"<row", x, count=1)
            ),
        ),
        (
            "no sheetData",
            lambda d: _with_part(
                d,
                SHEET_PART,
                lambda x: re.sub(rb"<sheetData>.*</sheetData>", b"", x, flags=re.DOTALL),
            ),
        ),
        (
            "a DTD",
            lambda d: _with_part(
                d,
                "xl/styles.xml",
                lambda x: x.replace(
                    b"<styleSheet", b"<!DOCTYPE x [<!ENTITY a 'b'>]><styleSheet", 1
                ),
            ),
        ),
        (
            "no styles part",
            lambda d: _with_part(
                d,
                "xl/_rels/workbook.xml.rels",
                lambda x: re.sub(rb'<Relationship [^>]*/styles"[^>]*/>', b"", x),
            ),
        ),
        (
            "a missing sheet",
            lambda d: _with_part(
                d,
                "xl/workbook.xml",
                lambda x: x.replace(
                    b"</sheets>", b'<sheet name="Gone" sheetId="7" r:id="rIdGone"/></sheets>'
                ),
            ),
        ),
        (
            "wrapped parts after the cells",
            lambda d: _with_part(
                d,
                SHEET_PART,
                lambda x: x.replace(
                    b"</worksheet>",
                    b'<mc:AlternateContent><mc:Choice Requires="x14"><oleObjects/></mc:Choice>'
                    b"</mc:AlternateContent></worksheet>",
                ),
            ),
        ),
        (
            "single-quoted attributes on a marked cell",
            lambda d: _with_part(
                d, SHEET_PART, lambda x: x.replace(b'r="D7" s="0"', b"r=\"D7\" s='0'")
            ),
        ),
        (
            "a marked row's cell never closed",
            lambda d: _with_part(
                d, SHEET_PART, lambda x: re.sub(rb'(<row r="7".*?)</c>', rb"\1", x, count=1)
            ),
        ),
        (
            "a cell inside a marked row's cell",
            lambda d: _with_part(
                d,
                SHEET_PART,
                lambda x: x.replace(b'<c r="C7" s="0" t="n"><v>15</v>', b'<c r="C7"><c r="D7"/>'),
            ),
        ),
        (
            "text between a marked row's cells",
            lambda d: _with_part(
                d, SHEET_PART, lambda x: x.replace(b'</c><c r="D7"', b'</c>x<c r="D7"', 1)
            ),
        ),
        (
            "a marked row's cells out of order",
            lambda d: _with_part(
                d, SHEET_PART, lambda x: x.replace(b'<c r="C7"', b'<c r="H7"', 1)
            ),
        ),
        (
            "a cell of another row in a marked row",
            lambda d: _with_part(
                d, SHEET_PART, lambda x: x.replace(b'<c r="C7"', b'<c r="C8"', 1)
            ),
        ),
        ("not a zip", lambda d: d[: len(d) // 2]),
    ],
)
def test_odd_packages_are_left_to_openpyxl(what: str, make: Callable[[bytes], bytes]) -> None:
    data = make(_several_issues())
    report = _report(sample_issues())
    assert patched_copy(data, report) is None, what
    # annotate_workbook still answers, through openpyxl or the values copy.
    out = annotate_workbook(data, "x.xlsx", report)
    assert load_workbook(io.BytesIO(out)).sheetnames[-1].startswith(wording.ANNOTATED_SHEET_TITLE)


def test_cells_of_a_marked_row_that_need_no_change_are_kept_as_they_are() -> None:
    """Only marked cells and formulas are rewritten; the others keep their bytes, even an
    attribute quoted in a way the patcher would not edit."""

    def odd(xml: bytes) -> bytes:
        return xml.replace(b'<c r="E7" s="0" t="n">', b"<c r=\"E7\" s='0'  t='n' >", 1)

    data = _with_part(_several_issues(), SHEET_PART, odd)
    patched = _assert_same_as_openpyxl(data, _report(sample_issues()))
    row = re.search(rb'<row r="7".*?</row>', _sheet_xml(patched).encode(), re.DOTALL)
    assert row is not None
    assert b"<c r=\"E7\" s='0'  t='n' ><v>19</v></c>" in row.group(0)
    assert b'<c r="F7" s="0" t="n"><v>9</v></c>' in row.group(0)
    assert re.search(rb'<c r="D7" s="[1-9][0-9]*" t="n"><v>18</v></c>', row.group(0))


def test_rich_text_in_a_marked_row_is_not_taken_for_cells() -> None:
    """<color> and <charset> of an inline rich string begin like <c>, and are not cells."""
    rich = (
        b'<c r="A7" t="inlineStr"><is><r><rPr><color rgb="FFFF0000"/><charset val="0"/>'
        b"</rPr><t>Lambeth</t></r></is></c>"
    )

    def styled(xml: bytes) -> bytes:
        return re.sub(rb'<c r="A7"[^>]*>.*?</c>', rich, xml, count=1, flags=re.DOTALL)

    data = _with_part(_several_issues(), SHEET_PART, styled)
    patched = _assert_same_as_openpyxl(data, _report(sample_issues()))
    assert rich in _sheet_xml(patched).encode()


def test_a_marked_row_of_unclosed_cells_is_refused_in_linear_time() -> None:
    """200,000 cells that never close: each is looked at once (a search from every cell to
    the row's end would take minutes)."""
    cells = b'<c r="D7" t="n"><v>1</v>' * 200_000

    def unclosed(xml: bytes) -> bytes:
        row = re.compile(rb'(<row r="7"[^>]*>).*?</row>', re.DOTALL)
        return row.sub(rb"\1" + cells + b"</row>", xml, count=1)

    data = _with_part(_several_issues(), SHEET_PART, unclosed)
    started = time.process_time()
    assert patched_copy(data, _report(sample_issues())) is None
    assert time.process_time() - started < 5


def test_the_patcher_serves_annotate_workbook(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_openpyxl(data: bytes, report: FileReport) -> None:
        raise AssertionError("the openpyxl copy was used")

    monkeypatch.setattr(annotate, "_styled_copy", no_openpyxl)
    out = annotate_workbook(_several_issues(), "x.xlsx", _report(sample_issues()))
    assert _cells(out)[SHEET]["F5"][1] == SEVERITY_COLOURS[Severity.SOFT]


def test_a_report_without_issues_still_gets_a_headed_issues_sheet() -> None:
    patched = _assert_same_as_openpyxl(_several_issues(), _report([]))
    rows = list(load_workbook(io.BytesIO(patched))[wording.ANNOTATED_SHEET_TITLE].values)
    assert rows == [wording.ANNOTATED_COLUMNS]


@pytest.mark.slow
def test_libreoffice_opens_the_patched_copy(tmp_path: Path) -> None:
    data = _several_issues()
    issues = [*sample_issues(), Issue.make("missing-date", sheet=SHEET, cell="B40", row=40)]
    patched = patched_copy(data, _report(issues))
    assert patched is not None
    source = tmp_path / "patched.xlsx"
    source.write_bytes(patched)
    (csv_file,) = soffice_convert([source], "csv", tmp_path / "csv", tmp_path)
    lines = csv_file.read_text(encoding="utf-8").splitlines()
    original = tmp_path / "original.xlsx"
    original.write_bytes(data)
    (expected,) = soffice_convert([original], "csv", tmp_path / "orig", tmp_path)
    wanted = expected.read_text(encoding="utf-8").splitlines()
    assert len(wanted) > 5 and lines[: len(wanted)] == wanted
    assert all(set(line) <= {","} for line in lines[len(wanted) :])  # down to the B40 mark
    # Saved again by LibreOffice, the fills, comments and Issues sheet are all still there.
    (resaved,) = soffice_convert([source], "xlsx", tmp_path / "xlsx", tmp_path)
    book: Workbook = load_workbook(resaved)
    assert book.sheetnames == [SHEET, wording.ANNOTATED_SHEET_TITLE]
    assert _fill(book[SHEET]["F5"]) == SEVERITY_COLOURS[Severity.SOFT]
    assert issues[1].message in book[SHEET]["F5"].comment.text
    assert book[SHEET]["B40"].comment is not None
    rows = list(book[wording.ANNOTATED_SHEET_TITLE].values)
    assert rows[0] == wording.ANNOTATED_COLUMNS and len(rows) == len(issues) + 1


def test_a_marked_sheet_with_its_own_relationships_keeps_them() -> None:
    rels = (
        b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxml'
        b'formats.org/package/2006/relationships"><Relationship Id="rIdMarac1" Type="http://'
        b'schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target='
        b'"https://example.org/" TargetMode="External"/></Relationships>'
    )

    def link(xml: bytes) -> bytes:
        return xml.replace(
            b"</sheetData>",
            b'</sheetData><hyperlinks><hyperlink ref="A2" r:id="rIdMarac1"/></hyperlinks>',
            1,
        )

    data = _with_part(_several_issues(), "xl/worksheets/_rels/sheet1.xml.rels", lambda _: rels)
    data = _with_part(data, SHEET_PART, link)
    patched = _assert_same_as_openpyxl(data, _report(sample_issues()))
    ws = load_workbook(io.BytesIO(patched))[SHEET]
    assert ws["A2"].hyperlink is not None and ws["A2"].hyperlink.target == "https://example.org/"
    with zipfile.ZipFile(io.BytesIO(patched)) as archive:
        ids = re.findall(rb'Id="([^"]+)"', archive.read("xl/worksheets/_rels/sheet1.xml.rels"))
    assert len(ids) == len(set(ids)) == 3
    # <legacyDrawing> after <hyperlinks>, where the schema puts it.
    sheet = _sheet_xml(patched)
    assert sheet.index("<hyperlinks>") < sheet.index("<legacyDrawing")


def test_blank_cells_take_their_row_or_column_format_with_the_fill() -> None:
    """A marked cell that is not in the file shows its row's format (or else its column's),
    plus the fill: the format is copied, never changed for other cells."""

    def styled(xml: bytes) -> bytes:
        cols = b'<cols><col min="8" max="8" style="1"/></cols><sheetData>'
        xml = xml.replace(b"<sheetData>", cols, 1)
        return xml.replace(b'<row r="6" customFormat="false"', b'<row r="6" s="1" customFormat="1"')

    data = _with_part(_several_issues(), SHEET_PART, styled)
    cells = {"AH6": 1, "H30": 1, "AI7": 0}  # row 6's format, column H's, the default
    issues = [
        Issue.make("missing-date", sheet=SHEET, cell=ref, row=cell_positions(ref)[0][0])
        for ref in cells
    ]
    patched = patched_copy(data, _report(issues))
    assert patched is not None
    sheet = _sheet_xml(patched)
    with zipfile.ZipFile(io.BytesIO(patched)) as archive:
        xfs = _cell_formats(archive.read("xl/styles.xml"))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert _cell_formats(archive.read("xl/styles.xml")) == xfs[:2]  # appended, not changed
    for ref, base in cells.items():
        style = re.search(rf'<c r="{ref}" s="(\d+)"/>', sheet)
        assert style is not None, ref
        xf = dict(xfs[int(style.group(1))])  # AH6 and H30 share one
        assert xf.pop("applyFill") == "1" and int(xf.pop("fillId")) > 0
        assert xf == {k: v for k, v in xfs[base].items() if k != "fillId"}, ref
    book = load_workbook(io.BytesIO(patched))[SHEET]
    assert {_fill(book[ref]) for ref in cells} == {SEVERITY_COLOURS[Severity.HARD]}


def _cell_formats(styles: bytes) -> list[dict[str, str]]:
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    root = ElementTree.fromstring(styles)
    return [dict(xf.attrib) for xf in root.find(f"{main}cellXfs") or []]


def test_a_sheet_without_rows_gets_its_marked_cells() -> None:
    def empty(xml: bytes) -> bytes:
        return re.sub(rb"<sheetData>.*</sheetData>", b"<sheetData/>", xml, flags=re.DOTALL)

    data = _with_part(_several_issues(), SHEET_PART, empty)
    patched = _assert_same_as_openpyxl(data, _report(sample_issues()))
    assert _cells(patched)[SHEET]["D7"][1] == SEVERITY_COLOURS[Severity.HARD]


def test_dates_in_the_issues_sheet_follow_a_1904_workbook() -> None:
    data = _with_part(
        _several_issues(),
        "xl/workbook.xml",
        lambda x: x.replace(b'date1904="false"', b'date1904="true"'),
    )
    when = datetime(2025, 1, 2)
    report = _report([Issue.make("invalid-date", sheet=SHEET, cell="B3", row=3, value=when)])
    patched = patched_copy(data, report)
    assert patched is not None
    rows = list(load_workbook(io.BytesIO(patched))[wording.ANNOTATED_SHEET_TITLE].values)
    assert rows[1][6] == when


def test_comments_on_another_sheet_are_kept_and_shape_ids_stay_unique() -> None:
    """openpyxl numbers every sheet's comment drawing block 1; the marked first sheet's
    drawing must not claim block 1 again."""
    from openpyxl.comments import Comment

    book = load_workbook(FIXTURES / "instructions_sheet_first.xlsx")
    first = book.worksheets[0].title
    assert book.sheetnames[1] == SHEET
    book[SHEET]["A1"].comment = Comment("Read me first", "Coordinator")
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    report = _report([Issue.make("missing-marac", sheet=first, cell="B2", row=2)])
    patched = _assert_same_as_openpyxl(data, report)
    assert _cells(patched)[SHEET]["A1"][2] == "Read me first"
    assert _cells(patched)[first]["B2"][2] is not None
    with zipfile.ZipFile(io.BytesIO(patched)) as archive:
        drawings = [archive.read(n) for n in archive.namelist() if n.endswith(".vml")]
    blocks = [re.findall(rb'idmap[^>]*data="(\d+)"', xml) for xml in drawings]
    assert len(drawings) == 2 and len({b for found in blocks for b in found}) == 2


def test_an_edit_that_would_break_the_xml_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The last check before writing: every part it wrote or changed is well-formed XML."""
    from reports import xlsx_patch

    monkeypatch.setattr(xlsx_patch, "_blank_cell", lambda row, column, style: b"<c r=A1>")
    blank_mark = [Issue.make("missing-date", sheet=SHEET, cell="AH7", row=7)]
    assert patched_copy(_several_issues(), _report(blank_mark)) is None
    monkeypatch.setattr(xlsx_patch, "_comments_xml", lambda comments: b"<comments>")
    assert patched_copy(_several_issues(), _report(sample_issues())) is None
