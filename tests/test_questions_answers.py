"""Answers against a seeded store, on SQLite and PostgreSQL: every figure is worked out again
here from the seed in plain Python (tests/questions_support.py), blank kept apart from 0."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TypeVar

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.settings import Settings
from handlers.questions import Answer, answer_question
from handlers.questions.entities import MAX_QUESTION_CHARS
from handlers.questions.metrics import METRICS
from kernel import wording
from kernel.answers import (
    Count,
    Figure,
    Figures,
    HasUploaded,
    Meaning,
    Missing,
    PartnerShare,
    SeveralMaracs,
    State,
    Status,
    Template,
    UnclearPeriod,
    UnknownName,
)
from kernel.config import Bands
from kernel.quarters import Quarter
from reports import grid as grid_report
from reports.answers import GridAnswer
from reports.answers_html import answer_html
from reports.history_answers import ExportAnswer
from store.db import Store
from store.registry import find_contact
from tests.questions_support import (
    CONTACTS_CSV,
    HELD_MEETING,
    SENT,
    TODAY,
    Seeded,
    load_registry,
    rate,
    seed,
    total,
)
from tests.store_support import record, report
from validation.columns import COUNT_KEYS
from validation.report import ParsedRow

ALL_MARACS = ("Ashford", "Barking and Dagenham", "Canterbury", "Cardiff", "Croydon", "Glasgow",
              "Kingston upon Thames", "Kirklees", "Leeds")
LONDON = ("Barking and Dagenham", "Croydon", "Kingston upon Thames")
POPULATION = {"Croydon": 160300, "Barking and Dagenham": 89800, "Kingston upon Thames": 70000,
              "Kirklees": 180000, "Ashford": 55000, "Canterbury": 60000, "Cardiff": 150000,
              "Glasgow": 260000}  # Leeds has none
BLANK_VS_ZERO = ("Cardiff", "Q4 2023/24")
T = TypeVar("T")


def _as(answer: Answer, kind: type[T]) -> T:
    """The answer's typed value, checked to be of the kind expected."""
    assert isinstance(answer.result, kind), answer.result
    return answer.result


def _figures(answer: Answer) -> Figures:
    return _as(answer, Figure).figures


@dataclass
class World:
    store: Store
    stored: list[Seeded]

    def ask(self, question: str, *, as_: str | None = None, today: date = TODAY,
            images: bool = False) -> Answer:
        with self.store.sessions() as session:
            asker = find_contact(session, as_) if as_ else None
            return answer_question(session, question, asker=asker, settings=Settings(),
                                   today=today, is_operator=as_ is None, images=images)

    def meetings(self, maracs: tuple[str, ...], quarters: tuple[str, ...]) -> list[Seeded]:
        return [m for m in self.stored if m.marac in maracs and m.quarter in quarters]


def _blank_vs_zero(world_store: Store) -> list[Seeded]:
    """Three Cardiff meetings whose children are blank, 0 and 5: the total is 5 over two
    meetings, with one blank, never 5 over three."""
    marac, label = BLANK_VS_ZERO
    start = Quarter.from_label(label).start
    rows, stored = [], []
    for n, children in enumerate((None, 0, 5)):
        counts = {key: None for key in COUNT_KEYS} | {"cases": 10, "children": children,
                                                      "repeat_cases": 3 if n else None}
        day = start.replace(day=1 + 10 * n)
        stored.append(Seeded(marac, day, counts))
        rows.append(ParsedRow(n + 2, marac, day, dict(counts), marac=marac))
    with world_store.sessions() as session:
        record(session, report(*rows, file="cardiff-q4.xlsx"), sender="ada@example.org")
        session.commit()
    return stored


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[World]:
    """One seeded store per backend for the whole module: every question only reads."""
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('questions') / 'marac.db'}"
    else:
        base = request.getfixturevalue("pg_database_url")
        schema = f"q_{uuid.uuid4().hex[:12]}"
        with create_engine(base).begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(base).update_query_dict(
            {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    store = Store.open(url)
    with store.sessions() as session:
        load_registry(session)
        stored = seed(session)
    stored += _blank_vs_zero(store)
    yield World(store, stored)
    store.close()
    if schema is not None:
        with create_engine(request.getfixturevalue("pg_database_url")).begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


# --- has X uploaded ---------------------------------------------------------------------------


def test_has_uploaded_says_when_by_whom_meetings_cases_and_held_changes(world: World) -> None:
    answer = world.ask("has Croydon uploaded Q3?")
    meetings = world.meetings(("Croydon",), ("Q3 2024/25",))
    data = _as(answer, HasUploaded)
    assert (answer.intent, answer.answered) == ("has-uploaded", True)
    assert data.marac == "Croydon" and data.period.label == "Q3 2024/25"
    assert data.uploaded is True
    assert data.meetings == len(meetings) == 3
    # the held change (3 more cases) is not applied until confirmed
    assert data.cases == total(meetings, "cases")[0]
    assert data.received is not None
    assert data.received.by == "cara@example.org"
    assert data.received.by_name == "Cara Coordinator"
    assert data.received.file == "Croydon-Q3.xlsx"
    assert [h.meeting_date for h in data.held_changes] == [HELD_MEETING[1]]
    assert answer.text.count("1 Oct – 31 Dec 2024") == 1
    assert "Cara Coordinator" in answer.text and "15 Oct 2024" in answer.text


def test_not_uploaded_states_the_due_date_and_whether_overdue(world: World) -> None:
    late = world.ask("has Kirklees sent q3 2024/25?")
    late_data = _as(late, HasUploaded)
    assert late.answered and late_data.uploaded is False
    assert late_data.state is State.OVERDUE and late_data.meetings == 0
    assert "28 Jan 2025" in late.text and "overdue" in late.text
    early = world.ask("has Kirklees sent q3 2024/25?", today=date(2025, 1, 10))
    early_data = _as(early, HasUploaded)
    assert early_data.state is State.MISSING and early_data.period.overdue is False
    assert "28 Jan 2025" in early.text and "overdue" not in early.text


def test_the_due_date_of_a_quarter_sent_is_said_only_when_asked(world: World) -> None:
    plain = world.ask("has Croydon uploaded Q3 2024/25?")
    assert _as(plain, HasUploaded).asked_due is False and "28 Jan 2025" not in plain.text
    for question in ("when is Croydon's Q3 2024/25 due?", "Croydon Q3 2024/25 deadline?"):
        asked = world.ask(question)
        assert _as(asked, HasUploaded).uploaded is True, question
        assert asked.text.splitlines()[1] == "It was due by 28 Jan 2025.", question
    early = world.ask("when is Croydon's Q3 2024/25 due?", today=date(2025, 1, 10))
    assert early.text.splitlines()[1] == "It is due by 28 Jan 2025."


def test_without_a_quarter_the_last_one_that_ended_is_meant_and_said(world: World) -> None:
    answer = world.ask("has Leeds uploaded?")
    data = _as(answer, HasUploaded)
    assert data.period.label == "Q3 2024/25" and data.quarter_defaulted
    assert "No quarter was named" in answer.text


# --- who is missing ----------------------------------------------------------------------------


def _coordinators() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in CONTACTS_CSV.splitlines()[1:]:
        _, email, role, maracs = line.split(",")[:4]
        if role == "coordinator":
            for marac in maracs.split(";"):
                found.setdefault(marac, []).append(email)
    return found


def test_missing_lists_maracs_with_coordinators_overdue_and_missed_previous(world: World) -> None:
    answer = world.ask("who hasn't uploaded Q3 2024/25?")
    expected = sorted(m for m in ALL_MARACS if "Q3 2024/25" not in SENT.get(m, ()))
    data = _as(answer, Missing)
    assert (answer.intent, answer.answered) == ("missing", True)
    assert data.period.label == "Q3 2024/25"
    assert list(data.missing) == expected == ["Glasgow", "Kingston upon Thames", "Kirklees"]
    coordinators = _coordinators()
    for detail in data.details:
        assert [c.email for c in detail.coordinators] == coordinators.get(detail.marac, [])
        assert detail.overdue is True
        assert detail.missed_previous == ("Q2 2024/25" not in SENT.get(detail.marac, ()))
    assert "kit@example.org" in answer.text and "gus@example.org" in answer.text
    assert answer.text.count("1 Oct – 31 Dec 2024") == 1 and "28 Jan 2025" in answer.text


def test_a_london_manager_asks_who_in_london_has_not_uploaded(world: World) -> None:
    answer = world.ask("who hasn't uploaded Q3 2024/25 in London", as_="lena@example.org")
    data = _as(answer, Missing)
    assert answer.answered and data.missing == ("Kingston upon Thames",)
    assert data.maracs_asked == len(LONDON)
    assert "Kit Kingston" in answer.text


def test_who_has_uploaded_names_those_that_have(world: World) -> None:
    answer = world.ask("has London uploaded Q2 2024/25?")
    data = _as(answer, Missing)
    assert answer.intent == "missing" and data.focus == "uploaded"
    assert list(data.uploaded) == [m for m in LONDON if "Q2 2024/25" in SENT[m]]
    assert list(data.missing) == [m for m in LONDON if "Q2 2024/25" not in SENT[m]]


# --- a Marac's year ----------------------------------------------------------------------------


def test_status_gives_each_quarter_of_the_year(world: World) -> None:
    answer = world.ask("Kirklees 2024/25")
    assert (answer.intent, answer.answered) == ("status", True)
    quarters = _as(answer, Status).quarters
    assert [q.quarter.label for q in quarters] == [f"Q{n} 2024/25" for n in (1, 2, 3, 4)]
    assert [q.state for q in quarters] == ["accepted", "accepted", "overdue", "not-due"]
    for q in quarters:
        meetings = world.meetings(("Kirklees",), (q.quarter.label,))
        assert q.meetings == len(meetings)
        assert q.cases == (total(meetings, "cases")[0] if meetings else None)
    croydon = world.ask("status Croydon 2024/25")
    assert [q.held for q in _as(croydon, Status).quarters] == [0, 0, 1, 0]
    assert _as(croydon, Status).quarters[2].state is State.HELD


# --- figures (spec §5) ------------------------------------------------------------------------


def test_blank_is_not_zero_in_totals_and_rates(world: World) -> None:
    children = world.ask("how many children in Cardiff Q4 2023/24")
    figures = _figures(children)
    assert figures.of("children") == Count(total=5, blank_meetings=1)
    assert figures.meetings == 3 and figures.cases.total == 30
    assert "left blank at 1 of 3 meetings" in children.text
    repeats = _figures(world.ask("repeat rate for Cardiff Q4 2023/24")).rate("repeat_rate")
    assert repeats is not None
    # two meetings filled repeats in (3 + 3 of 10 + 10 cases); the blank one is left out
    assert repeats.value == pytest.approx(6 / 20)
    assert (repeats.count, repeats.of_cases, repeats.blank_meetings) == (6, 20, 1)


@pytest.mark.parametrize(
    ("question", "maracs", "quarters", "key"),
    [
        ("how many children in Croydon Q3 2024/25", ("Croydon",), ("Q3 2024/25",), "children"),
        ("cases with children in Leeds 2024/25", ("Leeds",),
         ("Q1 2024/25", "Q2 2024/25", "Q3 2024/25", "Q4 2024/25"), "cases_with_children"),
        ("how many children in Kent Q3 2024/25", ("Ashford", "Canterbury"), ("Q3 2024/25",),
         "children"),
    ],
)
def test_totals_match_the_seed(world: World, question: str, maracs: tuple[str, ...],
                               quarters: tuple[str, ...], key: str) -> None:
    answer = world.ask(question)
    meetings = world.meetings(maracs, quarters)
    expected_total, blank = total(meetings, key)
    figures = _figures(answer)
    assert figures.of(key) == Count(total=expected_total, blank_meetings=blank)
    assert figures.meetings == len(meetings)
    assert f"{expected_total:,}" in answer.text


@pytest.mark.parametrize(
    ("question", "maracs", "quarter", "metric", "key"),
    [
        ("repeat rate for Leeds Q1 2024/25", ("Leeds",), "Q1 2024/25", "repeat_rate",
         "repeat_cases"),
        ("police referrals in London Q3 2024/25", LONDON, "Q3 2024/25", "police_share",
         "ref_police"),
        ("male victims in West Yorkshire Q2 2024/25", ("Leeds", "Kirklees"), "Q2 2024/25",
         "male", "male"),
    ],
)
def test_rates_match_the_seed(world: World, question: str, maracs: tuple[str, ...],
                              quarter: str, metric: str, key: str) -> None:
    answer = world.ask(question)
    assert answer.intent == "figure" and _as(answer, Figure).metric == metric
    expected = rate(world.meetings(maracs, (quarter,)), key)
    found = _figures(answer).rate(metric)
    assert found is not None and found.value == pytest.approx(expected)


def test_partner_share_is_one_minus_police(world: World) -> None:
    answer = world.ask("partner agency referrals in London Q3 2024/25")
    police = rate(world.meetings(LONDON, ("Q3 2024/25",)), "ref_police")
    assert police is not None
    partner = _figures(answer).of("partner_share")
    assert isinstance(partner, PartnerShare)
    assert partner.value == pytest.approx(1 - police)
    assert partner.national == pytest.approx(0.361)


def test_national_picture_follows_the_national_rule(world: World) -> None:
    """By 3 Feb 2025 Q1-Q3 are due: a Marac that missed one counts with its previous quarter's
    figures, one that missed two in a row is left out of it; Q4 counts only who sent."""
    answer = world.ask("national picture 2024/25")
    quarters = tuple(f"Q{n} 2024/25" for n in (1, 2, 3, 4))
    parts: dict[str, list[list[Seeded]]] = {}
    filled: set[str] = set()
    left_out: set[str] = set()
    for label in quarters:
        previous = Quarter.from_label(label).previous().label
        for marac in ALL_MARACS:
            mine = [m for m in world.stored if m.marac == marac and m.quarter == label]
            before = [m for m in world.stored if m.marac == marac and m.quarter == previous]
            if mine:
                parts.setdefault(marac, []).append(mine)
            elif label != "Q4 2024/25" and before:
                parts.setdefault(marac, []).append(before)
                filled.add(marac)
            elif label != "Q4 2024/25":
                left_out.add(marac)
    counted = [m for quarters_ in parts.values() for q in quarters_ for m in q]
    annual, population = 0.0, 0
    for marac, brought in parts.items():
        if marac in POPULATION:
            annual += sum(total(q, "cases")[0] for q in brought) * 4 / len(brought)
            population += POPULATION[marac]
    figures = _figures(answer)
    assert (answer.intent, answer.answered) == ("summary", True)
    sent = {m.marac for m in world.stored if m.quarter in quarters}
    assert figures.maracs_submitted == len(sent)
    assert figures.maracs_asked == len(ALL_MARACS)
    assert figures.cases.total == total(counted, "cases")[0]
    assert figures.per_10k.value == pytest.approx(annual / population * 10_000)
    assert figures.per_10k.maracs_without_population == 1  # Leeds
    assert figures.idva_fte.expected == pytest.approx(population * 40 / 10_000 / 100)
    repeats = figures.rate("repeat_rate")
    assert repeats is not None
    assert repeats.value == pytest.approx(rate(counted, "repeat_cases"))
    assert answer.text.startswith("National picture, 2024/25 (1 Apr 2024 – 31 Mar 2025):")
    rule = answer.data["national_rule"]
    assert (set(rule["filled"]), set(rule["left_out"])) == (filled, left_out)
    assert "National rule: Barking and Dagenham, Kingston upon Thames and Kirklees missed a " \
        "quarter" in answer.text


def test_one_marac_s_own_figures_are_never_filled(world: World) -> None:
    answer = world.ask("how many cases did Kirklees discuss in Q3 2024/25")
    assert _figures(answer).meetings == 0 and "national_rule" not in answer.data
    assert "No figures have been sent for Kirklees" in answer.text


def test_a_quarter_with_no_figures_says_so(world: World) -> None:
    answer = world.ask("how many cases in Glasgow Q3 2024/25")
    assert answer.answered and _figures(answer).meetings == 0
    assert "No figures have been sent for Glasgow" in answer.text


# --- roles (spec §6) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "question", "answered", "says"),
    [
        ("cara@example.org", "has Croydon uploaded Q3?", True, "Croydon has uploaded"),
        ("cara@example.org", "has Leeds uploaded Q3?", False, "your own Maracs (Croydon)"),
        ("chris@example.org", "status Croydon", True, "Croydon, 2024/25"),
        ("chris@example.org", "repeat rate for Kirklees Q1", False, "Kirklees is not one"),
        ("dana@example.org", "has Leeds uploaded Q3?", True, "Leeds has uploaded"),
        ("dana@example.org", "missing Q3 in West Yorkshire", True, "Leeds has uploaded"),
        ("mo@example.org", "has Kirklees uploaded Q3?", True, "Kirklees has not uploaded"),
        ("mo@example.org", "has Croydon uploaded Q3?", False, "outside your scope"),
        ("lena@example.org", "grid London 2024/25", True, "Upload grid, London"),
        ("lena@example.org", "missing Q3 in Kent", False, "Kent Police area is outside"),
        ("nora@example.org", "has Glasgow uploaded Q3?", True, "Glasgow has not uploaded"),
        ("ada@example.org", "national picture 2024/25", True, "National picture"),
        ("nobody@example.org", "has Croydon uploaded Q3?", False, "not registered"),
    ],
)
def test_who_may_ask_what(world: World, email: str, question: str, answered: bool,
                          says: str) -> None:
    answer = world.ask(question, as_=email)
    assert answer.answered is answered
    assert says in answer.text
    assert (answer.refused_reason is not None) is (not answered)


def test_the_operator_may_ask_anything(world: World) -> None:
    assert world.ask("has Glasgow uploaded Q2?").answered
    assert _as(world.ask("who hasn't uploaded Q3"), Missing).maracs_asked == len(ALL_MARACS)


def test_a_coordinator_without_a_place_gets_their_own_maracs(world: World) -> None:
    mine = world.ask("who hasn't uploaded Q2 2024/25?", as_="dana@example.org")
    data = _as(mine, Missing)
    assert data.maracs_asked == 2 and data.place.restricted is True
    assert data.missing == ("Barking and Dagenham",)
    assert "Only the Maracs you may ask about" in mine.text
    status = world.ask("status", as_="cara@example.org")
    assert status.answered and _as(status, Status).marac == "Croydon"


def test_a_managers_answer_is_cut_to_their_scope(world: World) -> None:
    answer = world.ask("how many cases in England Q3 2024/25", as_="lena@example.org")
    assert answer.answered and _as(answer, Figure).place.restricted is True
    assert _figures(answer).maracs_asked == len(LONDON)


@pytest.mark.parametrize(
    ("email", "question", "kind"),
    [
        ("cara@example.org", "national picture 2024/25", Figure),
        ("chris@example.org", "who hasn't uploaded Q2 2024/25?", Missing),
        ("cara@example.org", "grid 2024/25", GridAnswer),
        ("cara@example.org", "grid London 2024/25", GridAnswer),
        ("mo@example.org", "grid England 2024/25", GridAnswer),
        ("lena@example.org", "send me the Q3 data for England", ExportAnswer),
    ],
)
def test_an_answer_narrowed_to_the_askers_scope_says_so(
    world: World, email: str, question: str, kind: type
) -> None:
    answer = world.ask(question, as_=email)
    assert answer.answered and isinstance(answer.result, kind)
    assert wording.ANSWER_RESTRICTED in answer.text.splitlines()
    data = answer.to_json()["data"]
    assert (data["restricted"] if kind is ExportAnswer else data["place"]["restricted"]) is True
    if isinstance(answer.result, GridAnswer):  # the email's HTML part says it too
        html, _ = answer_html(answer.result, answer.attachments)
        assert html is not None and wording.ANSWER_RESTRICTED in html


@pytest.mark.parametrize(
    ("email", "question"),
    [
        ("cara@example.org", "our repeat rate Q3"),  # their own Marac: nothing left out
        ("cara@example.org", "how many cases in Q3"),
        ("mo@example.org", "grid West Yorkshire 2024/25"),  # all of it in scope
        (None, "grid London 2024/25"),
    ],
)
def test_an_answer_not_narrowed_does_not_say_so(world: World, email: str | None,
                                                question: str) -> None:
    answer = world.ask(question, as_=email)
    assert answer.answered and wording.ANSWER_RESTRICTED not in answer.text


# --- not answered: help, never a guess --------------------------------------------------------


def test_the_leading_word_of_one_name_only_is_taken_as_that_name(world: World) -> None:
    answer = world.ask("has barking uploaded q1?")
    assert answer.answered and _as(answer, HasUploaded).marac == "Barking and Dagenham"
    assert "(taking 'barking' as Barking and Dagenham)" in answer.text.splitlines()[0]
    assert answer.to_json()["taken_as"] == [{"said": "barking",
                                             "taken_as": "Barking and Dagenham"}]


def test_a_leading_word_of_several_names_gets_did_you_mean(world: World) -> None:
    # "West" begins West Yorkshire Police, and West Midlands and more with no Marac: not taken.
    answer = world.ask("has west uploaded q3")
    assert answer.answered is False and "taken_as" not in answer.to_json()
    assert _as(answer, UnknownName).name == "west"
    assert "Did you mean West Yorkshire Police?" in answer.text


def test_a_unique_close_misspelling_is_answered_and_said(world: World) -> None:
    answer = world.ask("has Croydn uploaded q3")
    assert answer.answered and _as(answer, HasUploaded).marac == "Croydon"
    assert "(taking 'Croydn' as Croydon)" in answer.text.splitlines()[0]
    assert answer.to_json()["taken_as"] == [{"said": "Croydn", "taken_as": "Croydon"}]


def test_an_unknown_place_is_not_answered_for_everyone(world: World) -> None:
    answer = world.ask("how many cases in Narnia q3")
    assert answer.answered is False and isinstance(answer.result, UnknownName)


@pytest.mark.parametrize(
    ("question", "unknown", "kind", "says"),
    [
        ("status Croydon and Narnia", "Narnia", Status, "Croydon, 2024/25"),
        ("repeat rate for Leeds and Narnia Q1", "Narnia", Figure, "Leeds, Q1 2024/25"),
        ("how many cases did Croydon and Gotham discuss in 2024/25?", "Gotham", Figure,
         "Croydon, 2024/25"),
        ("has Croydon or Gotham uploaded Q3?", "Gotham", HasUploaded, "Croydon has uploaded"),
        ("missing Q2 in London and Gotham", "Gotham", Missing, "London: 2 of 3"),
        ("missing Q2 in Gotham, London", "Gotham", Missing, "London: 2 of 3"),
        ("grid London and Gotham 2024/25", "Gotham", GridAnswer, "Upload grid, London"),
    ],
)
def test_an_unknown_place_listed_with_a_known_one_is_said_to_be_unknown(
    world: World, question: str, unknown: str, kind: type, says: str
) -> None:
    answer = world.ask(question)
    assert answer.answered and isinstance(answer.result, kind)
    assert says in answer.text
    assert answer.text.splitlines()[-1] == f"I don't know a Marac or area called {unknown}."
    assert answer.to_json()["unknown_places"] == [unknown]
    if isinstance(answer.result, GridAnswer):  # the email's HTML part says it too
        html, _ = answer_html(answer.result, answer.attachments, answer.notes)
        assert html is not None and f"called {unknown}." in html


def test_an_ordinary_word_beside_a_place_is_not_an_unknown_place(world: World) -> None:
    for question in ("status Croydon, thanks Bob", "missing Q2 in London and elsewhere",
                     "has Croydon uploaded Q3, cheers"):
        answer = world.ask(question)
        assert answer.answered and "I don't know" not in answer.text, question
        assert "unknown_places" not in answer.to_json()


def test_an_ambiguous_quarter_is_not_guessed(world: World) -> None:
    answer = world.ask("has Croydon uploaded Q3 2024?")
    assert answer.answered is False and isinstance(answer.result, UnclearPeriod)
    assert "Q3 2024/25" in answer.text


def test_two_quarters_named_get_an_example_for_the_marac_asked_about(world: World) -> None:
    """The example names the Marac asked about, else the asker's own; without either the
    question is described rather than made up."""
    named = world.ask("has Leeds uploaded Q2 and Q3?", as_="cara@example.org")
    assert isinstance(named.result, UnclearPeriod) and named.result.example == "Leeds"
    assert '("status Leeds")' in named.text
    own = world.ask("who is missing both Q2 and Q3?", as_="cara@example.org")
    assert '("status Croydon")' in own.text  # Cara coordinates Croydon
    nobody = world.ask("who is missing both Q2 and Q3?")  # the operator: no Marac of their own
    assert isinstance(nobody.result, UnclearPeriod) and nobody.result.example is None
    assert '("status" and the Marac\'s name)' in nobody.text


def test_a_question_not_understood_gets_help(world: World) -> None:
    answer = world.ask("what is the meaning of life")
    assert (answer.intent, answer.answered) == ("help", False)
    assert "has Croydon uploaded Q3?" in answer.text and "Sorry" in answer.text
    assert world.ask("help").answered


def test_one_marac_at_a_time(world: World) -> None:
    answer = world.ask("has Croydon and Leeds uploaded Q3")
    assert isinstance(answer.result, SeveralMaracs) and not answer.answered


# --- the grid and the template ---------------------------------------------------------------


def _expected_state(marac: str, label: str) -> str:
    quarter = Quarter.from_label(label)
    if label in SENT.get(marac, ()):
        held = (marac, label) == (HELD_MEETING[0], Quarter.containing(HELD_MEETING[1]).label)
        return "held" if held else "accepted"
    if quarter.end >= TODAY:
        return "not-due"
    return "overdue" if quarter.due_date(28) < TODAY else "missing"


def test_grid_cells_text_csv_and_png(world: World, tmp_path: Path) -> None:
    answer = world.ask("grid London 2024/25", images=True)
    grid = _as(answer, GridAnswer).grid
    labels = [f"Q{n} 2024/25" for n in (1, 2, 3, 4)]
    assert [r.marac for r in grid.rows] == list(LONDON)
    for row in grid.rows:
        assert [c.state for c in row.cells] == [_expected_state(row.marac, q) for q in labels]
    lines = answer.text.splitlines()
    croydon = next(line for line in lines if line.startswith("Croydon"))
    assert croydon.split()[1:] == ["accepted", "accepted", "held", "not", "due"]
    csv_rows = grid_report.to_csv(grid).splitlines()
    assert csv_rows[0] == "Marac,Region,Police force area," + ",".join(labels)
    assert csv_rows[1] == "Barking and Dagenham,London,Metropolitan Police,accepted,overdue," \
        "accepted,not due"
    (image,) = answer.attachments
    assert image.content_type == "image/png" and image.data.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(image.data)) as png:
        assert png.format == "PNG"
        # a title, a header, three rows and the key: wide enough to read, not a poster
        assert 500 <= png.width <= 1500 and 150 <= png.height <= 600
    (tmp_path / image.filename).write_bytes(image.data)


def test_grid_without_images_attaches_nothing(world: World) -> None:
    answer = world.ask("grid 2024/25")
    assert answer.attachments == () and len(_as(answer, GridAnswer).grid.rows) == len(ALL_MARACS)


def test_template_is_made_out_for_the_askers_marac_and_edition(world: World) -> None:
    croydon = world.ask("template", as_="cara@example.org")
    (sheet,) = croydon.attachments
    assert sheet.filename == "marac-data-template-croydon.xlsx"
    book = load_workbook(io.BytesIO(sheet.data))
    cells = [str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert any("This template is for Croydon" in value for value in cells)
    glasgow = world.ask("can I have a blank template", as_="gus@example.org")
    assert _as(glasgow, Template).edition == "scotland"


# --- limits on what is read and echoed (issue 10) --------------------------------------------


def _padded_to(question: str, tail: str, length: int) -> str:
    return question + " " * (length - len(question) - len(tail)) + tail


def test_a_question_is_read_up_to_its_two_thousandth_character(world: World) -> None:
    question = "has Croydon uploaded Q3 2024/25?"
    read_whole = world.ask(_padded_to(question, " Leeds", MAX_QUESTION_CHARS))
    assert "Croydon and Leeds" in read_whole.text  # the last word is still read
    cut = world.ask(_padded_to(question, " Leeds", MAX_QUESTION_CHARS + 1))
    assert cut.answered and _as(cut, HasUploaded).marac == "Croydon"  # "Leeds" lay past the limit
    assert "Leeds" not in cut.text and "leed" not in cut.text  # not cut inside the word


def test_an_unknown_name_is_echoed_at_most_sixty_characters(world: World) -> None:
    answer = world.ask("has " + "Zorblax" * 270 + " uploaded Q3 2024/25?")  # 1,890 letters
    quoted = answer.text.split("called ", 1)[1].split(".", 1)[0]
    assert len(quoted) == wording.ECHO_CHARS + 2  # the quotes around it
    assert quoted.endswith("…'") and len(answer.text) < 200


# --- what a figure means ---------------------------------------------------------------------


@pytest.mark.parametrize("key", [m.key for m in METRICS if m.key != "all"])
def test_every_figure_that_can_be_asked_for_can_be_explained(world: World, key: str) -> None:
    label = wording.METRIC_LABELS[key]
    answer = world.ask(f"what does {label.lower()} mean?")
    assert (answer.intent, answer.answered) == ("meaning", True), answer.text
    assert _as(answer, Meaning).metric == key and answer.text.startswith(f"{label}: ")


def test_meaning_says_the_configured_bands_and_needs_a_figure(world: World) -> None:
    bands = replace(Bands(), repeat_rate_low=0.25, repeat_rate_high=0.45)
    said = wording.meaning_text("repeat_rate", bands)
    assert "Usual range 25%–45%" in said and "national 31%" in said
    for question in ("what does it mean?", "what does 'figures' mean?"):
        assert world.ask(question).intent != "meaning", question
