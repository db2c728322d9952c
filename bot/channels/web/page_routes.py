"""The dashboard's pages and downloads. Each one reads the viewer's session and the data in
one read-only session, then renders; scope is checked here, on the server, for every page and
every download (spec §6): a Marac outside it is refused, an area is cut to what may be seen."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from bot.channels.web import downloads
from bot.channels.web.filters import Filters, area_choices, read_filters, years
from bot.channels.web.pages import grid as grid_page
from bot.channels.web.pages import marac as marac_page
from bot.channels.web.pages import national as national_page
from bot.channels.web.pages import operator as operator_page
from bot.channels.web.render import bars
from bot.channels.web.site import NotSignedIn, Site
from bot.channels.web.viewer import Viewer
from handlers.questions.registry import RegistrySnapshot
from kernel.quarters import Quarter
from kernel.wording import web as words
from store.names import name_key

Page = Callable[[Session, Viewer], web.Response]


class Refused(Exception):
    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


class PageRoutes:
    def __init__(self, site: Site) -> None:
        self.site = site

    def mount(self, app: web.Application) -> None:
        app.router.add_get("/", self.grid)
        app.router.add_get("/national", self.national)
        app.router.add_get("/operator", self.operator)
        app.router.add_get("/marac/{name}", self.marac)
        app.router.add_get("/download/{kind}.{fmt}", self.download)
        app.router.add_get("/marac/{name}/download.{fmt}", self.marac_download)

    def _today(self) -> date:
        from datetime import datetime

        return datetime.now(self.site.settings.tz).date()

    async def _serve(self, request: web.Request, build: Callable[[Session, Viewer], Any],
                     render: Callable[[Viewer, Any], web.StreamResponse]
                     ) -> web.StreamResponse:
        try:
            viewer, found = await self.site.as_viewer(request, _catching(build))
        except NotSignedIn:
            raise web.HTTPSeeOther("/login") from None
        if isinstance(found, Refused):
            return self.site.page("message.html", status=found.status, title=found.title,
                                  message=found.message, viewer=viewer)
        return render(viewer, found)

    def _context(self, session: Session, viewer: Viewer, query: Any
                 ) -> tuple[RegistrySnapshot, Filters]:
        registry = RegistrySnapshot.load(session)
        return registry, read_filters(query, registry, self._today())

    def _chooser(self, viewer: Viewer, registry: RegistrySnapshot, filters: Filters
                 ) -> dict[str, Any]:
        regions, forces = area_choices(viewer, registry)
        return {"filters": filters, "years": years(self._today()), "regions": regions,
                "forces": forces}

    async def grid(self, request: web.Request) -> web.StreamResponse:
        def build(session: Session, viewer: Viewer) -> dict[str, Any]:
            registry, filters = self._context(session, viewer, request.query)
            found = grid_page.build(session, viewer, filters, registry=registry,
                                    today=self._today(), settings=self.site.settings)
            return {"page": found, **self._chooser(viewer, registry, filters)}

        return await self._serve(request, build, lambda viewer, ctx: self.site.page(
            "grid.html", viewer=viewer, title=words.TITLE_GRID, **ctx))

    async def national(self, request: web.Request) -> web.StreamResponse:
        def build(session: Session, viewer: Viewer) -> dict[str, Any]:
            registry, filters = self._context(session, viewer, request.query)
            found = national_page.build(session, viewer, filters, registry=registry,
                                        today=self._today(), settings=self.site.settings)
            return {"page": found, **self._chooser(viewer, registry, filters)}

        return await self._serve(request, build, lambda viewer, ctx: self.site.page(
            "national.html", viewer=viewer, title=words.TITLE_NATIONAL, **ctx))

    async def operator(self, request: web.Request) -> web.StreamResponse:
        def build(session: Session, viewer: Viewer) -> Any:
            if not viewer.is_admin:
                return Refused(403, words.FORBIDDEN_TITLE, words.OPERATOR_ONLY)
            return operator_page.build(session, self.site.run_status)

        return await self._serve(request, build, lambda viewer, found: self.site.page(
            "operator.html", viewer=viewer, title=words.TITLE_OPERATOR, page=found))

    async def marac(self, request: web.Request) -> web.StreamResponse:
        def build(session: Session, viewer: Viewer) -> Any:
            registry, filters = self._context(session, viewer, request.query)
            marac = _marac(registry, viewer, request.match_info["name"])
            if isinstance(marac, Refused):
                return marac
            quarter, problems = _quarter(request.query.get("quarter", ""))
            year = quarter.financial_year if quarter else filters.year
            found = marac_page.build(session, viewer, marac, year=year, quarter=quarter,
                                     today=self._today(), settings=self.site.settings)
            return {"page": found, "problems": (*filters.problems, *problems),
                    "bars": bars([(t.quarter, t.cases) for t in found.trend]),
                    "years": years(self._today())}

        return await self._serve(request, build, lambda viewer, ctx: self.site.page(
            "marac.html", viewer=viewer, title=ctx["page"].marac.name, **ctx))

    async def download(self, request: web.Request) -> web.StreamResponse:
        kind, fmt = request.match_info["kind"], request.match_info["fmt"]
        if kind not in downloads.PAGE_KINDS or fmt not in downloads.FORMATS:
            raise web.HTTPNotFound

        def build(session: Session, viewer: Viewer) -> Any:
            registry, filters = self._context(session, viewer, request.query)
            return downloads.page_file(session, viewer, kind, fmt, filters, registry=registry,
                                       today=self._today(), settings=self.site.settings)

        return await self._serve(request, build, lambda _viewer, found: found.response())

    async def marac_download(self, request: web.Request) -> web.StreamResponse:
        fmt = request.match_info["fmt"]
        if fmt not in downloads.FORMATS:
            raise web.HTTPNotFound

        def build(session: Session, viewer: Viewer) -> Any:
            registry, filters = self._context(session, viewer, request.query)
            marac = _marac(registry, viewer, request.match_info["name"])
            if isinstance(marac, Refused):
                return marac
            return downloads.marac_file(session, marac, fmt, filters.year,
                                        today=self._today(), settings=self.site.settings)

        return await self._serve(request, build, lambda _viewer, found: found.response())


def _catching(build: Callable[[Session, Viewer], Any]) -> Callable[[Session, Viewer], Any]:
    """A refusal decided inside the read is returned, not raised (the viewer is still known)."""

    def run(session: Session, viewer: Viewer) -> Any:
        try:
            return build(session, viewer)
        except Refused as refused:
            return refused

    return run


def _marac(registry: RegistrySnapshot, viewer: Viewer, name: str) -> Any:
    entry = registry.marac(name_key(name[:200]))
    if entry is None:
        return Refused(404, words.NOT_FOUND_TITLE, words.unknown_marac(name))
    if not viewer.may_view(entry.name):
        # The same answer whether or not the Marac exists would hide nothing here: its name
        # is in every public list of Maracs. What is refused is its data.
        return Refused(403, words.FORBIDDEN_TITLE, words.outside_scope(entry.name))
    return entry


def _quarter(text: str) -> tuple[Quarter | None, tuple[str, ...]]:
    if not text:
        return None, ()
    try:
        return Quarter.from_label(text[:20]), ()
    except ValueError:
        return None, (words.unknown_quarter(text),)
