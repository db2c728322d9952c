"""``marac-bot report grid|national|overview`` through the command line's entry point, against
a seeded SQLite file; every figure is checked against the seed, worked out here in plain
Python (tests/questions_support.py), not through the store's SQL."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image

from bot.cli import main
from bot.settings import Bands
from store.db import Store
from tests.questions_support import HELD_MEETING, MARACS_CSV, Seeded, load_registry, rate, seed
from tests.questions_support import total as seed_total

ON = ["--today", "2025-02-03"]
QUARTERS = tuple(f"Q{n} 2024/25" for n in (1, 2, 3, 4))
REGISTRY = list(csv.DictReader(io.StringIO(MARACS_CSV)))
REGION = {r["name"]: r["region"] for r in REGISTRY}
FORCE = {r["name"]: r["police_force_area"] for r in REGISTRY}
POPULATION = {r["name"]: int(r["adult_female_population"])
              for r in REGISTRY if r["adult_female_population"]}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[Seeded]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('report') / 'marac.db'}"
    store = Store.open(url)
    with store.sessions() as session:
        load_registry(session)
        stored = seed(session)
    store.close()
    return url, stored


@pytest.fixture
def cli(seeded: tuple[str, list[Seeded]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
        ) -> Path:
    monkeypatch.setenv("MARAC_DATABASE_URL", seeded[0])
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    return tmp_path


def _of(stored: list[Seeded], quarters: tuple[str, ...], region: str | None = None
        ) -> list[Seeded]:
    return [m for m in stored if m.quarter in quarters
            and (region is None or REGION[m.marac] == region)]


def _per_10k(meetings: list[Seeded]) -> float | None:
    """Cases × 4 ÷ quarters sent, per Marac, over the Maracs whose population is known."""
    annual, population = 0.0, 0
    for marac in {m.marac for m in meetings} & set(POPULATION):
        mine = [m for m in meetings if m.marac == marac]
        annual += seed_total(mine, "cases")[0] * 4 / len({m.quarter for m in mine})
        population += POPULATION[marac]
    return annual / population * 10_000 if population else None


def _pct(value: float | None) -> str:
    return "" if value is None else str(round(value * 100, 1))


def _expected_column(meetings: list[Seeded]) -> list[str]:
    """The national picture's column for these meetings, as the CSV writes it."""
    police = rate(meetings, "ref_police")
    per_10k = _per_10k(meetings)
    return [
        str(len({m.marac for m in meetings})),
        str(len(meetings)),
        str(seed_total(meetings, "cases")[0]),
        str(seed_total(meetings, "children")[0]),
        "" if per_10k is None else str(round(per_10k, 1)),
        _pct(rate(meetings, "repeat_cases")),
        _pct(None if police is None else 1 - police),
    ]


def _csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text("utf-8"))))


def test_national_csv_matches_the_seed(cli: Path, seeded: tuple[str, list[Seeded]],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "national", "--year", "2024/25", "--out", "n.csv", *ON]) == 0
    rows = _csv(cli / "n.csv")
    assert rows[0][1:] == [*QUARTERS, "Year", "National reference"]
    stored = seeded[1]
    for n, quarter in enumerate(QUARTERS, 1):
        assert [r[n] for r in rows[1:]] == _expected_column(_of(stored, (quarter,))), quarter
    assert [r[5] for r in rows[1:]] == _expected_column(_of(stored, QUARTERS))
    bands = Bands()
    assert [r[6] for r in rows[1:]] == [
        "", "", "", "", str(bands.national_cases_per_10k),
        _pct(bands.national_repeat_rate), _pct(bands.national_partner_share)]
    assert "Wrote the national picture (all Maracs, 2024/25) to n.csv" in capsys.readouterr().out


def test_regional_picture_as_a_workbook_text_and_chart(
        cli: Path, seeded: tuple[str, list[Seeded]]) -> None:
    base = ["report", "national", "--year", "2024/25", "--region", "London", *ON]
    assert main([*base, "--out", "london.xlsx"]) == 0
    sheet = load_workbook(cli / "london.xlsx").active
    assert sheet is not None and sheet.freeze_panes == "B2"
    year = _of(seeded[1], QUARTERS, "London")
    by_label = {row[0].value: row for row in sheet.iter_rows(min_row=2) if row[0].value}
    assert by_label["Cases discussed"][5].value == seed_total(year, "cases")[0]
    repeat = by_label["Repeat cases"][5]
    assert repeat.value == pytest.approx(rate(year, "repeat_cases"))
    assert repeat.number_format == "0.0%"
    assert by_label["Maracs that sent figures"][4].value == 0  # Q4 has not ended
    assert main([*base, "--out", "london.txt"]) == 0
    text = (cli / "london.txt").read_text("utf-8")
    assert text.startswith("London, 2024/25 (1 Apr 2024 – 31 Mar 2025)")
    assert "Out of 3 Maracs in the registry" in text
    assert main([*base, "--out", "london.png"]) == 0
    with Image.open(cli / "london.png") as image:
        assert image.format == "PNG" and image.width >= 500


def test_overview_csv_has_a_row_per_marac(cli: Path, seeded: tuple[str, list[Seeded]]
                                          ) -> None:
    assert main(["report", "overview", "--year", "2024/25", "--out", "o.csv", *ON]) == 0
    rows = _csv(cli / "o.csv")
    assert [r[0] for r in rows[1:]] == sorted(REGION)  # every Marac, sent or not
    for row in rows[1:]:
        marac = row[0]
        mine = [m for m in _of(seeded[1], QUARTERS) if m.marac == marac]
        sent = sorted({m.quarter for m in mine})
        per_10k = _per_10k(mine)
        held = 1 if marac == HELD_MEETING[0] else 0
        assert row == [
            marac, REGION[marac], FORCE[marac], str(len(sent)),
            " ".join(q.split()[0] for q in sent), str(len(mine)),
            str(seed_total(mine, "cases")[0]), _pct(rate(mine, "repeat_cases")),
            _pct(rate(mine, "ref_police")),
            "" if per_10k is None else str(round(per_10k, 1)), str(held),
        ], marac


def test_overview_of_a_region_as_a_workbook(cli: Path, seeded: tuple[str, list[Seeded]]
                                            ) -> None:
    out = ["--out", "o.xlsx"]
    assert main(["report", "overview", "--region", "west yorkshire", *out, *ON]) == 0
    sheet = load_workbook(cli / "o.xlsx")["Overview"]
    names = [row[0].value for row in sheet.iter_rows(min_row=2, max_row=3)]
    assert names == ["Kirklees", "Leeds"]
    leeds = [c.value for c in sheet[3]]
    mine = [m for m in _of(seeded[1], QUARTERS) if m.marac == "Leeds"]
    assert leeds[6] == seed_total(mine, "cases")[0]
    assert leeds[9] is None  # Leeds has no population in the registry
    assert sheet[3][7].number_format == "0.0%"


def test_grid_as_a_workbook_colours_each_state(cli: Path) -> None:
    base = ["report", "grid", "--year", "2024/25", "--region", "London", *ON]
    assert main([*base, "--out", "grid.xlsx"]) == 0
    sheet = load_workbook(cli / "grid.xlsx").active
    assert sheet is not None and sheet.freeze_panes == "B2"
    assert [c.value for c in sheet[1]][3:] == list(QUARTERS)
    croydon = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == "Croydon")
    assert [c.value for c in croydon[3:]] == ["accepted", "accepted", "held", "not due"]
    colours = [c.fill.fgColor.rgb[-6:] for c in croydon[3:]]
    assert colours[0] == colours[1] and len(set(colours)) == 3


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["national", "--region", "Londn"], "Did you mean London?"),
        (["overview", "--region", "Kent Polise"], "Did you mean Kent Police?"),
        (["overview", "--out", "o.png"], "must end .xlsx, .csv or .txt"),
        (["national", "--out", "n.pdf"], "must end .xlsx, .csv, .txt or .png"),
        (["national", "--year", "2024/26"], "is not a financial year"),
    ],
)
def test_usage_errors_exit_2(cli: Path, capsys: pytest.CaptureFixture[str],
                             argv: list[str], says: str) -> None:
    assert main(["report", *argv, *ON]) == 2
    assert says in capsys.readouterr().err
    assert not list(cli.iterdir())  # nothing written


def test_help_lists_every_report(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["report", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert all(kind in out for kind in ("grid", "national", "overview"))
