"""Screenshots of every dashboard page at desktop and phone width (issue 15).

    python bench/screenshot_dashboard.py [--out dashboard-screenshots] [--year 2024/25]

Starts the real bot (``python -m bot run``) on its embedded defaults in a scratch folder (the
demo registry of London Maracs), sends Croydon's Q3 2024/25 return in over SMTP, signs in as
the demo admin through the emailed link, and saves a full-page PNG of each page at 1280 px and
320 px wide, using Debian's headless Chromium (no network needed).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from email import message_from_bytes
from email.policy import default as default_policy
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.run_e2e_support import (
    MAILBOX,
    BotDb,
    BotProcess,
    send_until_accepted,
    submission,
    wait_until,
)
from tests.web_browser_support import Browser

ADMIN = "data.team@example.org"  # the demo registry's admin
WIDTHS = {"desktop": (1280, 900), "phone": (320, 640)}
WAIT = 60.0


def _link(outbox: Path, address: str) -> str:
    for path in sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True):
        head, _, raw = path.read_bytes().partition(b"\n")
        if head.decode().strip().lower() != f"x-envelope-to: {address}":
            continue
        body = message_from_bytes(raw, policy=default_policy).get_body(("plain",))
        found = re.search(r"http://\S+/signin/\S+", body.get_content() if body else "")
        if found:
            return found.group(0)
    raise SystemExit(f"no sign-in email to {address} in {outbox}")


def _mails(outbox: Path) -> int:
    return len(list(outbox.glob("*.eml")))


def _more_mails(outbox: Path, than: int) -> bool:
    return _mails(outbox) > than


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("dashboard-screenshots"))
    parser.add_argument("--year", default="2024/25")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="marac-screens-"))
    env = {"MARAC_HTTP_LISTEN": "127.0.0.1:0", "MARAC_SMTP_LISTEN": "127.0.0.1:0",
           "MARAC_MAILBOX_ADDRESS": MAILBOX}
    with BotProcess(work, env).start() as bot:
        send_until_accepted("127.0.0.1", lambda: bot.smtp_port, submission(), timeout=WAIT)
        db = BotDb(work / "marac-data" / "marac.db")
        wait_until(lambda: any(s == "sent" for _, k, s, _ in db.outbound()
                               if k.startswith("reply:")), timeout=WAIT, what="the reply")
        base = f"http://127.0.0.1:{bot.http_port}"
        outbox = work / "marac-data" / "outbox"
        year = args.year.replace("/", "%2F")
        pages = {
            "login": "/login",
            "grid": f"/?year={year}",
            "marac": f"/marac/Croydon?quarter=Q3+{year}",
            "national": f"/national?year={year}",
            "operator": "/operator",
        }
        for width_name, (width, height) in WIDTHS.items():
            with Browser(width=width, height=height) as browser:
                browser.set_size(width, height)  # a new window starts no narrower than 500
                browser.get(base + pages["login"])
                browser.screenshot(args.out / f"login-{width_name}.png")
                browser.set_size(width, height)
                before = _mails(outbox)
                browser.fill("#email", ADMIN)
                browser.click("form.signin button")
                browser.wait_for("Check your email")
                browser.screenshot(args.out / f"check-email-{width_name}.png")
                browser.set_size(width, height)
                # The sign-in email is a new file (the first sign-in's link is used up).
                wait_until(partial(_more_mails, outbox, before), timeout=WAIT,
                           what="the sign-in email")
                browser.get(_link(outbox, ADMIN))
                browser.click("main form button")
                browser.wait_for("Sign out")
                for name, path in pages.items():
                    if name == "login":
                        continue
                    browser.set_size(width, height)
                    browser.get(base + path)
                    browser.screenshot(args.out / f"{name}-{width_name}.png")
    for path in sorted(args.out.glob("*.png")):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
