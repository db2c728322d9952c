"""Soft rules: figures that are allowed but look wrong, so the coordinator is asked to check."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from kernel import wording
from validation.checks.base import table_check
from validation.columns import MINORITISED_GROUP_KEYS, REFERRAL_KEYS
from validation.context import ValidationContext
from validation.issues import Issue
from validation.table import Table, exceeds


@table_check("referrals-do-not-sum")
def check_referrals_sum(table: Table, context: ValidationContext) -> Iterator[Issue]:
    cases = table.count("cases")
    filled = ~np.isnan(cases) & table.all_filled(REFERRAL_KEYS)  # only when G–T all filled
    total = table.total(REFERRAL_KEYS)
    with np.errstate(invalid="ignore"):  # see table.exceeds
        differs = np.asarray(total != cases, dtype=bool)
    for i in np.flatnonzero(filled & differs).tolist():
        yield table.issue("referrals-do-not-sum", i, "cases", value=int(cases[i]),
                          total=int(total[i]), cases=int(cases[i]))


@table_check("children-inconsistent")
def check_children(table: Table, context: ValidationContext) -> Iterator[Issue]:
    children, with_children = table.count("children"), table.count("cases_with_children")
    both = ~np.isnan(children) & ~np.isnan(with_children)
    fine = ((children >= with_children) & (with_children > 0)) | (
        (children == 0) & (with_children == 0)
    )
    for i in np.flatnonzero(both & ~fine).tolist():
        detail = wording.children_detail(
            children=int(children[i]), with_children=int(with_children[i]),
            children_cell=table.ref("children", i),
            with_children_cell=table.ref("cases_with_children", i),
        )
        if detail:
            yield table.issue("children-inconsistent", i, "children", value=int(children[i]),
                              detail=detail)


@table_check("minoritised-below-groups")
def check_minoritised(table: Table, context: ValidationContext) -> Iterator[Issue]:
    minoritised = table.count("minoritised")
    total = table.total(MINORITISED_GROUP_KEYS)
    for i in np.flatnonzero(exceeds(total, minoritised)).tolist():
        yield table.issue("minoritised-below-groups", i, "minoritised",
                          value=int(minoritised[i]), total=int(total[i]))
