"""Issues as the checks yield them, kept up to a cap per code, with their rows' effects.

A file of 50,000 rows can yield a million findings of one kind (a text date in every row, a
word in every count). Each is a few hundred bytes, so keeping them all makes memory and every
reply grow with the worst file anyone sends. ``Findings`` keeps the first
``MAX_ISSUES_PER_CODE`` of each code and counts the rest; what a finding *does* to its row
(rejects it, holds it, marks it unchanged: its severity and its code's ``marks_row`` in the
issue-code table say which) is recorded for every finding, kept or not, so the cap changes what
is listed, never what is accepted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from validation.issues import Issue, RowMark

# Enough to fix a file by: the reply lists 15 per severity, the attached list all that are kept.
MAX_ISSUES_PER_CODE = 1000
# And at most this many in all, so that what is stored and attached stays small.
MAX_ISSUES_PER_FILE = 5000


class Findings:
    """The kept issues in the order met, the count of those left out, and the rows they
    reject or mark."""

    def __init__(self, per_code: int = MAX_ISSUES_PER_CODE,
                 per_file: int = MAX_ISSUES_PER_FILE) -> None:
        self.per_code, self.per_file = per_code, per_file
        self.kept: list[Issue] = []
        self.seen: Counter[str] = Counter()
        self.listed: Counter[str] = Counter()
        self.hard_rows: set[int] = set()
        self.marked: dict[RowMark, set[int]] = {mark: set() for mark in RowMark}

    def extend(self, issues: Iterable[Issue]) -> None:
        for issue in issues:
            self.append(issue)

    def append(self, issue: Issue) -> None:
        if issue.is_hard:
            self.hard_rows.update(issue.rows)
        elif (mark := issue.kind.marks_row) is not None:
            self.marked[mark].update(issue.rows)
        self.seen[issue.code] += 1
        if self.listed[issue.code] < self.per_code and len(self.kept) < self.per_file:
            self.listed[issue.code] += 1
            self.kept.append(issue)

    @property
    def omitted(self) -> dict[str, int]:
        """Code → how many of its issues were counted but not kept."""
        return {code: n - self.listed[code] for code, n in self.seen.items()
                if n > self.listed[code]}
