"""Hard rules between counts: C is required and bounds D, F, U–AF and the ethnic groups.

Blank and unreadable counts are NaN in the table, and NaN compares false: a blank never
exceeds C, and a blank C bounds nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from validation.checks.base import table_check
from validation.columns import BOUNDED_BY_CASES, COUNT_KEYS, ETHNIC_GROUP_KEYS
from validation.context import ValidationContext
from validation.issues import Issue
from validation.table import Table, exceeds


@table_check("missing-cases")
def check_cases_present(table: Table, context: ValidationContext) -> Iterator[Issue]:
    missing = np.isnan(table.count("cases")) & ~table.is_invalid("cases")  # invalid: said once
    for i in np.flatnonzero(missing).tolist():
        yield table.issue("missing-cases", i, "cases")


@table_check("exceeds-cases")
def check_bounded_by_cases(table: Table, context: ValidationContext) -> Iterator[Issue]:
    cases = table.count("cases")
    for key in BOUNDED_BY_CASES:
        value = table.count(key)
        for i in np.flatnonzero(value > cases).tolist():
            yield table.issue("exceeds-cases", i, key, value=int(value[i]), cases=int(cases[i]),
                              cases_cell=table.ref("cases", i))


@table_check("ethnicity-exceeds-cases")
def check_ethnic_groups(table: Table, context: ValidationContext) -> Iterator[Issue]:
    cases = table.count("cases")
    total = table.total(ETHNIC_GROUP_KEYS)
    first, last = ETHNIC_GROUP_KEYS[0], ETHNIC_GROUP_KEYS[-1]
    for i in np.flatnonzero(exceeds(total, cases)).tolist():
        yield table.issue("ethnicity-exceeds-cases", i, first, value=int(total[i]),
                          total=int(total[i]), cases=int(cases[i]),
                          cells=f"{table.ref(first, i)}:{table.ref(last, i)}",
                          cases_cell=table.ref("cases", i))


@table_check("cases-zero-with-counts")
def check_zero_cases(table: Table, context: ValidationContext) -> Iterator[Issue]:
    zero = np.flatnonzero(table.count("cases") == 0)
    if not zero.size:
        return
    others = COUNT_KEYS[1:]
    positive = np.column_stack([table.count(k)[zero] > 0 for k in others])
    for i, row in zip(zero.tolist(), positive.tolist(), strict=True):
        refs = [table.ref(k, i) for k, filled in zip(others, row, strict=True) if filled]
        if refs:
            shown = ", ".join(refs[:5]) + (" …" if len(refs) > 5 else "")
            yield table.issue("cases-zero-with-counts", i, "cases", value=0, others=shown)
