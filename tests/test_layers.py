"""The package graph keeps its layers (issue 11): import-linter's contracts in pyproject.toml.

bot > handlers > reports > store > validation > kernel; nothing imports upward, and no channel
imports another. The first upward import fails this test, naming the import chain.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHANNEL_WORDS = ("slack", "teams", "imap", "smtp")


def test_the_import_contracts_are_kept() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command;"
         " sys.exit(lint_imports_command(['--no-cache']))"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "2 kept, 0 broken" in result.stdout


def test_bot_has_at_most_a_dozen_modules_at_its_top() -> None:
    top = [p.name for p in (ROOT / "bot").glob("*.py")]
    assert len(top) <= 12, sorted(top)


def _imported(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_no_module_outside_a_channel_folder_imports_a_chat_channel_or_a_mail_protocol() -> None:
    # Outside bot/channels/<name>/, code reaches Slack, Teams, IMAP and SMTP only through the
    # channel registry (the settings object carries their values, and names them for that).
    offenders = []
    for path in ROOT.glob("*/**/*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in ("tests", "bench", "build") or rel.parts[:2] == ("bot", "channels"):
            continue
        for name in _imported(path):
            parts = name.split(".")
            if any(word in part for part in parts for word in CHANNEL_WORDS):
                offenders.append(f"{rel}: {name}")
    assert not offenders
