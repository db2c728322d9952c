"""The files beside each page: the same bytes ``marac-bot report grid|national`` writes, for
what the viewer may see (xlsx or csv)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from aiohttp import web
from sqlalchemy.orm import Session

from bot.channels.web.filters import Filters
from bot.channels.web.pages import grid as grid_page
from bot.channels.web.pages import national as national_page
from bot.channels.web.viewer import Viewer
from handlers.questions.registry import MaracEntry, RegistrySnapshot
from handlers.questions.report_data import load_national
from kernel.config import Policy
from kernel.quarters import FinancialYear
from reports import grid as grid_report
from reports import national as national_report
from reports import table as table_report

PAGE_KINDS = ("grid", "national")
FORMATS = ("xlsx", "csv")
_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          "csv": "text/csv; charset=utf-8"}


@dataclass(frozen=True)
class File:
    name: str
    fmt: str
    content: bytes

    def response(self) -> web.Response:
        return web.Response(body=self.content, headers={
            "Content-Type": _TYPES[self.fmt],
            "Content-Disposition": f'attachment; filename="{self.name}"'})


def _name(*parts: str) -> str:
    """A plain file name: letters, digits and dashes only (no header injection)."""
    return re.sub(r"[^A-Za-z0-9]+", "-", "-".join(p for p in parts if p)).strip("-").lower()


def _bytes(content: str | bytes) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


def page_file(session: Session, viewer: Viewer, kind: str, fmt: str, filters: Filters, *,
              registry: RegistrySnapshot, today: date, settings: Policy) -> File:
    area = filters.area.name if filters.area else ""
    name = _name(kind, area, filters.year.label) + f".{fmt}"
    if kind == "grid":
        grid = grid_page.grid_of(session, viewer, filters, registry=registry, today=today,
                                 settings=settings)
        return File(name, fmt, _bytes(grid_report.to_xlsx(grid) if fmt == "xlsx"
                                      else grid_report.to_csv(grid)))
    table = national_page.table_of(session, viewer, filters, registry=registry, today=today,
                                   settings=settings, names_in_rows=fmt == "csv")
    return File(name, fmt, _table(table, fmt))


def marac_file(session: Session, marac: MaracEntry, fmt: str, year: FinancialYear, *,
               today: date, settings: Policy) -> File:
    """The Marac page's figures: the national report's table for this one Marac."""
    picture = load_national(session, [marac], year, settings.bands, area=marac.name,
                            today=today, due_days=settings.due_days)
    table = national_report.to_table(picture, names_in_rows=fmt == "csv")
    return File(_name(marac.name, year.label) + f".{fmt}", fmt, _table(table, fmt))


def _table(table: table_report.Table, fmt: str) -> bytes:
    return _bytes(table_report.to_xlsx(table) if fmt == "xlsx" else table_report.to_csv(table))
