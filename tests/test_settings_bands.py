"""Spec §5's reference bands are "configurable, never hard-coded constants": ``MARAC_BANDS``
sets any of them (``kernel.config.Bands``), and a value that cannot be one is a configuration
error naming the variable (exit 2), never a band that silently means something else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import ConfigError, Settings
from kernel.config import Bands
from store.db import Store
from tests.dispatch_support import load_registry

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "clean_libreoffice.xlsx"


def bands(value: str) -> Bands:
    return Settings.from_env({"MARAC_BANDS": value}).bands


def test_unset_or_blank_the_bands_are_spec_5s() -> None:
    assert Settings.from_env({}).bands == Bands() == bands("  ")
    assert (Bands().repeat_rate_low, Bands().repeat_rate_high, Bands().police_share_high,
            Bands().expected_cases_per_10k) == (0.28, 0.40, 0.75, 40.0)


def test_each_band_is_set_by_name_as_a_fraction_or_a_percentage() -> None:
    found = bands("repeat_rate_low=25%, repeat_rate_high = 0.45; police_share_high=80 % ,"
                  "volume_high_fraction=300%,min_cases_for_rates=10,idva_cases_per_fte=90.5")
    assert found == Bands(repeat_rate_low=0.25, repeat_rate_high=0.45, police_share_high=0.8,
                          volume_high_fraction=3.0, min_cases_for_rates=10,
                          idva_cases_per_fte=90.5)
    assert type(found.min_cases_for_rates) is int


@pytest.mark.parametrize(("value", "says"), [
    ("repeat_rate_hi=0.5", "'repeat_rate_hi=0.5' is not name=value"),
    ("repeat_rate_high", "'repeat_rate_high' is not name=value"),
    ("repeat_rate_high=high", "repeat_rate_high must be a number, not 'high'"),
    ("min_cases_for_rates=2.5", "min_cases_for_rates must be a whole number"),
    ("repeat_rate_high=101%", "repeat_rate_high must be between 0 and 1"),
    ("police_share_high=1.01", "police_share_high must be between 0 and 1"),
    ("repeat_rate_low=-0.01", "repeat_rate_low must be between 0 and 1"),
    ("police_share_high=nan", "police_share_high must be between 0 and 1"),
    ("idva_cases_per_fte=0", "idva_cases_per_fte must be above 0"),
    ("expected_cases_per_10k=inf", "expected_cases_per_10k must be above 0"),
    ("volume_low_fraction=-1", "volume_low_fraction must be 0 or more"),
    ("min_cases_for_rates=-1", "min_cases_for_rates must be 0 or more"),
    ("expected_cases_per_10k=40%", "expected_cases_per_10k is not a share"),
    ("repeat_rate_low=41%", "repeat_rate_low is above repeat_rate_high"),
    ("volume_low_fraction=2.5", "volume_low_fraction is above volume_high_fraction"),
])
def test_a_value_that_cannot_be_a_band_is_refused_naming_the_variable(value: str,
                                                                      says: str) -> None:
    with pytest.raises(ConfigError) as refused:
        bands(value)
    assert str(refused.value).startswith("MARAC_BANDS: ") and says in str(refused.value)


@pytest.mark.parametrize("value", [
    "repeat_rate_high=100%", "police_share_high=1", "repeat_rate_low=0", "min_cases_for_rates=0",
    "volume_low_fraction=0", "repeat_rate_low=40%",  # equal to the high end: a band of one value
])
def test_the_edges_of_each_range_are_bands(value: str) -> None:
    key, _, text = value.partition("=")
    expected = float(text.removesuffix("%")) / (100 if text.endswith("%") else 1)
    assert getattr(bands(value), key) == expected


@pytest.fixture
def registered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'marac.db'}"
    store = Store.open(url)
    with store.transaction() as session:
        load_registry(session)
    store.close()
    monkeypatch.setenv("MARAC_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)  # no stray .env is read


def rate_issues(capsys: pytest.CaptureFixture[str]) -> list[dict[str, str]]:
    assert main(["validate", str(FIXTURE), "--quarter", "Q3 2024/25", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)[0]
    return [i for i in report["issues"] if i["code"] == "unusual-repeat-rate"]


@pytest.mark.usefixtures("registered")
def test_validation_checks_against_the_configured_bands(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert rate_issues(capsys) == []  # the clean quarter sits inside 28%-40%
    monkeypatch.setenv("MARAC_BANDS", "repeat_rate_high=30%")
    found = rate_issues(capsys)
    assert [(i["severity"], i["value"]) for i in found] == [("soft", "34%")]
    assert "28%–30%" in found[0]["message"] or "28%-30%" in found[0]["message"]


@pytest.mark.usefixtures("registered")
def test_a_bad_band_stops_the_command_with_exit_2_naming_the_variable(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARAC_BANDS", "repeat_rate_high=lots")
    assert main(["validate", str(FIXTURE)]) == 2
    assert "MARAC_BANDS: repeat_rate_high must be a number" in capsys.readouterr().err
