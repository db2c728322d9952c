"""The annotated copy: problem cells filled and commented, an Issues sheet, every input format.

Inputs are the real files under tests/fixtures (saved by LibreOffice and openpyxl) and files
LibreOffice converts here; reports are built with ``Issue.make``, as the validator would.
"""

from __future__ import annotations

import csv
import io
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
import python_calamine
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font

from kernel import wording
from reports import annotate
from reports.annotate import annotate_workbook, cell_positions, issues_csv
from reports.xlsx_cells import SEVERITY_COLOURS
from tests.reports_support import sample_issues, soffice_convert
from validation.issues import Issue, Severity
from validation.report import FileReport

FIXTURES = Path(__file__).parent / "fixtures"
SHEET = "Marac data"
NO_FILL = "00000000"


def _report(name: str, issues: list[Issue], sheet: str | None = SHEET) -> FileReport:
    return FileReport(file=name, sheet=sheet, issues=issues)


def _fill(cell: Any) -> str:
    return str(cell.fill.fgColor.rgb) if cell.fill.fill_type == "solid" else NO_FILL


def _issue_rows(book: Workbook) -> list[tuple[Any, ...]]:
    return list(book[wording.ANNOTATED_SHEET_TITLE].iter_rows(values_only=True))


def _values(data: bytes, sheet: str) -> list[list[Any]]:
    """A sheet's values as python-calamine reads them, blank trailing cells dropped."""
    book = python_calamine.load_workbook(io.BytesIO(data))
    rows = book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    return [_trim([None if v == "" else v for v in row]) for row in rows]


def _trim(row: list[Any]) -> list[Any]:
    while row and row[-1] is None:
        row.pop()
    return row


def _assert_marked(book: Workbook, sheet: str = SHEET) -> None:
    """The cells of ``sample_issues()`` carry the right fill and comment; others carry neither."""
    ws = book[sheet]
    d7, f5, e3 = ws["D7"], ws["F5"], ws["E3"]
    assert _fill(d7) == SEVERITY_COLOURS[Severity.HARD]  # worst of hard and info
    assert _fill(e3) == SEVERITY_COLOURS[Severity.HARD]
    assert _fill(f5) == SEVERITY_COLOURS[Severity.SOFT]
    issues = sample_issues()
    assert d7.comment is not None and f5.comment is not None and e3.comment is not None
    # One comment listing both of D7's issues, the hard one first.
    d7_text = d7.comment.text
    assert d7_text.index(issues[2].message) < d7_text.index(issues[3].message)
    assert d7_text.startswith(wording.ANNOTATED_SEVERITY_LABELS["hard"])
    assert issues[1].message in f5.comment.text
    assert d7.comment.author == wording.ANNOTATION_AUTHOR
    for ref in ("A1", "C7", "D6", "E7", "F4", "B2"):
        assert ws[ref].comment is None, ref
        assert _fill(ws[ref]) == NO_FILL, ref


def _assert_issues_sheet(book: Workbook, issues: list[Issue]) -> None:
    rows = _issue_rows(book)
    assert rows[0] == wording.ANNOTATED_COLUMNS
    assert len(rows) == len(issues) + 1
    labels = wording.ANNOTATED_SEVERITY_LABELS
    rank = {labels["hard"]: 0, labels["soft"]: 1, labels["info"]: 2}
    severities = [r[0] for r in rows[1:]]
    assert severities == sorted(severities, key=rank.__getitem__)  # hard first
    assert sorted(r[1] for r in rows[1:]) == sorted(i.code for i in issues)
    assert {r[7] for r in rows[1:]} == {i.message for i in issues}
    ws = book[wording.ANNOTATED_SHEET_TITLE]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:H{len(issues) + 1}"
    assert ws.column_dimensions["H"].width >= 60
    assert book.sheetnames[-1] == wording.ANNOTATED_SHEET_TITLE


def test_xlsx_copy_marks_the_cells_and_lists_every_issue() -> None:
    data = (FIXTURES / "several_issues.xlsx").read_bytes()
    issues = sample_issues()
    out = annotate_workbook(data, "several_issues.xlsx", _report("several_issues.xlsx", issues))
    book = load_workbook(io.BytesIO(out))
    assert book.sheetnames == [SHEET, wording.ANNOTATED_SHEET_TITLE]
    _assert_marked(book)
    _assert_issues_sheet(book, issues)
    assert _values(out, SHEET) == _values(data, SHEET)


def test_submitted_text_that_looks_like_a_formula_stays_text() -> None:
    data = (FIXTURES / "several_issues.xlsx").read_bytes()
    out = annotate_workbook(data, "x.xlsx", _report("x.xlsx", sample_issues()))
    sheet = load_workbook(io.BytesIO(out))[wording.ANNOTATED_SHEET_TITLE]
    rows = sheet.iter_rows(min_row=2)
    (value_cell,) = [row[6] for row in rows if row[1].value == "invalid-count"]
    assert value_cell.value == "=1+1"
    assert value_cell.data_type == "s"


def test_users_formatting_and_own_comments_are_kept(tmp_path: Path) -> None:
    book = load_workbook(FIXTURES / "several_issues.xlsx")
    ws = book[SHEET]
    ws["A2"].font = Font(bold=True, italic=True)
    ws["B2"].number_format = "D MMM YYYY"
    ws["D7"].comment = Comment("Checked with Sam", "Coordinator")
    ws.column_dimensions["A"].width = 33
    ws["AH2"] = "merged note"
    ws.merge_cells("AH2:AJ2")
    book.create_sheet(wording.ANNOTATED_SHEET_TITLE)  # the user's own "Issues" sheet
    source = tmp_path / "formatted.xlsx"
    book.save(source)
    issues = [*sample_issues(), Issue.make("normalised-value", sheet=SHEET, cell="AI2", value="x")]

    out = annotate_workbook(source.read_bytes(), source.name, _report(source.name, issues))
    result = load_workbook(io.BytesIO(out))
    ws = result[SHEET]
    assert ws["A2"].font.b and ws["A2"].font.i
    assert ws["B2"].number_format == "D MMM YYYY"
    assert ws.column_dimensions["A"].width == 33
    assert "Checked with Sam" in ws["D7"].comment.text
    assert sample_issues()[2].message in ws["D7"].comment.text
    # A merged cell's issue lands on the merge's top-left cell, the only one that shows.
    assert _fill(ws["AH2"]) == SEVERITY_COLOURS[Severity.INFO]
    assert "we read 'x'" in ws["AH2"].comment.text
    assert result.sheetnames == [SHEET, "Issues", "Issues (2)"]
    assert not any(any(row) for row in _issue_rows(result))  # the user's sheet is left alone
    assert len(list(result["Issues (2)"].iter_rows())) == len(issues) + 1


@pytest.mark.slow
def test_formulas_show_their_stored_values(tmp_path: Path) -> None:
    book = load_workbook(FIXTURES / "several_issues.xlsx")
    book[SHEET]["AH2"] = "=2*21"
    draft = tmp_path / "draft" / "formulas.xlsx"
    draft.parent.mkdir()
    book.save(draft)
    # LibreOffice recalculates and stores the formula's value, as Excel does on save.
    (saved,) = soffice_convert([draft], "xlsx", tmp_path / "saved", tmp_path)
    out = annotate_workbook(saved.read_bytes(), saved.name, _report(saved.name, sample_issues()))
    cell = load_workbook(io.BytesIO(out))[SHEET]["AH2"]
    assert cell.value == 42
    assert cell.data_type == "n"


def test_xlsm_copy_drops_the_macros_and_is_a_plain_xlsx() -> None:
    data = (FIXTURES / "clean_libreoffice.xlsm").read_bytes()
    out = annotate_workbook(data, "return.xlsm", _report("return.xlsm", sample_issues()))
    with zipfile.ZipFile(io.BytesIO(out)) as archive:
        content_types = archive.read("[Content_Types].xml").decode()
        assert not any(n.lower().endswith("vbaproject.bin") for n in archive.namelist())
    assert "macroEnabled" not in content_types
    assert "spreadsheetml.sheet.main+xml" in content_types
    book = load_workbook(io.BytesIO(out))
    _assert_marked(book)
    assert _values(out, SHEET) == _values(data, SHEET)


def test_template_package_comes_back_as_a_workbook(tmp_path: Path) -> None:
    book = load_workbook(FIXTURES / "several_issues.xlsx")
    book.template = True  # what Excel writes for .xltx; the guard lets it through
    source = tmp_path / "saved_as_template.xlsx"
    book.save(source)
    assert "template.main+xml" in _content_types(source.read_bytes())
    out = annotate_workbook(source.read_bytes(), source.name, _report(source.name, sample_issues()))
    assert "spreadsheetml.sheet.main+xml" in _content_types(out)
    _assert_marked(load_workbook(io.BytesIO(out)))


def _content_types(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("[Content_Types].xml").decode()


@pytest.mark.parametrize(
    "fixture", ["clean_libreoffice.xls", "clean_libreoffice.ods", "several_issues.xlsx"]
)
def test_values_copy_keeps_sheet_names_and_values(fixture: str, monkeypatch: Any) -> None:
    if fixture.endswith(".xlsx"):  # force the large-file path on a small file
        monkeypatch.setattr("reports.annotate.STYLED_COPY_MAX_SHEET_XML", 0)
    data = (FIXTURES / fixture).read_bytes()
    issues = sample_issues()
    out = annotate_workbook(data, fixture, _report(fixture, issues))
    book = load_workbook(io.BytesIO(out))
    source_names = python_calamine.load_workbook(io.BytesIO(data)).sheet_names
    assert book.sheetnames == [*source_names, wording.ANNOTATED_SHEET_TITLE]
    _assert_marked(book)
    _assert_issues_sheet(book, issues)
    assert _values(out, SHEET) == [_whole(row) for row in _values(data, SHEET)]
    # Dates keep being dates, shown the UK way.
    assert book[SHEET]["B2"].is_date and book[SHEET]["B2"].number_format == "DD/MM/YYYY"


def _whole(row: list[Any]) -> list[Any]:
    """Whole-number floats as ints: the copy writes 12, not 12.0 (Excel shows both as 12)."""
    return [int(v) if isinstance(v, float) and v.is_integer() else v for v in row]


@pytest.mark.parametrize("fixture", ["semicolon_cp1252.csv", "utf8_bom_comma.csv"])
def test_csv_copy_keeps_the_text_and_marks_the_cells(fixture: str) -> None:
    data = (FIXTURES / fixture).read_bytes()
    text = data.decode("utf-8-sig") if fixture.startswith("utf8") else data.decode("cp1252")
    delimiter = ";" if fixture.startswith("semicolon") else ","
    expected = [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    stem = fixture.rsplit(".", 1)[0]
    issues = sample_issues(sheet=stem)  # the reader names a CSV's one sheet after the file

    out = annotate_workbook(data, fixture, _report(fixture, issues, sheet=stem))
    book = load_workbook(io.BytesIO(out))
    assert book.sheetnames == [stem, wording.ANNOTATED_SHEET_TITLE]
    _assert_marked(book, stem)
    copied = [[_as_text(v) for v in row] for row in book[stem].iter_rows(values_only=True)]
    assert [_trim_text(r) for r in copied] == [_trim_text(r) for r in expected if any(r)]
    # Each file has non-ASCII text (’ – ô): it must come through as the same characters.
    assert _non_ascii(copied) == _non_ascii(expected) != set()


def _non_ascii(rows: list[list[str]]) -> set[str]:
    return {ch for row in rows for value in row for ch in value if ord(ch) > 127}


def _as_text(value: Any) -> str:
    return "" if value is None else str(value)


def _trim_text(row: list[str]) -> list[str]:
    row = list(row)
    while row and row[-1] == "":
        row.pop()
    return row


def test_issue_without_a_sheet_marks_the_reports_data_sheet() -> None:
    data = (FIXTURES / "several_issues.xlsx").read_bytes()
    out = annotate_workbook(data, "x.xlsx", _report("x.xlsx", sample_issues(sheet=None)))
    _assert_marked(load_workbook(io.BytesIO(out)))


def test_ranges_and_odd_cell_references() -> None:
    assert cell_positions("D7") == [(7, 4)]
    assert cell_positions("$AB$7:AD7") == [(7, 28), (7, 29), (7, 30)]
    assert cell_positions("C7, D7") == [(7, 3), (7, 4)]
    assert cell_positions("D:D") == [] and cell_positions("??") == []
    assert cell_positions("D1048577") == []
    assert len(cell_positions("A1:XFD1048576")) == annotate.MAX_CELLS_PER_ISSUE
    data = (FIXTURES / "several_issues.xlsx").read_bytes()
    issues = [
        Issue.make("ethnicity-exceeds-cases", sheet=SHEET, cell="AB4:AF4", row=4, total=9),
        Issue.make("missing-marac", sheet=SHEET, cell="not a cell", row=6),
        Issue.make("ignored-sheet", sheet="Elsewhere", cell="A1", value="Elsewhere"),
    ]
    book = load_workbook(io.BytesIO(annotate_workbook(data, "x.xlsx", _report("x.xlsx", issues))))
    ws = book[SHEET]
    marked = [c.coordinate for row in ws.iter_rows() for c in row if c.comment is not None]
    assert marked == ["AB4", "AC4", "AD4", "AE4", "AF4"]
    assert len(_issue_rows(book)) == 4


@pytest.mark.parametrize(
    ("fixture", "code"),
    [
        ("hostile/password_protected.xlsx", "encrypted-file"),
        ("hostile/password_protected.xls", "encrypted-file"),
        ("hostile/truncated_zip.xlsx", "unreadable-file"),
        ("hostile/zip_bomb.xlsx", "file-too-large"),
        ("hostile/png_renamed.xlsx", "unreadable-file"),
    ],
)
def test_unopenable_file_gives_only_the_issues_sheet(fixture: str, code: str) -> None:
    data = (FIXTURES / fixture).read_bytes()
    issues = [Issue.make(code, reason="test", limit="10 MB")]
    book = load_workbook(io.BytesIO(annotate_workbook(data, fixture, _report(fixture, issues))))
    assert book.sheetnames == [wording.ANNOTATED_SHEET_TITLE]
    assert _issue_rows(book)[1][1] == code


@pytest.mark.parametrize(
    "fixture",
    ["hostile/password_protected.xlsx", "hostile/truncated_zip.xlsx", "hostile/zip_bomb.xlsx"],
)
def test_unopenable_file_is_survived_even_if_the_report_does_not_say_so(fixture: str) -> None:
    data = (FIXTURES / fixture).read_bytes()
    out = annotate_workbook(data, "x.xlsx", _report("x.xlsx", sample_issues()))
    assert load_workbook(io.BytesIO(out)).sheetnames == [wording.ANNOTATED_SHEET_TITLE]


def test_values_copy_does_not_draw_marks_far_below_the_data() -> None:
    data = (FIXTURES / "clean_libreoffice.ods").read_bytes()
    issues = [
        Issue.make("missing-date", sheet=SHEET, cell="B900000", row=900000),
        Issue.make("missing-date", sheet=SHEET, cell="B9", row=9),
    ]
    book = load_workbook(io.BytesIO(annotate_workbook(data, "x.ods", _report("x.ods", issues))))
    assert book[SHEET].max_row == 9  # the mark just below the data is drawn, the far one not
    assert book[SHEET]["B9"].comment is not None
    assert len(_issue_rows(book)) == 3


def test_report_without_issues_still_gets_a_headed_issues_sheet() -> None:
    data = (FIXTURES / "clean_libreoffice.ods").read_bytes()
    book = load_workbook(io.BytesIO(annotate_workbook(data, "x.ods", _report("x.ods", []))))
    assert book.sheetnames == [SHEET, wording.ANNOTATED_SHEET_TITLE]
    assert _issue_rows(book) == [wording.ANNOTATED_COLUMNS]
    marked = [c for row in book[SHEET].iter_rows() for c in row if c.comment is not None]
    assert marked == []


def test_issues_csv_lists_everything_hard_first_and_defuses_formulas() -> None:
    issues = [
        *sample_issues(),
        Issue.make("invalid-count", sheet=SHEET, cell="G4", row=4, column="Police", value=-3),
        Issue.make("invalid-count", sheet=SHEET, cell="G5", row=5, column="Police", value="-3"),
    ]
    data = issues_csv(_report("x.xlsx", issues))
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert tuple(rows[0]) == wording.ANNOTATED_COLUMNS
    assert len(rows) == len(issues) + 1
    labels = [r[0] for r in rows[1:]]
    hard = wording.ANNOTATED_SEVERITY_LABELS["hard"]
    info = wording.ANNOTATED_SEVERITY_LABELS["info"]
    assert labels[:4] == [hard] * 4 and labels[-2:] == [info] * 2
    values = {(r[3], r[6]) for r in rows[1:]}
    assert ("E3", "'=1+1") in values  # would run as a formula in a spreadsheet
    assert ("G4", "-3") in values and ("G5", "-3") in values  # numbers are left alone
    assert {r[7] for r in rows[1:]} == {i.message for i in issues}


@pytest.mark.slow
def test_libreoffice_opens_every_kind_of_annotated_copy(tmp_path: Path) -> None:
    outputs = {
        "styled": ("several_issues.xlsx", sample_issues()),
        "from_ods": ("clean_libreoffice.ods", sample_issues()),
        "from_csv": ("utf8_bom_comma.csv", sample_issues(sheet="utf8_bom_comma")),
        "issues_only": ("hostile/password_protected.xlsx", [Issue.make("encrypted-file")]),
    }
    paths = []
    for name, (fixture, issues) in outputs.items():
        data = (FIXTURES / fixture).read_bytes()
        path = tmp_path / f"{name}.xlsx"
        path.write_bytes(annotate_workbook(data, fixture, _report(fixture, issues)))
        paths.append(path)
    for pdf in soffice_convert(paths, "pdf", tmp_path / "pdf", tmp_path):
        assert pdf.exists() and pdf.stat().st_size > 1000, pdf
        assert pdf.read_bytes().startswith(b"%PDF")


@pytest.fixture(scope="module")
def large_xlsx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """50,000 meetings x 32 columns, written by openpyxl."""
    path = tmp_path_factory.mktemp("large") / "large.xlsx"
    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET)
    sheet.append([f"Header {i}" for i in range(32)])
    for n in range(50_000):
        sheet.append(["Croydon", f"{n % 28 + 1:02d}/10/2024", *[(n + i) % 20 for i in range(30)]])
    book.save(path)
    return path


@pytest.mark.slow
def test_large_file_is_copied_quickly(large_xlsx: Path) -> None:
    data = large_xlsx.read_bytes()
    issues = [
        Issue.make("exceeds-cases", sheet=SHEET, cell="D7", row=7, value=40, cases=14),
        Issue.make("invalid-date", sheet=SHEET, cell="B40001", row=40001, value="x"),
        Issue.make("ignored-column", sheet=SHEET, columns="Notes"),
    ]
    # Too large for openpyxl's normal mode (which would take ~27 s of CPU): copied by values.
    assert annotate._is_large_package(data)
    assert not annotate._is_large_package((FIXTURES / "several_issues.xlsx").read_bytes())
    started = time.process_time()  # CPU time: other work on a busy machine does not count
    out = annotate_workbook(data, large_xlsx.name, _report(large_xlsx.name, issues))
    elapsed = time.process_time() - started
    # Normal-mode openpyxl needs ~27 s of CPU here; the values copy ~16 s.
    assert elapsed < 45, f"annotating 50,000 rows took {elapsed:.0f} s of CPU"
    book = load_workbook(io.BytesIO(out), read_only=True)
    assert book.sheetnames == [SHEET, wording.ANNOTATED_SHEET_TITLE]
    (row_7,) = book[SHEET].iter_rows(min_row=7, max_row=7)  # stops reading at row 7
    assert _fill(row_7[3]) == SEVERITY_COLOURS[Severity.HARD]
    assert _fill(row_7[2]) == NO_FILL
    with zipfile.ZipFile(io.BytesIO(out)) as archive:
        comments = [n for n in archive.namelist() if "comments" in n.lower() and n.endswith("xml")]
        text = archive.read(comments[0]).decode()
    assert 'ref="D7"' in text and 'ref="B40001"' in text
    values = _values(out, SHEET)
    assert len(values) == 50_001
    assert values[-1] == _whole(_values(data, SHEET)[-1])
