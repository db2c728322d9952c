"""The national picture and the overview (reports/national.py, reports/overview.py) from the
store, through the same sums and figures the questions use (handlers/questions/sums.py,
figures.py, queries.py), so a report never disagrees with an answer in chat."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.orm import Session

from handlers.questions import queries
from handlers.questions.figures import figures
from handlers.questions.period import year_info
from handlers.questions.registry import MaracEntry
from handlers.questions.sums import Sums, marac_sums
from kernel.answers import Rate
from kernel.config import Bands
from kernel.quarters import DEFAULT_DUE_DAYS, FinancialYear, Quarter
from reports.national import NationalPicture
from reports.overview import Overview, OverviewRow

# What the overview shows of each Marac besides cases.
_OVERVIEW_FIELDS = ("repeat_cases", "ref_police")


def load_national(
    session: Session,
    maracs: Sequence[MaracEntry],
    year: FinancialYear,
    bands: Bands,
    *,
    area: str | None,
    every_marac: bool = False,
    when: datetime | None = None,
    today: date | None = None,
    due_days: int = DEFAULT_DUE_DAYS,
) -> NationalPicture:
    """The §5 figures of ``maracs`` for each quarter of ``year`` and for the whole year, under
    the national rule (one missed quarter filled, two in a row left out: handlers/national.py).
    ``every_marac`` says ``maracs`` is the whole registry, so the query needs no list of ids;
    ``when``: the figures as they stood then; ``today`` decides which quarters are due."""
    from handlers.national import load_picture  # it imports this package: load it when used

    return load_picture(session, maracs, year, bands, area=area, every_marac=every_marac,
                        today=today, due_days=due_days, when=when)


def load_overview(
    session: Session,
    maracs: Sequence[MaracEntry],
    year: FinancialYear,
    bands: Bands,
    *,
    area: str | None,
    every_marac: bool = False,
    when: datetime | None = None,
    today: date | None = None,
    due_days: int = DEFAULT_DUE_DAYS,
) -> Overview:
    """One row per Marac of ``maracs`` (by name), whether or not it sent anything; ``when``:
    as things stood then; ``today`` decides which quarters are due for the national rule."""
    from handlers.national import overview_national  # it imports this package: load when used

    labels = [q.label for q in year.quarters]
    ids = None if every_marac else [m.id for m in maracs]
    found = marac_sums(session, labels, ids, fields=_OVERVIEW_FIELDS, when=when)
    sums = {s.marac_id: s for s in found}
    before = year.quarters[0].previous().label  # a missed Q1 is filled from it
    uploads = queries.uploads(session, [before, *labels], ids, when=when)
    sent = {(m, Quarter.from_label(q)) for (m, q), u in uploads.items() if u.meetings}
    national = overview_national(maracs, year, sent, today=today or date.today(),
                                 due_days=due_days)
    rows = []
    for marac in sorted(maracs, key=lambda m: m.name):
        mine = [uploads[(marac.id, q)] for q in labels if (marac.id, q) in uploads]
        rows.append(_row(marac, mine, sums.get(marac.id), bands, national[marac.id]))
    return Overview(year.label, year_info(year).range, area, tuple(rows))


def _row(
    marac: MaracEntry, uploads: list[queries.Uploads], sums: Sums | None, bands: Bands,
    national: str,
) -> OverviewRow:
    found = figures([sums] if sums else [], {marac.id: marac}, bands, fields=_OVERVIEW_FIELDS)
    sent = any(u.meetings for u in uploads)
    return OverviewRow(
        marac=marac.name,
        region=marac.region,
        police_force_area=marac.police_force_area,
        quarters=tuple(u.quarter for u in uploads if u.meetings),
        meetings=sum(u.meetings for u in uploads) if sent else None,  # blank, never 0
        cases=found.cases.total if sums else None,
        repeat_rate=_value(found.rate("repeat_rate")),
        police_share=_value(found.rate("police_share")),
        per_10k=found.per_10k.value,
        held=sum(u.held for u in uploads),
        national=national,
    )


def _value(rate: Rate | None) -> float | None:
    return None if rate is None else rate.value
