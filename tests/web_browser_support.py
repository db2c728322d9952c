"""A headless Chromium driven through chromedriver's W3C WebDriver HTTP API (no client library:
a handful of endpoints over urllib), for the dashboard tests and bench/screenshot_dashboard.py.

Both binaries are Debian's (``chromium``, ``chromium-driver``); nothing is fetched from the
network. Each ``Browser`` has its own profile, so its cookies are its own: one per person.
"""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
START_TIMEOUT = 30.0


def available() -> bool:
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class WebDriverError(AssertionError):
    pass


class Browser:
    """One chromedriver and one headless Chromium session."""

    def __init__(self, *, width: int = 1280, height: int = 900) -> None:
        self.port = _free_port()
        self.profile = Path(tempfile.mkdtemp(prefix="marac-chromium-"))
        self.driver = subprocess.Popen(
            [str(CHROMEDRIVER), f"--port={self.port}"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        self._wait_ready()
        options = {"binary": str(CHROMIUM), "args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", "--disable-background-networking", "--disable-extensions",
            f"--user-data-dir={self.profile}", f"--window-size={width},{height}"]}
        found = self._call("POST", "/session", {"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "goog:chromeOptions": options}}})
        self.session = found["sessionId"]

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if self._call("GET", "/status").get("ready"):
                    return
            except (OSError, WebDriverError):
                pass
            if time.monotonic() > deadline:
                raise WebDriverError("chromedriver did not start")
            time.sleep(0.05)  # polling a starting process; nothing signals readiness

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
            headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read() or b"{}").get("value")
        except urllib.error.HTTPError as exc:
            raise WebDriverError(f"{method} {path}: {exc.read()[:500]!r}") from None

    def _session(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._call(method, f"/session/{self.session}{path}", body)

    # -- what tests use --------------------------------------------------------------------------

    def get(self, url: str) -> str:
        """Open ``url`` (following redirects) and return the page's HTML."""
        self._session("POST", "/url", {"url": url})
        return self.source()

    def source(self) -> str:
        return str(self._session("GET", "/source"))

    @property
    def url(self) -> str:
        return str(self._session("GET", "/url"))

    def text(self, css: str = "body") -> str:
        """The visible text of the first element ``css`` selects."""
        element = self._session("POST", "/element", {"using": "css selector", "value": css})
        ref = next(iter(element.values()))
        return str(self._session("GET", f"/element/{ref}/text"))

    def fill(self, css: str, value: str) -> None:
        element = self._session("POST", "/element", {"using": "css selector", "value": css})
        ref = next(iter(element.values()))
        self._session("POST", f"/element/{ref}/clear", {})
        self._session("POST", f"/element/{ref}/value", {"text": value})

    def click(self, css: str) -> str:
        element = self._session("POST", "/element", {"using": "css selector", "value": css})
        ref = next(iter(element.values()))
        self._session("POST", f"/element/{ref}/click", {})
        return self.source()

    def wait_for(self, text: str, *, timeout: float = 30.0) -> str:
        """The page's HTML once it holds ``text`` (a click's navigation may still be under
        way when the click returns)."""
        deadline = time.monotonic() + timeout
        while True:
            page = self.source()
            if text in page:
                return page
            if time.monotonic() > deadline:
                raise WebDriverError(f"{text!r} not on the page within {timeout} s:\n{page}")
            time.sleep(0.05)  # polling the page: the browser signals nothing to us

    def cookies(self) -> list[dict[str, Any]]:
        return list(self._session("GET", "/cookie"))

    def delete_cookies(self) -> None:
        self._session("DELETE", "/cookie")

    def set_size(self, width: int, height: int) -> None:
        self._session("POST", "/window/rect", {"width": width, "height": height})

    def screenshot(self, path: Path, *, full_page: bool = True) -> None:
        """A PNG of the page (its whole height when ``full_page``)."""
        if full_page:
            height = int(self._session("POST", "/execute/sync", {
                "script": "return document.documentElement.scrollHeight", "args": []}))
            rect = self._session("GET", "/window/rect")
            self.set_size(int(rect["width"]), min(max(height + 140, 400), 6000))
        path.write_bytes(base64.b64decode(self._session("GET", "/screenshot")))

    def close(self) -> None:
        with contextlib.suppress(OSError, WebDriverError):
            self._session("DELETE", "")
        self.driver.terminate()
        try:
            self.driver.wait(10)
        except subprocess.TimeoutExpired:
            self.driver.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
