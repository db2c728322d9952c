"""Jinja2 over the templates beside this module: autoescaped always, so nothing from the
store (a Marac's name, a file name, a sender) can become markup."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any
from urllib.parse import quote

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined

from kernel import wording
from kernel.wording import web as words
from reports.table import Cell, Share, cell_text

CHART_WIDTH, CHART_HEIGHT, CHART_TOP = 480, 180, 20


def environment(zone: tzinfo) -> Environment:
    """The templates, with times shown in ``zone`` (MARAC_TIMEZONE)."""
    env = Environment(loader=PackageLoader("bot.channels.web", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(words=words, wording=wording)
    env.filters.update(cell=cell_text, pct=percent, is_number=is_number, path_part=path_part,
                       when=lambda moment: words.when(moment.astimezone(zone) if moment else None))
    return env


def page(env: Environment, template: str, *, status: int = 200, **context: Any
         ) -> web.Response:
    body = env.get_template(template).render(**context)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def path_part(value: object) -> str:
    """One segment of a URL's path: Jinja's ``urlencode`` leaves "/" as it is, so a Marac
    called "Bath/NE Somerset" was linked as two segments (a 404)."""
    return quote(str(value), safe="")


def is_number(cell: Cell) -> bool:
    return isinstance(cell, int | float | Share)


def percent(value: float | None) -> str:
    return wording.REPORT_BLANK if value is None else wording.percent(value)


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    width: int
    height: int
    label: str  # "Q3"
    value: str  # "42" or "nothing sent"


def bars(values: Sequence[tuple[str, int | None]]) -> list[Bar]:
    """A small bar chart's geometry (drawn as inline SVG: no script, works with JS off)."""
    top = max([v for _, v in values if v is not None] or [1]) or 1
    slot = CHART_WIDTH // max(len(values), 1)
    found = []
    for n, (label, value) in enumerate(values):
        height = 0 if value is None else round((CHART_HEIGHT - CHART_TOP) * value / top)
        found.append(Bar(n * slot + 6, CHART_HEIGHT - height, slot - 12, height,
                         label, words.MARAC_TREND_NONE if value is None else f"{value:,}"))
    return found
