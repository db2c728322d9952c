"""Phrasings → intent and entities: the question engine's parsing, without a database.

Parsing runs on an in-memory copy of the test registry (tests/questions_support.py); the
intent is the route the matchers choose (handlers/questions/matchers.py), entities are what
handlers/questions/entities.py finds. Today is 3 Feb 2025: a bare "Q3" is Q3 2024/25.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from handlers.questions.entities import extract
from handlers.questions.intents import missing
from handlers.questions.matchers import (
    MATCHERS,
    asks_plainly,
    help_topics,
    looks_like_question,
    route,
)
from handlers.questions.model import Entities
from tests.questions_support import TODAY, snapshot

REGISTRY = snapshot()
ANY = object()


@dataclass(frozen=True)
class Case:
    text: str
    intent: str | None  # None: not understood
    maracs: tuple[str, ...] = ()
    area: str | None = None
    quarter: str | None = None
    year: str | None = None
    metric: object = ANY  # checked only when given
    unknown: tuple[str, ...] = ()
    flags: dict[str, object] = field(default_factory=dict)  # national, mine, period_unclear

    def __str__(self) -> str:
        return self.text


CASES = [
    # has Croydon uploaded Q3?
    Case("has Croydon uploaded Q3?", "has-uploaded", ("Croydon",), quarter="Q3 2024/25"),
    Case("has croydon sent q3", "has-uploaded", ("Croydon",), quarter="Q3 2024/25"),
    Case("Has CROYDON MARAC submitted its Q3 return?", "has-uploaded", ("Croydon",),
         quarter="Q3 2024/25"),
    Case("did Croydon send their Q3 data", "has-uploaded", ("Croydon",), quarter="Q3 2024/25"),
    Case("is Croydon's Q3 in?", "has-uploaded", ("Croydon",), quarter="Q3 2024/25"),
    Case("have we had Croydon's return for Q3 2024/25?", "has-uploaded", ("Croydon",),
         quarter="Q3 2024/25"),
    Case("any data from Croydon for last quarter?", "has-uploaded", ("Croydon",),
         quarter="Q3 2024/25"),
    Case("Croydon Q3", "has-uploaded", ("Croydon",), quarter="Q3 2024/25"),
    Case("has LBBD uploaded Q2 24/25", "has-uploaded", ("Barking and Dagenham",),
         quarter="Q2 2024/25"),
    Case("has Barking & Dagenham sent Oct-Dec 2024?", "has-uploaded", ("Barking and Dagenham",),
         quarter="Q3 2024/25"),
    Case("has Kingston uploaded the quarter ending December 2024", "has-uploaded",
         ("Kingston upon Thames",), quarter="Q3 2024/25"),
    Case("has Croydon uploaded Q3 2023-24", "has-uploaded", ("Croydon",), quarter="Q3 2023/24"),
    Case("has Croydon uploaded quarter 3 of 2024/25", "has-uploaded", ("Croydon",),
         quarter="Q3 2024/25"),
    Case("has Croydon uploaded the third quarter?", "has-uploaded", ("Croydon",),
         quarter="Q3 2024/25"),
    Case("has Croydon uploaded 1 Oct – 31 Dec 2024", "has-uploaded", ("Croydon",),
         quarter="Q3 2024/25"),
    Case("Did Glasgow submit Q2?", "has-uploaded", ("Glasgow",), quarter="Q2 2024/25"),
    Case("Re: has Croydon uploaded Q3?", "has-uploaded", ("Croydon",), quarter="Q3 2024/25"),
    Case("has croydn uploaded q3", "has-uploaded", quarter="Q3 2024/25", unknown=("croydn",)),
    Case("has Croydon and Leeds uploaded Q3", "has-uploaded", ("Croydon", "Leeds"),
         quarter="Q3 2024/25"),
    Case("has my marac uploaded q3", "has-uploaded", quarter="Q3 2024/25",
         flags={"mine": True}),
    Case("has Croydon uploaded Q3 2024?", "has-uploaded", ("Croydon",),
         flags={"period_unclear": "q3 2024"}),
    Case("has Croydon not sent Q3 yet?", "has-uploaded", ("Croydon",), quarter="Q3 2024/25"),
    Case("has Leeds uploaded 2023/24", "status", ("Leeds",), year="2023/24"),
    # who hasn't uploaded Q2?
    Case("who hasn't uploaded Q2 2024/25?", "missing", quarter="Q2 2024/25"),
    Case("who's missing Q2", "missing", quarter="Q2 2024/25"),
    Case("missing Q2 in London", "missing", area="London", quarter="Q2 2024/25"),
    Case("which Maracs in London haven't uploaded last quarter", "missing", area="London",
         quarter="Q3 2024/25"),
    Case("who has not sent their return for this quarter", "missing", quarter="Q4 2024/25"),
    # as often typed, with no apostrophe: never read as "who has"
    Case("who hasnt uploaded Q2 2024/25?", "missing", quarter="Q2 2024/25"),
    Case("which maracs havent uploaded q2 2024/25", "missing", quarter="Q2 2024/25"),
    Case("who didnt upload Q2 2024/25", "missing", quarter="Q2 2024/25"),
    Case("who did not upload Q2 2024/25", "missing", quarter="Q2 2024/25"),
    Case("who has not yet sent Q2 2024/25", "missing", quarter="Q2 2024/25"),
    Case("who doesnt have Q2 2024/25 in", "missing", quarter="Q2 2024/25"),
    Case("hasnt Croydon uploaded Q3", "has-uploaded", ("Croydon",), quarter="Q3 2024/25"),
    Case("which maracs are yet to submit Q3?", "missing", quarter="Q3 2024/25"),
    Case("who is overdue for Q3", "missing", quarter="Q3 2024/25"),
    Case("outstanding returns Q3 West Yorkshire", "missing", area="West Yorkshire Police",
         quarter="Q3 2024/25"),
    Case("who do I need to chase for Q3?", "missing", quarter="Q3 2024/25"),
    Case("who hasn't uploaded Q3 in Yorkshire and the Humber", "missing",
         area="Yorkshire and the Humber", quarter="Q3 2024/25"),
    Case("which Maracs have no data for Q3 2024/25 in Wales", "missing", area="Wales",
         quarter="Q3 2024/25"),
    Case("missing Q3 in Londn", "missing", quarter="Q3 2024/25", unknown=("londn",)),
    Case("has London uploaded Q3", "missing", area="London", quarter="Q3 2024/25"),
    Case("who has uploaded Q3?", "missing", quarter="Q3 2024/25"),
    Case("who's missing 2024/25", "grid", year="2024/25"),
    # a Marac's year
    Case("status Croydon", "status", ("Croydon",)),
    Case("Leeds this year", "status", ("Leeds",), year="2024/25"),
    Case("Leeds 2023/24", "status", ("Leeds",), year="2023/24"),
    Case("Croydon", "status", ("Croydon",)),
    Case("how is Kirklees doing this year?", "status", ("Kirklees",), year="2024/25"),
    Case("Kirklees so far", "status", ("Kirklees",)),
    Case("status of Leeds last year", "status", ("Leeds",), year="2023/24"),
    Case("status London 2024/25", "grid", area="London", year="2024/25"),
    # figures (spec §5)
    Case("how many cases did Leeds discuss in 2023/24?", "figure", ("Leeds",), year="2023/24",
         metric="cases"),
    Case("repeat rate for Leeds Q1", "figure", ("Leeds",), quarter="Q1 2024/25",
         metric="repeat_rate"),
    Case("Leeds repeats q1 2024/25", "figure", ("Leeds",), quarter="Q1 2024/25",
         metric="repeat_rate"),
    Case("children in Kent Q4", "figure", area="Kent Police", quarter="Q4 2024/25",
         metric="children"),
    Case("how many children in Kent Q4", "figure", area="Kent Police", quarter="Q4 2024/25",
         metric="children"),
    Case("police referrals in West Yorkshire last quarter", "figure",
         area="West Yorkshire Police", quarter="Q3 2024/25", metric="police_share"),
    Case("how many cases in West Yorkshire Police Q3", "figure", area="West Yorkshire Police",
         quarter="Q3 2024/25", metric="cases"),
    Case("what share of referrals came from partner agencies in Croydon Q3", "figure",
         ("Croydon",), quarter="Q3 2024/25", metric="partner_share"),
    Case("cases per 10,000 in Kirklees 2023/24", "figure", ("Kirklees",), year="2023/24",
         metric="per_10k"),
    Case("how many Idvas does Croydon need", "figure", ("Croydon",), metric="idva_fte"),
    Case("administrator FTE for Leeds this year", "figure", ("Leeds",), year="2024/25",
         metric="admin_fte"),
    Case("how many male victims in London Q3", "figure", area="London", quarter="Q3 2024/25",
         metric="male"),
    Case("LGBTQ+ victims in Croydon 2024/25", "figure", ("Croydon",), year="2024/25",
         metric="lgbtq"),
    Case("disabled victims nationally last year", "figure", year="2023/24", metric="disabled",
         flags={"national": True}),
    Case("how many meetings did Croydon have in Q3", "figure", ("Croydon",),
         quarter="Q3 2024/25", metric="meetings"),
    Case("cases with children in Croydon Q3", "figure", ("Croydon",), quarter="Q3 2024/25",
         metric="cases_with_children"),
    Case("16 or 17 year olds in Croydon Q3", "figure", ("Croydon",), quarter="Q3 2024/25",
         metric="aged_16_17"),
    Case("victims over 65 in Croydon Q3", "figure", ("Croydon",), quarter="Q3 2024/25",
         metric="aged_65_plus"),
    Case("Croydon figures Q3", "figure", ("Croydon",), quarter="Q3 2024/25", metric="all"),
    Case("how many cases in Narnia q3", "figure", quarter="Q3 2024/25", metric="cases",
         unknown=("narnia",)),
    # the national picture
    Case("national picture 2024/25", "summary", year="2024/25", flags={"national": True}),
    Case("summary Q3", "summary", quarter="Q3 2024/25"),
    Case("give me an overview for London this year", "summary", area="London", year="2024/25"),
    Case("how many Maracs have uploaded Q3?", "summary", quarter="Q3 2024/25"),
    Case("headline figures last quarter", "summary", quarter="Q3 2024/25"),
    # the grid, the template, help
    Case("grid London 2024/25", "grid", area="London", year="2024/25"),
    Case("show me the upload grid for 2023/24", "grid", year="2023/24"),
    Case("who has sent what this year", "grid", year="2024/25"),
    Case("template", "template"),
    Case("can I have a blank template please", "template"),
    Case("help", "help"),
    Case("what can I ask?", "help"),
    Case("?", "help"),
    # not understood: help, never a guess
    Case("hello there", None),
    Case("Q3", None, quarter="Q3 2024/25"),
    Case("what is the meaning of life", None, unknown=("meaning", "life")),
]


def _parse(text: str) -> tuple[str | None, Entities]:
    entities = extract(text, REGISTRY, today=TODAY)
    found = route(entities)
    return (found.intent if found else None), entities


def test_there_are_at_least_sixty_phrasings() -> None:
    assert len(CASES) >= 60
    assert len({c.text for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_phrasing_gives_intent_and_entities(case: Case) -> None:
    intent, e = _parse(case.text)
    assert intent == case.intent
    assert e.maracs == case.maracs
    assert (e.area.name if e.area else None) == case.area
    assert (e.quarter.label if e.quarter else None) == case.quarter
    assert (e.year.label if e.year else None) == case.year
    assert tuple(u.text for u in e.unknown) == case.unknown
    if case.metric is not ANY:
        assert e.metric == case.metric
    assert e.national == case.flags.get("national", False)
    assert e.mine == case.flags.get("mine", False)
    assert e.period_unclear == case.flags.get("period_unclear")


def test_an_area_name_is_not_read_as_a_figure() -> None:
    # "West Yorkshire Police" names a force; it is not a question about police referrals.
    _, e = _parse("who hasn't uploaded Q3 in West Yorkshire Police")
    assert e.area is not None and e.area.kind == "police_force_area"
    assert "police" not in e.residual


def test_a_word_after_in_stands_where_a_place_would() -> None:
    _, e = _parse("missing Q3 in Narnia")
    assert [(u.text, u.after_place_word) for u in e.unknown] == [("narnia", True)]
    _, e = _parse("has croydn uploaded q3")
    assert [(u.text, u.after_place_word) for u in e.unknown] == [("croydn", False)]


@pytest.mark.parametrize("question", ["who hasnt uploaded Q2 2024/25?",
                                      "which maracs havent uploaded q2 2024/25",
                                      "who hasn't uploaded Q2 2024/25?", "who has not sent Q2"])
def test_hasnt_without_an_apostrophe_lists_the_missing_not_the_uploaded(question: str) -> None:
    found = route(extract(question, REGISTRY, today=TODAY))
    assert found is not None and found.handler is missing.answer


@pytest.mark.parametrize(
    ("question", "beside"),
    [
        ("status Croydon and Narnia", True),
        ("status Croydon & Narnia", True),
        ("status Croydon, Narnia", True),
        ("has Croydon or Narnia uploaded Q3?", True),
        ("status Narnia and Croydon", True),
        ("status Narnia or Croydon", True),
        ("status Croydon Narnia", False),  # no list: a word beside a name is just a word
        ("status Croydon thanks Narnia", False),
        ("status Narnia", False),
    ],
)
def test_a_word_listed_with_a_name_stands_where_a_place_would(question: str,
                                                              beside: bool) -> None:
    _, e = _parse(question)
    assert [(u.text, u.beside_place) for u in e.unknown] == [("narnia", beside)]


def test_suggestions_come_from_maracs_and_areas() -> None:
    assert REGISTRY.suggest("croydn", strong=True) == ["Croydon"]
    assert REGISTRY.suggest("Londn", strong=True) == ["London"]
    assert REGISTRY.suggest("zzzzzz", strong=False) == []


def test_help_is_generated_from_the_matchers() -> None:
    topics = help_topics()
    intents = [t.intent for t in topics]
    assert intents[-1] == "help"
    for matcher in MATCHERS:
        if matcher.examples:
            assert matcher.intent in intents
    # every example parses to the intent it illustrates
    for topic in topics:
        for example in topic.examples:
            assert _parse(example)[0] == topic.intent, example


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("has Croydon uploaded Q3?", True),
        ("who's missing Q2", True),
        ("national picture 2024/25", True),
        ("Q3 2024/25 return for Croydon, attached", False),
        ("Cardiff Q3 2024-25", True),
        ("Leeds 2024/25", True),
        ("Thanks, see you next week", False),
    ],
)
def test_looks_like_question_needs_no_database(text: str, expected: bool) -> None:
    assert looks_like_question(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Our Q3 figures for Lambeth.", False),  # read by a matcher, but it describes a file
        ("Lambeth Q3 2024/25", False),
        ("Here are the Croydon numbers for October to December", False),
        ("has Croydon uploaded Q3", True),
        ("Which Maracs are missing Q4?", True),
        ("Could you check Lambeth's Q3 figures", True),
        ("Re: Lambeth Q3 figures - all ok?", True),
        ("Hashtag figures for Lambeth", False),  # "has" only as a whole word
    ],
)
def test_asks_plainly_needs_a_question_mark_or_a_question_opening(
    text: str, expected: bool
) -> None:
    assert asks_plainly(text) is expected


@pytest.mark.parametrize(("text", "phrase"), [
    ("figures for the last 4 quarters", "last 4 quarters"),
    ("cases over the past three quarters", "past three quarters"),
    ("repeat rate for the previous 12 months", "previous 12 months"),
    ("police share in the last six months", "last six months"),
    ("Leeds rolling year", "rolling year"),
    ("who missed the last two quarters", None),  # two in a row: a question of its own
    ("has Leeds sent the last quarter", None),
    ("cases in the last month", None),  # a month names a quarter's part, not a span
])
def test_a_span_ending_now_is_said_back_as_a_period_not_answered(
    text: str, phrase: str | None
) -> None:
    assert extract(text, REGISTRY, today=TODAY).period_unclear == phrase
