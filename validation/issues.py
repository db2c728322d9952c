"""Validation findings as data (STYLE.md 5): a frozen ``Issue`` with a stable code.

What the submitter caused is an ``Issue``; what the bot caused is an exception.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kernel import wording


class Severity(StrEnum):
    HARD = "hard"
    SOFT = "soft"
    INFO = "info"


# Every code of spec §4 with its severity. Row-level hard codes reject one row;
# file-level hard codes reject the whole file.
FILE_LEVEL_CODES = frozenset(
    {
        "unreadable-file",
        "encrypted-file",
        "file-too-large",
        "unknown-template",
        "duplicate-column",
        "no-data-rows",
    }
)

SEVERITY_OF: dict[str, Severity] = {
    **{code: Severity.HARD for code in FILE_LEVEL_CODES},
    **{
        code: Severity.HARD
        for code in (
            "missing-marac",
            "unknown-marac",
            "not-authorised",
            "missing-date",
            "invalid-date",
            "future-date",
            "date-outside-quarter",
            "missing-cases",
            "invalid-count",
            "exceeds-cases",
            "ethnicity-exceeds-cases",
            "duplicate-meeting",
            "cases-zero-with-counts",
        )
    },
    **{
        code: Severity.SOFT
        for code in (
            "referrals-do-not-sum",
            "children-inconsistent",
            "minoritised-below-groups",
            "unusual-repeat-rate",
            "unusual-police-share",
            "unusual-volume",
            "changed-from-previous",
        )
    },
    **{
        code: Severity.INFO
        for code in (
            "unchanged",
            "normalised-value",
            "ignored-column",
            "ignored-sheet",
            "registry-not-checked",
        )
    },
}


@dataclass(frozen=True)
class Issue:
    """One finding: a code, its severity, where it is, the value and what to change."""

    code: str
    severity: Severity
    message: str
    sheet: str | None = None
    cell: str | None = None
    row: int | None = None
    column: str | None = None
    value: Any = None
    # Further sheet rows the same finding rejects (a duplicate meeting's other rows): one
    # issue per group keeps output linear however many times a row is repeated.
    also_rows: tuple[int, ...] = ()

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
        """Build an issue whose severity and message come from its code."""
        message = wording.issue_message(
            code, value=value, column=column, cell=cell, row=row, **params
        )
        return cls(code, SEVERITY_OF[code], message, sheet, cell, row, column, value, also_rows)

    @property
    def rows(self) -> tuple[int, ...]:
        """Every sheet row this finding is about: its own, then any further ones."""
        return self.also_rows if self.row is None else (self.row, *self.also_rows)

    @property
    def is_hard(self) -> bool:
        return self.severity is Severity.HARD

    @property
    def is_file_level(self) -> bool:
        return self.code in FILE_LEVEL_CODES

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "sheet": self.sheet,
            "cell": self.cell,
            "row": self.row,
            "column": self.column,
            "value": _jsonable(self.value),
            "message": self.message,
        }


# The offending value as reported (JSON, the stored issue) is cut past this many characters:
# a 32,767-character cell repeated in a thousand issues must not make the report megabytes.
VALUE_CHARS = 200


def _jsonable(value: Any) -> Any:
    if isinstance(value, str) and len(value) > VALUE_CHARS:
        return value[: VALUE_CHARS - 1] + "…"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "inf" (a cell of 1e309): strict JSON has no Infinity or NaN
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
