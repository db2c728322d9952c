"""The outcome of validating one file: issues, parsed rows and flat views for tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from operator import attrgetter, truth
from typing import Any, Protocol

from kernel.quarters import Quarter
from validation.columns import Edition
from validation.issues import ISSUE_CODES, Issue, Severity


@lru_cache(maxsize=4096)
def quarter_of(day: date) -> Quarter:
    """The quarter of a meeting date, worked out once per distinct date: a file of 50,000
    rows holds a few hundred dates, and each row's quarter is asked for more than once."""
    return Quarter.containing(day)


class PendingCounts(tuple[tuple[str, ...], list[int | None]]):
    """A row's count keys and values, not yet made into the dict ``ParsedRow.counts`` is."""

    __slots__ = ()


class CountSource(Protocol):
    """Where ``LaterCounts`` finds its values: every row's, made at once on first need."""

    keys: tuple[str, ...]

    def values(self) -> list[list[int | None]]: ...


class LaterCounts(tuple[CountSource, int]):
    """A row's counts still in the table's columns: (the source, the row's index). Turning
    50,000 rows of 30 floats into Python ints is done once, for every row, when the first
    row's counts are read, and not at all when none is (``marac-bot validate``)."""

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled and copied as the row's own values, never the whole source."""
        source, index = self
        return (PendingCounts, ((source.keys, source.values()[index]),))


class _Counts:
    """``ParsedRow.counts``: the dict given, or one made on first use from ``PendingCounts``
    or ``LaterCounts``.

    Validation settles every row's counts as whole columns; 50,000 dicts of 30 keys are a
    third of its own work on a large file, and a check (``marac-bot validate``) or a rejected
    row never looks at them. Whoever reads a row's counts pays for that row's dict, once.
    """

    def __get__(self, row: object, owner: type | None = None) -> dict[str, int | None]:
        if row is None:
            raise AttributeError("counts")  # for dataclasses: a field with no default
        held = row.__dict__["_counts"]
        if held.__class__ is PendingCounts:
            held = row.__dict__["_counts"] = dict(zip(*held, strict=True))
        elif held.__class__ is LaterCounts:
            source, index = held
            values = source.values()[index]
            held = row.__dict__["_counts"] = dict(zip(source.keys, values, strict=True))
        counts: dict[str, int | None] = held
        return counts

    def __set__(self, row: object,
                value: dict[str, int | None] | PendingCounts | LaterCounts) -> None:
        row.__dict__["_counts"] = value


@dataclass(init=False)
class ParsedRow:
    """One meeting row as read: the values the checks settled on, blank kept as ``None``."""

    sheet_row: int
    marac_text: str | None
    meeting_date: date | None
    counts: _Counts = _Counts()
    marac: str | None = None  # canonical registry name once resolved
    hard: bool = False  # a row-level hard issue rejects this row
    held: bool = False  # changed-from-previous: waits for confirmation
    unchanged: bool = False  # identical to what is already stored

    def __init__(self, sheet_row: int, marac_text: str | None, meeting_date: date | None,
                 counts: dict[str, int | None] | PendingCounts | LaterCounts,
                 marac: str | None = None,
                 hard: bool = False, held: bool = False, unchanged: bool = False) -> None:
        """As the generated ``__init__``, a quarter of its cost: a file makes one row per
        meeting (50,000 in a large one). The counts go straight into ``_counts`` (the
        generated one calls the descriptor's ``__set__``, a Python call per row), and the
        four flags are left to the class defaults unless given."""
        self.sheet_row, self.marac_text, self.meeting_date = sheet_row, marac_text, meeting_date
        self._counts = counts
        if marac is not None:
            self.marac = marac
        if hard:
            self.hard = hard
        if held:
            self.held = held
        if unchanged:
            self.unchanged = unchanged

    @property
    def quarter(self) -> Quarter | None:
        return quarter_of(self.meeting_date) if self.meeting_date else None

    @property
    def accepted(self) -> bool:
        return not (self.hard or self.held or self.unchanged)

    @property
    def marac_name(self) -> str | None:
        return self.marac or self.marac_text


_HARD, _HELD, _UNCHANGED = attrgetter("hard"), attrgetter("held"), attrgetter("unchanged")
_NAMES, _DAY = attrgetter("marac", "marac_text"), attrgetter("meeting_date")


@dataclass(frozen=True)
class RowTally:
    """A file's rows by what became of them, counted together: a summary shows all five,
    and asking each property in turn looked at every row's flags a dozen times (~25 ms of a
    50,000-row ``validate``, issue 14)."""

    total: int
    accepted: int
    rejected: int
    held: int
    unchanged: int


@dataclass
class FileReport:
    """Everything found in one file. ``status`` follows interface.md's JSON."""

    file: str
    edition: Edition | None = None
    sheet: str | None = None
    issues: list[Issue] = field(default_factory=list)
    rows: list[ParsedRow] = field(default_factory=list)
    sha256: str = ""
    # Code → issues found but not listed (validation.findings caps each code).
    omitted: dict[str, int] = field(default_factory=dict)

    @property
    def rejected_file(self) -> bool:
        return any(i.is_hard and i.is_file_level for i in self.issues)

    @property
    def rows_total(self) -> int:
        return len(self.rows)

    # The tallies below are asked for several times per file (status, summary, JSON): each
    # looks at every row's flags with C-level maps, and walks the rows in Python only when
    # some row is flagged at all (in most files none is held or unchanged).

    @property
    def rows_rejected(self) -> int:
        return sum(map(truth, map(_HARD, self.rows)))

    @property
    def rows_held(self) -> int:
        if not any(map(_HELD, self.rows)):
            return 0
        return sum(1 for r in self.rows if r.held and not r.hard)

    @property
    def rows_unchanged(self) -> int:
        if not any(map(_UNCHANGED, self.rows)):
            return 0
        return sum(1 for r in self.rows if r.unchanged and not r.hard)

    @property
    def rows_accepted(self) -> int:
        if not self._any_flagged():
            return len(self.rows)
        return sum(1 for r in self.rows if r.accepted)

    @property
    def accepted_rows(self) -> list[ParsedRow]:
        if not self._any_flagged():
            return list(self.rows)
        return [r for r in self.rows if r.accepted]

    def tally(self) -> RowTally:
        """Every count at once: three looks at every row's flags, and a walk in Python only
        when some row that is not rejected is held or unchanged."""
        total, rejected = len(self.rows), self.rows_rejected
        held, unchanged = self.rows_held, self.rows_unchanged
        # No such row: every row not rejected is accepted.
        accepted = total - rejected if not (held or unchanged) else self.rows_accepted
        return RowTally(total, accepted, rejected, held, unchanged)

    def _any_flagged(self) -> bool:
        rows = self.rows
        return any(map(_HARD, rows)) or any(map(_HELD, rows)) or any(map(_UNCHANGED, rows))

    def _kept_rows(self) -> list[ParsedRow]:
        """The rows that are not rejected."""
        if not any(map(_HARD, self.rows)):
            return self.rows
        return [r for r in self.rows if not r.hard]

    @property
    def status(self) -> str:
        return self.status_of(self.tally())

    def status_of(self, tally: RowTally) -> str:
        """``status``, from this report's ``tally()``."""
        if self.rejected_file or (tally.total and tally.rejected == tally.total):
            return "rejected"
        if tally.held:
            return "held"
        if tally.rejected:
            return "partially-accepted"
        return "accepted"

    @property
    def maracs(self) -> list[str]:
        rows = self._kept_rows()
        # A file names a few hundred Maracs at most: the distinct (name, text) pairs first.
        names = {marac or text for marac, text in set(map(_NAMES, rows))}
        return sorted(name for name in names if name)

    @property
    def quarters(self) -> list[Quarter]:
        days = set(map(_DAY, self._kept_rows()))  # a few hundred distinct dates at most
        return sorted({quarter_of(day) for day in days if day})

    def by_severity(self, severity: Severity) -> list[Issue]:
        return [i for i in self.issues if i.severity is severity]

    def omitted_count(self, severity: Severity | None = None) -> int:
        """Issues (of that severity) found but not listed."""
        return sum(
            n
            for code, n in self.omitted.items()
            if severity is None or ISSUE_CODES[code].severity is severity
        )

    @property
    def has_hard(self) -> bool:
        return any(i.is_hard for i in self.issues)

    def flatten(self) -> list[tuple[str | None, str]]:
        """(cell, code) pairs, the view tests assert on (frictionless's ``flatten``)."""
        return [(i.cell, i.code) for i in self.issues]

    def to_dict(self) -> dict[str, Any]:
        tally = self.tally()
        return {
            "file": self.file,
            "edition": self.edition.value if self.edition else None,
            "status": self.status_of(tally),
            "rows_total": tally.total,
            "rows_accepted": tally.accepted,
            "rows_rejected": tally.rejected,
            "rows_held": tally.held,
            "rows_unchanged": tally.unchanged,
            "maracs": self.maracs,
            "quarters": [q.label for q in self.quarters],
            "issues": [i.to_dict() for i in self.issues],
            **({"issues_omitted": self.omitted_count()} if self.omitted else {}),
        }
