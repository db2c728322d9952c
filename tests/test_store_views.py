"""The views validation asks through: Marac names, who may submit, and stored meetings."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel.quarters import Quarter
from store.models import Contact, Marac
from store.names import name_key
from store.registry import load_demo_registry
from store.types import utcnow
from store.views import (
    ContactSenderView,
    DbRegistryView,
    DbStoredMeetings,
    sender_view,
    validation_context,
)
from tests.store_support import counts, load_registry, record, report, row


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Croydon MARAC", "croydon"),
        ("Barking & Dagenham", "barking dagenham"),
        ("Barking and Dagenham Marac", "barking dagenham"),
        ("  King's   Lynn. ", "kings lynn"),
        ("Stockton-on-Tees", "stockton on tees"),
        ("Ynys Môn", "ynys mon"),
    ],
)
def test_name_key_ignores_what_people_vary(text: str, key: str) -> None:
    assert name_key(text) == key


@pytest.fixture
def demo(db_session: Session) -> DbRegistryView:
    load_demo_registry(db_session)
    db_session.commit()
    return DbRegistryView.load(db_session)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("croydon marac", "Croydon"),
        ("CROYDON", "Croydon"),
        ("Barking & Dagenham", "Barking and Dagenham"),
        ("Barking and Dagenham", "Barking and Dagenham"),
        ("LBBD", "Barking and Dagenham"),  # alias
        ("Kingston", "Kingston upon Thames"),  # alias
        ("H&F", "Hammersmith and Fulham"),  # alias, "&" as "and"
        ("City of London MARAC.", "City of London"),
    ],
)
def test_resolve_tolerates_case_punctuation_and_aliases(
    demo: DbRegistryView, text: str, name: str
) -> None:
    info = demo.resolve(text)
    assert info is not None and info.name == name


def test_suggestions_for_typos(demo: DbRegistryView) -> None:
    assert demo.resolve("Croydn") is None
    assert demo.suggest("Croydn")[0] == "Croydon"
    assert demo.suggest("Richmnd")[0] == "Richmond upon Thames"
    assert len(demo.suggest("kensington", limit=2)) <= 2
    assert demo.suggest("Zzyzx") == []


def test_resolve_carries_population(demo: DbRegistryView) -> None:
    info = demo.resolve("Croydon")
    assert (
        info is not None and info.adult_female_population and info.adult_female_population > 100_000
    )
    assert not demo.is_empty()


def test_empty_registry_view(db_session: Session) -> None:
    view = DbRegistryView.load(db_session)
    assert view.is_empty() and view.resolve("Croydon") is None and view.suggest("Croydon") == []


def test_who_may_submit_and_view(db_session: Session) -> None:
    load_registry(db_session)
    cara = sender_view(db_session, "Cara@example.org")
    assert cara is not None and cara.may_submit("Croydon") and not cara.may_submit("Leeds")
    chris = sender_view(db_session, "chris@example.org")  # a chair asks but does not submit
    assert chris is not None and not chris.may_submit("Croydon") and chris.may_view("Croydon")
    mo = sender_view(db_session, "mo@example.org")  # manager of West Yorkshire Police
    assert mo is not None and not mo.may_submit("Leeds")
    assert mo.may_view("Leeds") and mo.may_view("Kirklees") and not mo.may_view("Croydon")
    lena = sender_view(db_session, "lena@example.org")  # manager of London
    assert lena is not None and lena.may_view("Barking and Dagenham") and not lena.may_view("Leeds")
    ada = sender_view(db_session, "ada@example.org")
    assert ada is not None and ada.may_submit("Leeds") and ada.may_view("Kirklees")
    assert sender_view(db_session, "stranger@example.org") is None


def test_sender_view_is_the_contacts_own_view(db_session: Session) -> None:
    """The one-statement lookup says what loading the Contact with its Maracs says, for every
    demo contact: several Maracs, one, none (an admin), a manager's scope."""
    load_demo_registry(db_session)
    two = list(db_session.scalars(select(Marac).order_by(Marac.name).limit(2)))
    db_session.add_all([Contact(name="No Marac", email="none@example.org", role="coordinator"),
                        Contact(name="Two", email="two@example.org", role="coordinator",
                                maracs=two)])
    db_session.flush()
    contacts = db_session.scalars(select(Contact)).all()
    assert {len(c.maracs) for c in contacts} >= {0, 1, 2}
    assert any(c.role == "manager" and c.scopes for c in contacts)
    for contact in contacts:
        expected = ContactSenderView.load(db_session, contact)
        assert sender_view(db_session, f"  {contact.email.upper()} ") == expected


def test_sender_view_of_a_retired_contact_is_none(db_session: Session) -> None:
    load_registry(db_session)
    cara = db_session.scalars(select(Contact).where(Contact.email == "cara@example.org")).one()
    cara.retired_at = utcnow()
    db_session.flush()
    assert sender_view(db_session, "cara@example.org") is None


def test_stored_meetings_current_and_quarter(db_session: Session) -> None:
    load_registry(db_session)
    oct3, oct17, jul4 = date(2024, 10, 3), date(2024, 10, 17), date(2024, 7, 4)
    rows = [row(2, "Croydon", oct3), row(3, "Croydon", oct17, cases=9), row(4, "Croydon", jul4)]
    record(db_session, report(*rows))
    record(db_session, report(row(2, "Leeds", oct3, cases=30)), sender="dana@example.org")
    db_session.commit()
    stored = DbStoredMeetings(db_session)
    assert stored.current("Croydon", oct3) == counts()
    assert stored.current("Croydon", date(2024, 10, 4)) is None
    q3 = stored.quarter_totals("Croydon", Quarter(2024, 3))
    assert [m["meeting_date"] for m in q3] == [oct3, oct17]
    assert [m["cases"] for m in q3] == [12, 9]
    assert q3[0]["ref_other"] is None and q3[0]["ref_housing"] == 0  # blank is not zero
    # Confirmed new figures: only the current version counts, the one it replaced does not.
    record(db_session, report(row(2, "Croydon", oct3, cases=20)), confirm=True, raw=b"again")
    db_session.commit()
    again = DbStoredMeetings(db_session)
    assert again.current("Croydon", oct3) == counts(cases=20)
    assert [m["cases"] for m in again.quarter_totals("Croydon", Quarter(2024, 3))] == [20, 9]


def test_validation_context_is_backed_by_the_store(db_session: Session) -> None:
    load_registry(db_session)
    context = validation_context(db_session, today=date(2024, 11, 1), sender="cara@example.org")
    assert context.registry is not None and context.registry.resolve("croydon") is not None
    assert context.sender is not None and context.sender.may_submit("Croydon")
    assert (
        context.stored is not None and context.stored.current("Croydon", date(2024, 10, 3)) is None
    )
    unknown = validation_context(db_session, today=date(2024, 11, 1), sender="who@example.org")
    assert unknown.sender is not None and not unknown.sender.may_submit("Croydon")
    assert validation_context(db_session, today=date(2024, 11, 1)).sender is None
    assert validation_context(db_session, today=date(2024, 11, 1), sender="").sender is None
    # A sender already looked up in this session is used as it is, not looked up again.
    looked_up = context.sender
    assert isinstance(looked_up, ContactSenderView)
    again = validation_context(db_session, today=date(2024, 11, 1), sender=looked_up)
    assert again.sender is looked_up


def test_a_scope_of_everything_counts_for_a_manager_only(db_session: Session) -> None:
    """Scopes are a manager's; "*" in a coordinator's row gives them nothing more."""
    load_registry(db_session)
    croydon = db_session.scalars(select(Marac).where(Marac.name == "Croydon")).one()
    db_session.add_all([
        Contact(name="Star coordinator", email="star@example.org", role="coordinator",
                scopes=["*"], maracs=[croydon]),
        Contact(name="Star manager", email="boss@example.org", role="manager", scopes=["*"]),
    ])
    db_session.flush()
    coordinator = sender_view(db_session, "star@example.org")
    manager = sender_view(db_session, "boss@example.org")
    assert coordinator is not None and not coordinator.everything
    assert coordinator.may_view("Croydon") and not coordinator.may_view("Leeds")
    assert manager is not None and manager.everything and manager.may_view("Leeds")
