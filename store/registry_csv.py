"""Reading registry CSV files: the header decides the kind, every finding is row-numbered.

Row numbers are the ones a person sees in a spreadsheet: the header is row 1.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kernel import wording

logger = logging.getLogger(__name__)

MARAC_COLUMNS = (
    "name",
    "aliases",
    "police_force_area",
    "region",
    "nation",
    "local_authorities",
    "adult_female_population",
)
CONTACT_COLUMNS = ("name", "email", "role", "maracs", "slack_user_id", "teams_id", "channels")
REQUIRED = {
    "maracs": ("name", "police_force_area", "region", "nation"),
    "contacts": ("name", "email", "role", "maracs"),
}
COLUMNS = {"maracs": MARAC_COLUMNS, "contacts": CONTACT_COLUMNS}


@dataclass(frozen=True)
class RegistryError:
    """One problem in a registry file, at a row (1 is the header) and perhaps a column."""

    row: int
    code: str
    message: str
    column: str | None = None

    @classmethod
    def make(
        cls, row: int, code: str, *, column: str | None = None, **params: Any
    ) -> RegistryError:
        message = wording.registry_error(code, column=column, **params)
        return cls(row, code, message, column)

    def __str__(self) -> str:
        return wording.registry_error_line(self.row, self.message)


@dataclass
class CsvTable:
    """A registry file read: its kind, its columns, and its non-blank rows by row number."""

    kind: str | None
    columns: tuple[str, ...] = ()
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    errors: list[RegistryError] = field(default_factory=list)

    def has(self, column: str) -> bool:
        return column in self.columns


def decode(data: bytes) -> str:
    """UTF-8 (with or without Excel's BOM); Windows-1252 when it is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel's plain "CSV" save writes Windows-1252; reading it as such beats refusing it.
        logger.info("registry file is not UTF-8; reading it as Windows-1252")
        return data.decode("cp1252", errors="replace")


def read_table(source: Path | str) -> CsvTable:
    """Read a registry CSV from a file (``Path``) or from its text (``str``)."""
    text = decode(source.read_bytes()) if isinstance(source, Path) else source
    records = enumerate(csv.reader(io.StringIO(text, newline="")), start=1)
    header = next(records, None)
    if header is None or not any(cell.strip() for cell in header[1]):
        return CsvTable(None, errors=[_header_error()])
    columns = tuple(_column_name(cell) for cell in header[1])
    table = CsvTable(_kind_of(columns), columns)
    if table.kind is None:
        table.errors.append(_header_error())
        return table
    table.errors.extend(_header_problems(table.kind, columns))
    for number, cells in records:
        _add_row(table, number, cells)
    return table


def _column_name(cell: str) -> str:
    """ "Police force area " -> "police_force_area": forgiving of how people type headers."""
    return re.sub(r"[\s\-]+", "_", cell.strip().lower())


def _kind_of(columns: tuple[str, ...]) -> str | None:
    present = set(columns)
    if {"email", "role"} <= present:
        return "contacts"
    if "name" in present and present & {"police_force_area", "region", "nation"}:
        return "maracs"
    return None


def _header_error() -> RegistryError:
    return RegistryError.make(
        1,
        "registry-header",
        maracs=",".join(MARAC_COLUMNS),
        contacts=",".join(CONTACT_COLUMNS),
    )


def _header_problems(kind: str, columns: tuple[str, ...]) -> Iterator[RegistryError]:
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            yield RegistryError.make(1, "registry-duplicate-column", column=column)
        elif column not in COLUMNS[kind]:
            yield RegistryError.make(1, "registry-unknown-column", column=column, kind=kind)
        seen.add(column)
    for column in REQUIRED[kind]:
        if column not in seen:
            yield RegistryError.make(1, "registry-missing-column", column=column, kind=kind)


def _add_row(table: CsvTable, number: int, cells: list[str]) -> None:
    if not any(cell.strip() for cell in cells):
        return  # blank lines are skipped, but keep their numbers
    if len(cells) > len(table.columns) and any(c.strip() for c in cells[len(table.columns) :]):
        table.errors.append(RegistryError.make(number, "registry-extra-cells"))
        return
    values = {
        col: (cells[i].strip() if i < len(cells) else "") for i, col in enumerate(table.columns)
    }
    table.rows.append((number, values))
