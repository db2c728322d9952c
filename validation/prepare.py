"""From the sheets read to what the checks take: the layout, the table of columns and the issues
met reading the cells. None of it needs the context (registry, store), so a file's capped child
does it all where the cells are, and sends back columns and issues, not every cell (issue 14).

Pickling 50,000 rows of 32 Python values and unpickling them in the parent cost about a tenth
of a 50,000-row validation; the columns go back as a few numpy arrays and lists whose names and
dates are a few hundred shared objects.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from validation.findings import Findings
from validation.issues import Issue
from validation.layout import Layout, find_layout
from validation.parse import parse_table_lazily
from validation.reader import Workbook
from validation.table import Table


@dataclass
class Prepared:
    """A workbook made ready for the checks. ``layout`` None: no sheet matched (``notes`` say
    why); ``table`` None with a layout: a hard note, or no data rows."""

    notes: list[Issue]
    layout: Layout | None = None
    table: Table | None = None
    found: Findings = dataclasses.field(default_factory=Findings)  # reading the rows

    def __getstate__(self) -> dict[str, Any]:
        """For the trip back from the child: the count columns are views of ``table.block``,
        and each would be pickled as a copy of its own; they are made again on arrival."""
        state = dict(self.__dict__)
        if self.table is not None and self.table.block is not None:
            state["table"] = dataclasses.replace(self.table, counts={})
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        table = self.table
        if table is not None and table.block is not None and not table.counts:
            for j, (key, _) in enumerate(table.layout.count_columns):
                table.counts[key] = table.block[:, j]

    @property
    def stopped(self) -> bool:
        """A hard note (duplicate-column): the file cannot be read reliably."""
        return any(i.is_hard for i in self.notes)


def prepare(book: Workbook) -> Prepared:
    """The layout of the data sheet and its rows read into columns, in this process."""
    layout, notes = find_layout(book.sheets)
    prepared = Prepared(notes, layout)
    if layout is None or prepared.stopped or not layout.data_rows:
        return prepared
    table, read = parse_table_lazily(layout)
    prepared.found.extend(read)  # drawn in full: this fills the table's columns
    prepared.table = table
    return prepared


def prepare_to_send(book: Workbook) -> Prepared:
    """``prepare``, in the reader's child: what goes back holds no cell of the sheet."""
    return without_cells(prepare(book))


def without_cells(prepared: Prepared) -> Prepared:
    """The same, its sheet's rows and the table's raw cells left behind (nothing after the
    parse reads them)."""
    if prepared.layout is None:
        return prepared
    sheet = prepared.layout.sheet
    bare = dataclasses.replace(sheet, rows=[])
    layout = dataclasses.replace(prepared.layout, sheet=bare)  # not its cached data_rows
    table = None if prepared.table is None else dataclasses.replace(
        prepared.table, layout=layout, raw=[])
    return Prepared(prepared.notes, layout, table, prepared.found)
