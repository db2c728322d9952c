"""A registry that refuses nonsense (issue 13): nation, region and police force area are
checked against the shipped lists (store/places.py), with "did you mean", row-numbered errors
and nothing imported; a match is stored in the list's spelling."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.cli import main
from store.models import Contact, Marac
from store.places import ENGLISH_REGIONS, FORCES, REGIONS, Nation, Places
from store.registry import import_csv
from tests import questions_support, reminders_support, store_support

HEADER = "name,aliases,police_force_area,region,nation,local_authorities,adult_female_population"


def test_the_lists_hold_what_they_promise() -> None:
    territorial = [f for f in FORCES if f.nations in ({Nation.ENGLAND}, {Nation.WALES})]
    assert len(territorial) == 43
    assert len([f for f in territorial if f.nations == {Nation.WALES}]) == 4
    assert {f.name for f in FORCES} - {f.name for f in territorial} == {
        "Police Scotland",
        "Police Service of Northern Ireland",
        "British Transport Police",
    }
    assert len(ENGLISH_REGIONS) == 9
    assert set(REGIONS) == {*ENGLISH_REGIONS, "Wales", "Scotland", "Northern Ireland"}


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("West Yorkshire", "West Yorkshire Police"),
        ("west yorkshire police", "West Yorkshire Police"),
        ("Met", "Metropolitan Police"),
        ("Metropolitan Police Service", "Metropolitan Police"),
        ("PSNI", "Police Service of Northern Ireland"),
        ("Dyfed Powys", "Dyfed-Powys Police"),
        ("Devon & Cornwall Constabulary", "Devon and Cornwall Police"),
        ("Kent", "Kent Police"),
    ],
)
def test_forces_match_as_people_write_them(typed: str, stored: str) -> None:
    found = Places.load().force(typed)
    assert found is not None and found.name == stored


def test_nonsense_is_refused_row_by_row_and_nothing_is_imported(db_session: Session) -> None:
    text = "\n".join(
        [
            HEADER,
            "Cardiff,,South Wales Police,Wales,Walse,,150000",
            "Leeds,,West Yorkshre Police,Yorkshire and the Humber,England,,",
            "Croydon,,Metropolitan Police,Londn,England,,",
            "Swansea,,South Wales Police,London,Wales,,",
            "Newport,,Gwent Police,Wales,England,,",
            "Bristol,,Avon and Somerset,South West,England,,",
        ]
    )
    result = import_csv(db_session, text)
    assert not result.ok
    assert [(e.row, e.code, e.column) for e in result.errors] == [
        (2, "registry-unknown-nation", "nation"),
        (3, "registry-unknown-police-force-area", "police_force_area"),
        (4, "registry-unknown-region", "region"),
        (5, "registry-region-nation", "region"),
        (6, "registry-region-nation", "region"),
        (6, "registry-force-nation", "police_force_area"),
    ]
    lines = result.summary().splitlines()
    assert lines[0] == "Nothing was imported: 6 problems to fix first."
    assert lines[1] == (
        "Row 2: 'Walse' is not a nation: use England, Wales, Scotland or "
        "Northern Ireland. Did you mean Wales?"
    )
    assert "Did you mean West Yorkshire Police" in lines[2]
    assert lines[3].endswith("Did you mean London?")
    assert lines[4] == "Row 5: the region London is in England, not Wales."
    assert lines[6] == "Row 6: Gwent Police does not police England."
    assert db_session.scalar(select(func.count()).select_from(Marac)) == 0


def test_a_match_is_stored_in_the_lists_spelling(db_session: Session) -> None:
    text = (
        f"{HEADER}\nLeeds,,west yorkshire,Yorkshire & Humber,england,,\n"
        "Belfast,,PSNI,NI,NI,,\nGlasgow,,British Transport Police,Scotland,Scotland,,\n"
    )
    assert import_csv(db_session, text).ok
    stored = {
        m.name: (m.police_force_area, m.region, m.nation) for m in db_session.scalars(select(Marac))
    }
    assert stored == {
        "Leeds": ("West Yorkshire Police", "Yorkshire and the Humber", "England"),
        "Belfast": ("Police Service of Northern Ireland", "Northern Ireland", "Northern Ireland"),
        "Glasgow": ("British Transport Police", "Scotland", "Scotland"),
    }


@pytest.mark.parametrize(
    "text",
    [
        resources.files("store.demo").joinpath("maracs.csv").read_text("utf-8"),
        store_support.MARACS_CSV,
        questions_support.MARACS_CSV,
        reminders_support.MARACS_CSV,
    ],
    ids=["demo", "store_support", "questions_support", "reminders_support"],
)
def test_the_demo_and_the_test_registries_pass_the_lists(db_session: Session, text: str) -> None:
    result = import_csv(db_session, text)
    assert result.ok, result.summary()


def test_the_command_line_exits_1_and_names_the_row(
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MARAC_DATABASE_URL", db_url)
    monkeypatch.setenv("MARAC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "maracs.csv"
    path.write_text(f"{HEADER}\nCardiff,,South Wales Police,Wales,Walse,,\n", encoding="utf-8")
    assert main(["registry", "import", str(path)]) == 1
    err = capsys.readouterr().err
    assert "Row 2: 'Walse' is not a nation" in err and "Did you mean Wales?" in err


CONTACTS_HEADER = "name,email,role,maracs"


def test_a_force_area_is_named_in_contacts_as_in_the_maracs_file(db_session: Session) -> None:
    """"West Yorkshire" was accepted for Leeds (stored as "West Yorkshire Police") and then
    refused for a manager: "'West Yorkshire' is not a Marac, region or police force area"."""
    maracs = (f"{HEADER}\nLeeds,,West Yorkshire,Yorkshire & Humber,England,,\n"
              "Kent,,Kent Police,South East,England,,\n"
              "Medway,,Kent,South East,England,,\n")
    assert import_csv(db_session, maracs).ok
    contacts = (f"{CONTACTS_HEADER}\nMo Manager,mo@example.org,manager,West Yorkshire\n"
                "Yan York,yan@example.org,manager,Yorkshire & Humber\n"
                "Kim Kent,kim@example.org,manager,Kent\n"
                "Ann Area,ann@example.org,manager,Kent Constabulary\n")
    result = import_csv(db_session, contacts)
    assert result.ok, result.summary()
    scopes = {c.email: (c.scopes, [m.name for m in c.maracs])
              for c in db_session.scalars(select(Contact))}
    assert scopes == {
        "mo@example.org": (["West Yorkshire Police"], []),
        "yan@example.org": (["Yorkshire and the Humber"], []),
        # A Marac of that name is meant before the force area of another spelling.
        "kim@example.org": ([], ["Kent"]),
        "ann@example.org": (["Kent Police"], []),
    }


@pytest.mark.parametrize(("role", "value", "said"), [
    ("coordinator", "West Yorkshire",
     "'West Yorkshire' is a region, a police force area or '*'; only a manager or admin may "
     "list one."),
    ("manager", "North Yorkshire", "'North Yorkshire' is not a Marac, region or police force "
                                   "area in the registry"),
])
def test_another_spelling_gives_no_more_than_the_registry_spelling(
        db_session: Session, role: str, value: str, said: str) -> None:
    """A coordinator may not take an area however spelt, nor a manager one with no Marac."""
    assert import_csv(db_session, f"{HEADER}\nLeeds,,West Yorkshire,Yorkshire & Humber,"
                                  "England,,\n").ok
    result = import_csv(db_session, f"{CONTACTS_HEADER}\nPat,pat@example.org,{role},{value}\n")
    assert not result.ok and said in result.summary(), result.summary()
