"""The year and area a page is asked for, read from its query string: anything unknown is
said plainly on the page (never a crash, never silently dropped)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from bot.channels.web.viewer import Viewer
from handlers.questions.period import default_year
from handlers.questions.registry import MaracEntry, RegistrySnapshot
from kernel.answers import Area
from kernel.quarters import FinancialYear
from kernel.wording import web as words
from store.names import name_key

YEARS_SHOWN = 4  # the year chooser offers this year and the three before


@dataclass(frozen=True)
class Filters:
    year: FinancialYear
    area: Area | None
    region: str  # as chosen, "" for none
    force: str
    problems: tuple[str, ...]  # what could not be understood, worded

    def query(self, **override: str) -> dict[str, str]:
        """The query string that asks for the same page (for links and downloads)."""
        found = {"year": self.year.label, "region": self.region, "force": self.force}
        found.update(override)
        return {k: v for k, v in found.items() if v}


# What each filter accepts. Scotland and Wales are each a nation and a region of the same name
# (the region list offers them), and the registry keeps one area per name, the nation: the
# region filter takes it, and it holds the same Maracs.
_KINDS_OF = {"region": ("region", "nation"), "police_force_area": ("police_force_area",)}


def read_filters(query: Mapping[str, str], registry: RegistrySnapshot, today: date) -> Filters:
    problems: list[str] = []
    year = default_year(today)
    if query.get("year"):
        parsed = FinancialYear.parse(query["year"][:20], today=today)
        if parsed is None:
            problems.append(words.unknown_year(query["year"]))
        else:
            year = parsed
    area, region, force = None, "", ""
    for kind, field in (("region", "region"), ("police_force_area", "force")):
        text = query.get(field, "")[:200]
        if not text:
            continue
        found = registry.area(name_key(text))
        if found is None or found.kind not in _KINDS_OF[kind]:
            problems.append(words.unknown_area(text))
        elif area is None:
            area = found
            region, force = (text, "") if kind == "region" else ("", text)
    return Filters(year, area, region, force, tuple(problems))


def years(today: date) -> list[str]:
    latest = default_year(today)
    labels, year = [], latest
    for _ in range(YEARS_SHOWN):
        labels.append(year.label)
        year = FinancialYear(year.start.year - 1)
    return labels


def area_choices(viewer: Viewer, registry: RegistrySnapshot) -> tuple[list[str], list[str]]:
    """The regions and force areas that hold at least one Marac the viewer may see."""
    mine: list[MaracEntry] = viewer.visible(registry, None)
    return (sorted({m.region for m in mine}), sorted({m.police_force_area for m in mine}))
