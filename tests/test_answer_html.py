"""The grid answer by email (issue 12): its picture inline (``cid:``) above the same grid as
an HTML table coloured like the picture, and a plain-text part that stays a readable table.
Through the stored inbox, the Worker and the real dispatcher on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path

import pytest

from kernel import wording
from reports import grid as grid_report
from reports.answers_html import GRID_IMAGE_ID
from store.db import Store
from tests.dispatch_support import (
    Mailroom,
    attachments_of,
    body_of,
    compose,
    fixture,
    html_of,
    registered_mailroom,
)


@pytest.fixture
def mailroom(db_store: Store, tmp_path: Path) -> Mailroom:
    return registered_mailroom(db_store, tmp_path)


def related_image(message: EmailMessage) -> EmailMessage:
    """The picture the HTML part shows, from the multipart/related around it."""
    for part in message.walk():
        if part.get("Content-ID") == f"<{GRID_IMAGE_ID}>":
            assert isinstance(part, EmailMessage)
            return part
    raise AssertionError("no related image")


def test_the_grid_answer_shows_its_picture_inline_above_an_html_table(
    mailroom: Mailroom,
) -> None:
    mailroom.exchange(compose(files=[fixture("clean_libreoffice.xlsx")]))
    asked = mailroom.exchange(compose(subject="grid", body="grid London 2024/25\n"))
    assert asked.outcome == "question-grid"
    reply = asked.reply
    html = html_of(reply)
    assert html.index(f'<img src="cid:{GRID_IMAGE_ID}"') < html.index("<table")
    image = related_image(reply)
    assert image.get_content_type() == "image/png"
    assert bytes(image.get_payload(decode=True) or b"").startswith(b"\x89PNG")
    assert related_image(reply).get_content_disposition() != "attachment"
    assert not any(name.endswith(".png") for name in attachments_of(reply))  # not a file too
    # Croydon's Q3 is in, coloured as in the picture, with its meetings counted.
    croydon = re.search(r"<tr><th[^>]*>Croydon</th>(.*?)</tr>", html)
    assert croydon is not None
    accepted = wording.GRID_STATE_LABELS["accepted"]
    assert (f'background: {grid_report.state_colour("accepted")}">{accepted} (6)</td>'
            in croydon.group(1))
    assert "(0)" not in html  # a quarter with no meetings is its state alone
    # The plain text keeps its fixed-width table: a line per Marac, the quarters in columns.
    text = body_of(reply)
    croydon_line = next(line for line in text.splitlines() if line.startswith("Croydon "))
    assert accepted in croydon_line
    assert any(line.startswith("Marac ") and "Q1" in line and "Q4" in line
               for line in text.splitlines())
