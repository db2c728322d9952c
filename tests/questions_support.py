"""A registry and seeded meetings for the question tests, and the figures worked out from the
seed independently of the question engine (plain Python over the seed, not SQL)."""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from handlers.questions.registry import MaracEntry, RegistrySnapshot
from kernel.quarters import Quarter
from store.names import split_list
from store.registry import import_csv
from tests.store_support import flag_as_validation_would, record, report
from validation.columns import COUNT_KEYS
from validation.report import ParsedRow

TODAY = date(2025, 2, 3)  # Q4 2024/25 is running; Q3 2024/25 ended and was due 28 Jan 2025

MARACS_CSV = """\
name,aliases,police_force_area,region,nation,local_authorities,adult_female_population
Croydon,Croydon Borough,Metropolitan Police,London,England,London Borough of Croydon,160300
Barking and Dagenham,LBBD,Metropolitan Police,London,England,LB Barking and Dagenham,89800
Kingston upon Thames,Kingston,Metropolitan Police,London,England,RB Kingston,70000
Leeds,,West Yorkshire Police,Yorkshire and the Humber,England,Leeds City Council,
Kirklees,,West Yorkshire Police,Yorkshire and the Humber,England,Kirklees Council,180000
Ashford,,Kent Police,South East,England,Ashford Borough Council,55000
Canterbury,,Kent Police,South East,England,Canterbury City Council,60000
Cardiff,,South Wales Police,Wales,Wales,Cardiff Council,150000
Glasgow,,Police Scotland,Scotland,Scotland,Glasgow City Council,260000
"""

CONTACTS_CSV = """\
name,email,role,maracs,slack_user_id,teams_id,channels
Cara Coordinator,cara@example.org,coordinator,Croydon,,,email
Chris Chair,chris@example.org,chair,Croydon,,,email
Dana Dual,dana@example.org,coordinator,Barking and Dagenham;Leeds,,,email
Kit Kingston,kit@example.org,coordinator,Kingston upon Thames,,,email
Mo Manager,mo@example.org,manager,West Yorkshire Police,,,email
Lena London,lena@example.org,manager,London,,,email
Nora National,nora@example.org,manager,*,,,email
Ada Admin,ada@example.org,admin,*,,,email
Gus Glasgow,gus@example.org,coordinator,Glasgow,,,email
"""


def load_registry(session: Session) -> None:
    for text in (MARACS_CSV, CONTACTS_CSV):
        result = import_csv(session, text)
        assert result.ok, result.summary()
    session.commit()


def snapshot() -> RegistrySnapshot:
    """The same registry in memory, for parsing tests that need no database."""
    registry = RegistrySnapshot()
    for i, cells in enumerate(csv.DictReader(io.StringIO(MARACS_CSV)), 1):
        population = int(cells["adult_female_population"] or 0) or None
        entry = MaracEntry(i, cells["name"], cells["region"], cells["police_force_area"],
                           cells["nation"], population)
        registry.add(entry, split_list(cells["aliases"]))
    return registry


@dataclass(frozen=True)
class Seeded:
    """One stored meeting as the seed wrote it (its current figures)."""

    marac: str
    day: date
    counts: dict[str, int | None]

    @property
    def quarter(self) -> str:
        return Quarter.containing(self.day).label


# Which Marac sent which quarters of 2024/25 (and Q4 2023/24, the quarter before Q1).
SENT = {
    "Croydon": ("Q4 2023/24", "Q1 2024/25", "Q2 2024/25", "Q3 2024/25"),
    "Barking and Dagenham": ("Q1 2024/25", "Q3 2024/25"),
    "Kingston upon Thames": ("Q1 2024/25",),  # missed Q2 and Q3: out of national figures
    "Leeds": ("Q4 2023/24", "Q1 2024/25", "Q2 2024/25", "Q3 2024/25"),
    "Kirklees": ("Q1 2024/25", "Q2 2024/25"),
    "Ashford": ("Q2 2024/25", "Q3 2024/25"),
    "Canterbury": ("Q3 2024/25",),
    "Cardiff": ("Q1 2024/25", "Q2 2024/25", "Q3 2024/25"),
}
SENDERS = {"Croydon": "cara@example.org", "Kingston upon Thames": "kit@example.org"}
HELD_MEETING = ("Croydon", date(2024, 10, 15))  # a changed row waits for confirmation


def _counts(rng: random.Random) -> dict[str, int | None]:
    """A meeting's counts, with blanks (not collected) and zeros (none) both present."""
    cases = rng.randint(0, 25) if rng.random() < 0.1 else rng.randint(5, 25)
    values: dict[str, int | None] = {key: None for key in COUNT_KEYS}
    if cases == 0:
        values["cases"] = 0
        return values
    values["cases"] = cases
    for key, top in (("repeat_cases", cases // 2), ("cases_with_children", cases),
                     ("ref_police", cases), ("male", cases // 4), ("minoritised", cases // 3)):
        values[key] = None if rng.random() < 0.2 else rng.randint(0, top)
    values["children"] = None if rng.random() < 0.25 else rng.randint(0, 2 * cases)
    return values


def seed(session: Session, *, rng_seed: int = 2024) -> list[Seeded]:
    """Record fortnightly meetings through the real submission path; returns what is stored
    (current figures), the held change's figures left out as they are not yet applied."""
    rng = random.Random(rng_seed)
    stored: list[Seeded] = []
    recorded = datetime(2025, 1, 20, 10, 0, tzinfo=UTC)
    for marac, quarters in SENT.items():
        for label in quarters:
            quarter = Quarter.from_label(label)
            days = [quarter.start.replace(day=15 if d else 1) for d in (0, 1)]
            days += [date.fromordinal(quarter.start.toordinal() + 45)]
            rows = []
            for n, day in enumerate(days, 2):
                meeting = Seeded(marac, day, _counts(rng))
                stored.append(meeting)
                rows.append(ParsedRow(n, marac, day, dict(meeting.counts), marac=marac))
            record(session, report(*rows, file=f"{marac}-{label[:2]}.xlsx"),
                   sender=SENDERS.get(marac, "ada@example.org"), now=recorded)
    _hold_a_change(session, stored)
    session.commit()
    return stored


def _hold_a_change(session: Session, stored: list[Seeded]) -> None:
    marac, day = HELD_MEETING
    before = next(s for s in stored if (s.marac, s.day) == HELD_MEETING)
    changed = dict(before.counts) | {"cases": (before.counts["cases"] or 0) + 3}
    again = report(ParsedRow(2, marac, day, changed, marac=marac), file="croydon-fix.xlsx")
    flag_as_validation_would(session, again)
    assert again.rows[0].held
    record(session, again, sender="cara@example.org", now=datetime(2025, 1, 25, tzinfo=UTC))


def total(meetings: list[Seeded], key: str) -> tuple[int, int]:
    """(sum over the meetings that filled ``key`` in, how many meetings left it blank)."""
    filled = [m.counts[key] for m in meetings if m.counts[key] is not None]
    return sum(v for v in filled if v is not None), len(meetings) - len(filled)


def rate(meetings: list[Seeded], key: str) -> float | None:
    """``key`` ÷ cases over the meetings that filled ``key`` in."""
    known = [m for m in meetings if m.counts[key] is not None]
    cases = sum(m.counts["cases"] or 0 for m in known)
    part = sum(m.counts[key] or 0 for m in known)
    return part / cases if cases else None
