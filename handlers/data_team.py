"""The data team's contact in a refusal found by validation (issue 12): "ask the data team
to add you" says how to reach it (MARAC_DATA_TEAM_CONTACT). Validation cannot read Settings,
so the contact is added to those findings once a file or form has been checked, before
anything is recorded or said: the reply, the checked copy and the stored issue all name it."""

from __future__ import annotations

from dataclasses import replace

from validation.issues import Issue
from validation.report import FileReport

# The findings whose wording tells the sender to ask the data team (kernel/wording/issues.py).
ASKS_THE_DATA_TEAM = frozenset({"not-authorised"})


def name_data_team(report: FileReport, contact: str) -> FileReport:
    """The report with ``contact`` given to each finding that says to ask the data team."""
    if not any(i.code in ASKS_THE_DATA_TEAM for i in report.issues):
        return report
    return replace(report, issues=[_named(i, contact) for i in report.issues])


def _named(issue: Issue, contact: str) -> Issue:
    if issue.code not in ASKS_THE_DATA_TEAM:
        return issue
    return replace(issue, params={**issue.params, "team": f" ({contact})"})
