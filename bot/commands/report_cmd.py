"""``marac-bot report grid|national|overview --year 2024/25 [--region R] --out FILE``: the
upload grid (png, xlsx, csv or text), the national or regional picture of spec §5 (xlsx, csv,
text, or png: a bar chart of cases per quarter) and the overview (a row per Marac: xlsx, csv or
text), as the local operator sees them. Without ``--out`` the text is printed. Exit 0; 2 on a
usage error."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from bot.commands.common import fail_usage, show, today, write_file
from bot.commands.parsers import REPORT_SUFFIXES as _SUFFIXES
from bot.settings import Settings
from handlers.questions.grid_data import load_grid
from handlers.questions.model import Area
from handlers.questions.period import default_year
from handlers.questions.registry import MaracEntry, RegistrySnapshot
from handlers.questions.report_data import load_national, load_overview
from kernel import wording
from kernel.quarters import FinancialYear
from reports import grid as grid_report
from reports import national as national_report
from reports import overview as overview_report
from reports import table as table_report
from store.db import Store
from store.names import name_key


@dataclass(frozen=True)
class _Request:
    """What every report is made from: the Maracs chosen, the year, the day, the settings."""

    session: Session
    maracs: list[MaracEntry]
    area: str | None
    year: FinancialYear
    day: date
    settings: Settings
    when: datetime | None = None  # --as-of: the figures as they stood at the end of that day






def run(args: argparse.Namespace, settings: Settings) -> int:
    kind = args.report
    day = args.today or today(settings)
    year = FinancialYear.parse(args.year, today=day) if args.year else default_year(day)
    if year is None:
        return fail_usage(wording.report_bad_year(args.year))
    suffix = args.out.suffix.lower() if args.out else ".txt"
    if suffix not in _SUFFIXES[kind]:
        return fail_usage(wording.report_bad_out(args.out, _SUFFIXES[kind]))
    store = Store.from_settings(settings)
    try:
        with store.sessions() as session:
            registry = RegistrySnapshot.load(session)
            area = _area(registry, args.region) if args.region else None
            if isinstance(area, str):
                return fail_usage(area)
            request = _Request(session, registry.in_area(area), area.name if area else None,
                               year, day, settings, _as_of(args, settings))
            content = _MAKERS[kind](request, suffix)
    finally:
        store.close()
    return _write(content, kind, request, args.out)


def _as_of(args: argparse.Namespace, settings: Settings) -> datetime | None:
    as_of: date | None = getattr(args, "as_of", None)  # not on the grid
    if as_of is None:
        return None
    from handlers.history import end_of_day

    return end_of_day(as_of, settings.tz)


def _area(registry: RegistrySnapshot, text: str) -> Area | str:
    """The region, police force area or nation named, or the usage message."""
    area = registry.area(name_key(text))
    if area is not None:
        return area
    return f"--region: {wording.unknown_name_text(text, registry.suggest(text, strong=False))}"


def _grid(r: _Request, suffix: str) -> str | bytes:
    grid = load_grid(r.session, r.maracs, r.year, area=r.area, today=r.day,
                     due_days=r.settings.due_days, every_marac=r.area is None)
    if suffix == ".png":
        return grid_report.to_png(grid)
    if suffix == ".xlsx":
        return grid_report.to_xlsx(grid)
    return grid_report.to_csv(grid) if suffix == ".csv" else grid_report.to_text(grid)


def _national(r: _Request, suffix: str) -> str | bytes:
    picture = load_national(r.session, r.maracs, r.year, r.settings.bands, area=r.area,
                            every_marac=r.area is None, when=r.when, today=r.day,
                            due_days=r.settings.due_days)
    if suffix == ".png":
        return national_report.to_png(picture)
    return _table(national_report.to_table(picture, names_in_rows=suffix == ".csv"), suffix)


def _overview(r: _Request, suffix: str) -> str | bytes:
    overview = load_overview(r.session, r.maracs, r.year, r.settings.bands, area=r.area,
                             every_marac=r.area is None, when=r.when, today=r.day,
                             due_days=r.settings.due_days)
    table = overview_report.to_table(overview)
    # Analysts see why an unusual figure stands (issue 13): the explanations given, as notes.
    from handlers.explain import overview_notes

    ids = None if r.area is None else [m.id for m in r.maracs]
    notes = overview_notes(r.session, ids, [q.label for q in r.year.quarters], when=r.when)
    return _table(replace(table, notes=(*table.notes, *notes)), suffix)


def _table(table: table_report.Table, suffix: str) -> str | bytes:
    if suffix == ".xlsx":
        return table_report.to_xlsx(table)
    return table_report.to_csv(table) if suffix == ".csv" else table_report.to_text(table)


_MAKERS: dict[str, Callable[[_Request, str], str | bytes]] = {
    "grid": _grid,
    "national": _national,
    "overview": _overview,
}


def _write(content: str | bytes, kind: str, request: _Request, out: Path | None) -> int:
    if request.when is not None:
        show(wording.as_of_note(request.when.date()))
    if out is None:
        assert isinstance(content, str)  # no --out means text
        show(content)
        return 0
    if isinstance(content, str) and not content.endswith("\n"):
        content += "\n"
    write_file(out, content)
    show(wording.report_written(kind, request.area, request.year.label, out))
    return 0
