"""What a meetings export covers (issue 13), for the command line and for a request by message:
the Maracs (one, an area, or all), the quarters (one, or a year's) and the moment the figures
are taken at; then the file itself (reports/meetings_export.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel.quarters import FinancialYear, Quarter
from reports import meetings_export
from store.history import standing_meetings
from store.models import Marac
from store.names import NameIndex, name_key


@dataclass(frozen=True)
class Selection:
    """The Maracs an export covers (None: every Marac) and what to call them."""

    marac_ids: tuple[int, ...] | None
    label: str | None  # "Croydon", "London"; None for every Marac


def choose_maracs(
    session: Session, *, marac: str | None, area: str | None
) -> Selection | tuple[str, list[str]]:
    """The Maracs named, or (what was not found, the names it may have meant)."""
    maracs = list(session.scalars(select(Marac).order_by(Marac.name)))
    if marac is not None:
        names: NameIndex[Marac] = NameIndex()
        for m in maracs:
            names.add(m.name, m, m.aliases)
        found = names.get(marac)
        return Selection((found.id,), found.name) if found else (marac, names.suggest(marac))
    if area is not None:
        key = name_key(area)
        chosen = [m for m in maracs if key in _area_keys(m)]
        if not chosen:
            areas: NameIndex[str] = NameIndex()
            for m in maracs:
                for name in (m.region, m.police_force_area, m.nation):
                    areas.add(name, name)
            return area, areas.suggest(area)
        shown = next(n for n in _area_names(chosen[0]) if name_key(n) == key)
        return Selection(tuple(m.id for m in chosen), shown)
    return Selection(None, None)


def _area_names(m: Marac) -> tuple[str, str, str]:
    return m.region, m.police_force_area, m.nation


def _area_keys(m: Marac) -> set[str]:
    return {name_key(n) for n in _area_names(m)}


def quarters_of(period: Quarter | FinancialYear) -> list[str]:
    if isinstance(period, Quarter):
        return [period.label]
    return [q.label for q in period.quarters]


def export_file(
    session: Session,
    selection: Selection,
    period: Quarter | FinancialYear,
    *,
    suffix: str,
    tz: tzinfo,
    when: datetime | None,
) -> tuple[str | bytes, int]:
    """The export (CSV text or xlsx bytes) and how many meetings it holds."""
    rows = standing_meetings(
        session,
        list(selection.marac_ids) if selection.marac_ids is not None else None,
        quarters_of(period),
        when=when,
    )
    places = {
        m.id: (m.region, m.police_force_area)
        for m in session.scalars(select(Marac).where(Marac.id.in_({r.marac_id for r in rows})))
    }
    table = meetings_export.frame(rows, places, tz=tz)
    content = meetings_export.to_xlsx(table) if suffix == ".xlsx" else meetings_export.to_csv(table)
    return content, len(rows)


def file_name(selection: Selection, period: Quarter | FinancialYear, suffix: str) -> str:
    """ "meetings-London-Q3-2024-25.csv" for an attachment."""
    parts = ["meetings", selection.label or "all", period.label]
    cleaned = "-".join("".join(c if c.isalnum() else "-" for c in p) for p in parts)
    return "-".join(filter(None, cleaned.split("-"))) + suffix
