"""Soft rules: figures that are allowed but look wrong, so the coordinator is asked to check."""

from __future__ import annotations

from collections.abc import Iterator

from reports import wording
from validation.checks.base import RowView, row_check
from validation.columns import MINORITISED_GROUP_KEYS, REFERRAL_KEYS
from validation.context import ValidationContext
from validation.issues import Issue


@row_check("referrals-do-not-sum")
def check_referrals_sum(row: RowView, context: ValidationContext) -> Iterator[Issue]:
    cases = row.count("cases")
    values = [row.count(k) for k in REFERRAL_KEYS]
    if cases is None or any(v is None for v in values):
        return  # only when G–T are all filled (spec §4)
    total = sum(v for v in values if v is not None)
    if total != cases:
        yield row.issue("referrals-do-not-sum", "cases", value=cases, total=total, cases=cases)


@row_check("children-inconsistent")
def check_children(row: RowView, context: ValidationContext) -> Iterator[Issue]:
    children, with_children = row.count("children"), row.count("cases_with_children")
    if children is None or with_children is None:
        return
    detail = wording.children_detail(
        children=children, with_children=with_children,
        children_cell=row.ref("children"), with_children_cell=row.ref("cases_with_children"),
    )
    if detail:
        yield row.issue("children-inconsistent", "children", value=children, detail=detail)


@row_check("minoritised-below-groups")
def check_minoritised(row: RowView, context: ValidationContext) -> Iterator[Issue]:
    minoritised = row.count("minoritised")
    values = [row.count(k) for k in MINORITISED_GROUP_KEYS]
    total = sum(v for v in values if v is not None)
    if minoritised is not None and total > minoritised:
        yield row.issue("minoritised-below-groups", "minoritised", value=minoritised, total=total)
