"""Screenshots of the bot's HTML replies (not a test): see them as a coordinator would.

    python bench/screenshot_replies.py [--out screenshots/]

Builds two real replies through the real code (a temp SQLite store with the demo registry,
the stored inbox, the Worker and the dispatcher): the reply to a return with problems
(tests/fixtures/several_issues.xlsx with a Lambeth file Croydon may not send), and the London
manager's answer to "grid London 2024/25". Writes each
reply as the ``.eml`` the outbox would send, its HTML part as a file (the inline picture,
``cid:``, saved beside it and linked), and a PNG of that HTML rendered by headless Chromium
(``/usr/bin/chromium``; ``MARAC_CHROMIUM`` to use another).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.settings import Settings
from store.db import Store
from tests.dispatch_support import (
    MAILBOX,
    Mailroom,
    compose,
    fixture,
    load_registry,
)

MANAGER = "london.manager@example.org"  # the demo registry's manager for London
CHROMIUM = os.environ.get("MARAC_CHROMIUM", "/usr/bin/chromium")
WINDOW = "1000,1500"


def build_replies(work: Path) -> dict[str, EmailMessage]:
    """The two replies, from a fresh store: name -> the message the outbox holds."""
    store = Store.open(f"sqlite:///{work / 'marac.db'}")
    try:
        with store.transaction() as session:
            load_registry(session)
        room = Mailroom(store, Settings(data_dir=work / "data", mailbox_address=MAILBOX,
                                        smtp_listen=None, http_listen=None))
        room.exchange(compose(files=[fixture("clean_libreoffice.xlsx")]))  # Croydon's Q3 in
        problems = room.exchange(compose(subject="Q3 2024/25 return - Croydon",
                                         files=[fixture("several_issues.xlsx"),
                                                fixture("lambeth_q3.xlsx")]))
        grid = room.exchange(compose(sender=MANAGER, subject="grid",
                                     body="grid London 2024/25\n"))
        return {"submission-reply": problems.reply, "grid-answer": grid.reply}
    finally:
        store.close()


def html_page(message: EmailMessage, folder: Path, stem: str) -> Path:
    """The HTML part as a file, its cid: pictures saved beside it and linked by name."""
    part = message.get_body(preferencelist=("html",))
    assert part is not None, "no HTML part"
    html = part.get_content()
    for related in message.walk():
        cid = str(related.get("Content-ID") or "").strip("<>")
        if cid and related.get_content_maintype() == "image":
            safe = re.sub(r"[^\w.-]", "_", cid)
            name = f"{stem}-{safe}.png"
            data = related.get_payload(decode=True)
            assert isinstance(data, bytes)
            (folder / name).write_bytes(data)
            html = html.replace(f"cid:{cid}", name)
    path = folder / f"{stem}.html"
    path.write_text(html, encoding="utf-8")
    return path


def screenshot(page: Path, out: Path) -> None:
    """Render ``page`` in headless Chromium to ``out`` (a PNG)."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--user-data-dir={profile}", f"--window-size={WINDOW}",
             f"--screenshot={out}", page.resolve().as_uri()],
            check=True, capture_output=True, timeout=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("screenshots"),
                        help="folder for the .eml, .html and .png files (default screenshots/)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        replies = build_replies(Path(work))
    for stem, message in replies.items():
        (args.out / f"{stem}.eml").write_bytes(message.as_bytes())
        page = html_page(message, args.out, stem)
        screenshot(page, args.out / f"{stem}.png")
        print(args.out / f"{stem}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
