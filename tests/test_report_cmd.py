"""``marac-bot report grid|national|overview`` through the command line's entry point, against
a seeded SQLite file; every figure is checked against the seed, worked out here in plain
Python (tests/questions_support.py), not through the store's SQL."""

from __future__ import annotations

import csv
import io
import os
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image

from bot.cli import main
from bot.settings import Bands
from handlers.questions.registry import RegistrySnapshot
from handlers.questions.report_data import load_national
from kernel.quarters import FinancialYear, Quarter
from reports.national import chart_bars
from store.db import Store
from tests.questions_support import HELD_MEETING, MARACS_CSV, Seeded, load_registry, rate, seed
from tests.questions_support import total as seed_total

ON = ["--today", "2025-02-03"]
QUARTERS = tuple(f"Q{n} 2024/25" for n in (1, 2, 3, 4))
REGISTRY = list(csv.DictReader(io.StringIO(MARACS_CSV)))
REGION = {r["name"]: r["region"] for r in REGISTRY}
FORCE = {r["name"]: r["police_force_area"] for r in REGISTRY}
POPULATION = {
    r["name"]: int(r["adult_female_population"]) for r in REGISTRY if r["adult_female_population"]
}


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
def cli(seeded: tuple[str, list[Seeded]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MARAC_DATABASE_URL", seeded[0])
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    return tmp_path


def _of(stored: list[Seeded], quarters: tuple[str, ...], region: str | None = None) -> list[Seeded]:
    return [
        m for m in stored if m.quarter in quarters and (region is None or REGION[m.marac] == region)
    ]


def _per_10k(meetings: list[Seeded]) -> float | None:
    """Cases × 4 ÷ quarters sent, per Marac, over the Maracs whose population is known."""
    return _annualised(
        {
            marac: [
                [m for m in meetings if m.marac == marac and m.quarter == q]
                for q in sorted({m.quarter for m in meetings if m.marac == marac})
            ]
            for marac in {m.marac for m in meetings}
        }
    )


def _annualised(parts: dict[str, list[list[Seeded]]]) -> float | None:
    """Cases per 10,000 a year: each Marac's cases × 4 ÷ the quarters of figures it counts
    with, over the Maracs whose population is known."""
    annual, population = 0.0, 0
    for marac, quarters in parts.items():
        if marac in POPULATION and quarters:
            cases = sum(seed_total(q, "cases")[0] for q in quarters)
            annual += cases * 4 / len(quarters)
            population += POPULATION[marac]
    return annual / population * 10_000 if population else None


def _pct(value: float | None) -> str:
    return "" if value is None else str(round(value * 100, 1))


# By 3 Feb 2025 Q1-Q3 are due (28 days after their end); Q4 is running, not yet due.
DUE = ("Q1 2024/25", "Q2 2024/25", "Q3 2024/25")


def _rule(
    stored: list[Seeded], quarter: str, region: str | None = None
) -> tuple[list[str], list[str], list[str], dict[str, list[Seeded]]]:
    """Spec §5 worked out by hand for one quarter: (sent, filled, left out, what counts)."""
    previous = Quarter.from_label(quarter).previous().label
    sent, filled, left_out, counts = [], [], [], {}
    for marac in sorted(REGION):
        if region is not None and REGION[marac] != region:
            continue
        mine = [m for m in stored if m.marac == marac and m.quarter == quarter]
        before = [m for m in stored if m.marac == marac and m.quarter == previous]
        if mine:
            sent.append(marac)
            counts[marac] = mine
        elif quarter in DUE and before:
            filled.append(marac)
            counts[marac] = before
        elif quarter in DUE:
            left_out.append(marac)
    return sent, filled, left_out, counts


def _column(
    sent: int, filled: int, left_out: int, parts: dict[str, list[list[Seeded]]]
) -> list[str]:
    """The national picture's column, as the CSV writes it: blank where nothing stands."""
    meetings = [m for quarters in parts.values() for q in quarters for m in q]
    head = [str(sent), str(filled), str(left_out), str(len(parts))]
    if not meetings:
        return [*head, "", "", "", "", "", ""]
    police = rate(meetings, "ref_police")
    per_10k = _annualised(parts)
    children, blank_children = seed_total(meetings, "children")
    return [
        *head,
        str(len(meetings)),
        str(seed_total(meetings, "cases")[0]),
        "" if blank_children == len(meetings) else str(children),
        "" if per_10k is None else str(round(per_10k, 1)),
        _pct(rate(meetings, "repeat_cases")),
        _pct(None if police is None else 1 - police),
    ]


def _quarter_column(stored: list[Seeded], quarter: str) -> list[str]:
    sent, filled, left_out, counts = _rule(stored, quarter)
    return _column(
        len(sent), len(filled), len(left_out), {marac: [mine] for marac, mine in counts.items()}
    )


def _year_column(stored: list[Seeded], region: str | None = None) -> list[str]:
    """Each Marac counts with every quarter of figures it brings in each quarter (its own or a
    filled one), and not in the quarters it is left out of."""
    ruled = [_rule(stored, q, region) for q in QUARTERS]
    left_out = sorted({m for r in ruled for m in r[2]})
    filled = {m for r in ruled for m in r[1]}
    parts: dict[str, list[list[Seeded]]] = {}
    for _, _, _, counts in ruled:
        for marac, mine in counts.items():
            parts.setdefault(marac, []).append(mine)
    sent = {m for r in ruled for m in r[0]}
    return _column(len(sent), len(filled), len(left_out), parts)


def _csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text("utf-8"))))


def test_national_csv_applies_the_national_rule_to_the_seed(
    cli: Path, seeded: tuple[str, list[Seeded]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "national", "--year", "2024/25", "--out", "n.csv", *ON]) == 0
    rows = _csv(cli / "n.csv")
    assert rows[0][1:] == [*QUARTERS, "Year", "National reference"]
    stored = seeded[1]
    figures = [r for r in rows[1:] if "(names)" not in r[0]]
    for n, quarter in enumerate(QUARTERS, 1):
        assert [r[n] for r in figures] == _quarter_column(stored, quarter), quarter
    assert [r[5] for r in figures] == _year_column(stored)
    bands = Bands()
    assert [r[6] for r in figures] == [
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        str(bands.national_cases_per_10k),
        _pct(bands.national_repeat_rate),
        _pct(bands.national_partner_share),
    ]
    # Pinned by hand from the seed: Barking and Dagenham and Kingston missed Q2 (filled from
    # Q1); Kingston missed Q3 too (left out of Q3); Ashford missed Q4 2023/24
    # and Q1, Canterbury sent nothing before Q3 and Glasgow nothing at all.
    assert _rule(stored, "Q2 2024/25")[1:3] == (
        ["Barking and Dagenham", "Kingston upon Thames"],
        ["Canterbury", "Glasgow"],
    )
    assert _rule(stored, "Q3 2024/25")[1:3] == (["Kirklees"], ["Glasgow", "Kingston upon Thames"])
    by_label = {r[0]: r[1:] for r in rows[1:] if r}
    assert by_label["Which were filled (names)"] == [
        "",
        "Barking and Dagenham; Kingston upon Thames",
        "Kirklees",
        "",
        "Barking and Dagenham; Kingston upon Thames; Kirklees",
        "",
    ]
    assert by_label["Which were left out (names)"] == [
        "Ashford; Canterbury; Glasgow",
        "Canterbury; Glasgow",
        "Glasgow; Kingston upon Thames",
        "",
        "Ashford; Canterbury; Glasgow; Kingston upon Thames",
        "",
    ]
    assert main(["report", "national", "--year", "2024/25", "--out", "n.txt", *ON]) == 0
    text = (cli / "n.txt").read_text("utf-8")
    assert (
        "Q2 2024/25: filled from their previous quarter: Barking and Dagenham and Kingston "
        "upon Thames; left out (two quarters missed in a row): Canterbury and Glasgow."
    ) in text
    assert (
        "2024/25: filled from their previous quarter: Barking and Dagenham, Kingston upon "
        "Thames and Kirklees; left out (two quarters missed in a row): Ashford, Canterbury, "
        "Glasgow and Kingston upon Thames."
    ) in text
    assert (
        "Q4 2024/25: no Marac filled from a previous quarter; none left out; 9 Maracs "
        "not sent yet (not yet due)." in text
    )
    assert "Wrote the national picture (all Maracs, 2024/25) to n.csv" in capsys.readouterr().out


def test_the_years_totals_are_the_sum_of_its_quarters(cli: Path) -> None:
    assert main(["report", "national", "--year", "2024/25", "--out", "sum.csv", *ON]) == 0
    by_label = {r[0]: r[1:] for r in _csv(cli / "sum.csv")[1:] if r}
    for label in ("Meetings", "Cases discussed"):
        quarters = [int(v) for v in by_label[label][:4] if v]
        assert len(quarters) == 3 and int(by_label[label][4]) == sum(quarters), label


def test_a_quarter_not_started_is_blank_never_0(cli: Path) -> None:
    assert (
        main(
            [
                "report",
                "national",
                "--year",
                "2024/25",
                "--out",
                "early.csv",
                "--today",
                "2024-09-01",
            ]
        )
        == 0
    )
    rows = _csv(cli / "early.csv")
    figures = [r for r in rows[1:] if "(names)" not in r[0]]
    for n in (3, 4):  # Q3 and Q4 had not started on 1 Sep 2024
        assert [r[n] for r in figures] == [""] * len(figures), QUARTERS[n - 1]
    assert (
        main(
            [
                "report",
                "national",
                "--year",
                "2024/25",
                "--out",
                "early.txt",
                "--today",
                "2024-09-01",
            ]
        )
        == 0
    )
    assert "Q3 2024/25: not started yet, so blank." in (cli / "early.txt").read_text("utf-8")


def test_regional_picture_as_a_workbook_text_and_chart(
    cli: Path, seeded: tuple[str, list[Seeded]]
) -> None:
    base = ["report", "national", "--year", "2024/25", "--region", "London", *ON]
    assert main([*base, "--out", "london.xlsx"]) == 0
    sheet = load_workbook(cli / "london.xlsx").active
    assert sheet is not None and sheet.freeze_panes == "B2"
    expected = _year_column(seeded[1], "London")
    by_label = {row[0].value: row for row in sheet.iter_rows(min_row=2) if row[0].value}
    assert by_label["Cases discussed"][5].value == int(expected[5])
    assert by_label["Left out: two quarters missed in a row"][5].value == 1  # Kingston
    repeat = by_label["Repeat cases"][5]
    assert round(repeat.value * 100, 1) == float(expected[8])
    assert repeat.number_format == "0.0%"
    assert by_label["Maracs that sent figures"][4].value == 0  # Q4 has not ended
    assert by_label["Cases discussed"][4].value is None  # nothing sent: blank, not 0
    assert main([*base, "--out", "london.txt"]) == 0
    text = (cli / "london.txt").read_text("utf-8")
    assert text.startswith("London, 2024/25 (1 Apr 2024 – 31 Mar 2025)")
    assert "Out of 3 Maracs in the registry" in text
    assert main([*base, "--out", "london.png"]) == 0
    with Image.open(cli / "london.png") as image:
        assert image.format == "PNG" and image.width >= 500


def test_overview_csv_has_a_row_per_marac(cli: Path, seeded: tuple[str, list[Seeded]]) -> None:
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
            marac,
            REGION[marac],
            FORCE[marac],
            str(len(sent)),
            " ".join(q.split()[0] for q in sent),
            str(len(mine)) if mine else "",  # sent nothing: blank, never 0
            str(seed_total(mine, "cases")[0]) if mine else "",
            _pct(rate(mine, "repeat_cases")),
            _pct(rate(mine, "ref_police")),
            "" if per_10k is None else str(round(per_10k, 1)),
            str(held),
            _overview_national(seeded[1], marac),
        ], marac
    glasgow = next(r for r in rows if r[0] == "Glasgow")
    assert glasgow[5:7] == ["", ""] and glasgow[-1] == "left out of Q1, Q2 and Q3"
    kingston = next(r for r in rows if r[0] == "Kingston upon Thames")
    assert kingston[-1] == "Q2 filled from Q1; left out of Q3"


def _overview_national(stored: list[Seeded], marac: str) -> str:
    """The overview's national column, worked out from _rule by hand."""
    filled, left_out = [], []
    for quarter in QUARTERS:
        _, filled_q, left_q, _ = _rule(stored, quarter)
        short = quarter.split()[0]
        before = Quarter.from_label(quarter).previous().label
        if marac in filled_q:
            filled.append(
                f"{short} filled from {before.split()[0] if quarter != QUARTERS[0] else before}"
            )
        if marac in left_q:
            left_out.append(short)
    parts = filled + ([f"left out of {_and(left_out)}"] if left_out else [])
    return "; ".join(parts)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def test_overview_of_a_region_as_a_workbook(cli: Path, seeded: tuple[str, list[Seeded]]) -> None:
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
def test_usage_errors_exit_2(
    cli: Path, capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    assert main(["report", *argv, *ON]) == 2
    assert says in capsys.readouterr().err
    assert not list(cli.iterdir())  # nothing written


def test_help_lists_every_report(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["report", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert all(kind in out for kind in ("grid", "national", "overview"))


def test_the_chart_says_how_many_maracs_each_bar_stands_for(cli: Path) -> None:
    store = Store.open(os.environ["MARAC_DATABASE_URL"])
    with store.sessions() as session:
        registry = RegistrySnapshot.load(session)
        picture = load_national(session, registry.in_area(None), FinancialYear(2024), Bands(),
                                area=None, every_marac=True, today=date(2024, 11, 2))
    store.close()
    bars = chart_bars(picture)
    assert [caption for caption, _ in bars] == [
        "Q1\n6 of 9 sent", "Q2\n5 of 9 sent, 2 filled",
        "Q3\n6 of 9 sent",  # open on 2 Nov 2024: only who sent counts
        "Q4\nnot started",
    ]
    assert all(isinstance(cases, int) and cases > 0 for _, cases in bars[:3])
    assert bars[3][1] is None  # no bar, never a 0 bar
