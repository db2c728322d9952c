"""The national picture page: the §5 figures per quarter and for the year (the very table
``marac-bot report national`` writes, for what the viewer may see), and the year by region and
by police force area, with how many Maracs reported in each (the same figures() the chat
answers use, over one GROUP BY for the year)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.channels.web.filters import Filters
from bot.channels.web.viewer import Viewer
from handlers.questions.figures import figures
from handlers.questions.metrics import ALL_FIELDS
from handlers.questions.registry import MaracEntry, RegistrySnapshot
from handlers.questions.report_data import load_national
from handlers.questions.sums import Sums, marac_sums
from kernel.answers import Figures
from kernel.config import Policy
from reports import national as national_report
from reports.table import Table


@dataclass(frozen=True)
class AreaLine:
    name: str
    maracs: int
    figures: Figures


@dataclass(frozen=True)
class NationalPage:
    table: Table
    by_region: tuple[AreaLine, ...]
    by_force: tuple[AreaLine, ...]


def table_of(session: Session, viewer: Viewer, filters: Filters, *,
             registry: RegistrySnapshot, settings: Policy) -> Table:
    """The national report's table for the viewer's Maracs (of the chosen area)."""
    maracs = viewer.visible(registry, filters.area)
    everything = viewer.scope.everything and filters.area is None
    picture = load_national(session, maracs, filters.year, settings.bands,
                            area=filters.area.name if filters.area else None,
                            every_marac=everything)
    return national_report.to_table(picture)


def build(session: Session, viewer: Viewer, filters: Filters, *, registry: RegistrySnapshot,
          settings: Policy) -> NationalPage:
    maracs = viewer.visible(registry, filters.area)
    labels = [q.label for q in filters.year.quarters]
    sums = marac_sums(session, labels, [m.id for m in maracs], fields=ALL_FIELDS)
    return NationalPage(
        table_of(session, viewer, filters, registry=registry, settings=settings),
        _by(maracs, sums, "region", settings),
        _by(maracs, sums, "police_force_area", settings),
    )


def _by(maracs: Sequence[MaracEntry], sums: Sequence[Sums], kind: str, settings: Policy
        ) -> tuple[AreaLine, ...]:
    groups: dict[str, dict[int, MaracEntry]] = {}
    for marac in maracs:
        groups.setdefault(getattr(marac, kind), {})[marac.id] = marac
    return tuple(
        AreaLine(name, len(members),
                 figures([s for s in sums if s.marac_id in members], members, settings.bands,
                         fields=ALL_FIELDS))
        for name, members in sorted(groups.items())
    )
