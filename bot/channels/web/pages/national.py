"""The national picture page: spec §5's figures per quarter and for the year under the national
rule (one missed quarter filled from the one before, two in a row left out), the very table
``marac-bot report national`` writes for what the viewer may see; then the year by region and
by police force area under the same rule (handlers/national.py), with how many Maracs
reported, were filled in or were left out in each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from bot.channels.web.filters import Filters
from bot.channels.web.viewer import Viewer
from handlers.national import NationalData, NationalPeriod
from handlers.questions.metrics import ALL_FIELDS
from handlers.questions.registry import MaracEntry, RegistrySnapshot
from handlers.questions.report_data import load_national
from kernel.config import Policy
from reports import national as national_report
from reports.table import Table


@dataclass(frozen=True)
class AreaLine:
    name: str
    maracs: int
    period: NationalPeriod  # its figures are None before the year has started


@dataclass(frozen=True)
class NationalPage:
    table: Table
    by_region: tuple[AreaLine, ...]
    by_force: tuple[AreaLine, ...]


def table_of(session: Session, viewer: Viewer, filters: Filters, *,
             registry: RegistrySnapshot, today: date, settings: Policy,
             names_in_rows: bool = False) -> Table:
    """The national report's table for the viewer's Maracs (of the chosen area), as
    ``marac-bot report national`` makes it (``names_in_rows`` for its CSV file)."""
    maracs = viewer.visible(registry, filters.area)
    everything = viewer.scope.everything and filters.area is None
    picture = load_national(session, maracs, filters.year, settings.bands,
                            area=filters.area.name if filters.area else None,
                            every_marac=everything, today=today, due_days=settings.due_days)
    return national_report.to_table(picture, names_in_rows=names_in_rows)


def build(session: Session, viewer: Viewer, filters: Filters, *, registry: RegistrySnapshot,
          today: date, settings: Policy) -> NationalPage:
    maracs = viewer.visible(registry, filters.area)
    data = NationalData.load(session, maracs, filters.year.quarters, settings.bands,
                             fields=ALL_FIELDS, today=today, due_days=settings.due_days)
    return NationalPage(
        table_of(session, viewer, filters, registry=registry, today=today, settings=settings),
        _by(data, maracs, "region", filters),
        _by(data, maracs, "police_force_area", filters),
    )


def _by(data: NationalData, maracs: Sequence[MaracEntry], kind: str, filters: Filters
        ) -> tuple[AreaLine, ...]:
    """Each area's year under the rule, from the sums already loaded for all of them."""
    groups: dict[str, list[MaracEntry]] = {}
    for marac in maracs:
        groups.setdefault(getattr(marac, kind), []).append(marac)
    return tuple(
        AreaLine(name, len(members),
                 NationalData(members, data.sums, data.bands, data.fields, data.today,
                              data.due_days).period(filters.year.quarters))
        for name, members in sorted(groups.items())
    )
