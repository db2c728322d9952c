"""Registry CSV import (atomic, row-numbered errors, upsert) and export, and the demo registry."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.db import Store
from store.models import Contact, Marac
from store.registry import (
    export_csv,
    find_contact,
    find_contact_by_slack,
    find_contact_by_teams,
    import_csv,
    is_demo_registry,
    is_registry_empty,
    load_demo_registry,
)
from tests.store_support import MARACS_CSV, load_registry

MARAC_HEADER = (
    "name,aliases,police_force_area,region,nation,local_authorities,adult_female_population"
)
CONTACT_HEADER = "name,email,role,maracs,slack_user_id,teams_id,channels"


def _count(session: Session, model: type[Marac] | type[Contact]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _marac(session: Session, name: str) -> Marac:
    return session.scalars(select(Marac).where(Marac.name == name)).one()


def _contact(session: Session, email: str) -> Contact:
    contact = find_contact(session, email)
    assert contact is not None
    return contact


def test_import_maracs(db_session: Session) -> None:
    result = import_csv(db_session, MARACS_CSV)
    assert (result.ok, result.kind, result.inserted, result.updated) == (True, "maracs", 4, 0)
    db_session.commit()
    croydon = _marac(db_session, "Croydon")
    assert croydon.aliases == ["Croydon Borough"]
    assert croydon.police_force_area == "Metropolitan Police" and croydon.region == "London"
    assert croydon.adult_female_population == 160300 and not croydon.is_demo
    leeds = _marac(db_session, "Leeds")
    assert leeds.local_authorities == ["Leeds City Council", "Leeds Health"]
    assert leeds.adult_female_population is None  # blank stays unknown, not 0
    assert result.summary() == "Imported 4 Maracs: 4 new, 0 updated."


def test_import_contacts_resolves_maracs_and_scopes(db_session: Session) -> None:
    load_registry(db_session)
    cara = _contact(db_session, "CARA@example.org")
    assert (cara.role, cara.slack_user_id, cara.channels) == (
        "coordinator",
        "U001",
        ["email", "slack"],
    )
    assert [m.name for m in cara.maracs] == ["Croydon"]
    chris = _contact(db_session, "chris@example.org")
    assert [m.name for m in chris.maracs] == ["Croydon"]  # "Croydon Marac" matched
    assert chris.channels == ["email"]  # blank channels default to email
    dana = _contact(db_session, "dana@example.org")
    assert [m.name for m in dana.maracs] == ["Barking and Dagenham", "Leeds"]  # "&" matched
    assert _contact(db_session, "mo@example.org").scopes == ["West Yorkshire Police"]
    assert _contact(db_session, "lena@example.org").scopes == ["London"]
    ada = _contact(db_session, "ada@example.org")
    assert (ada.scopes, ada.maracs) == (["*"], [])


def test_bad_maracs_file_reports_every_row_and_imports_nothing(db_session: Session) -> None:
    text = "\n".join(
        [
            MARAC_HEADER,
            "Croydon,,Metropolitan Police,,England,,1000",  # row 2: region blank
            "Sutton,,Metropolitan Police,London,England,,12.5",  # row 3: not a whole number
            "Merton,,Metropolitan Police,London,England,,2,000",  # row 4: more cells than header
            "",  # row 5: blank, skipped
            "CROYDON MARAC,,Metropolitan Police,London,England,,",  # row 6: fine on its own
            "Bexley,Sutton,Metropolitan Police,London,England,,",  # row 7: alias is another's name
            "Bromley,,Metropolitan Police,London,England,,5000",  # row 8: good
            "Croydon,,Metropolitan Police,London,England,,",  # row 9: same as row 6
        ]
    )
    result = import_csv(db_session, text)
    assert not result.ok and result.inserted == 0
    found = [(e.row, e.code, e.column) for e in result.errors]
    assert found == [
        (2, "registry-blank", "region"),
        (3, "registry-bad-number", "adult_female_population"),
        (4, "registry-extra-cells", None),
        (9, "registry-duplicate-row", "name"),
    ]
    assert _count(db_session, Marac) == 0
    # Fix those rows and the alias clash appears: Sutton is a name now.
    fixed = "\n".join(
        [
            MARAC_HEADER,
            "Sutton,,Metropolitan Police,London,England,,",
            "Bexley,Sutton,Metropolitan Police,London,England,,",
        ]
    )
    clash = import_csv(db_session, fixed)
    assert [(e.row, e.code, e.column) for e in clash.errors] == [
        (3, "registry-name-clash", "aliases")
    ]
    assert "Sutton" in str(clash.errors[0]) and str(clash.errors[0]).startswith("Row 3:")
    assert _count(db_session, Marac) == 0


def test_bad_contacts_file_reports_every_row_and_imports_nothing(db_session: Session) -> None:
    load_registry(db_session)
    before = _count(db_session, Contact)
    text = "\n".join(
        [
            CONTACT_HEADER,
            "New One,new1@example.org,coordinator,Croydn,,,",  # 2: unknown Marac, suggestion
            "New Two,new2@example.org,boss,Croydon,,,",  # 3: bad role
            "New Three,not-an-email,coordinator,Croydon,,,",  # 4: bad email
            "New Four,new4@example.org,coordinator,London,,,",  # 5: region for a coordinator
            "New Five,new5@example.org,chair,Leeds,,,slack",  # 6: slack without a Slack id
            "New Six,new6@example.org,coordinator,Leeds,,,",  # 7: good
            "New Seven,NEW6@example.org,coordinator,Leeds,,,",  # 8: same email as row 7
            "New Eight,new8@example.org,coordinator,Leeds,U001,,",  # 9: Cara's Slack id
            "New Nine,new9@example.org,manager,Narnia,,,",  # 10: not a Marac, region or area
            "New Ten,new10@example.org,coordinator,,,,",  # 11: no Maracs
            "New Eleven,new11@example.org,coordinator,Leeds,,,fax",  # 12: unknown channel
        ]
    )
    result = import_csv(db_session, text)
    found = [(e.row, e.code) for e in result.errors]
    assert found == [
        (2, "registry-unknown-marac"),
        (3, "registry-bad-role"),
        (4, "registry-bad-email"),
        (5, "registry-scope-not-allowed"),
        (6, "registry-channel-needs-id"),
        (8, "registry-duplicate-row"),
        (9, "registry-taken-id"),
        (10, "registry-unknown-scope"),
        (11, "registry-no-maracs"),
        (12, "registry-bad-channel"),
    ]
    assert "Did you mean Croydon?" in result.errors[0].message
    assert "cara@example.org" in result.errors[6].message
    assert result.summary().splitlines()[0] == "Nothing was imported: 10 problems to fix first."
    db_session.commit()
    assert _count(db_session, Contact) == before
    assert find_contact(db_session, "new6@example.org") is None


def test_header_decides_the_kind_or_is_refused(db_session: Session) -> None:
    unknown = import_csv(db_session, "marac,count\nCroydon,3\n")
    assert unknown.kind is None and [(e.row, e.code) for e in unknown.errors] == [
        (1, "registry-header")
    ]
    typo = import_csv(
        db_session, "name,polic_force_area,region,nation\nCroydon,Met,London,England\n"
    )
    assert typo.kind == "maracs"
    assert [(e.row, e.code, e.column) for e in typo.errors] == [
        (1, "registry-unknown-column", "polic_force_area"),
        (1, "registry-missing-column", "police_force_area"),
    ]
    assert import_csv(db_session, "").errors[0].code == "registry-header"
    assert _count(db_session, Marac) == 0


def test_upsert_by_name_and_by_email(db_session: Session) -> None:
    load_registry(db_session)
    maracs = "\n".join(
        [
            "Name,Police force area,Region,Nation,Adult female population",  # no aliases column
            'Barking & Dagenham Marac,Metropolitan Police,London,England,"91,000"',
            "Sutton,Metropolitan Police,London,England,",
        ]
    )
    result = import_csv(db_session, maracs)
    assert (result.ok, result.inserted, result.updated) == (True, 1, 1)
    renamed = _marac(db_session, "Barking & Dagenham Marac")
    assert renamed.adult_female_population == 91000
    assert renamed.aliases == ["LBBD"]  # the column was absent, so the stored aliases stay
    contacts = "\n".join(
        [
            "name,email,role,maracs",
            "Cara Coordinator,Cara@Example.org,coordinator,Croydon;Sutton",
        ]
    )
    result = import_csv(db_session, contacts)
    assert (result.ok, result.inserted, result.updated) == (True, 0, 1)
    db_session.commit()
    cara = _contact(db_session, "cara@example.org")
    assert [m.name for m in cara.maracs] == ["Croydon", "Sutton"]
    assert cara.slack_user_id == "U001"  # absent column: kept
    assert _count(db_session, Contact) == 6


def test_import_reads_a_windows_1252_file(db_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "maracs.csv"
    path.write_bytes(
        f"{MARAC_HEADER}\nYnys Môn,Anglesey,North Wales Police,Wales,Wales,,\n".encode("cp1252")
    )
    assert import_csv(db_session, path).ok
    assert _marac(db_session, "Ynys Môn").aliases == ["Anglesey"]


def test_export_round_trips(db_session: Session, tmp_path: Path) -> None:
    load_registry(db_session)
    maracs_csv, contacts_csv = export_csv(db_session, tmp_path / "first")
    with contacts_csv.open(encoding="utf-8") as f:
        rows = {r["email"]: r for r in csv.DictReader(f)}
    assert rows["dana@example.org"]["maracs"] == "Barking and Dagenham;Leeds"
    assert rows["dana@example.org"]["channels"] == "teams"
    assert rows["ada@example.org"]["maracs"] == "*"
    fresh = Store.open(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        with fresh.transaction() as other:
            assert import_csv(other, maracs_csv).inserted == 4
            assert import_csv(other, contacts_csv).inserted == 6
        with fresh.transaction() as other:
            again_maracs, again_contacts = export_csv(other, tmp_path / "second")
    finally:
        fresh.close()
    assert again_maracs.read_bytes() == maracs_csv.read_bytes()
    assert again_contacts.read_bytes() == contacts_csv.read_bytes()


def test_demo_registry_loads_only_into_an_empty_registry(db_session: Session) -> None:
    assert is_registry_empty(db_session) and not is_demo_registry(db_session)
    assert load_demo_registry(db_session) is True
    assert is_demo_registry(db_session) and not is_registry_empty(db_session)
    db_session.commit()
    assert _count(db_session, Marac) == 33
    assert _count(db_session, Contact) == 33 * 2 + 2
    assert all(m.is_demo for m in db_session.scalars(select(Marac)))
    assert all(
        c.is_demo and c.email.endswith("@example.org") for c in db_session.scalars(select(Contact))
    )
    assert all(c.name.startswith("Demo ") for c in db_session.scalars(select(Contact)))
    city = _marac(db_session, "City of London")
    assert (city.police_force_area, city.region, city.nation) == (
        "City of London Police",
        "London",
        "England",
    )
    assert _marac(db_session, "Croydon").police_force_area == "Metropolitan Police"
    assert load_demo_registry(db_session) is False
    assert _count(db_session, Marac) == 33


def test_demo_registry_is_not_loaded_over_a_real_one(db_session: Session) -> None:
    load_registry(db_session)
    assert load_demo_registry(db_session) is False
    assert _count(db_session, Marac) == 4 and not is_demo_registry(db_session)
    assert not any(m.is_demo for m in db_session.scalars(select(Marac)))


def test_find_contact_by_email_slack_and_teams(db_session: Session) -> None:
    load_registry(db_session)
    assert _contact(db_session, "  Dana@Example.ORG ").name == "Dana Dual"
    slack = find_contact_by_slack(db_session, "U001")
    assert slack is not None and slack.email == "cara@example.org"
    teams = find_contact_by_teams(db_session, "AAD-DANA")
    assert teams is not None and teams.email == "dana@example.org"
    assert find_contact(db_session, "nobody@example.org") is None
    assert find_contact_by_slack(db_session, "U999") is None
