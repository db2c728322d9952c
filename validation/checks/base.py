"""What every check sees: one row in place, and the shape of a check unit (STYLE.md 6)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from validation.columns import FIELD_BY_KEY
from validation.context import ValidationContext
from validation.issues import Issue
from validation.layout import Layout
from validation.report import ParsedRow


@dataclass
class RowView:
    """A parsed row with the means to point at its cells as the user sees them."""

    layout: Layout
    parsed: ParsedRow
    raw: list[Any]
    invalid: set[str] = field(default_factory=set)  # keys whose value could not be read

    @property
    def number(self) -> int:
        return self.parsed.sheet_row

    def ref(self, key: str) -> str:
        """The cell of a field in this row, e.g. "D7" (the file's own column)."""
        from openpyxl.utils import get_column_letter

        return f"{get_column_letter(self.layout.column_of[key] + 1)}{self.number}"

    def header(self, key: str) -> str:
        return self.layout.header_of.get(key) or FIELD_BY_KEY[key].uk_header

    def raw_value(self, key: str) -> Any:
        index = self.layout.column_of[key]
        return self.raw[index] if index < len(self.raw) else None

    def count(self, key: str) -> int | None:
        """A usable count, or None when blank or invalid (invalid is reported elsewhere)."""
        return self.parsed.counts.get(key)

    def issue(
        self, code: str, key: str | None = None, *, value: Any = None, **params: Any
    ) -> Issue:
        """An issue located at this row, and at the field's cell when a key is given."""
        return Issue.make(
            code,
            sheet=self.layout.sheet.name,
            cell=self.ref(key) if key else None,
            row=self.number,
            column=self.header(key) if key else None,
            value=value,
            **params,
        )


RowCheckFn = Callable[[RowView, ValidationContext], Iterable[Issue]]
FileCheckFn = Callable[[list[RowView], ValidationContext], Iterable[Issue]]


@dataclass(frozen=True)
class RowCheck:
    """A unit that looks at one row at a time and may emit only ``codes``."""

    codes: frozenset[str]
    run: RowCheckFn

    def __call__(self, row: RowView, context: ValidationContext) -> Iterator[Issue]:
        for issue in self.run(row, context):
            assert issue.code in self.codes, f"{issue.code} not declared by {self.run.__name__}"
            yield issue


@dataclass(frozen=True)
class FileCheck:
    """A unit that looks at every row of the file together (duplicates, quarter totals)."""

    codes: frozenset[str]
    run: FileCheckFn

    def __call__(self, rows: list[RowView], context: ValidationContext) -> Iterator[Issue]:
        for issue in self.run(rows, context):
            assert issue.code in self.codes, f"{issue.code} not declared by {self.run.__name__}"
            yield issue


def row_check(*codes: str) -> Callable[[RowCheckFn], RowCheck]:
    def wrap(fn: RowCheckFn) -> RowCheck:
        return RowCheck(frozenset(codes), fn)

    return wrap


def file_check(*codes: str) -> Callable[[FileCheckFn], FileCheck]:
    def wrap(fn: FileCheckFn) -> FileCheck:
        return FileCheck(frozenset(codes), fn)

    return wrap
