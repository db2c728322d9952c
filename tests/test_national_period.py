"""A question's national figures (handlers.national.national_period: the rule applied to who
sent what, then each Marac's period summed by the database) equal the report's
(NationalData: every Marac-quarter read apart, then added up), for quarters sent, filled,
left out, awaited and not started (issue 14 made the question's path a different one)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from bot.settings import Settings
from handlers.national import NationalData, national_period
from handlers.questions.metrics import ALL_FIELDS
from handlers.questions.registry import RegistrySnapshot
from kernel.quarters import FinancialYear, Quarter
from tests.store_support import load_registry, record, report, row

YEAR = FinancialYear(2024)
# Croydon misses Q3 (filled from Q2); Leeds sends only the quarter before the year (Q1
# filled, then left out); Barking and Dagenham misses Q2 and Q4 (each filled); Kirklees
# sends nothing (left out throughout).
SENT = {
    "Croydon": [date(2024, 3, 7), date(2024, 5, 2), date(2024, 5, 30), date(2024, 8, 1),
                date(2025, 2, 6)],
    "Leeds": [date(2024, 2, 1)],
    "Barking and Dagenham": [date(2024, 4, 11), date(2024, 11, 14)],
}


@pytest.fixture
def seeded(db_session: Session) -> Session:
    load_registry(db_session)
    rows = [row(i, marac, day, cases=5 + i, repeat_cases=i % 4 or None, male=i % 2)
            for i, (marac, day) in enumerate(
                ((m, d) for m, days in SENT.items() for d in days), start=2)]
    record(db_session, report(*rows))
    db_session.commit()
    return db_session


PERIODS = [*([q] for q in YEAR.quarters), list(YEAR.quarters), [YEAR.quarters[0].previous()]]


@pytest.mark.parametrize("today", [date(2024, 3, 1), date(2024, 7, 20), date(2024, 11, 2),
                                   date(2025, 4, 1), date(2025, 6, 1)])
def test_a_question_and_the_report_agree_on_every_period(seeded: Session, today: date) -> None:
    bands = Settings().bands
    registry = RegistrySnapshot.load(seeded)
    everyone = list(registry.maracs.values())
    london = [m for m in everyone if m.region == "London"]
    for maracs, every in ((everyone, True), (everyone, False), (london, False)):
        for quarters in PERIODS:
            data = NationalData.load(seeded, maracs, quarters, bands, fields=ALL_FIELDS,
                                     today=today, every_marac=every)
            expected = data.period(quarters)
            found = national_period(seeded, maracs, quarters, bands, fields=ALL_FIELDS,
                                    today=today, every_marac=every)
            assert found == expected, (today, [q.label for q in quarters])


def test_the_year_counts_filled_quarters_once_each(seeded: Session) -> None:
    bands = Settings().bands
    maracs = list(RegistrySnapshot.load(seeded).maracs.values())
    found = national_period(seeded, maracs, list(YEAR.quarters), bands, fields=ALL_FIELDS,
                            today=date(2025, 6, 1))
    assert found.figures is not None
    names = {m.id: m.name for m in maracs}
    assert sorted(names[m] for m in found.basis.filled) == [
        "Barking and Dagenham", "Croydon", "Leeds"]
    # Croydon: Q1 (2 meetings), Q2, Q3 filled from Q2, Q4; B&D: Q1, Q2 from Q1, Q3, Q4 from
    # Q3; Leeds: Q1 filled from Q4 2023/24, then left out.
    assert found.figures.meetings == (2 + 1 + 1 + 1) + (1 + 1 + 1 + 1) + 1
    assert Quarter.from_label("Q3 2024/25") in {q.quarter for q in found.basis.quarters}
