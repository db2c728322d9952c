"""`marac-bot validate` through the real entry point: exit codes, JSON, and the registry when
a database exists (interface.md; spec §4 "with an empty registry names are not checked")."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from bot.cli import main
from tests.store_support import MARACS_CSV

FIXTURES = Path(__file__).parent / "fixtures"
DEMO = Path(__file__).parents[1] / "store" / "demo"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no .env of the checkout steers the command
    monkeypatch.setenv("MARAC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("MARAC_DATABASE_URL", raising=False)
    return tmp_path


def _misspelt_copy(tmp_path: Path) -> Path:
    book = openpyxl.load_workbook(FIXTURES / "clean_libreoffice.xlsx")
    book.active["A2"] = "Croydn"
    path = tmp_path / "croydn.xlsx"
    book.save(path)
    return path


def _json(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_without_a_database_names_are_not_checked_and_none_is_created(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "--json", str(_misspelt_copy(workdir))]) == 0
    [report] = _json(capsys)
    codes = [i["code"] for i in report["issues"]]  # type: ignore[index, union-attr]
    assert codes.count("registry-not-checked") == 1
    assert "unknown-marac" not in codes
    assert not (workdir / "data").exists()


def test_with_a_registry_an_unknown_name_is_hard_with_a_suggestion(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["registry", "import", str(DEMO / "maracs.csv")]) == 0
    capsys.readouterr()
    assert main(["validate", "--json", str(_misspelt_copy(workdir))]) == 1
    [report] = _json(capsys)
    issues = report["issues"]
    unknown = [i for i in issues if i["code"] == "unknown-marac"]  # type: ignore[union-attr]
    assert [(i["cell"], i["severity"]) for i in unknown] == [("A2", "hard")]
    assert "Croydon" in unknown[0]["message"]
    assert report["rows_accepted"] == 5
    assert "registry-not-checked" not in [i["code"] for i in issues]  # type: ignore[union-attr]


def test_marac_option_flags_rows_of_another_marac(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = FIXTURES / "multi_marac.xlsx"
    assert main(["validate", "--json", "--marac", "Croydon", str(path)]) == 1
    [report] = _json(capsys)
    refused = {i["cell"] for i in report["issues"]  # type: ignore[union-attr]
               if i["code"] == "not-authorised"}
    assert refused and all(c.startswith("A") for c in refused)
    assert report["maracs"] == ["Croydon"]


@pytest.mark.parametrize(("marac", "refused"), [
    ("CRD", 0), ("crd", 0), ("Croydon Borough", 0), ("croydon", 0),
    ("LBBD", 6), ("Barking and Dagenham", 6), ("CRDX", 6)])
def test_marac_option_matches_with_aliases(
    workdir: Path, capsys: pytest.CaptureFixture[str], marac: str, refused: int
) -> None:
    """--marac CRD, an alias of Croydon, refused every row of Croydon's file not-authorised
    while CRD in the file itself, and --marac croydon, were taken (spec §6)."""
    maracs = workdir / "maracs.csv"
    maracs.write_text(MARACS_CSV.replace("Croydon Borough,", "Croydon Borough;CRD,"), "utf-8")
    assert main(["registry", "import", str(maracs)]) == 0
    capsys.readouterr()
    path = FIXTURES / "clean_libreoffice.xlsx"  # six rows, all Croydon's
    assert main(["validate", "--json", "--marac", marac, str(path)]) == (1 if refused else 0)
    [report] = _json(capsys)
    issues = report["issues"]
    assert isinstance(issues, list)
    assert [i["code"] for i in issues].count("not-authorised") == refused
    assert report["rows_accepted"] == 6 - refused


def test_missing_file_is_a_usage_error(workdir: Path) -> None:
    assert main(["validate", str(workdir / "nope.xlsx")]) == 2
