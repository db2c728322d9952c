"""The dashboard end to end (issue 15): the real ``python -m bot run`` process, signed into
through the link it emails to the outbox folder, driven in Debian's headless Chromium.

One bot for the module, on SQLite, with a registry of two regions (Croydon in London, Leeds in
Yorkshire) and Croydon's Q3 2024/25 return sent in over SMTP. Each person has a browser of
their own (their own cookies). What each role may and may not see is asserted on the pages
and on the downloads, and sign-in's refusals (a reused or forged link, no cookie) likewise.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest

from kernel.wording import web as words
from tests.run_e2e_support import (
    MAILBOX,
    BotDb,
    BotProcess,
    bot_environment,
    send_until_accepted,
    submission,
    wait_until,
)
from tests.web_browser_support import Browser, available

pytestmark = pytest.mark.skipif(not available(), reason="needs Debian's chromium and driver")

WAIT = 30.0
YEAR = "2024/25"
COORDINATOR = "croydon.coordinator@example.org"
MANAGER = "london.manager@example.org"
ADMIN = "data.team@example.org"
LEEDS = "leeds.coordinator@example.org"
MARACS = """name,aliases,police_force_area,region,nation,local_authorities,adult_female_population
Croydon,,Metropolitan Police,London,England,London Borough of Croydon,160000
Leeds,,West Yorkshire Police,Yorkshire and the Humber,England,Leeds City Council,330000
"""
CONTACTS = f"""name,email,role,maracs,slack_user_id,teams_id,channels
Cora Croydon,{COORDINATOR},coordinator,Croydon,,,email
Lee Leeds,{LEEDS},coordinator,Leeds,,,email
Mina <b>Manager</b>,{MANAGER},manager,London,,,email
Ada Admin,{ADMIN},admin,*,,,email
"""


class Dashboard:
    """The running bot and how to reach its pages and its outbox."""

    def __init__(self, bot: BotProcess, work: Path) -> None:
        self.bot, self.work = bot, work
        self.base = f"http://127.0.0.1:{bot.http_port}"
        self.outbox = work / "marac-data" / "outbox"
        self.env = bot.env

    def mails_to(self, address: str) -> list[Path]:
        found = []
        for path in sorted(self.outbox.glob("*.eml")):
            first = path.read_bytes().split(b"\n", 1)[0].decode()
            if first.strip().lower() == f"x-envelope-to: {address}":
                found.append(path)
        return found

    def signin_link(self, address: str, before: int) -> str:
        wait_until(lambda: len(self.mails_to(address)) > before, timeout=WAIT,
                   what=f"a sign-in email to {address}")
        raw = self.mails_to(address)[-1].read_bytes().split(b"\n", 1)[1]
        message = message_from_bytes(raw, policy=default_policy)
        assert str(message["Subject"]) == words.EMAIL_SUBJECT
        assert str(message["To"]).lower().endswith(address)
        body = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        match = re.search(r"(http://\S+/signin/\S+)", body)
        assert match, body
        return match.group(1)

    def sign_in(self, browser: Browser, address: str) -> str:
        """The whole way in, as a person: the form, the email, the link, the button."""
        before = len(self.mails_to(address))
        browser.get(f"{self.base}/login")
        browser.fill("#email", address)
        browser.click("form.signin button")
        browser.wait_for(words.CHECK_EMAIL_TITLE)
        link = self.signin_link(address, before)
        assert link.startswith(self.base + "/signin/")
        confirm = browser.get(link)
        assert words.LINK_CONFIRM_BUTTON in confirm
        browser.click("main form button")
        browser.wait_for(words.NAV_SIGN_OUT)
        assert browser.url == self.base + "/"
        return link

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot", *args], cwd=self.work, env=self.env,
                              capture_output=True, text=True, timeout=120)


def fetch(url: str, *, cookie: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request without following redirects (urllib, beside the browser)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def session_cookie(browser: Browser) -> str:
    (found,) = [c for c in browser.cookies() if c["name"] == "marac_session"]
    return f"marac_session={found['value']}"


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    work = tmp_path_factory.mktemp("web")
    env = {"MARAC_HTTP_LISTEN": "127.0.0.1:0", "MARAC_SMTP_LISTEN": "127.0.0.1:0",
           "MARAC_MAILBOX_ADDRESS": MAILBOX}
    for name, text in (("maracs.csv", MARACS), ("contacts.csv", CONTACTS)):
        (work / name).write_text(text)
        done = subprocess.run([sys.executable, "-m", "bot", "registry", "import", name],
                              cwd=work, env=bot_environment(env), capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
    with BotProcess(work, env).start() as bot:
        send_until_accepted("127.0.0.1", lambda: bot.smtp_port, submission(), timeout=WAIT)
        db = BotDb(work / "marac-data" / "marac.db")
        wait_until(lambda: any(s == "sent" for _, k, s, _ in db.outbound()
                               if k.startswith("reply:")), timeout=WAIT,
                   what="the reply to Croydon's return")
        yield Dashboard(bot, work)


@pytest.fixture(scope="module")
def browsers(dashboard: Dashboard) -> Iterator[dict[str, Browser]]:
    """A signed-in browser per role (one sign-in each, shared by the tests that look)."""
    opened: dict[str, Browser] = {}
    try:
        for who in (COORDINATOR, MANAGER, ADMIN):
            opened[who] = Browser()
            dashboard.sign_in(opened[who], who)
        yield opened
    finally:
        for browser in opened.values():
            browser.close()


def test_signing_in_sets_a_session_cookie_httponly_lax_for_a_working_day(
        dashboard: Dashboard, browsers: dict[str, Browser]) -> None:
    (cookie,) = [c for c in browsers[COORDINATOR].cookies() if c["name"] == "marac_session"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["secure"] is False  # plain http on loopback; https sets it (test_web_signin)
    status, headers, _ = fetch(dashboard.base + "/", cookie=session_cookie(
        browsers[COORDINATOR]))
    assert status == 200
    assert "script-src" not in headers["Content-Security-Policy"]  # none at all: default-src
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"


def test_a_coordinator_sees_their_own_marac_only(
        dashboard: Dashboard, browsers: dict[str, Browser]) -> None:
    browser = browsers[COORDINATOR]
    grid = browser.get(f"{dashboard.base}/?year={YEAR}")
    assert ">Croydon</a>" in grid and "Leeds" not in grid
    # Croydon's Q3 return is in: its cell says so in words, with the meetings.
    row = browser.text("table.upload-grid tbody tr")
    assert row.split()[0] == "Croydon" and "accepted (6)" in row
    assert words.NAV_OPERATOR not in grid
    page = browser.get(f"{dashboard.base}/marac/Leeds")
    assert browser.text("h1") == words.FORBIDDEN_TITLE
    assert words.outside_scope("Leeds") in page
    browser.get(f"{dashboard.base}/operator")
    assert browser.text("h1") == words.FORBIDDEN_TITLE
    national = browser.get(f"{dashboard.base}/national?year={YEAR}")
    assert "Yorkshire" not in national
    cookie = session_cookie(browser)
    status, _, body = fetch(f"{dashboard.base}/download/grid.csv?year={YEAR}", cookie=cookie)
    assert status == 200
    assert [r[0] for r in csv.reader(io.StringIO(body.decode()))][1:] == ["Croydon"]
    status, _, _ = fetch(f"{dashboard.base}/marac/Leeds/download.csv", cookie=cookie)
    assert status == 403


def test_a_manager_sees_their_region_and_not_the_others(
        dashboard: Dashboard, browsers: dict[str, Browser]) -> None:
    browser = browsers[MANAGER]
    grid = browser.get(f"{dashboard.base}/?year={YEAR}")
    assert ">Croydon</a>" in grid and "Leeds" not in grid
    # The name from the registry is shown as text, never as markup.
    assert "Mina &lt;b&gt;Manager&lt;/b&gt;" in grid and "<b>Manager</b>" not in grid
    browser.get(f"{dashboard.base}/marac/Leeds")
    assert browser.text("h1") == words.FORBIDDEN_TITLE
    browser.get(f"{dashboard.base}/?year={YEAR}&region=Yorkshire+and+the+Humber")
    assert "Leeds" not in browser.source()
    browser.get(f"{dashboard.base}/operator")
    assert browser.text("h1") == words.FORBIDDEN_TITLE
    status, _, body = fetch(f"{dashboard.base}/download/grid.csv?year={YEAR}",
                            cookie=session_cookie(browser))
    assert status == 200 and b"Leeds" not in body and b"Croydon" in body


def test_an_admin_sees_everything_and_the_operator_view(
        dashboard: Dashboard, browsers: dict[str, Browser]) -> None:
    browser = browsers[ADMIN]
    grid = browser.get(f"{dashboard.base}/?year={YEAR}")
    assert ">Croydon</a>" in grid and ">Leeds</a>" in grid
    # Leeds sent nothing for Q4 2024/25 (long overdue): it is in the missing list, with its
    # coordinator to chase.
    missing = browser.text("aside.missing")
    assert "Leeds" in missing and LEEDS in missing and "Q4 2024/25" in missing
    operator = browser.get(f"{dashboard.base}/operator")
    assert browser.text("h1") == words.TITLE_OPERATOR
    assert words.OP_NEXT_REMINDER in operator and "SMTP listener on" in operator
    marac = browser.get(f"{dashboard.base}/marac/Croydon?quarter=Q3+2024%2F25")
    assert browser.text("h1") == "Croydon"
    # Each meeting's history names the file, the sheet row and the sender.
    history = browser.text("section:last-of-type")
    assert "croydon-q3.xlsx" in history and COORDINATOR in history
    assert "<svg" in marac  # the trend chart, drawn on the server


def test_a_link_works_once_and_a_forged_one_not_at_all(
        dashboard: Dashboard, browsers: dict[str, Browser]) -> None:
    with Browser() as browser:
        link = dashboard.sign_in(browser, LEEDS)
        assert ">Leeds</a>" in browser.get(f"{dashboard.base}/?year={YEAR}")
        # The same link again, in a browser of its own: refused at the page and at the POST.
        browser.delete_cookies()
        browser.get(link)
        assert browser.text("h1") == words.LINK_BAD_TITLE
        token, _, mac = link.rpartition(".")
        forged = f"{token}.{'0' * len(mac)}"
        browser.get(forged)
        assert browser.text("h1") == words.LINK_BAD_TITLE
        browser.get(f"{dashboard.base}/")
        assert browser.url == f"{dashboard.base}/login"  # no cookie, no page


def test_no_page_or_download_without_a_session(dashboard: Dashboard) -> None:
    for path in ("/", "/national", "/operator", "/marac/Croydon", "/download/grid.csv",
                 "/download/national.xlsx", "/marac/Croydon/download.csv"):
        status, headers, _ = fetch(dashboard.base + path)
        assert (status, headers.get("Location")) == (303, "/login"), path
        status, _, _ = fetch(dashboard.base + path, cookie="marac_session=forged.0000")
        assert status == 303, path


def test_an_unknown_address_gets_the_same_page_and_no_email(dashboard: Dashboard) -> None:
    before = len(dashboard.mails_to(LEEDS))
    pages = []
    with Browser() as browser:
        for address in ("stranger@example.org", LEEDS):
            browser.get(f"{dashboard.base}/login")
            browser.fill("#email", address)
            browser.click("form.signin button")
            pages.append(browser.wait_for(words.CHECK_EMAIL_TITLE))
    assert words.CHECK_EMAIL in pages[0] and pages[0] == pages[1]
    # Link requests are handled after the page, one at a time in the order asked: once the
    # known address's email is out, the stranger's request has been handled too.
    dashboard.signin_link(LEEDS, before)
    db = BotDb(dashboard.work / "marac-data" / "marac.db")
    assert not [r for r in db.rows("SELECT recipient FROM outbound_queue")
                if "stranger" in r[0]]


def test_page_chat_answer_and_report_give_the_same_numbers(
        dashboard: Dashboard, browsers: dict[str, Browser]) -> None:
    browser = browsers[ADMIN]
    cookie = session_cookie(browser)
    # The grid download is the report's file, byte for byte.
    out = dashboard.work / "grid.csv"
    done = dashboard.cli("report", "grid", "--year", YEAR, "--out", str(out))
    assert done.returncode == 0, done.stderr
    _, _, page_grid = fetch(f"{dashboard.base}/download/grid.csv?year={YEAR}", cookie=cookie)
    assert page_grid == out.read_bytes()
    out = dashboard.work / "national.csv"
    done = dashboard.cli("report", "national", "--year", YEAR, "--out", str(out))
    assert done.returncode == 0, done.stderr
    _, _, page_national = fetch(f"{dashboard.base}/download/national.csv?year={YEAR}",
                                cookie=cookie)
    assert page_national == out.read_bytes()
    # The page's national table shows the report's figures (cases discussed, per quarter).
    browser.get(f"{dashboard.base}/national?year={YEAR}")
    report_rows = {r[0]: r[1:] for r in csv.reader(io.StringIO(out.read_text()))}
    table = browser.text("table.figures tbody")
    (cases_row,) = [line for line in table.splitlines() if line.startswith("Cases discussed")]
    assert cases_row.split()[2:6] == [f"{int(v):,}" if v else "–"
                                      for v in report_rows["Cases discussed"][:4]]
    # The Marac page's answer is the chat answer, word for word.
    done = dashboard.cli("ask", "has Croydon uploaded Q3 2024/25", "--as", ADMIN)
    assert done.returncode == 0, done.stderr
    browser.get(f"{dashboard.base}/marac/Croydon?quarter=Q3+2024%2F25")
    answer = browser.text("p.answer")
    assert answer.split() == done.stdout.split()
    assert "6 meetings" in answer
