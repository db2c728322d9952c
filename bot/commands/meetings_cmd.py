"""``marac-bot report meetings [--year Y | --quarter Q] [--marac M | --region R] [--as-of DATE]
[--out FILE.csv|xlsx]``: one row per meeting with its figures and where they came from (issue
13), as the local operator sees them. Without --out the CSV is printed. Exit 0; 2 on a usage
error."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from bot.commands.common import fail_usage, show, today, write_file
from bot.commands.parsers import REPORT_SUFFIXES
from bot.settings import Settings
from handlers.export import Selection, choose_maracs, export_file
from handlers.history import end_of_day
from kernel import wording
from kernel.quarters import FinancialYear, Quarter
from store.db import Store


def run(args: argparse.Namespace, settings: Settings) -> int:
    day = args.today or today(settings)
    period = _period(args, day)
    if isinstance(period, str):
        return fail_usage(period)
    if args.marac and args.region:
        return fail_usage("give --marac or --region, not both")
    suffix = args.out.suffix.lower() if args.out else ".csv"
    if suffix not in REPORT_SUFFIXES["meetings"]:
        return fail_usage(wording.report_bad_out(args.out, REPORT_SUFFIXES["meetings"]))
    when = end_of_day(args.as_of, settings.tz) if args.as_of else None
    store = Store.from_settings(settings)
    try:
        with store.sessions() as session:
            selection = choose_maracs(session, marac=args.marac, area=args.region)
            if not isinstance(selection, Selection):
                flag = "--marac" if args.marac else "--region"
                return fail_usage(f"{flag}: {wording.unknown_name_text(*selection)}")
            content, count = export_file(session, selection, period, suffix=suffix,
                                         tz=settings.tz, when=when)
    finally:
        store.close()
    return _write(content, args.out, count, args.as_of)


def _period(args: argparse.Namespace, day: date) -> Quarter | FinancialYear | str:
    """The quarter or year asked for (default: the year of the last quarter that ended, as
    every report defaults)."""
    if args.quarter and args.year:
        return "give --quarter or --year, not both"
    if args.quarter:
        return Quarter.parse(args.quarter, today=day) or (
            f"--quarter: {args.quarter!r} is not a quarter (try 'Q3 2024/25')")
    if args.year:
        return FinancialYear.parse(args.year, today=day) or wording.report_bad_year(args.year)
    return Quarter.containing(day).previous().financial_year


def _write(content: str | bytes, out: Path | None, count: int, as_of: date | None) -> int:
    if out is None:
        assert isinstance(content, str)
        show(content, end="")
        return 0
    write_file(out, content)
    show(wording.export_written(count, str(out), as_of))
    return 0
