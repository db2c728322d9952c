"""The shape of a check unit (STYLE.md 6), and what each kind sees.

Most rules are ``TableCheck``s: they see the whole ``Table`` of columns and yield issues only
for the rows that break them. Rules that ask the registry or the stored meetings look at one
``RowView`` at a time (``RowCheck``) or at the rows together (``FileCheck``); those run only
when the context holds what they ``need``.

Each unit declares the codes it may emit, from the issue-code table (an unknown one fails at
import); tests/test_checks_declared.py holds each unit to its codes (that is not checked at run
time: it would cost a call per row).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from validation.columns import FIELD_BY_KEY
from validation.context import ValidationContext
from validation.issues import Issue, declared
from validation.layout import Layout
from validation.report import ParsedRow
from validation.table import Table


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
        from validation.columns import column_letter

        return f"{column_letter(self.layout.column_of[key] + 1)}{self.number}"

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


TableCheckFn = Callable[[Table, ValidationContext], Iterable[Issue]]
RowCheckFn = Callable[[RowView, ValidationContext], Iterable[Issue]]
FileCheckFn = Callable[[list[RowView], ValidationContext], Iterable[Issue]]


@dataclass(frozen=True)
class TableCheck:
    """A rule about each row, run over the whole table at once; may emit only ``codes``."""

    codes: frozenset[str]
    run: TableCheckFn

    def __call__(self, table: Table, context: ValidationContext) -> Iterable[Issue]:
        return self.run(table, context)

    @property
    def name(self) -> str:
        return self.run.__name__


@dataclass(frozen=True)
class RowCheck:
    """A unit that looks at one row at a time and may emit only ``codes``.

    ``needs`` names the context fields it cannot work without ("registry|sender": either
    will do): without them the unit is not run at all, which spares building a view of every
    row for nothing.
    """

    codes: frozenset[str]
    run: RowCheckFn
    needs: tuple[str, ...] = ()

    def __call__(self, row: RowView, context: ValidationContext) -> Iterable[Issue]:
        return self.run(row, context)

    def applies(self, context: ValidationContext) -> bool:
        return _has_needs(context, self.needs)

    @property
    def name(self) -> str:
        return self.run.__name__


@dataclass(frozen=True)
class FileCheck:
    """A unit that looks at every row of the file together (quarter totals)."""

    codes: frozenset[str]
    run: FileCheckFn
    needs: tuple[str, ...] = ()

    def __call__(self, rows: list[RowView], context: ValidationContext) -> Iterable[Issue]:
        return self.run(rows, context)

    def applies(self, context: ValidationContext) -> bool:
        return _has_needs(context, self.needs)

    @property
    def name(self) -> str:
        return self.run.__name__


def table_check(*codes: str) -> Callable[[TableCheckFn], TableCheck]:
    def wrap(fn: TableCheckFn) -> TableCheck:
        return TableCheck(declared(*codes), fn)

    return wrap


def _has_needs(context: ValidationContext, needs: tuple[str, ...]) -> bool:
    return all(any(getattr(context, one) is not None for one in need.split("|"))
               for need in needs)


def row_check(*codes: str, needs: tuple[str, ...] = ()) -> Callable[[RowCheckFn], RowCheck]:
    def wrap(fn: RowCheckFn) -> RowCheck:
        return RowCheck(declared(*codes), fn, needs)

    return wrap


def file_check(*codes: str, needs: tuple[str, ...] = ()) -> Callable[[FileCheckFn], FileCheck]:
    def wrap(fn: FileCheckFn) -> FileCheck:
        return FileCheck(declared(*codes), fn, needs)

    return wrap


def row_views(table: Table, parsed: list[ParsedRow]) -> list[RowView]:
    """A ``RowView`` of every row of the table, for the units that look at one row."""
    # A table read in the reader's child comes without its raw cells (validation/prepare.py).
    raws = table.raw or [[] for _ in parsed]
    views = [RowView(table.layout, row, raw) for row, raw in zip(parsed, raws, strict=True)]
    for key, invalid in table.invalid.items():
        for i in invalid.nonzero()[0].tolist():
            views[i].invalid.add(key)
    return views
