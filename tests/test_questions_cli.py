"""``marac-bot ask`` and ``marac-bot report grid`` against a seeded SQLite file, through the
command line's own entry point (and once as a real process)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from bot.cli import main
from store.db import Store
from tests.questions_support import load_registry, seed

REPO = Path(__file__).resolve().parents[1]
ON = ["--today", "2025-02-03"]


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'marac.db'}"
    store = Store.open(url)
    with store.sessions() as session:
        load_registry(session)
        seed(session)
    store.close()
    return url


@pytest.fixture
def cli(database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MARAC_DATABASE_URL", database)
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    return tmp_path


def test_ask_answers_as_the_operator(cli: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "has Croydon uploaded Q3?", *ON]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Croydon has uploaded Q3 2024/25 (1 Oct – 31 Dec 2024): 3 meetings")
    assert "Cara Coordinator" in out


def test_ask_json_has_the_interface_shape(cli: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "has Kirklees uploaded Q3?", "--json", *ON]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["intent"] == "has-uploaded" and body["answer"].startswith("Kirklees has not")
    data = body["data"]
    assert (data["marac"], data["quarter"], data["uploaded"]) == ("Kirklees", "Q3 2024/25", False)
    assert (data["meetings"], data["cases"]) == (0, None)


def test_ask_as_a_london_manager(cli: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ask", "who hasn't uploaded Q3 2024/25 in London", "--as", "lena@example.org",
                 "--json", *ON])
    body = json.loads(capsys.readouterr().out)
    assert code == 0
    assert body["data"]["quarter"] == "Q3 2024/25"
    assert body["data"]["missing"] == ["Kingston upon Thames"]
    assert "kit@example.org" in body["answer"]


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["ask", "has Leeds uploaded Q3?", "--as", "cara@example.org"], "not one of them"),
        (["ask", "has Leeds uploaded Q3?", "--as", "stranger@example.org"], "not registered"),
        (["ask", "tell me a joke"], "did not understand"),
        (["ask", "has west uploaded q3"], "Did you mean West Yorkshire Police?"),
    ],
)
def test_ask_exits_1_when_not_answered(cli: Path, capsys: pytest.CaptureFixture[str],
                                       argv: list[str], says: str) -> None:
    assert main([*argv, *ON]) == 1
    assert says in capsys.readouterr().out


def test_ask_saves_what_it_attaches(cli: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "grid London 2024/25", "--save", "out", *ON]) == 0
    png = cli / "out" / "upload-grid-london-2024-25.png"
    assert f"Wrote {png.relative_to(cli)}" in capsys.readouterr().out
    with Image.open(png) as image:
        assert image.format == "PNG"
    assert main(["ask", "template", "--as", "cara@example.org", "--save", "out", *ON]) == 0
    assert (cli / "out" / "marac-data-template-croydon.xlsx").read_bytes()[:2] == b"PK"


def test_report_grid_writes_csv_text_and_png(cli: Path, capsys: pytest.CaptureFixture[str]
                                             ) -> None:
    base = ["report", "grid", "--year", "2024/25", "--region", "London", *ON]
    assert main([*base, "--out", "grid.csv"]) == 0
    rows = list(csv.reader(io.StringIO((cli / "grid.csv").read_text("utf-8"))))
    assert rows[0][3:] == [f"Q{n} 2024/25" for n in (1, 2, 3, 4)]
    assert rows[1:] == [
        ["Barking and Dagenham", "London", "Metropolitan Police",
         "accepted", "overdue", "accepted", "not due"],
        ["Croydon", "London", "Metropolitan Police", "accepted", "accepted", "held", "not due"],
        ["Kingston upon Thames", "London", "Metropolitan Police",
         "accepted", "overdue", "overdue", "not due"],
    ]
    assert main([*base, "--out", "grid.txt"]) == 0
    assert (cli / "grid.txt").read_text("utf-8").startswith(
        "Upload grid, London, 2024/25 (1 Apr 2024 – 31 Mar 2025), as at 3 Feb 2025")
    assert main([*base, "--out", "grid.png"]) == 0
    with Image.open(cli / "grid.png") as image:
        assert image.format == "PNG" and image.width > 400
    assert "Wrote the upload grid (London, 2024/25) to grid.png" in capsys.readouterr().out


def test_report_grid_of_every_marac_prints_text(cli: Path, capsys: pytest.CaptureFixture[str]
                                                ) -> None:
    assert main(["report", "grid", "--year", "2024/25", *ON]) == 0
    out = capsys.readouterr().out
    assert "Upload grid, all Maracs" in out and "Glasgow" in out and "Leeds" in out


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--region", "Londn"], "Did you mean London?"),
        (["--year", "2024/26"], "is not a financial year"),
        (["--out", "grid.pdf"], "must end .png, .xlsx, .csv or .txt"),
    ],
)
def test_report_grid_usage_errors_exit_2(cli: Path, capsys: pytest.CaptureFixture[str],
                                         argv: list[str], says: str) -> None:
    assert main(["report", "grid", *argv, *ON]) == 2
    assert says in capsys.readouterr().err


def test_marac_bot_ask_as_a_process(database: str, tmp_path: Path) -> None:
    env = {**os.environ, "MARAC_DATABASE_URL": database, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "has Croydon uploaded Q3?", *ON],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Croydon has uploaded Q3 2024/25" in done.stdout
