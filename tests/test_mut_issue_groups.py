"""Grouping identical findings (reports/issue_groups.py), pinned where a mutation run found it
loose: a group keeps its code and severity, its message names the column, every row and the
finding's own figures, and findings whose figures differ are not merged."""

from __future__ import annotations

from reports.issue_groups import group_issues
from validation.issues import Issue, Severity


def _referrals(row: int, total: int) -> Issue:
    return Issue.make(
        "referrals-do-not-sum",
        sheet="Marac data",
        cell=f"C{row}",
        row=row,
        value=10,
        total=total,
        cases=10,
    )


def _bad_count(row: int) -> Issue:
    return Issue.make(
        "invalid-count",
        sheet="Marac data",
        cell=f"D{row}",
        row=row,
        column="Repeat cases",
        value="lots",
    )


def test_one_finding_keeps_its_code_and_severity() -> None:
    (group,) = group_issues([_bad_count(2)])
    assert (group.code, group.severity, group.cells) == ("invalid-count", Severity.HARD, ("D2",))


def test_a_group_says_its_rows_and_figures_and_keeps_its_code_and_severity() -> None:
    (group,) = group_issues([_referrals(r, 12) for r in (2, 3, 4)])
    assert (group.code, group.severity) == ("referrals-do-not-sum", Severity.SOFT)
    assert group.message == (
        "The referral sources (G\u2013T) in row 2, 3 and 4 add up to 12, but cases discussed "
        "(C2\u2013C4) is 10. Please check them."
    )


def test_a_group_names_its_column() -> None:
    (group,) = group_issues([_bad_count(2), _bad_count(3)])
    assert group.message.startswith("Repeat cases (D2 and D3) must be a whole number")


def test_findings_whose_figures_differ_stay_apart() -> None:
    groups = group_issues([_referrals(2, 12), _referrals(3, 13), _referrals(4, 12)])
    assert [g.cells for g in groups] == [("C2", "C4"), ("C3",)]
