"""bench/screenshot_replies.py works (issue 12): the real reply and grid answer as .eml, their
HTML with the inline picture linked, and PNGs rendered by headless Chromium."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "screenshot_replies.py"
CHROMIUM = Path("/usr/bin/chromium")


def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("screenshot_replies", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")
def test_the_script_writes_eml_html_and_screenshots(tmp_path: Path) -> None:
    assert script().main(["--out", str(tmp_path)]) == 0
    for stem in ("submission-reply", "grid-answer"):
        assert b"Content-Type: text/html" in (tmp_path / f"{stem}.eml").read_bytes()
        png = (tmp_path / f"{stem}.png").read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 10_000  # a page, not a blank
    grid_html = (tmp_path / "grid-answer.html").read_text()
    assert "cid:" not in grid_html and 'src="grid-answer-grid_marac.png"' in grid_html
    assert (tmp_path / "grid-answer-grid_marac.png").read_bytes().startswith(b"\x89PNG")
    reply_html = (tmp_path / "submission-reply.html").read_text()
    # A table of findings (several_issues.xlsx), and Lambeth's file refused in one line.
    assert "<table" in reply_html and ">B3<" in reply_html
    assert "not registered to send data for Lambeth" in reply_html
