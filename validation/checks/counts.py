"""Hard rules between counts: C is required and bounds D, F, U–AF and the ethnic groups."""

from __future__ import annotations

from collections.abc import Iterator

from validation.checks.base import RowView, row_check
from validation.columns import BOUNDED_BY_CASES, COUNT_KEYS, ETHNIC_GROUP_KEYS
from validation.context import ValidationContext
from validation.issues import Issue


@row_check("missing-cases")
def check_cases_present(row: RowView, context: ValidationContext) -> Iterator[Issue]:
    if "cases" not in row.invalid and row.count("cases") is None:
        yield row.issue("missing-cases", "cases")


@row_check("exceeds-cases")
def check_bounded_by_cases(row: RowView, context: ValidationContext) -> Iterator[Issue]:
    cases = row.count("cases")
    if cases is None:
        return
    for key in BOUNDED_BY_CASES:
        value = row.count(key)
        if value is not None and value > cases:
            yield row.issue("exceeds-cases", key, value=value, cases=cases,
                            cases_cell=row.ref("cases"))


@row_check("ethnicity-exceeds-cases")
def check_ethnic_groups(row: RowView, context: ValidationContext) -> Iterator[Issue]:
    cases = row.count("cases")
    values = [row.count(k) for k in ETHNIC_GROUP_KEYS]
    total = sum(v for v in values if v is not None)
    if cases is None or total <= cases:
        return
    cells = f"{row.ref(ETHNIC_GROUP_KEYS[0])}:{row.ref(ETHNIC_GROUP_KEYS[-1])}"
    yield row.issue("ethnicity-exceeds-cases", ETHNIC_GROUP_KEYS[0], value=total, total=total,
                    cases=cases, cells=cells, cases_cell=row.ref("cases"))


@row_check("cases-zero-with-counts")
def check_zero_cases(row: RowView, context: ValidationContext) -> Iterator[Issue]:
    if row.count("cases") != 0:
        return
    others = [k for k in COUNT_KEYS[1:] if (row.count(k) or 0) > 0]
    if others:
        shown = ", ".join(row.ref(k) for k in others[:5]) + (" …" if len(others) > 5 else "")
        yield row.issue("cases-zero-with-counts", "cases", value=0, others=shown)
