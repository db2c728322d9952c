"""``marac-bot report grid --year 2024/25 [--region R] --out grid.png|csv|txt``: the upload
grid (Maracs × quarters: accepted / held / missing / overdue) as an image, CSV or text, as the
local operator sees it. Without ``--out`` the text is printed. Exit 0; 2 on a usage error."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.commands.common import fail_usage, iso_date, today
from bot.settings import Settings
from handlers.questions.grid_data import load_grid
from handlers.questions.model import Area
from handlers.questions.period import default_year
from handlers.questions.registry import RegistrySnapshot
from reports import grid as grid_report
from reports import wording
from store.db import Store
from store.names import name_key
from validation.quarters import FinancialYear

_FORMATS = {".png": "png", ".csv": "csv", ".txt": "txt"}


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "report",
        help="write a report (the upload grid)",
        description="Write a report as the local operator sees it.",
    )
    reports = parser.add_subparsers(dest="report", required=True, metavar="REPORT")
    grid = reports.add_parser(
        "grid",
        help="Maracs × quarters of a financial year: accepted / held / missing / overdue",
        description="The upload grid of a financial year: for each Marac and quarter, whether "
        "figures are accepted, held for confirmation, missing or overdue. Exit code 0; 2 on a "
        "usage error.",
    )
    grid.add_argument("--year", metavar="YYYY/YY",
                      help="financial year, e.g. 2024/25 (default: the year of the last "
                      "quarter that ended)")
    grid.add_argument("--region", metavar="R",
                      help="only the Maracs of this region, police force area or nation")
    grid.add_argument("--out", type=Path, metavar="FILE",
                      help="grid.png, grid.csv or grid.txt (default: print the text)")
    grid.add_argument("--today", type=iso_date, metavar="YYYY-MM-DD",
                      help="as on this day (default: today)")
    grid.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    day = args.today or today(settings)
    year = FinancialYear.parse(args.year, today=day) if args.year else default_year(day)
    if year is None:
        return fail_usage(f"--year: {args.year!r} is not a financial year (try 2024/25)")
    kind = _FORMATS.get(args.out.suffix.lower()) if args.out else "txt"
    if kind is None:
        return fail_usage(f"--out: {args.out} must end .png, .csv or .txt")
    store = Store.from_settings(settings)
    try:
        with store.sessions() as session:
            registry = RegistrySnapshot.load(session)
            area = _area(registry, args.region) if args.region else None
            if isinstance(area, str):
                return fail_usage(area)
            grid = load_grid(session, registry.in_area(area), year,
                             area=area.name if area else None, today=day,
                             due_days=settings.due_days, every_marac=area is None)
    finally:
        store.close()
    return _write(grid, kind, args.out)


def _area(registry: RegistrySnapshot, text: str) -> Area | str:
    """The region, police force area or nation named, or the usage message."""
    area = registry.area(name_key(text))
    if area is not None:
        return area
    return f"--region: {wording.unknown_name_text(text, registry.suggest(text, strong=False))}"


def _write(grid: grid_report.Grid, kind: str, out: Path | None) -> int:
    if out is None:
        print(grid_report.to_text(grid))
        return 0
    if kind == "png":
        out.write_bytes(grid_report.to_png(grid))
    else:
        text = grid_report.to_csv(grid) if kind == "csv" else grid_report.to_text(grid) + "\n"
        out.write_text(text, encoding="utf-8", newline="")
    print(f"Wrote the upload grid ({grid.area or 'all Maracs'}, {grid.year}) to {out}")
    return 0
