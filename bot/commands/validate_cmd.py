"""``marac-bot validate FILE… [--marac NAME] [--quarter Q] [--json] [--annotate OUT.xlsx]``."""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.commands.common import (
    UsageError,
    existing_files,
    fail_usage,
    parse_quarter,
    show,
    today,
    use_colour,
    write_file,
)
from bot.settings import Settings
from validation.ahead import ReadAhead, read_ahead
from validation.context import ValidationContext, names_its_year

# validation.validate (numpy, every check: ~130 ms) is loaded once the first file's read has
# begun (``run``), so that the two overlap.
if TYPE_CHECKING:
    from kernel.quarters import Quarter
    from store.db import Store
    from validation.report import FileReport

logger = logging.getLogger(__name__)


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
    # The first file is parsed in its capped child from now on, while this process loads
    # validation and the database (validation/ahead.py); killed if not taken.
    ahead = read_ahead(paths[0], settings.max_file_bytes)
    try:
        return _run(args, settings, paths, quarter, ahead)
    finally:
        ahead.cancel()


def _run(args: argparse.Namespace, settings: Settings, paths: list[Path],
         quarter: Quarter | None, ahead: ReadAhead) -> int:
    sender = OnlyMarac(args.marac) if args.marac else None
    # "--quarter Q1": the meetings may say which year's Q1 (validation.context).
    year_given = names_its_year(args.quarter or "")
    store = _existing_store(settings)
    _load_validation()
    if args.json and not args.annotate:
        # One file's rows at a time: a batch of large files must not add up in memory.
        found = [(r.to_dict(), r.has_hard) for r in _reports(
            store, paths, settings, quarter, sender, ahead, year_given=year_given)]
        show(json.dumps([d for d, _ in found], indent=2, ensure_ascii=False))
        return 1 if any(hard for _, hard in found) else 0
    reports = list(_reports(store, paths, settings, quarter, sender, ahead,
                            year_given=year_given))
    if args.annotate:
        _write_annotated(paths, reports, args.annotate)
    if args.json:
        show(json.dumps([r.to_dict() for r in reports], indent=2, ensure_ascii=False))
    else:
        from reports.text import render_reports  # only for people: not with --json

        show(render_reports(reports, colour=use_colour(), checked_only=True))
    return 1 if any(r.has_hard for r in reports) else 0


def _load_validation() -> None:
    """Import validation itself, the collector held off meanwhile as in the process's
    start-up (bot.cli.console): its tens of thousands of objects are none of them garbage."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        import validation.validate  # noqa: F401
    finally:
        if was_enabled:
            gc.enable()


def _validated(paths: list[Path], context: ValidationContext, ahead: ReadAhead
               ) -> Iterator[FileReport]:
    """Each file's report; the first one's read was begun ahead."""
    from validation.validate import validate_ahead, validate_path

    for path in paths:
        yield validate_ahead(ahead, context) if path is ahead.path else validate_path(
            path, context)


def _reports(store: Store | None, paths: list[Path], settings: Settings,
             quarter: Quarter | None, sender: OnlyMarac | None, ahead: ReadAhead, *,
             year_given: bool = True) -> Iterator[FileReport]:
    if store is None:  # a coordinator's own machine: names are not checked (one info note)
        context = ValidationContext(today=today(settings), declared_quarter=quarter,
                                    declared_year_given=year_given, sender=sender,
                                    bands=settings.bands, max_file_bytes=settings.max_file_bytes)
        yield from _validated(paths, context, ahead)
    else:
        yield from _validate_with_store(store, paths, settings, quarter, sender, ahead,
                                        year_given=year_given)


def _existing_store(settings: Settings) -> Store | None:
    """The configured database, if there is one: its registry checks the Marac names and its
    meetings show what would be unchanged or held. A missing SQLite file is not created (and
    then SQLAlchemy is not even loaded: a coordinator's own check should start quickly)."""
    if _missing_sqlite_file(settings.database_url):
        return None
    from sqlalchemy.exc import SQLAlchemyError

    from store.db import DatabaseUnusable, Store, normalise_url

    try:
        url = normalise_url(settings.database_url)
        database = url.database or ""
        if url.get_backend_name() == "sqlite" and (database in ("", ":memory:")
                                                   or not Path(database).is_file()):
            return None
        return Store.from_settings(settings)
    except (SQLAlchemyError, DatabaseUnusable) as exc:
        logger.warning("validating without the registry: cannot open the database (%s)", exc)
        return None


def _missing_sqlite_file(database_url: str) -> bool:
    """A plain "sqlite:///path" URL whose file does not exist (other URLs: ask SQLAlchemy)."""
    prefix = "sqlite:///"
    if not database_url.startswith(prefix) or "?" in database_url:
        return False
    path = database_url[len(prefix):]
    return path not in ("", ":memory:") and not Path(path).is_file()


def _validate_with_store(store: Store, paths: list[Path], settings: Settings,
                         quarter: Quarter | None, sender: OnlyMarac | None,
                         ahead: ReadAhead, *, year_given: bool) -> Iterator[FileReport]:
    from store.views import validation_context

    try:
        with store.transaction() as session:
            context = validation_context(session, today=today(settings),
                                         declared_quarter=quarter, bands=settings.bands,
                                         max_file_bytes=settings.max_file_bytes)
            context = dataclasses.replace(context, sender=_as_registered(sender, context),
                                          declared_year_given=year_given)
            yield from _validated(paths, context, ahead)
            session.rollback()  # validate stores nothing
    finally:
        store.close()


def _as_registered(sender: OnlyMarac | None, context: ValidationContext) -> OnlyMarac | None:
    """--marac as the registry names it: "CRD", an alias of Croydon, means Croydon (spec §6:
    names match with aliases), where every row was refused not-authorised. A name the
    registry does not know is compared loosely, as without a registry."""
    if sender is None or context.registry is None:
        return sender
    found = context.registry.resolve(sender.name)
    return sender if found is None else OnlyMarac(found.name)


def _write_annotated(paths: list[Path], reports: list[FileReport], out: Path) -> None:
    for path, report in zip(paths, reports, strict=True):
        target = out if len(paths) == 1 else out.with_name(f"{out.stem}-{path.stem}.xlsx")
        from reports.annotate import annotate_workbook  # openpyxl: only when asked to annotate

        write_file(target, annotate_workbook(path.read_bytes(), path.name, report))
        # openpyxl's workbooks are cycles (a sheet knows its book, a cell its sheet), and
        # validate runs with the collector off (bot.cli): freed here, each file's would
        # otherwise stay until the process ends.
        gc.collect()
