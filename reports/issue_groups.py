"""Findings as a coordinator reads them: identical ones across rows become one line naming
their cells, and each line splits into what is wrong and what to change.

Six rows for a Marac the sender may not submit for are one finding to fix, not six: the reply
says it once with "A2, A3, A4, A5, A6 and A7". Codes stay out of these lines (they live in
the JSON, the Issues sheet and the CSV).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kernel import wording
from validation.issues import Issue, Severity, issue_message

# What a template says to do starts here; everything before it says what is wrong.
_ADVICE_START = " Please "


@dataclass(frozen=True)
class IssueGroup:
    """One line of a reply: a finding and every cell it was found in."""

    code: str
    severity: Severity
    cells: tuple[str, ...]
    message: str

    @property
    def cells_text(self) -> str:
        return wording.cell_list(self.cells)

    @property
    def wrong(self) -> str:
        """What is wrong ("Cases discussed (C4) is blank.")."""
        head, sep, _ = self.message.partition(_ADVICE_START)
        return head if sep else self.message

    @property
    def change(self) -> str:
        """What to change ("Please enter how many cases…"), or "" when the message has none."""
        _, sep, tail = self.message.partition(_ADVICE_START)
        return f"Please {tail}" if sep else ""

    def line(self, *, advice: bool = True) -> str:
        """The plain-text line: the cells first unless the message already names them; without
        ``advice`` only what is wrong (the reply says what to do once, below the list)."""
        message = self.message if advice else self.wrong
        if not self.cells or self.cells[0] in message:
            return message
        return f"{self.cells_text}: {message}"


def group_issues(issues: Iterable[Issue]) -> list[IssueGroup]:
    """Findings that would read the same but for their cell, as one group each, in the order
    their first member was found."""
    groups: dict[tuple[object, ...], list[Issue]] = {}
    for issue in issues:
        groups.setdefault(_key(issue), []).append(issue)
    return [_group(members) for members in groups.values()]


def _key(issue: Issue) -> tuple[object, ...]:
    params = tuple(sorted((k, repr(v)) for k, v in issue.params.items()))
    return (issue.code, issue.column, repr(issue.value), params)


def _group(members: Sequence[Issue]) -> IssueGroup:
    first = members[0]
    cells = tuple(dict.fromkeys(i.cell for i in members if i.cell))
    if len(members) == 1:
        return IssueGroup(first.code, first.severity, cells, first.message)
    rows = [r for i in members for r in i.rows]
    message = issue_message(
        first.code,
        value=first.value,
        column=first.column,
        cell=wording.cell_list(cells),
        row=wording.row_list(rows),
        **dict(first.params),
    )
    return IssueGroup(first.code, first.severity, cells, message)
