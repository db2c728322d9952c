"""The check units: each emits only the codes it declares, and each column rule on its own.

The declared codes are not asserted at run time (it would cost a call per row), so this test
runs every unit on its own over every fixture file, with and without a declared quarter, and
against a real SQLite store whose registry, sender rights and accepted meetings make the
registry, stored-meeting and quarter units speak too.

Below that, each column rule meets a small table built from rows as calamine gives them:
floats for numbers, "" for a blank cell.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy.orm import Session

from bot.settings import Bands
from kernel.quarters import Quarter
from store.db import Store, open_engine, session_factory, upgrade
from store.views import validation_context
from tests.store_support import load_registry, record
from validation.checks import (
    QUARTER_CHECKS,
    ROW_CHECKS,
    STORED_ROW_CHECKS,
    TABLE_CHECKS,
    FileCheck,
    RowCheck,
    TableCheck,
    row_views,
)
from validation.checks.consistency import check_children, check_minoritised, check_referrals_sum
from validation.checks.counts import (
    check_bounded_by_cases,
    check_cases_present,
    check_ethnic_groups,
    check_zero_cases,
)
from validation.checks.dates import check_meeting_date
from validation.checks.duplicates import check_duplicate_meetings
from validation.columns import COUNT_KEYS, FIELDS
from validation.context import ValidationContext
from validation.guards import GUARD_CODES
from validation.issues import ISSUE_CODES, Issue, declared
from validation.layout import LAYOUT_CODES, find_layout
from validation.names import resolve_names
from validation.parse import PARSE_CODES, parse_table
from validation.reader import READER_CODES, SheetData, read_workbook
from validation.report import ParsedRow
from validation.table import Table, to_parsed_rows
from validation.validate import VALIDATE_CODES, validate_path

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = sorted(
    p for p in FIXTURES.iterdir() if p.suffix in {".xlsx", ".xlsm", ".xls", ".ods", ".csv"}
)
TODAY = date(2025, 2, 15)
Q3 = Quarter(2024, 3)
Unit = TableCheck | RowCheck | FileCheck

# --------------------------------------------------------------------------------------------
# Every unit, over every fixture, on its own.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Emitted:
    """One unit's findings on one file: what it declares, what it said, and whether running it
    changed the rows or the table (a unit only yields issues)."""

    unit: str
    declared: frozenset[str]
    issues: tuple[Issue, ...]
    changed_state: bool = False


def state(table: Table, parsed: list[ParsedRow]) -> tuple[list[tuple[Any, ...]], list[Any]]:
    """What a unit could change by mistake: every field of every row, and the table's names."""
    rows = [(r.sheet_row, r.marac_text, r.meeting_date, dict(r.counts), r.marac, r.hard,
             r.held, r.unchanged) for r in parsed]
    return rows, list(table.marac)


def name_rows(table: Table, parsed: list[ParsedRow], context: ValidationContext) -> None:
    """The registry's names, set before the units as validate does (``validation.names``)."""
    if context.registry is not None and not context.registry.is_empty():
        table.marac = resolve_names(table.marac_text, context.registry)
        for row, name in zip(parsed, table.marac, strict=True):
            row.marac = name


def run_each_unit(path: Path, context: ValidationContext, *, named: bool = True
                  ) -> Iterator[Emitted]:
    """The units one by one, as validation runs them, keeping who said what. Not ``named``,
    the rows go without the registry's names, so a unit that set them itself would show."""
    book = read_workbook(path.read_bytes(), path.name)
    if isinstance(book, Issue):
        return
    layout, notes = find_layout(book.sheets)
    if layout is None or any(n.is_hard for n in notes) or not layout.data_rows:
        return
    table, read = parse_table(layout)
    yield Emitted("parse_table", PARSE_CODES, tuple(read))
    parsed = to_parsed_rows(table)
    if named:
        name_rows(table, parsed, context)
    views = row_views(table, parsed)
    hard = {i.row for i in read if i.is_hard}

    def emitted(unit: Unit, issues: Iterable[Issue]) -> Emitted:
        """``issues`` not yet run (every unit is a generator), so that the state can be
        compared from before the unit starts to after it ends."""
        before = state(table, parsed)
        found = tuple(issues)
        hard.update(i.row for i in found if i.is_hard)
        return Emitted(unit.name, unit.codes, found, state(table, parsed) != before)

    for row_check in ROW_CHECKS:
        if row_check.applies(context):
            yield emitted(row_check, (i for v in views for i in row_check(v, context)))
    for table_check in TABLE_CHECKS:
        yield emitted(table_check, table_check(table, context))
    for row in parsed:
        row.hard = row.sheet_row in hard
    for stored_check in STORED_ROW_CHECKS:
        if stored_check.applies(context):
            yield emitted(stored_check, (i for v in views if not v.parsed.hard
                                         for i in stored_check(v, context)))
    for quarter_check in QUARTER_CHECKS:
        if quarter_check.applies(context):
            yield emitted(quarter_check, quarter_check(views, context))


def undeclared(path: Path, context: ValidationContext) -> list[tuple[str, str]]:
    return [(e.unit, i.code) for e in run_each_unit(path, context) for i in e.issues
            if i.code not in e.declared]


# Bands tight enough that the clean quarter's figures fall outside them.
TIGHT = Bands(repeat_rate_high=0.30, police_share_high=0.50, volume_high_fraction=0.5)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A real SQLite store holding the registry and the clean quarter, accepted once."""
    engine = open_engine(f"sqlite:///{tmp_path_factory.mktemp('store') / 'marac.db'}")
    upgrade(engine)
    store = Store(engine, session_factory(engine))
    with store.sessions() as session:
        load_registry(session)
        first = validation_context(session, today=TODAY, sender="cara@example.org")
        record(session, validate_path(FIXTURES / "clean_libreoffice.xlsx", first))
        session.commit()
    yield store
    engine.dispose()


@pytest.fixture
def session(store: Store) -> Iterator[Session]:
    with store.sessions() as session:
        yield session


def stored_context(session: Session, declared: Quarter | None) -> ValidationContext:
    return validation_context(session, today=TODAY, sender="cara@example.org",
                              declared_quarter=declared, bands=TIGHT)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
@pytest.mark.parametrize("declared", [None, Q3], ids=["no-quarter", "q3"])
def test_units_emit_only_declared_codes(path: Path, declared: Quarter | None,
                                        session: Session) -> None:
    assert undeclared(path, ValidationContext(today=TODAY, declared_quarter=declared)) == []
    assert undeclared(path, stored_context(session, declared)) == []


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_units_change_no_state(path: Path, session: Session) -> None:
    """Checks yield issues and nothing else: the names are set before them, the rejected, held
    and unchanged rows after them, by validate."""
    for context in (ValidationContext(today=TODAY), stored_context(session, Q3)):
        for named in (True, False):
            changed = [e.unit for e in run_each_unit(path, context, named=named)
                       if e.changed_state]
            assert changed == []


def test_every_unit_speaks_somewhere_in_the_corpus(session: Session) -> None:
    """So that the test above has something to hold each unit to."""
    contexts = [ValidationContext(today=TODAY), ValidationContext(today=TODAY, declared_quarter=Q3),
                stored_context(session, Q3)]
    spoke = {e.unit for path in CORPUS for context in contexts
             for e in run_each_unit(path, context) if e.issues}
    units: list[Unit] = [*ROW_CHECKS, *TABLE_CHECKS, *STORED_ROW_CHECKS, *QUARTER_CHECKS]
    assert {u.name for u in units} | {"parse_table"} <= spoke


def test_each_code_has_one_unit() -> None:
    units: list[Unit] = [*ROW_CHECKS, *TABLE_CHECKS, *STORED_ROW_CHECKS, *QUARTER_CHECKS]
    codes = [code for unit in units for code in unit.codes]
    assert len(codes) == len(set(codes))
    assert not set(codes) & PARSE_CODES - {"invalid-count"}


# --------------------------------------------------------------------------------------------
# The issue-code table and who names its codes.
# --------------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
UNITS: list[Unit] = [*ROW_CHECKS, *TABLE_CHECKS, *STORED_ROW_CHECKS, *QUARTER_CHECKS]
# The steps that give issues outside the check units, by the modules that name their codes.
STEP_CODES: dict[str, frozenset[str]] = {
    "validation/guards.py": GUARD_CODES,
    "validation/reader.py": READER_CODES,
    "validation/layout.py": LAYOUT_CODES,
    "validation/validate.py": VALIDATE_CODES,
    "validation/parse.py": PARSE_CODES,
    "validation/parse_cells.py": PARSE_CODES,
    "validation/parse_counts.py": PARSE_CODES,
}


def declared_by_module() -> dict[str, frozenset[str]]:
    """Each module that may name a code, with the codes it declares (units by their module)."""
    found = dict(STEP_CODES)
    for unit in UNITS:
        module = unit.run.__module__.replace(".", "/") + ".py"
        found[module] = found.get(module, frozenset()) | unit.codes
    return found


def test_every_declared_code_is_in_the_table() -> None:
    for codes in declared_by_module().values():
        assert codes <= ISSUE_CODES.keys()


def test_every_code_of_the_table_is_declared_by_a_unit_or_a_step() -> None:
    declared = frozenset().union(*declared_by_module().values())
    assert set(ISSUE_CODES) == declared


def named_codes(path: Path) -> set[str]:
    """The codes a module names where it builds an issue: ``Issue.make("…")``, ``x.issue("…")``
    (a literal string as the first argument)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"make", "issue"} and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            names.add(node.args[0].value)
    return names


def test_each_module_builds_only_the_issues_it_declares() -> None:
    """The declarations above are what the code does: every code a module of validation builds
    an issue with is among those it declares, and each step declares nothing it never builds."""
    declared = declared_by_module()
    for path in sorted((ROOT / "validation").rglob("*.py")):
        module = str(path.relative_to(ROOT))
        named = named_codes(path)
        assert named <= declared.get(module, frozenset()), module
        if module in STEP_CODES and module.startswith("validation/parse"):
            continue  # reading a row: three modules share one declaration
        if module in STEP_CODES:
            assert named == STEP_CODES[module], module
    parse_modules = [ROOT / m for m in STEP_CODES if m.startswith("validation/parse")]
    assert set().union(*map(named_codes, parse_modules)) == PARSE_CODES


def test_a_code_not_in_the_table_is_refused_where_it_is_declared() -> None:
    with pytest.raises(ValueError, match="missing-marak"):
        declared("missing-marac", "missing-marak")
    with pytest.raises(KeyError):
        Issue.make("missing-marak")


# --------------------------------------------------------------------------------------------
# Each column rule on a small table.
# --------------------------------------------------------------------------------------------

LETTER = {f.key: f.letter for f in FIELDS}
BLANK = ""  # what calamine gives for an empty cell


def clean(**figures: Any) -> list[Any]:
    """A consistent meeting row as calamine reads it, with ``figures`` changed (by key)."""
    counts: dict[str, Any] = dict.fromkeys(COUNT_KEYS, 0.0)
    counts.update(cases=10.0, repeat_cases=3.0, children=5.0, cases_with_children=4.0,
                  ref_police=10.0, minoritised=2.0, eth_asian=1.0, eth_black=1.0)
    values = {"marac": "Croydon", "meeting_date": date(2024, 10, 3), **counts, **figures}
    return [values[f.key] for f in FIELDS]


def read(*rows: list[Any], formulas: frozenset[str] = frozenset()) -> tuple[Table, list[Issue]]:
    sheet = SheetData("Data", [(1, [f.uk_header for f in FIELDS]),
                               *((n, row) for n, row in enumerate(rows, start=2))],
                      formulas_without_value=set(formulas))
    layout, notes = find_layout([sheet])
    assert layout is not None and not notes
    return parse_table(layout)


def table_of(*rows: list[Any]) -> Table:
    return read(*rows)[0]


def found(check: TableCheck, *rows: list[Any], declared: Quarter | None = None
          ) -> list[tuple[str | None, str, Any]]:
    context = ValidationContext(today=TODAY, declared_quarter=declared)
    return [(i.cell, i.code, i.value) for i in check(table_of(*rows), context)]


def test_clean_rows_break_no_rule() -> None:
    table = table_of(clean(), clean(meeting_date=date(2024, 10, 17)))
    context = ValidationContext(today=TODAY, declared_quarter=Q3)
    assert [i for check in TABLE_CHECKS for i in check(table, context)] == []


def test_blank_cases_is_missing_but_invalid_cases_is_reported_once_as_invalid() -> None:
    rows = [clean(cases=BLANK), clean(cases="ten"), clean(cases=0.0, repeat_cases=0.0,
            children=0.0, cases_with_children=0.0, ref_police=0.0, minoritised=0.0,
            eth_asian=0.0, eth_black=0.0)]
    assert found(check_cases_present, *rows) == [("C2", "missing-cases", None)]


def test_exceeds_cases_names_the_cell_and_a_blank_never_exceeds() -> None:
    rows = [clean(repeat_cases=11.0), clean(repeat_cases=BLANK), clean(cases=BLANK),
            clean(repeat_cases=10.0), clean(male=12.0, aged_65_plus=11.0)]
    assert found(check_bounded_by_cases, *rows) == [
        ("D2", "exceeds-cases", 11), ("X6", "exceeds-cases", 12), ("AA6", "exceeds-cases", 11),
    ]


def test_children_in_e_may_exceed_cases() -> None:
    assert found(check_bounded_by_cases, clean(children=25.0)) == []


def test_ethnic_groups_add_blank_as_nothing() -> None:
    rows = [clean(eth_asian=6.0, eth_other_white=5.0), clean(eth_asian=9.0, eth_black=BLANK),
            clean(eth_asian=BLANK, eth_black=BLANK, cases=BLANK)]
    assert found(check_ethnic_groups, *rows) == [("AB2", "ethnicity-exceeds-cases", 12)]


def test_huge_figures_add_up_exactly() -> None:
    # The largest count there is (validation.cells.MAX_COUNT), five times over: still exact.
    issues = list(check_ethnic_groups(
        table_of(clean(eth_asian=2_147_483_647.0, eth_black=2_147_483_647.0,
                       eth_mixed=2_147_483_647.0, eth_other_white=2_147_483_647.0,
                       eth_any_other=2_147_483_647.0)), ValidationContext(today=TODAY)))
    assert [i.value for i in issues] == [10_737_418_235]
    assert "10737418235" in issues[0].message


def test_a_figure_past_the_largest_count_is_not_summed() -> None:
    issues = list(check_ethnic_groups(
        table_of(clean(eth_asian=1e17, eth_black=11.0)), ValidationContext(today=TODAY)))
    assert [i.value for i in issues] == [11]  # 1e17 is an invalid count: not in the sum


def test_cases_zero_with_counts_lists_the_cells_that_are_not_zero() -> None:
    zero: dict[str, Any] = dict.fromkeys(COUNT_KEYS, 0.0)
    rows = [clean(**zero), clean(**{**zero, "repeat_cases": BLANK}),
            clean(**{**zero, "children": 3.0, "lgbtq": 1.0}),
            clean(**{**zero, **dict.fromkeys(COUNT_KEYS[1:7], 1.0)})]
    table = table_of(*rows)
    issues = list(check_zero_cases(table, ValidationContext(today=TODAY)))
    assert [(i.cell, i.value) for i in issues] == [("C4", 0), ("C5", 0)]
    assert "E4, V4" in issues[0].message
    assert "D5, E5, F5, G5, H5 …" in issues[1].message


def test_referrals_are_summed_only_when_all_filled() -> None:
    rows = [clean(ref_police=9.0), clean(ref_police=9.0, ref_other=BLANK),
            clean(ref_police=8.0, ref_idva=2.0), clean(ref_police=BLANK, cases=BLANK)]
    assert found(check_referrals_sum, *rows) == [("C2", "referrals-do-not-sum", 10)]


@pytest.mark.parametrize(
    ("children", "with_children", "inconsistent"),
    [(0.0, 0.0, False), (5.0, 4.0, False), (4.0, 4.0, False), (0.0, 3.0, True),
     (3.0, 0.0, True), (2.0, 3.0, True), (BLANK, 3.0, False), (3.0, "three", False)],
)
def test_children_rule(children: Any, with_children: Any, inconsistent: bool) -> None:
    row = clean(children=children, cases_with_children=with_children)
    assert bool(found(check_children, row)) is inconsistent


def test_minoritised_groups_leave_out_other_white() -> None:
    rows = [clean(eth_mixed=1.0), clean(eth_other_white=3.0), clean(minoritised=BLANK),
            clean(eth_any_other=BLANK, minoritised=2.0)]
    assert found(check_minoritised, *rows) == [("U2", "minoritised-below-groups", 2)]


def test_dates_in_the_future_and_outside_the_declared_quarter() -> None:
    rows = [clean(meeting_date=date(2025, 2, 16)), clean(meeting_date=TODAY),
            clean(meeting_date=date(2024, 9, 30)), clean(meeting_date=BLANK)]
    assert found(check_meeting_date, *rows) == [("B2", "future-date", "16 Feb 2025")]
    assert found(check_meeting_date, *rows, declared=Q3) == [
        ("B2", "future-date", "16 Feb 2025"),
        ("B2", "date-outside-quarter", "16 Feb 2025"),
        ("B3", "date-outside-quarter", "15 Feb 2025"),
        ("B4", "date-outside-quarter", "30 Sep 2024"),
    ]


def test_duplicate_meetings_ignore_case_and_spacing_and_reject_every_occurrence() -> None:
    rows = [clean(), clean(marac=" croydon "), clean(meeting_date=date(2024, 10, 17)),
            clean(marac=BLANK), clean(marac=BLANK), clean(marac="Sutton")]
    issues = list(check_duplicate_meetings(table_of(*rows), ValidationContext(today=TODAY)))
    # One issue for the group, at its first row; it names (and rejects) the other row too.
    assert [(i.cell, i.value, i.rows) for i in issues] == [("B2", "3 Oct 2024", (2, 3))]
    assert "2 times" in issues[0].message and "rows 2 and 3" in issues[0].message


def test_a_flood_of_one_duplicate_is_one_issue_naming_ten_rows_and_the_rest_counted() -> None:
    # Issue 10, finding 2: 20,000 identical rows made each row's issue list every other row.
    issues = list(check_duplicate_meetings(table_of(*[clean()] * 12),
                                           ValidationContext(today=TODAY)))
    assert len(issues) == 1 and issues[0].rows == tuple(range(2, 14))
    assert "rows 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 2 more" in issues[0].message
    eleven = list(check_duplicate_meetings(table_of(*[clean()] * 11),
                                           ValidationContext(today=TODAY)))
    assert "rows 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 1 more" in eleven[0].message
    ten = list(check_duplicate_meetings(table_of(*[clean()] * 10),
                                        ValidationContext(today=TODAY)))
    assert "rows 2, 3, 4, 5, 6, 7, 8, 9, 10 and 11)" in ten[0].message


# --------------------------------------------------------------------------------------------
# Reading: blank and invalid stay apart in the table, and the parsed rows hold ints and None.
# --------------------------------------------------------------------------------------------


def test_blank_and_invalid_are_both_nan_but_only_invalid_is_marked() -> None:
    table = table_of(clean(lgbtq=BLANK, male="two", disabled=" 4 ", aged_16_17=-1.0))
    assert np.isnan(table.count("lgbtq")[0]) and np.isnan(table.count("male")[0])
    assert not table.is_invalid("lgbtq")[0] and table.is_invalid("male")[0]
    assert table.is_invalid("aged_16_17")[0] and table.count("disabled")[0] == 4.0


def test_parsed_rows_hold_ints_and_none() -> None:
    rows: list[ParsedRow] = to_parsed_rows(table_of(clean(lgbtq=BLANK, male="two"), clean()))
    assert rows[0].counts["lgbtq"] is None and rows[0].counts["male"] is None
    assert rows[0].counts["cases"] == 10 and type(rows[0].counts["cases"]) is int
    assert list(rows[1].counts) == list(COUNT_KEYS)
    assert all(type(v) is int for v in rows[1].counts.values())


def test_a_bool_cell_is_not_a_count_even_beside_ones() -> None:
    table = table_of(clean(lgbtq=1.0), clean(lgbtq=True), clean(lgbtq=1))
    assert table.is_invalid("lgbtq").tolist() == [False, True, False]


def test_a_formula_with_no_value_is_invalid_where_its_cell_is_blank() -> None:
    # G3 and D2 hold formulas with no stored value; calamine read G3 as blank and D2 as 3.
    # "G04" is not a cell of ours and "AAAA2" is far off: neither may trouble the reading.
    table, issues = read(clean(), clean(ref_police=BLANK),
                         formulas=frozenset({"G3", "D2", "G04", "AAAA2"}))
    assert [(i.cell, i.code, i.value) for i in issues] == [
        ("G3", "invalid-count", "a formula with no stored value")]
    assert table.is_invalid("ref_police").tolist() == [False, True]
    assert table.count("repeat_cases")[0] == 3.0


def test_reading_issues_come_column_by_column_in_template_order() -> None:
    _, issues = read(clean(male="x", repeat_cases=" 2 "), clean(cases="12", lgbtq=-1.0))
    assert [(i.cell, i.code) for i in issues] == [
        ("C3", "normalised-value"), ("D2", "normalised-value"),
        ("V3", "invalid-count"), ("X2", "invalid-count"),
    ]
