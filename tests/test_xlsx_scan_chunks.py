"""The worksheet scan (validation/xlsx_scan.py) searches each inflated chunk on its own and the
seam between two chunks apart: whatever way a sheet's XML is cut into chunks, it must learn
the same last row, width and formulas with no value as from the whole XML at once."""

from __future__ import annotations

import random

import pytest

from validation.xlsx_scan import _FORMULA_HINT_RE, SheetScan, XlsxScanner
from validation.xlsx_scan import _ROW_TRIES as ROW_TRIES

PART = "xl/worksheets/sheet1.xml"


def _sheet(last_cell: str = "AF", formula_row: int | None = None, rows: int = 40) -> bytes:
    """A sheet whose row 7 alone reaches ``last_cell``'s column."""
    cells = []
    for r in range(1, rows + 1):
        row = [f'<c r="A{r}" t="inlineStr"><is><t>Croydon Marac</t></is></c>']
        row += [f'<c r="{col}{r}"><v>{r}</v></c>' for col in ("C", "D", "AF")]
        if r == 7:
            row.append(f'<c r="{last_cell}{r}"><v>1</v></c>')
        if r == formula_row:
            row.append(f'<c r="E{r}"><f>SUM(C{r}:D{r})</f></c>')
        cells.append(f'<row r="{r}" spans="1:32">{"".join(row)}</row>')
    return ('<worksheet><sheetData>' + "".join(cells) + "</sheetData></worksheet>").encode()


def _scan(xml: bytes, cuts: list[int]) -> SheetScan:
    scanner = XlsxScanner()
    start = 0
    for cut in [*sorted(cuts), len(xml)]:
        scanner.feed(PART, xml[start:cut])
        start = cut
    return scanner.parts[PART]


def _every_cut_near(xml: bytes, needle: bytes) -> list[list[int]]:
    at = xml.index(needle)
    return [[cut] for cut in range(at - 2, at + len(needle) + 2)]


@pytest.mark.parametrize("wide", ["HA", "ZZ", "AAA", "XFD"])
def test_a_wide_reference_cut_anywhere_is_seen(wide: str) -> None:
    xml = _sheet(last_cell=wide)
    for cuts in _every_cut_near(xml, f'r="{wide}7"'.encode()):
        assert _scan(xml, cuts).wide, cuts


def test_narrow_sheets_stay_narrow_however_cut() -> None:
    xml = _sheet(last_cell="GZ")  # column 208, the widest that is not "wide"
    for cuts in _every_cut_near(xml, b'r="GZ7"'):
        assert not _scan(xml, cuts).wide, cuts


def test_the_last_row_is_found_when_its_tag_is_cut_or_the_last_chunk_has_none() -> None:
    xml = _sheet(rows=40)
    whole = _scan(xml, [])
    assert whole.last_row == 40
    for cuts in _every_cut_near(xml, b'<row r="40"'):
        assert _scan(xml, cuts).last_row == 40, cuts
    end = xml.index(b'<row r="40"') + 20  # the last chunk: the rest of row 40, no row tag
    assert _scan(xml, [end]).last_row == 40


def test_random_cuts_learn_what_the_whole_xml_says() -> None:
    rng = random.Random(14)
    xml = _sheet(last_cell="AF", formula_row=23, rows=60)
    whole = _scan(xml, [])
    assert whole.last_row == 60 and not whole.wide
    assert whole.formulas_without_value == {"E23"}
    for _ in range(200):
        cuts = rng.sample(range(1, len(xml)), rng.randint(1, 12))
        found = _scan(xml, cuts)
        assert (found.last_row, found.wide, found.formulas_without_value) == (
            60, False, {"E23"}), cuts


def _three_needles(window: bytes) -> bool:
    """The hint's decision as it was once made: three searches, one for each needle."""
    return b"f>" in window or b"f/>" in window or b"<f " in window


@pytest.mark.parametrize("text", [
    b"<f>SUM(A1)</f>", b"<x:f>A1</x:f>", b"<f/>", b"<f t=\"shared\" si=\"0\"/>", b"<x:f/>",
    b"Number of children", b"<ff >", b"if/>", b"of>", b"f", b"<f", b"f/", b"<f\t", b"",
    b"<c r=\"E5\"><f>1</f></c>", b"defaultRowHeight=\"15\" />",
])
def test_the_formula_hint_is_the_three_needles_in_one_search(text: bytes) -> None:
    """The one search from "f" finds a formula's tag exactly where the three needles did, so
    that no sheet with a formula is left unscanned and no other sheet is scanned again."""
    assert bool(_FORMULA_HINT_RE.search(text)) == _three_needles(text)


def test_the_formula_hint_agrees_with_the_needles_on_random_xml() -> None:
    rng = random.Random(8)
    alphabet = b"f<>/ x:ac\"=1"
    for _ in range(5000):
        text = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert bool(_FORMULA_HINT_RE.search(text)) == _three_needles(text), text


def _with_errors(xml: bytes) -> bytes:
    """Two error values (one behind a formula) and an empty text result, in row 23."""
    cells = (b'<c r="E23" t="e"><f>NA()</f><v>#N/A</v></c><c r="F23" t="e"><v>#DIV/0!</v></c>'
             b'<c r="G23" t="str"><f>""</f><v></v></c>')
    return xml.replace(b'<row r="23" spans="1:32">', b'<row r="23" spans="1:32">' + cells, 1)


def test_error_values_are_found_however_the_xml_is_cut() -> None:
    rng = random.Random(23)
    xml = _with_errors(_sheet(rows=60))
    whole = _scan(xml, [])
    assert whole.errors == {"E23": "#N/A", "F23": "#DIV/0!"}
    assert whole.formulas_without_value == set()  # G23's empty text is a stored value
    for cuts in (_every_cut_near(xml, b't="e"><f>NA()')
                 + [rng.sample(range(1, len(xml)), rng.randint(1, 12)) for _ in range(200)]):
        found = _scan(xml, cuts)
        assert (found.errors, found.formulas_without_value) == (whole.errors, set()), cuts


@pytest.mark.parametrize(("texts", "learnt"), [(0, 41), (ROW_TRIES - 1, 41), (ROW_TRIES, 0)])
def test_the_last_row_is_learnt_past_text_that_says_row_up_to_a_bound(texts: int,
                                                                       learnt: int) -> None:
    """Text saying "row " after the last row tag is passed over, up to ``ROW_TRIES - 1``
    times; past that the chunk teaches nothing (a hostile flood of "row " costs a pass, and
    the capped reader is the defence against a sheet larger than its tags say)."""
    text = b"row " * texts
    xml = (b'<worksheet><sheetData><row r="41" spans="1:2"><c r="A41" t="inlineStr"><is><t>'
           + text + b"</t></is></c></row></sheetData></worksheet>")
    assert _scan(xml, []).last_row == learnt


def test_an_error_value_that_is_not_utf8_is_kept_readable_not_raised() -> None:
    """A damaged file's error value may hold any bytes: the guard must not fail on them."""
    row = b'<row r="23" spans="1:32">'
    xml = _sheet(rows=30).replace(row, row + b'<c r="E23" t="e"><v>#N\xff\xfeA</v></c>', 1)
    assert _scan(xml, []).errors == {"E23": "#N\ufffd\ufffdA"}
