"""The dashboard's pages and downloads on SQLite and PostgreSQL (issue 15), through a real
aiohttp server on loopback with the question tests' registry and seed (Maracs in five regions,
a held change, managers of a region and of a force area): who sees what on every page and
download, the Marac page's history and held change, the operator view, and bad input."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, text

from bot.channels.web.endpoints import WebEndpoints
from bot.channels.web.pages.operator import SHOWN_CHARS, Component, RunStatus
from bot.channels.web.secret import secret_key
from bot.channels.web.signin import Signer, issue_link, redeem_link
from bot.settings import Settings
from kernel.wording import web as words
from store.db import Store
from store.models import Marac, TeamMessage
from store.names import name_key
from store.queue import enqueue_inbound, fail_inbound
from store.registry import find_contact
from store.types import utcnow
from tests.questions_support import SENT, load_registry, seed
from tests.test_store_reading import USES_BEFORE_PREPARED

YEAR = "?year=2024%2F25"
ALL = {"Croydon", "Barking and Dagenham", "Kingston upon Thames", "Leeds", "Kirklees",
       "Ashford", "Canterbury", "Cardiff", "Glasgow"}
SEES = {
    "cara@example.org": {"Croydon"},  # a coordinator
    "chris@example.org": {"Croydon"},  # a chair
    "dana@example.org": {"Barking and Dagenham", "Leeds"},  # a coordinator of two
    "mo@example.org": {"Leeds", "Kirklees"},  # a force area's manager
    "lena@example.org": {"Croydon", "Barking and Dagenham", "Kingston upon Thames"},  # region
    "ada@example.org": ALL,  # an admin
}
Scenario = Callable[[TestClient, Callable[[str], str]], Awaitable[None]]


@pytest.fixture
def seeded(db_store: Store) -> Store:
    with db_store.transaction() as session:
        load_registry(session)
    with db_store.sessions() as session:
        seed(session)
    return db_store


def _run(store: Store, tmp_path: Path, scenario: Scenario) -> None:
    settings = Settings(data_dir=tmp_path)
    signer = Signer(secret_key(settings))

    def cookie(email: str) -> str:
        now = utcnow()
        with store.transaction() as session:
            contact = find_contact(session, email)
            assert contact is not None
            found = redeem_link(session, signer, issue_link(session, signer, contact, now=now),
                                now=now)
            assert found is not None
            return f"marac_session={found[1]}"

    app = web.Application()
    status = RunStatus(("SMTP listener on 127.0.0.1:8025",),
                       datetime(2025, 2, 4, 9, 30, tzinfo=UTC),
                       (Component("imap", "down", datetime(2025, 2, 4, 8, 0, tzinfo=UTC),
                                  "connection refused"),
                        Component("relay", "up", datetime(2025, 2, 4, 7, 0, tzinfo=UTC), None)))
    WebEndpoints(settings, store, queue_reply=lambda *_: None, wake_outbox=lambda: None,
                 run_status=lambda: status).mount(app)

    async def go() -> None:
        async with TestClient(TestServer(app)) as client:
            await scenario(client, cookie)

    asyncio.run(go())


async def _get(client: TestClient, path: str, cookie: str) -> tuple[int, str]:
    response = await client.get(path, headers={"Cookie": cookie}, allow_redirects=False)
    return response.status, (await response.read()).decode("utf-8", errors="replace")


def test_every_page_and_download_shows_what_the_role_may_see(seeded: Store,
                                                             tmp_path: Path) -> None:
    async def scenario(client: TestClient, cookie: Callable[[str], str]) -> None:
        for email, visible in SEES.items():
            me = cookie(email)
            status, grid = await _get(client, "/" + YEAR, me)
            assert status == 200
            shown = {name for name in ALL if f">{name}</a>" in grid}
            assert shown == visible, email
            status, body = await _get(client, "/download/grid.csv" + YEAR, me)
            rows = list(csv.reader(io.StringIO(body)))[1:]
            assert {r[0] for r in rows} == visible, email
            for name in sorted(ALL):
                status, page = await _get(client, f"/marac/{name}" + YEAR, me)
                assert status == (200 if name in visible else 403), (email, name)
                assert (f"<h1>{name}</h1>" in page) == (name in visible)
                status, _ = await _get(client, f"/marac/{name}/download.xlsx" + YEAR, me)
                assert status == (200 if name in visible else 403), (email, name)
            status, national = await _get(client, "/national" + YEAR, me)
            assert status == 200
            regions = {"London", "Yorkshire and the Humber", "South East", "Wales", "Scotland"}
            assert {r for r in regions if f"<th scope=\"row\">{r}</th>" in national} == {
                r for r in regions if any(_region(n) == r for n in visible)}, email
            status, _ = await _get(client, "/operator", me)
            assert status == (200 if email == "ada@example.org" else 403), email

    _run(seeded, tmp_path, scenario)


def _region(marac: str) -> str:
    return {"Croydon": "London", "Barking and Dagenham": "London",
            "Kingston upon Thames": "London", "Leeds": "Yorkshire and the Humber",
            "Kirklees": "Yorkshire and the Humber", "Ashford": "South East",
            "Canterbury": "South East", "Cardiff": "Wales", "Glasgow": "Scotland"}[marac]


def test_an_area_outside_the_scope_shows_nothing_of_it(seeded: Store, tmp_path: Path) -> None:
    async def scenario(client: TestClient, cookie: Callable[[str], str]) -> None:
        me = cookie("lena@example.org")
        _, body = await _get(client, "/download/grid.csv" + YEAR + "&force=West+Yorkshire+Police",
                             me)
        assert list(csv.reader(io.StringIO(body)))[1:] == []
        _, page = await _get(client, "/" + YEAR + "&region=Yorkshire+and+the+Humber", me)
        assert "Leeds" not in page and "Kirklees" not in page

    _run(seeded, tmp_path, scenario)


def test_the_marac_page_shows_history_held_changes_and_the_trend(seeded: Store,
                                                                 tmp_path: Path) -> None:
    async def scenario(client: TestClient, cookie: Callable[[str], str]) -> None:
        status, page = await _get(client, "/marac/Croydon?quarter=Q3+2024%2F25",
                                  cookie("cara@example.org"))
        assert status == 200
        assert "croydon-fix.xlsx" in page and "waiting for confirmation" in page
        assert page.count("<table class=\"history\">") == 3  # three meetings in Q3
        # The trend covers eight quarters, the four Croydon sent with their cases.
        assert page.count("<rect ") == 8
        caption = page[page.index("<figcaption"):page.index("</figcaption>")]
        assert caption.count(words.MARAC_TREND_NONE) == 8 - len(SENT["Croydon"])

    _run(seeded, tmp_path, scenario)


def test_the_operator_view_lists_failed_messages_with_their_outcome(seeded: Store,
                                                                    tmp_path: Path) -> None:
    with seeded.transaction() as session:
        item = enqueue_inbound(session, channel="email", raw=b"x", source_key="smtp:1",
                               received_at=utcnow())
        fail_inbound(session, item, error="quarantined after 2 deaths", now=utcnow())

    async def scenario(client: TestClient, cookie: Callable[[str], str]) -> None:
        status, page = await _get(client, "/operator", cookie("ada@example.org"))
        assert status == 200
        assert "quarantined after 2 deaths" in page
        assert "04 Feb 2025 09:30" in page  # the next reminder run, in local time
        assert "SMTP listener on 127.0.0.1:8025" in page
        # Each part's health, and what is down said first, in words (not colour alone).
        assert f"{words.OP_PROBLEMS}: imap" in page
        assert '<td class="health-down">down</td>' in page and "connection refused" in page

    _run(seeded, tmp_path, scenario)


def test_the_operator_view_lists_messages_kept_for_the_data_team(seeded: Store,
                                                                 tmp_path: Path) -> None:
    with seeded.transaction() as session:
        for n, text in enumerate(("Our chair is on leave <b>until</b> May.", "y" * 900)):
            session.add(TeamMessage(inbound_id=n, received_at=datetime(2025, 2, 3, 10, n,
                                                                       tzinfo=UTC),
                                    channel="email", sender="cara@example.org",
                                    sender_name="Cara Coordinator", subject="Q3 late",
                                    text=text))

    async def scenario(client: TestClient, cookie: Callable[[str], str]) -> None:
        status, page = await _get(client, "/operator", cookie("ada@example.org"))
        assert status == 200
        section = page[page.index(words.OP_FOR_TEAM):page.index(words.OP_DEPTHS)]
        # Newest first; what they wrote as text, never as markup; the start of a long one.
        assert section.index("y" * SHOWN_CHARS) < section.index("Our chair is on leave")
        assert "y" * (SHOWN_CHARS + 1) not in section
        assert "&lt;b&gt;until&lt;/b&gt;" in section and "<b>" not in section
        assert 'href="mailto:cara@example.org"' in section and "Q3 late" in section
        assert words.OP_FOR_TEAM_NONE not in section
        # A manager does not see the operator view at all.
        assert (await _get(client, "/operator", cookie("lena@example.org")))[0] == 403

    _run(seeded, tmp_path, scenario)


def test_the_operator_view_says_when_nothing_is_kept(seeded: Store, tmp_path: Path) -> None:
    async def scenario(client: TestClient, cookie: Callable[[str], str]) -> None:
        _, page = await _get(client, "/operator", cookie("ada@example.org"))
        assert words.OP_FOR_TEAM_NONE in page

    _run(seeded, tmp_path, scenario)


@pytest.mark.parametrize(("path", "status", "says"), [
    ("/marac/%3Cscript%3Ealert(1)%3C%2Fscript%3E", 404, "&lt;script&gt;alert(1)"),
    ("/?year=the+year+dot", 200, "not a financial year"),
    ("/?region=Atlantis", 200, "not a registered area"),
    ("/?force=London", 200, "not a registered area"),  # a region is not a force area
    ("/national?year=" + "9" * 5000, 200, "not a financial year"),
    ("/marac/Croydon?quarter=Q9+2024%2F25", 200, "not a quarter"),
    ("/download/secrets.csv", 404, ""),
    ("/marac/Croydon/download.pdf", 404, ""),
])
def test_bad_input_gets_a_clear_answer(seeded: Store, tmp_path: Path, path: str, status: int,
                                       says: str) -> None:
    async def scenario(client: TestClient, cookie: Callable[[str], str]) -> None:
        found, page = await _get(client, path, cookie("ada@example.org"))
        assert found == status
        assert says in page
        assert "<script>" not in page

    _run(seeded, tmp_path, scenario)


def test_signing_out_ends_the_session_on_the_server(seeded: Store, tmp_path: Path) -> None:
    async def scenario(client: TestClient, cookie: Callable[[str], str]) -> None:
        me = cookie("cara@example.org")
        assert (await _get(client, "/", me))[0] == 200
        response = await client.post("/logout", headers={"Cookie": me}, allow_redirects=False)
        assert response.status == 303 and response.headers["Location"] == "/login"
        assert response.cookies["marac_session"].value == ""
        # The old cookie, kept by someone, opens nothing any more.
        status, _ = await _get(client, "/", me)
        assert status == 303

    _run(seeded, tmp_path, scenario)


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # prepared: PostgreSQL's
def test_pages_leave_the_connections_prepared_statements(seeded: Store, tmp_path: Path
                                                         ) -> None:
    """A page is read in a transaction ended by COMMIT: a ROLLBACK would make psycopg forget
    the pooled connection's prepared statements, which the workers use next (issue 14)."""
    assert seeded.engine.dialect.name == "postgresql"

    async def scenario(client: TestClient, cookie: Callable[[str], str]) -> None:
        admin = cookie("ada@example.org")
        for _ in range(USES_BEFORE_PREPARED + 1):
            assert (await _get(client, "/operator", admin))[0] == 200

    seeded.engine.dispose()  # one pooled connection from here: the pages' and the count's
    _run(seeded, tmp_path, scenario)
    with seeded.reading() as session:
        prepared = session.scalar(text(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE "
            "'%FROM web_sessions%'"))
    assert prepared == 1


def test_a_marac_name_with_a_slash_links_to_its_page_and_downloads(seeded: Store,
                                                                    tmp_path: Path) -> None:
    """A name is one segment of a link: "Bath/NE Somerset" was linked as two (a 404)."""
    with seeded.transaction() as session:
        marac = session.scalar(select(Marac).where(Marac.name == "Kirklees"))
        assert marac is not None
        marac.name, marac.name_key = "Bath/NE Somerset", name_key("Bath/NE Somerset")

    async def scenario(client: TestClient, cookie: Callable[[str], str]) -> None:
        me = cookie("ada@example.org")
        _, grid = await _get(client, "/" + YEAR, me)
        links = re.findall(r'href="(/marac/Bath[^"?]*)\?', grid)
        assert links and set(links) == {"/marac/Bath%2FNE%20Somerset"}
        status, page = await _get(client, links[0] + YEAR, me)
        assert status == 200 and "<h1>Bath/NE Somerset</h1>" in page
        download = re.search(r'href="(/marac/[^"]+/download\.xlsx)[^"]*"', page)
        assert download and download.group(1) == "/marac/Bath%2FNE%20Somerset/download.xlsx"
        assert (await _get(client, download.group(1) + YEAR, me))[0] == 200

    _run(seeded, tmp_path, scenario)


@pytest.mark.parametrize(("region", "shown"), [("Scotland", {"Glasgow"}), ("Wales", {"Cardiff"}),
                                              ("London", {"Croydon", "Barking and Dagenham",
                                                          "Kingston upon Thames"})])
def test_the_region_filter_takes_every_region_it_offers(seeded: Store, tmp_path: Path,
                                                        region: str, shown: set[str]) -> None:
    """The Region list offers Scotland and Wales, which are nations too: the filter took them
    for unknown areas and showed every Marac."""
    async def scenario(client: TestClient, cookie: Callable[[str], str]) -> None:
        me = cookie("ada@example.org")
        status, grid = await _get(client, f"/{YEAR}&region={region}", me)
        assert status == 200 and "not a registered area" not in grid
        assert {name for name in ALL if f">{name}</a>" in grid} == shown

    _run(seeded, tmp_path, scenario)
