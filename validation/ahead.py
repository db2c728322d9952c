"""A large file's read begun before validation's own modules are loaded (``marac-bot
validate``).

A one-shot command spends ~130 ms importing validation (numpy alone 40-50 ms) before it can
read a byte. Begun here, the read starts at once in its capped child (the read that
``validate_bytes`` would begin itself, ``reader.start_early_read``): calamine parses there
while this process loads the rest and the guard then inflates and scans the file, and the
child imports what it needs to prepare the rows (validation/prepare.py) while calamine works
without the GIL. Nothing changes in what is checked: the guard still decides whether those rows
are used (issue 8), and a refused file's read is killed. This module imports only the reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from validation.isolated import Capped
from validation.reader import Workbook, start_early_read

if TYPE_CHECKING:
    from validation.prepare import Prepared

# What ``prepared`` imports, loaded by the child while it parses.
_PREPARE_MODULES = ("validation.prepare",)
# Files smaller than this are read the usual way, once validation is loaded. The child would
# load those modules too (~65 ms of CPU beside this process's ~130 ms), which only pays when
# the parse itself takes as long: a 1 MB .xlsx (~10,000 rows) parses in ~150 ms. Below, the
# read ahead bought no time and cost a 13-row return ~13 ms of CPU (~90 ms on a busy machine).
AHEAD_BYTES = 1 << 20


@dataclass
class ReadAhead:
    """A file's bytes and the read begun on them (None: not an .xlsx package, too small to
    be worth it, or too large to read at all: validation reads it the usual way, or refuses
    it)."""

    path: Path
    data: bytes
    early: Capped[Any] | None

    def cancel(self) -> None:
        """Kill the read if validation did not take it (a no-op once taken)."""
        if self.early is not None:
            self.early.cancel()


def read_ahead(path: Path, max_file_bytes: int) -> ReadAhead:
    """Read ``path`` and, if it is large enough to be worth it (``AHEAD_BYTES``), begin
    parsing it in its capped child."""
    data = path.read_bytes()
    early = (start_early_read(data, path.name, prepared, _PREPARE_MODULES)
             if AHEAD_BYTES <= len(data) <= max_file_bytes else None)
    return ReadAhead(path, data, early)


def prepared(book: Workbook) -> Prepared:
    """``prepare.prepare_to_send``, imported where it runs: in the child, which has loaded
    it meanwhile."""
    from validation.prepare import prepare_to_send

    return prepare_to_send(book)
