"""Validation findings as data (STYLE.md 5): a frozen ``Issue`` with a stable code.

What the submitter caused is an ``Issue``; what the bot caused is an exception. Each code's
severity, level and template are in the one issue-code table, ``kernel.wording.issues``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from kernel.wording.issues import ISSUE_CODES, IssueCode, Level, RowMark, Severity, issue_message

__all__ = ["ISSUE_CODES", "SEVERITY_OF", "Issue", "IssueCode", "Level", "RowMark", "Severity",
           "declared"]


def declared(*codes: str) -> frozenset[str]:
    """The codes a check unit or a step of reading says it may emit. Each must be in the table:
    a misspelt one fails at import, not on the first file that would have shown it."""
    unknown = [code for code in codes if code not in ISSUE_CODES]
    if unknown:
        raise ValueError(f"not in the issue-code table: {', '.join(unknown)}")
    return frozenset(codes)


# Each code's severity, read from the one table (kept for the callers that look codes up).
SEVERITY_OF: Mapping[str, Severity] = {code: kind.severity for code, kind in ISSUE_CODES.items()}


@dataclass(frozen=True)
class Issue:
    """One finding: a code, its severity, where it is, the value, and the parameters its
    message is rendered with from the code's template."""

    code: str
    severity: Severity
    sheet: str | None = None
    cell: str | None = None
    row: int | None = None
    column: str | None = None
    value: Any = None
    # Further sheet rows the same finding rejects (a duplicate meeting's other rows): one
    # issue per group keeps output linear however many times a row is repeated.
    also_rows: tuple[int, ...] = ()
    # What the template needs beyond the location and value; a dict, so left out of the hash.
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @classmethod
    def make(
        cls,
        code: str,
        *,
        sheet: str | None = None,
        cell: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: Any = None,
        also_rows: tuple[int, ...] = (),
        **params: Any,
    ) -> Issue:
        """Build an issue whose severity (and, when asked for, message) come from its code."""
        return cls(code, ISSUE_CODES[code].severity, sheet, cell, row, column, value, also_rows,
                   params)

    @cached_property
    def message(self) -> str:
        """What to change, rendered on first use: a large file yields a million findings past
        the caps of validation.findings, and only the few thousand kept are ever read."""
        return issue_message(self.code, value=self.value, column=self.column, cell=self.cell,
                             row=self.row, **self.params)

    @property
    def kind(self) -> IssueCode:
        """This code's row of the issue-code table."""
        return ISSUE_CODES[self.code]

    @property
    def rows(self) -> tuple[int, ...]:
        """Every sheet row this finding is about: its own, then any further ones."""
        return self.also_rows if self.row is None else (self.row, *self.also_rows)

    @property
    def is_hard(self) -> bool:
        return self.severity is Severity.HARD

    @property
    def is_file_level(self) -> bool:
        return self.kind.level is Level.FILE

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            # Excel names a sheet in 31 characters; a hand-made file may use thousands.
            "sheet": None if self.sheet is None else shown(self.sheet),
            "cell": self.cell,
            "row": self.row,
            "column": self.column,
            "value": _jsonable(self.value),
            "message": self.message,
        }


# The offending value as reported (JSON, the stored issue) is cut past this many characters:
# a 32,767-character cell repeated in a thousand issues must not make the report megabytes.
VALUE_CHARS = 200


def shown(text: str, limit: int = VALUE_CHARS) -> str:
    """A file's own text as reported (or stored): cut past ``limit``, with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _jsonable(value: Any) -> Any:
    if isinstance(value, str):
        return shown(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "inf" (a cell of 1e309): strict JSON has no Infinity or NaN
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
