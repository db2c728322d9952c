"""``marac-bot validate FILE… [--marac NAME] [--quarter Q] [--json] [--annotate OUT.xlsx]``."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.commands.common import (
    UsageError,
    existing_files,
    fail_usage,
    parse_quarter,
    today,
    use_colour,
)
from bot.settings import Settings
from kernel.quarters import Quarter
from reports.annotate import annotate_workbook
from reports.text import render_reports
from store.db import Store, normalise_url
from store.views import validation_context
from validation.context import ValidationContext
from validation.report import FileReport
from validation.validate import validate_path

logger = logging.getLogger(__name__)


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "validate",
        help="check data returns without storing anything",
        description="Check Marac data returns and list every issue by cell. Nothing is stored. "
        "When the configured database exists, its registry checks the Marac names and its "
        "meetings show which rows would be unchanged or held; without one, names are not "
        "checked. "
        "Exit code 0: no hard issue; 1: a hard issue in any file; 2: usage error or file "
        "not found.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help=".xlsx .xlsm .xls .ods .csv")
    parser.add_argument("--marac", metavar="NAME",
                        help="the Marac these files are for: rows naming another Marac are "
                        "reported as not-authorised")
    parser.add_argument("--quarter", metavar="Q",
                        help="the quarter the files are declared for, e.g. 'Q3 2024/25': "
                        "meeting dates outside it are hard issues")
    parser.add_argument("--json", action="store_true", help="print a JSON array, one per file")
    parser.add_argument("--annotate", metavar="OUT.xlsx", type=Path,
                        help="write a copy with problem cells highlighted and commented "
                        "(several files: OUT-<file>.xlsx each)")
    parser.set_defaults(handler=run)


@dataclass(frozen=True)
class OnlyMarac:
    """--marac: the one Marac the files may speak for (names compared loosely)."""

    name: str

    def may_submit(self, marac: str) -> bool:
        return _loose(marac) == _loose(self.name)


def _loose(name: str) -> str:
    import re

    text = re.sub(r"\bmarac\b", " ", name.lower().replace("&", " and "))
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        paths = existing_files(args.files)
        quarter = parse_quarter(args.quarter, settings)
    except UsageError as exc:
        return fail_usage(str(exc))
    sender = OnlyMarac(args.marac) if args.marac else None
    store = _existing_store(settings)
    if args.json and not args.annotate:
        # One file's rows at a time: a batch of large files must not add up in memory.
        found = [(r.to_dict(), r.has_hard) for r in _reports(store, paths, settings, quarter,
                                                             sender)]
        print(json.dumps([d for d, _ in found], indent=2, ensure_ascii=False))
        return 1 if any(hard for _, hard in found) else 0
    reports = list(_reports(store, paths, settings, quarter, sender))
    if args.annotate:
        _write_annotated(paths, reports, args.annotate)
    if args.json:
        print(json.dumps([r.to_dict() for r in reports], indent=2, ensure_ascii=False))
    else:
        print(render_reports(reports, colour=use_colour(), checked_only=True))
    return 1 if any(r.has_hard for r in reports) else 0


def _reports(store: Store | None, paths: list[Path], settings: Settings,
             quarter: Quarter | None, sender: OnlyMarac | None) -> Iterator[FileReport]:
    if store is None:  # a coordinator's own machine: names are not checked (one info note)
        context = ValidationContext(today=today(settings), declared_quarter=quarter,
                                    sender=sender, bands=settings.bands,
                                    max_file_bytes=settings.max_file_bytes)
        yield from (validate_path(p, context) for p in paths)
    else:
        yield from _validate_with_store(store, paths, settings, quarter, sender)


def _existing_store(settings: Settings) -> Store | None:
    """The configured database, if there is one: its registry checks the Marac names and its
    meetings show what would be unchanged or held. A missing SQLite file is not created."""
    url = normalise_url(settings.database_url)
    database = url.database or ""
    if url.get_backend_name() == "sqlite" and (database in ("", ":memory:")
                                               or not Path(database).is_file()):
        return None
    try:
        return Store.from_settings(settings)
    except SQLAlchemyError as exc:
        logger.warning("validating without the registry: cannot open the database (%s)", exc)
        return None


def _validate_with_store(store: Store, paths: list[Path], settings: Settings,
                         quarter: Quarter | None, sender: OnlyMarac | None
                         ) -> Iterator[FileReport]:
    try:
        with store.transaction() as session:
            context = validation_context(session, today=today(settings),
                                         declared_quarter=quarter, bands=settings.bands,
                                         max_file_bytes=settings.max_file_bytes)
            context = dataclasses.replace(context, sender=sender)
            yield from (validate_path(p, context) for p in paths)
            session.rollback()  # validate stores nothing
    finally:
        store.close()


def _write_annotated(paths: list[Path], reports: list[FileReport], out: Path) -> None:
    for path, report in zip(paths, reports, strict=True):
        target = out if len(paths) == 1 else out.with_name(f"{out.stem}-{path.stem}.xlsx")
        target.write_bytes(annotate_workbook(path.read_bytes(), path.name, report))
