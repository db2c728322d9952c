"""A corpus of messages written the way Marac coordinators and managers write (issue 12): each
with what it must become (the recorded outcome) and the key data the answer must carry. Run by
tests/test_conversation_corpus.py through the real dispatcher, by email, Teams and Slack, on SQLite
and PostgreSQL, against the registry and returns of tests/conversation_support.py (asked on
1 June 2025: Q4 2024/25 is the last quarter that ended, Q1 2025/26 is running).

Hook for replies in threads (issue 12 part B): a case with ``setup="held-changes"`` is sent as
a reply to the bot's message about held changes; the runner must know how to make that state
(tests/test_conversation_corpus.py ``SETUPS``), so such cases are added with their setup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tests.conversation_support import (
    ADMIN,
    CARDIFF,
    CROYDON,
    DUAL,
    DUNDEE,
    LAMBETH,
    LONDON_MANAGER,
    NEWCOMER,
)

BOTH = ("email", "teams", "slack")  # every channel; a subject or mail header: email only
EMAIL = ("email",)


@dataclass(frozen=True)
class Case:
    """One message and what must come of it."""

    text: str
    outcome: str
    key: dict[str, Any] = field(default_factory=dict)  # "data.marac" -> expected value
    sender: str = ADMIN
    subject: str = "Marac data"
    says: str = ""  # words the reply must contain
    channels: tuple[str, ...] = BOTH
    setup: str | None = None  # a named state first (part B: "held-changes")
    kind: str = ""  # the corpus section, for the report
    headers: tuple[tuple[str, str], ...] = ()  # mail headers: email only
    files: tuple[tuple[str, bytes, str], ...] = ()  # (name, bytes, type) attached: email only


def has(
    text: str,
    marac: str,
    quarter: str,
    uploaded: bool,
    *,
    sender: str = ADMIN,
    says: str = "",
    extra: dict[str, Any] | None = None,
) -> Case:
    key = {"data.marac": marac, "data.quarter": quarter, "data.uploaded": uploaded}
    return Case(text, "question-has-uploaded", key | (extra or {}), sender, says=says, kind="has")


def missing(
    text: str,
    quarter: str,
    *,
    area: str | None = None,
    focus: str = "missing",
    sender: str = ADMIN,
    extra: dict[str, Any] | None = None,
) -> Case:
    key: dict[str, Any] = {"data.quarter": quarter, "data.focus": focus}
    if area is not None:
        key["data.place.area.name"] = area
    return Case(text, "question-missing", key | (extra or {}), sender, kind="missing")


def status(text: str, marac: str, year: str, *, sender: str = ADMIN) -> Case:
    return Case(
        text,
        "question-status",
        {"data.marac": marac, "data.year.label": year},
        sender,
        kind="status",
    )


def figure(
    text: str,
    metric: str,
    *,
    period: str,
    marac: str | None = None,
    area: str | None = None,
    sender: str = ADMIN,
) -> Case:
    key = {"data.metric": metric, "data.period.label": period, "data.place.marac": marac}
    if area is not None:
        key["data.place.area.name"] = area
    return Case(text, "question-figure", key, sender, kind="figure")


def unknown(text: str, name: str, *, sender: str = ADMIN, says: str = "") -> Case:
    key = {"data.problem": "unknown-name", "data.name": name}
    return Case(
        text,
        "question-not-understood",
        key,
        sender,
        says=says or f"I don't know a Marac or area called {name}",
        kind="unknown",
    )


def no_maracs(text: str, area: str, *, sender: str = ADMIN) -> Case:
    return Case(
        text,
        "question-not-understood",
        {"data.problem": "no-maracs-in-area", "data.area.name": area},
        sender,
        says=f"no Maracs registered in {area}",
        kind="no-maracs",
    )


def unclear(text: str, phrase: str, *, sender: str = ADMIN, says: str = "") -> Case:
    return Case(
        text,
        "question-not-understood",
        {"data.problem": "unclear-period", "data.phrase": phrase},
        sender,
        says=says,
        kind="unclear",
    )


def taken(
    text: str,
    said: str,
    name: str,
    outcome: str,
    *,
    sender: str = ADMIN,
    extra: dict[str, Any] | None = None,
) -> Case:
    key = {"taken_as": [{"said": said, "taken_as": name}]} | (extra or {})
    return Case(text, outcome, key, sender, says=f"(taking '{said}' as {name})", kind="typo")


def howto(
    text: str,
    templates: tuple[str, ...],
    *,
    sender: str = LAMBETH,
    welcome: bool = False,
    subject: str = "Marac data",
    channels: tuple[str, ...] = BOTH,
) -> Case:
    key = {"data.templates": list(templates), "data.welcome": welcome}
    return Case(
        text,
        "question-how-to",
        key,
        sender,
        subject,
        says="due by",
        channels=channels,
        kind="how-to",
    )


def forgot(text: str, *, subject: str = "Marac data", sender: str = LAMBETH) -> Case:
    return Case(
        text,
        "no-attachment",
        {},
        sender,
        subject,
        says="without a file|no attachment",
        kind="forgot",
    )


def thanks(text: str, *, sender: str = LAMBETH) -> Case:
    return Case(text, "thanks", {}, sender, kind="thanks")


def away(text: str, *, subject: str = "Marac data") -> Case:
    return Case(
        text, "ignored-auto-reply", {}, LAMBETH, subject, channels=EMAIL, kind="out-of-office"
    )


LAMBETH_T = ("marac-data-template-lambeth.xlsx",)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
TNEF = b"\x78\x9f\x3e\x22\x34\x12\x01\x06\x90\x08\x00\x04"  # winmail.dat's signature


def in_thread(text: str, subject: str, *, sender: str = LAMBETH) -> Case:
    """Thanks sent as a reply: the subject repeats the thread's topic and asks nothing."""
    return Case(text, "thanks", {}, sender, subject, channels=EMAIL, kind="thanks")


def unread(text: str, subject: str, file: tuple[str, bytes, str], *,
           sender: str = LAMBETH) -> Case:
    """A file we cannot read, with words that describe it: told it was not read."""
    return Case(text, "not-a-template", {}, sender, subject, says=re.escape(file[0]),
                channels=EMAIL, kind="not-a-template", files=(file,))

def for_team(text: str, said: str, *, subject: str = "Marac data",
             channels: tuple[str, ...] = BOTH) -> Case:
    """Only a person can deal with it: passed on to the data team, quoting ``said``."""
    return Case(text, "for-the-team", {"passed_on": said}, LAMBETH, subject,
                says=re.escape("passed this on to the data team"), channels=channels,
                kind="for-the-team")


CORPUS: tuple[Case, ...] = (
    # --- has a Marac sent a quarter -----------------------------------------------------------
    has("has Lambeth uploaded Q3 2024/25?", "Lambeth", "Q3 2024/25", True),
    has("Has Croydon sent their Q4 return yet?", "Croydon", "Q4 2024/25", True),
    has("did Hackney send Q3?", "Hackney", "Q3 2024/25", False),
    has(
        "Hi, just checking whether Lambeth's Q2 2024/25 figures arrived ok?",
        "Lambeth",
        "Q2 2024/25",
        True,
    ),
    has(
        "Can you confirm you received our Q4 return?", "Lambeth", "Q4 2024/25", True, sender=LAMBETH
    ),
    has("did we send the last quarter?", "Lambeth", "Q4 2024/25", True, sender=LAMBETH),
    has("Have you had anything from Southwark for q3 24/25", "Southwark", "Q3 2024/25", False),
    has("has cardiff uploaded", "Cardiff", "Q4 2024/25", False),
    has("Cardiff Q3 2024-25", "Cardiff", "Q3 2024/25", True),
    has("Swansea q4?", "Swansea", "Q4 2024/25", True),
    has("has Abertawe sent Q3 2024/25?", "Swansea", "Q3 2024/25", True),
    has("Has Caerdydd uploaded Q2 2024/25?", "Cardiff", "Q2 2024/25", True),
    has("did Edinburgh submit Q4 2024/25", "Edinburgh", "Q4 2024/25", True),
    has("has Dundee sent anything for Jan-Mar 2025?", "Dundee", "Q4 2024/25", False),
    has("did Leeds send the quarter ending 31 December 2024?", "Leeds", "Q3 2024/25", True),
    has("has Leeds sent the quarter ended 31/03/2025", "Leeds", "Q4 2024/25", True),
    has("Has Croydon uploaded 1 Oct - 31 Dec 2024?", "Croydon", "Q3 2024/25", True),
    has("is Croydon's Q2 2024/25 in?", "Croydon", "Q2 2024/25", False),
    has("did LBBD send the third quarter of 2024/25?", "Barking and Dagenham", "Q3 2024/25", False),
    has("Has Kingston submitted Q4 FY24/25?", "Kingston upon Thames", "Q4 2024/25", False),
    has("Has RBKC uploaded q4 2024/2025", "Kensington and Chelsea", "Q4 2024/25", False),
    has(
        "did Tower Hamlets send their return for the 4th quarter of 2024/25",
        "Tower Hamlets",
        "Q4 2024/25",
        False,
    ),
    has("has the Square Mile sent Q4?", "City of London", "Q4 2024/25", False),
    has("Morning! Has Richmond sent in Q3?", "Richmond upon Thames", "Q3 2024/25", False),
    has("any news on hackney q3 2024/25", "Hackney", "Q3 2024/25", False),
    has("Any word from Croydon about Q4 2024/25?", "Croydon", "Q4 2024/25", True),
    has("Can you let me know if you got our Q3 2024/25 figures? We sent them last week.",
        "Lambeth", "Q3 2024/25", True, sender=LAMBETH),
    has("did you get Croydon's Q4 2024/25 return?", "Croydon", "Q4 2024/25", True),
    has("still waiting for Lambeth's Q3 2024/25?", "Lambeth", "Q3 2024/25", True),
    # the deadline asked about a quarter already sent: said all the same
    has("When was Q3 2024/25 due?", "Croydon", "Q3 2024/25", True, sender=CROYDON,
        says=re.escape("It was due by 28 Jan 2025.")),
    has("What's the deadline for Lambeth's Oct-Dec 2024 return?", "Lambeth", "Q3 2024/25",
        True, says=re.escape("It was due by 28 Jan 2025.")),
    has("Did Wrexham upload Q3 2024/25?", "Wrexham", "Q3 2024/25", False, sender=DUAL),
    has("has Swansea sent Q4 2024/25", "Swansea", "Q4 2024/25", True, sender=DUAL),
    has("did Dundee send q3", "Dundee", "Q3 2024/25", False, sender=DUNDEE),
    has("Has Cardiff uploaded Q3 2024/25?", "Cardiff", "Q3 2024/25", True, sender=CARDIFF),
    has("Did we submit Q2 2024/25?", "Cardiff", "Q2 2024/25", True, sender=CARDIFF),
    has("has croydon sent this quarter", "Croydon", "Q1 2025/26", False, sender=CROYDON),
    has("Has Lambeth sent Q1 2025/26?", "Lambeth", "Q1 2025/26", False, sender=LAMBETH),
    has("did Lambeth send Q1?", "Lambeth", "Q1 2025/26", False, sender=LAMBETH),
    has(
        "Any data from Hackney for Q4 2024/25?",
        "Hackney",
        "Q4 2024/25",
        False,
        sender=LONDON_MANAGER,
    ),
    has(
        "Have we heard from Lewisham re Q3 2024/25?",
        "Lewisham",
        "Q3 2024/25",
        False,
        sender=LONDON_MANAGER,
    ),
    has("has Lambeth uploaded Q3 2024/25", "Lambeth", "Q3 2024/25", True, sender=LONDON_MANAGER),
    # --- quarters as people write them ----------------------------------------------------------
    has(
        "did Lambeth send their Oct-Dec return",
        "Lambeth",
        "Q3 2024/25",
        True,
        extra={"data.quarter_defaulted": False},
    ),
    has("did Lambeth send October to December?", "Lambeth", "Q3 2024/25", True),
    has("has Lambeth uploaded the December quarter", "Lambeth", "Q3 2024/25", True),
    has("Has Croydon sent the quarter ending March?", "Croydon", "Q4 2024/25", True),
    has("has Cardiff sent Jan-Mar", "Cardiff", "Q4 2024/25", False),
    has("has Cardiff sent January to March", "Cardiff", "Q4 2024/25", False),
    has("Did Cardiff send the July to September figures?", "Cardiff", "Q2 2024/25", True),
    has("has Cardiff uploaded jul-sep", "Cardiff", "Q2 2024/25", True),
    has("did Swansea send the September quarter", "Swansea", "Q2 2024/25", False),
    has("has Swansea sent Apr - Jun?", "Swansea", "Q1 2025/26", False),
    has("Has Leeds sent the March quarter yet?", "Leeds", "Q4 2024/25", True),
    has("did Leeds send the 3 months to December", "Leeds", "Q3 2024/25", True),
    has("has Leeds sent Oct–Dec", "Leeds", "Q3 2024/25", True),
    has("has Leeds sent Oct-Dec 2024", "Leeds", "Q3 2024/25", True),
    has("has Edinburgh sent the quarter to end of March", "Edinburgh", "Q4 2024/25", True),
    unclear("did Lambeth send Oct-Nov?", "oct-nov"),
    unclear("has Lambeth sent the November quarter", "november quarter"),
    unclear("has Lambeth uploaded Q3 -1/0", "-1/0"),
    unclear("Who is missing both Q2 and Q3?", "Q2 and Q3",
            says=re.escape("Please ask about one quarter at a time (you named Q2 and Q3).")),
    unclear("has Lambeth sent q4 or q1?", "Q1 and Q4"),
    # --- a file to undo, named without its number: how, and their latest files --------------
    Case("Hi, I attached the wrong file earlier, please can you delete it?", "withdraw-how", {},
         LAMBETH, says=r"withdraw \d+", kind="withdraw"),
    Case("Sorry - sent that in error!", "withdraw-how", {}, CROYDON, says="To withdraw a file",
         kind="withdraw"),
    # --- what a figure means: the same for everyone, nothing looked up -----------------------
    Case("What does 'repeat cases' mean?", "question-meaning", {"data.metric": "repeat_rate"},
         LAMBETH, says=re.escape("Usual range 28%–40%"), kind="meaning"),
    Case("how is the police share worked out?", "question-meaning",
         {"data.metric": "police_share"}, ADMIN, kind="meaning"),
    Case("Hi, quick one - how are cases per 10,000 calculated?", "question-meaning",
         {"data.metric": "per_10k"}, CROYDON, says="adult \\(16\\+\\) female population",
         kind="meaning"),
    # a span ending now: one quarter or one year is answered, so it is said back
    unclear("Show me Croydon's figures for the last 4 quarters", "last 4 quarters"),
    unclear("repeat rate for Leeds over the past 12 months?", "past 12 months"),
    unclear("has Lambeth uploaded Q3 2024/26", "2024/26"),
    unclear("who is missing Q1 2087/88", "2087/88"),
    unclear("did Croydon send Q3 2024?", "q3 2024"),
    unclear("has Croydon sent Q5?", "q5"),
    unclear("missing Q2 1066/67", "1066/67"),
    # --- who is missing -------------------------------------------------------------------------
    missing("who hasn't uploaded Q3 2024/25?", "Q3 2024/25"),
    missing("who is missing Q2 in London", "Q2 2024/25", area="London"),
    missing(
        "missing Q2 2024/25 in Wales",
        "Q2 2024/25",
        area="Wales",
        extra={"data.missing": ["Swansea", "Wrexham"]},
    ),
    missing(
        "Which Scottish Maracs are still outstanding for Q4?",
        "Q4 2024/25",
        area="Scotland",
        extra={"data.missing": ["Dundee"]},
    ),
    missing("who's outstanding in Scotland for last quarter", "Q4 2024/25", area="Scotland"),
    missing("Who still owes us Q3 2024/25 data in London?", "Q3 2024/25", area="London"),
    missing("which Maracs are we still waiting on for Q2 2024/25?", "Q2 2024/25"),
    missing("Send me a list of who hasn't done Q3 2024/25", "Q3 2024/25"),
    missing("can you chase the ones who haven't sent Q3 2024/25", "Q3 2024/25"),
    missing("Q3 2024/25 uploads London", "Q3 2024/25", area="London", focus="uploaded"),
    missing(
        "Who hasn't sent Q4 yet in South Wales Police?",
        "Q4 2024/25",
        area="South Wales Police",
        extra={"data.missing": ["Cardiff"]},
    ),
    missing("who is overdue", "Q4 2024/25"),
    missing("who do I need to chase for Q4 2024/25", "Q4 2024/25"),
    missing("any Maracs not yet in for Jan-Mar?", "Q4 2024/25"),
    missing(
        "who still hasn't submitted the December quarter in London?",
        "Q3 2024/25",
        area="London",
        sender=LONDON_MANAGER,
    ),
    missing("who has missed two quarters in a row?", "Q4 2024/25", focus="in-a-row"),
    missing("who has missed the last two quarters?", "Q4 2024/25", focus="in-a-row"),
    missing("which Maracs have missed 2 quarters running", "Q4 2024/25", focus="in-a-row"),
    missing(
        "any maracs missing two consecutive quarters in Wales?",
        "Q4 2024/25",
        area="Wales",
        focus="in-a-row",
        extra={"data.missing": ["Wrexham"]},
    ),
    missing(
        "who has missed two quarters in a row in London",
        "Q4 2024/25",
        area="London",
        focus="in-a-row",
        sender=LONDON_MANAGER,
    ),
    missing(
        "who is behind in West Yorkshire for Q4 2024/25",
        "Q4 2024/25",
        area="West Yorkshire Police",
        extra={"data.missing": ["Kirklees"]},
    ),
    missing(
        "Who is missing in Yorkshire and the Humber Q3 2024/25?",
        "Q3 2024/25",
        area="Yorkshire and the Humber",
    ),
    missing("who hasn't uploaded Q4 2024/25 in England and Wales", "Q4 2024/25",
            area="England and Wales"),
    missing("has London sent Q4 2024/25?", "Q4 2024/25", area="London", focus="uploaded"),
    missing(
        "who has uploaded Q3 2024/25 in Wales?",
        "Q3 2024/25",
        area="Wales",
        focus="uploaded",
        extra={"data.uploaded": ["Cardiff", "Swansea"]},
    ),
    missing("who's late with Q4 in Police Scotland", "Q4 2024/25", area="Police Scotland"),
    missing(
        "overdue Q4 2024/25 Metropolitan Police",
        "Q4 2024/25",
        area="Metropolitan Police",
        sender=LONDON_MANAGER,
    ),
    missing(
        "who has not sent in q3 2024/25 in the met",
        "Q3 2024/25",
        area="Metropolitan Police",
        sender=LONDON_MANAGER,
    ),
    missing(
        "who is missing Q4 2024/25?",
        "Q4 2024/25",
        sender=LONDON_MANAGER,
        extra={"data.place.restricted": True},
    ),
    missing(
        "who hasn't uploaded Q4 2024/25 in North Wales",
        "Q4 2024/25",
        area="North Wales Police",
        extra={"data.missing": ["Wrexham"]},
    ),
    missing(
        "Which of my Maracs haven't sent Q3 2024/25?",
        "Q3 2024/25",
        sender=DUAL,
        extra={"data.missing": ["Wrexham"]},
    ),
    # --- a Marac's year -------------------------------------------------------------------------
    status("status Croydon", "Croydon", "2024/25"),
    status("Lambeth this year", "Lambeth", "2025/26"),
    status("how is Lambeth doing last year?", "Lambeth", "2024/25"),
    status("Cardiff 2024/25", "Cardiff", "2024/25"),
    status("what's the status for Swansea in 2024-25", "Swansea", "2024/25"),
    status("status", "Lambeth", "2024/25", sender=LAMBETH),
    Case(
        "how are we doing this year?",
        "question-summary",
        {"data.place.marac": "Cardiff", "data.period.label": "2025/26"},
        CARDIFF,
        kind="summary",
    ),
    status("Leeds progress 2024/25", "Leeds", "2024/25"),
    status("Edinburgh so far this financial year", "Edinburgh", "2025/26"),
    status("Dundee status", "Dundee", "2024/25", sender=DUNDEE),
    # --- figures --------------------------------------------------------------------------------
    figure(
        "how many cases did Lambeth discuss in Q3 2024/25?",
        "cases",
        period="Q3 2024/25",
        marac="Lambeth",
    ),
    figure("repeat rate for Cardiff 2024/25", "repeat_rate", period="2024/25", marac="Cardiff"),
    figure(
        "How many cases were discussed in Wales last year?", "cases", period="2024/25", area="Wales"
    ),
    figure("children in Scotland Q4 2024/25", "children", period="Q4 2024/25", area="Scotland"),
    figure(
        "police referrals in London Oct-Dec", "police_share", period="Q3 2024/25", area="London"
    ),
    figure(
        "repeat rate for Leeds in the December quarter",
        "repeat_rate",
        period="Q3 2024/25",
        marac="Leeds",
    ),
    figure(
        "how many cases in South Wales Police 2024/25",
        "cases",
        period="2024/25",
        area="South Wales Police",
    ),
    figure(
        "what was our repeat rate last quarter?",
        "repeat_rate",
        period="Q4 2024/25",
        marac="Lambeth",
        sender=LAMBETH,
    ),
    figure("cases per 10,000 in Swansea 2024/25", "per_10k", period="2024/25", marac="Swansea"),
    figure(
        "how many meetings did Croydon have in Q4 2024/25",
        "meetings",
        period="Q4 2024/25",
        marac="Croydon",
    ),
    # --- the picture, the grid, the template, help ----------------------------------------------
    Case(
        "national picture 2024/25",
        "question-summary",
        {"data.period.label": "2024/25"},
        kind="summary",
    ),
    Case(
        "summary for Wales Q3 2024/25",
        "question-summary",
        {"data.place.area.name": "Wales", "data.period.label": "Q3 2024/25"},
        kind="summary",
    ),
    Case(
        "grid London 2024/25",
        "question-grid",
        {"data.year": "2024/25", "data.place.area.name": "London"},
        kind="grid",
    ),
    Case(
        "grid Scotland",
        "question-grid",
        {"data.year": "2024/25", "data.place.area.name": "Scotland"},
        kind="grid",
    ),
    Case(
        "can I see the upload grid for Wales?",
        "question-grid",
        {"data.place.area.name": "Wales"},
        kind="grid",
    ),
    Case("grid", "question-grid", {"data.place.maracs": 2}, sender=DUAL, kind="grid"),
    # --- how many returns: a count of returns, not of cases -------------------------------------
    has("how many returns has Croydon sent for Q4 2024/25?", "Croydon", "Q4 2024/25", True),
    status("How many uploads has Lambeth made in 2024/25?", "Lambeth", "2024/25"),
    Case("how many returns came in for 2024/25 in London?", "question-grid",
         {"data.year": "2024/25", "data.place.area.name": "London"}, kind="grid"),
    missing("how many returns have we had for Q4 2024/25 in London?", "Q4 2024/25",
            area="London", focus="uploaded"),
    missing("how many returns are still missing for Q4 2024/25?", "Q4 2024/25"),
    figure("Croydon Q4 2024/25 breakdown", "all", period="Q4 2024/25", marac="Croydon"),
    Case("template", "question-template", {"data.marac": "Lambeth"}, LAMBETH, kind="template"),
    Case(
        "can I have a blank template please",
        "question-template",
        {"data.marac": "Dundee", "data.edition": "scotland"},
        DUNDEE,
        kind="template",
    ),
    Case("help", "question-help", {}, LAMBETH, kind="help"),
    Case("what can I ask you?", "question-help", {}, LAMBETH, kind="help"),
    Case("?", "question-help", {}, LAMBETH, kind="help"),
    Case(
        "what is the meaning of life?",
        "question-not-understood",
        {"data.problem": "not-understood"},
        LAMBETH,
        kind="help",
    ),
    # --- never a wider answer: unknown places, areas without Maracs -----------------------------
    unknown("is Glasgow missing Q2 2024/25?", "Glasgow"),
    unknown("how many cases did Bradford discuss in 2024/25?", "Bradford"),
    unknown("has Inverness uploaded Q4?", "Inverness"),
    unknown("who's missing in Belfast", "Belfast"),
    unknown("grid Narnia 2024/25", "Narnia"),
    unknown("status Gotham", "Gotham"),
    unknown("repeat rate for Atlantis last year", "Atlantis"),
    unknown("has glasgow sent q3", "glasgow"),
    unknown("Did Aberdeen send Oct-Dec?", "Aberdeen"),
    unknown("missing Q4 2024/25 in Cornwall", "Cornwall"),
    unknown("how many children in Wakefield Q3 2024/25", "Wakefield"),
    unknown("who is overdue in Hogwarts?", "Hogwarts"),
    no_maracs("missing Q2 2024/25 in Northern Ireland", "Northern Ireland"),
    no_maracs("grid Northern Ireland", "Northern Ireland"),
    no_maracs("summary for PSNI Q3 2024/25", "Police Service of Northern Ireland"),
    no_maracs("who hasn't sent Q4 in the North East?", "North East"),
    no_maracs("how many cases in Kent Police last year", "Kent Police"),
    no_maracs("missing in Greater Manchester Police Q4 2024/25", "Greater Manchester Police"),
    no_maracs("grid for the South West", "South West"),
    no_maracs("how many cases in Dyfed-Powys Q3 2024/25", "Dyfed-Powys Police"),
    # --- typos: a unique close match is taken; two are asked about ------------------------------
    taken(
        "has Lambth uploaded Q3 2024/25",
        "Lambth",
        "Lambeth",
        "question-has-uploaded",
        extra={"data.marac": "Lambeth"},
    ),
    taken(
        "did Croydn send Q4?",
        "Croydn",
        "Croydon",
        "question-has-uploaded",
        extra={"data.marac": "Croydon"},
    ),
    taken(
        "has Swansee sent Q3 2024/25",
        "Swansee",
        "Swansea",
        "question-has-uploaded",
        extra={"data.marac": "Swansea"},
    ),
    taken(
        "did Edinbrugh upload Q4 2024/25",
        "Edinbrugh",
        "Edinburgh",
        "question-has-uploaded",
        extra={"data.marac": "Edinburgh"},
    ),
    taken(
        "has Wrexam uploaded q4",
        "Wrexam",
        "Wrexham",
        "question-has-uploaded",
        extra={"data.marac": "Wrexham"},
    ),
    taken(
        "status Southwak",
        "Southwak",
        "Southwark",
        "question-status",
        extra={"data.marac": "Southwark"},
    ),
    taken(
        "has Hackny sent q3 2024/25?",
        "Hackny",
        "Hackney",
        "question-has-uploaded",
        extra={"data.marac": "Hackney"},
    ),
    taken(
        "Islingtn Q3 2024/25",
        "Islingtn",
        "Islington",
        "question-has-uploaded",
        extra={"data.marac": "Islington"},
    ),
    taken(
        "missing Q4 2024/25 in Scotand",
        "Scotand",
        "Scotland",
        "question-missing",
        extra={"data.place.area.name": "Scotland"},
    ),
    taken(
        "who is missing Q3 2024/25 in Londn",
        "Londn",
        "London",
        "question-missing",
        extra={"data.place.area.name": "London"},
    ),
    taken(
        "has Wandsworht sent Q4 2024/25?",
        "Wandsworht",
        "Wandsworth",
        "question-has-uploaded",
        extra={"data.marac": "Wandsworth"},
    ),
    taken(
        "did Lewisam upload Q3",
        "Lewisam",
        "Lewisham",
        "question-has-uploaded",
        extra={"data.marac": "Lewisham"},
    ),
    # The leading word of one Marac's name and of no other name: taken, as a typo is.
    taken(
        "has Barking uploaded Q3 2024/25",
        "Barking",
        "Barking and Dagenham",
        "question-has-uploaded",
        extra={"data.marac": "Barking and Dagenham"},
    ),
    taken(
        "has Hammersmith sent Q3 2024/25",
        "Hammersmith",
        "Hammersmith and Fulham",
        "question-has-uploaded",
        extra={"data.marac": "Hammersmith and Fulham"},
    ),
    Case(
        "did Kingsten send Q4 2024/25",
        "question-has-uploaded",
        {"data.marac": "Kingston upon Thames"},
        says="(taking 'Kingsten' as Kingston upon Thames)",
        kind="typo",
    ),
    # --- how to send, and first contact -----------------------------------------------------------
    howto("How do I send you our data?", LAMBETH_T),
    howto("how do we submit the quarterly return?", LAMBETH_T),
    howto("where is the template", LAMBETH_T),
    howto("Where can I find the template?", LAMBETH_T),
    howto("where's the template please", LAMBETH_T),
    howto("I'm the new coordinator for Lambeth", LAMBETH_T, welcome=True),
    howto(
        "Hi, I am the new Marac coordinator for Lambeth, what do I need to do?",
        LAMBETH_T,
        welcome=True,
    ),
    howto(
        "Hello,\n\nI have just taken over as coordinator for Leeds and this is my first\n"
        "time doing the return. What do I need to do?\n\nMany thanks\nSam",
        ("marac-data-template-leeds.xlsx",),
        sender=NEWCOMER,
        welcome=True,
        channels=EMAIL,
    ),
    howto("how does this work?", ("marac-data-template-leeds.xlsx",), sender=NEWCOMER),
    howto(
        "what format do you need the data in?",
        ("marac-data-template-cardiff.xlsx",),
        sender=CARDIFF,
    ),
    howto(
        "How should I send the figures for Cardiff?",
        ("marac-data-template-cardiff.xlsx",),
        sender=CARDIFF,
    ),
    howto("where do I send our return?", ("marac-data-template-dundee.xlsx",), sender=DUNDEE),
    howto(
        "how do we upload our data?",
        ("marac-data-template-swansea.xlsx", "marac-data-template-wrexham.xlsx"),
        sender=DUAL,
    ),
    howto(
        "how to submit",
        ("marac-data-template-swansea.xlsx", "marac-data-template-wrexham.xlsx"),
        sender=DUAL,
    ),
    howto(
        "Hello\n\nJust started as the Marac chair's admin, how do I get the data to you?",
        ("marac-data-template-dundee.xlsx",),
        sender=DUNDEE,
        welcome=True,
        channels=EMAIL,
    ),
    howto(
        "Hi there",
        LAMBETH_T,
        subject="New coordinator - how do I send the data?",
        welcome=True,
        channels=EMAIL,
    ),
    howto("How do I fill in the spreadsheet?", LAMBETH_T),
    howto(
        "I've recently taken over from Jo as coordinator. How do I send the return?",
        LAMBETH_T,
        welcome=True,
    ),
    howto("how can I send you the numbers", LAMBETH_T),
    howto("Where do we email the data?", LAMBETH_T),
    # --- a forgotten attachment -------------------------------------------------------------------
    forgot("Please find attached our Q3 return."),
    forgot("Hi, enclosed is the Lambeth data for Jan-Mar. Thanks"),
    forgot("Here is our return for the December quarter"),
    forgot("Hello,\n\nPlease find our Q4 data attached.\n\nKind regards\nJo"),
    forgot("Attached is the Q4 2024/25 spreadsheet"),
    forgot("see attached"),
    forgot("Here's the Lambeth return for Jan-Mar"),
    forgot("I'm sending our Q4 figures now"),
    forgot("Here are our figures for Q4 2024/25, let me know if anything is wrong"),
    forgot("Please see the attachment for our quarterly return"),
    Case("", "no-attachment", {}, LAMBETH, "Q3 return - attached", channels=EMAIL, kind="forgot"),
    forgot("Morning, attaching the Cardiff return for last quarter.", sender=CARDIFF),
    forgot("Hi team, here is the Dundee return.", sender=DUNDEE),
    forgot("Apologies for the delay - please find attached Swansea and Wrexham", sender=DUAL),
    forgot("Our data for Oct-Dec is attached. Has it gone through ok?"),
    # --- thanks, pleasantries and out-of-office ---------------------------------------------------
    thanks("Thanks!"),
    thanks("Thank you"),
    thanks("Many thanks, that's great"),
    thanks("Cheers"),
    thanks("thanks so much for your help"),
    thanks("Brilliant, thank you!"),
    thanks("Hi,\n\nThanks for confirming.\n\nKind regards\nJo Bloggs\nLambeth Marac Coordinator"),
    thanks("Great, thanks"),
    thanks("ta"),
    thanks("Lovely, many thanks again"),
    thanks("Perfect - thank you"),
    thanks("Thanks, that's really helpful"),
    # An Outlook signature has no "-- " above it; a council's notices follow it.
    thanks("Thanks, that's great.\n\nJo Bloggs\nMarac Coordinator | Lambeth Council\n"
           "Civic Centre, 6 Brixton Hill, London SW2 1EG\nTel: 020 7926 1234\n"
           "www.lambeth.gov.uk\n\nThis email and any files transmitted with it are "
           "confidential and intended solely for the use of the individual or entity to whom "
           "they are addressed. If you have received this email in error please notify the "
           "sender immediately and delete it. Any views or opinions expressed are solely those "
           "of the author."),
    thanks("Many thanks\n\nSam Patel\nDomestic Abuse Coordinator\nCroydon Council\n"
           "Mobile: 07700 900123\nPronouns: he/him\n\nCAUTION: This email originated from "
           "outside of the organisation. Do not click links or open attachments unless you "
           "recognise the sender and know the content is safe.", sender=CROYDON),
    away(
        "I am out of the office until Monday 9 June with limited access to email.",
        subject="Out of Office: Marac data",
    ),
    away(
        "Thank you for your email. I am currently on annual leave and will be back on 16 June.",
        subject="Automatic reply: Q4 reminder",
    ),
    away(
        "I'm away from my desk this week. For urgent matters please contact the team.",
        subject="Away",
    ),
    away(
        "I am on leave until 20 June. Your message has not been forwarded.",
        subject="Re: Marac data return",
    ),
    away("I will be back on Monday.", subject="OOO"),
    # --- more questions in every style ---------------------------------------------------------
    has(
        "Hiya, quick one - has Lambeth's Q3 2024/25 data come through?",
        "Lambeth",
        "Q3 2024/25",
        True,
        sender=LAMBETH,
    ),
    has(
        "Hello\n\nCould you let me know if Croydon has uploaded Q4 2024/25 please?\n\nThanks",
        "Croydon",
        "Q4 2024/25",
        True,
        sender=CROYDON,
    ),
    has(
        "Good morning, did you get our return for the last quarter?",
        "Croydon",
        "Q4 2024/25",
        True,
        sender=CROYDON,
    ),
    has(
        "has Greenwich uploaded Q3 2024/25?",
        "Greenwich",
        "Q3 2024/25",
        False,
        sender=LONDON_MANAGER,
    ),
    has("Has the Royal Borough of Greenwich sent Q4 2024/25", "Greenwich", "Q4 2024/25", False),
    has("did H&F send q3 2024/25", "Hammersmith and Fulham", "Q3 2024/25", False),
    has("Has City of Westminster submitted Q4?", "Westminster", "Q4 2024/25", False),
    has(
        "Can you tell me if Lambeth's figures for Jan to Mar have been received?",
        "Lambeth",
        "Q4 2024/25",
        True,
    ),
    has("was Croydon's 2024/25 Q3 return received?", "Croydon", "Q3 2024/25", True),
    has(
        "Have Cardiff sent their data for the quarter ending June 2024?",
        "Cardiff",
        "Q1 2024/25",
        False,
    ),
    has("has Swansea sent the April-June quarter 2024", "Swansea", "Q1 2024/25", False),
    has("Did Edinburgh upload q4 2024-2025?", "Edinburgh", "Q4 2024/25", True),
    missing("Who's not sent Q4 2024/25 yet?", "Q4 2024/25", sender=LONDON_MANAGER),
    missing(
        "who is yet to send the December quarter in Wales",
        "Q3 2024/25",
        area="Wales",
        extra={"data.missing": ["Wrexham"]},
    ),
    missing("list of Maracs missing for Jan-Mar in Scotland", "Q4 2024/25", area="Scotland"),
    missing("What Maracs have no returns for Q3 2024/25 in Wales?", "Q3 2024/25", area="Wales"),
    missing(
        "Who do we need to chase in London for last quarter?",
        "Q4 2024/25",
        area="London",
        sender=LONDON_MANAGER,
    ),
    status("Swansea this year", "Swansea", "2025/26", sender=DUAL),
    status("how is Cardiff doing this year?", "Cardiff", "2025/26", sender=CARDIFF),
    figure(
        "How many cases did Cardiff discuss last quarter?",
        "cases",
        period="Q4 2024/25",
        marac="Cardiff",
        sender=CARDIFF,
    ),
    figure("repeat rate for Wales Oct-Dec", "repeat_rate", period="Q3 2024/25", area="Wales"),
    figure(
        "How many children were in the households in Edinburgh 2024/25",
        "children",
        period="2024/25",
        marac="Edinburgh",
    ),
    unknown("has Stirling uploaded Q4?", "Stirling"),
    unknown("is Perth missing Q4 2024/25?", "Perth"),
    unknown("did Derry send Q3", "Derry"),
    no_maracs("who is missing Q4 2024/25 in the East Midlands", "East Midlands"),
    no_maracs("grid Northern Ireland 2024/25", "Northern Ireland"),
    forgot("Please find enclosed the Lambeth Marac data"),
    forgot("Hi, here is our data for the quarter"),
    has(
        "Did you get the file I attached yesterday?", "Lambeth", "Q4 2024/25", True, sender=LAMBETH
    ),
    has(
        "has Lambeth uploaded Q3 2024/25 for the board report?",
        "Lambeth",
        "Q3 2024/25",
        True,
        sender=LAMBETH,
    ),
    has("Has Croydon sent Q4 2024/25, ahead of the steering group?", "Croydon", "Q4 2024/25", True),
    has(
        "Our coordinator is on leave, has Lambeth sent Q4 2024/25?",
        "Lambeth",
        "Q4 2024/25",
        True,
        sender=LAMBETH,
    ),
    missing("Hi Sarah\nwho is missing Q4 2024/25 in Wales?", "Q4 2024/25", area="Wales"),
    missing(
        "Dear data team,\n\nwho hasn't sent Q3 2024/25 in Scotland?\n\nRegards\nPriya",
        "Q3 2024/25",
        area="Scotland",
        sender=ADMIN,
    ),
    missing("who is still missing their return for the most recent quarter?", "Q4 2024/25"),
    missing("which areas are behind with submissions this quarter?", "Q1 2025/26"),
    missing(
        "can you give me a breakdown of missing returns by region for Q4 2024/25", "Q4 2024/25"
    ),
    missing("who hasn't got their numbers in for the period ending March?", "Q4 2024/25"),
    missing("who hasnt uploaded Q4 2024/25?", "Q4 2024/25"),
    missing("which maracs havent sent q4 2024/25", "Q4 2024/25"),
    missing("who didnt upload Q4 2024/25", "Q4 2024/25"),
    missing("who did not send Q4 2024/25 in London", "Q4 2024/25", area="London"),
    missing("Which Maracs have not yet uploaded Jan-Mar?", "Q4 2024/25"),
    missing(
        "I need to know which maracs are overdue so I can chase them before the board", "Q4 2024/25"
    ),
    has("when is the next return due?", "Cardiff", "Q4 2024/25", False, sender=CARDIFF),
    has(
        "what's the deadline for Q1?",
        "Cardiff",
        "Q1 2025/26",
        False,
        sender=CARDIFF,
        says="due by 28 Jul 2025",
    ),
    howto(
        "We had no meetings in March, do I still need to send something?",
        ("marac-data-template-cardiff.xlsx",),
        sender=CARDIFF,
    ),
    Case(
        "How are Welsh Maracs doing for Q3 2024/25?",
        "question-summary",
        {"data.place.area.name": "Wales", "data.period.label": "Q3 2024/25"},
        kind="summary",
    ),
    thanks("Thanks again!"),
    thanks("Got it, thanks"),
    howto("I'm new to this - how do I send you the Marac data?", LAMBETH_T, welcome=False),
    howto("what do we need to send?", LAMBETH_T),
    # --- mail from Exchange asking for no auto-replies: written by a person, so answered -------
    Case(
        "Has Croydon uploaded Q3 2024/25?",
        "question-has-uploaded",
        {"data.marac": "Croydon", "data.quarter": "Q3 2024/25", "data.uploaded": True},
        CROYDON,
        "Question",
        channels=EMAIL,
        kind="has",
        headers=(("X-Auto-Response-Suppress", "DR, RN, NRN, OOF, AutoReply"),),
    ),
    Case(
        "Hi,\n\nHow do I send you our data for the new quarter?\n\nThanks\nJo",
        "question-how-to",
        {"data.templates": list(LAMBETH_T), "data.welcome": False},
        LAMBETH,
        "Marac return",
        says="due by",
        channels=EMAIL,
        kind="how-to",
        headers=(("X-Auto-Response-Suppress", "All"),),
    ),
    # --- thanks in a reply thread: the subject names a Marac and quarter, nothing is asked -----
    in_thread("Thanks!", "RE: Lambeth Q3 2024/25"),
    in_thread("Many thanks, that's great", "Re: Has Croydon uploaded Q4 2024/25?", sender=CROYDON),
    in_thread("Lovely, thank you\n\nJo", "AW: Lambeth Marac Q4 2024/25 return"),
    in_thread("Cheers\n\nSent from my iPhone", "RE: Lambeth Oct-Dec figures"),
    # ... but a new message asking in its subject is answered, thanks in the body or not
    Case(
        "Thanks\n\nSam",
        "question-has-uploaded",
        {"data.marac": "Croydon", "data.quarter": "Q4 2024/25", "data.uploaded": True},
        CROYDON,
        "Has Croydon uploaded Q4 2024/25?",
        channels=EMAIL,
        kind="has",
    ),
    # --- what only a person can deal with: passed on to the data team, not read as a question -
    for_team("Hi,\n\nOur coordinator is on leave until January so Q3 will be late.\n\nThanks\nJo",
             "Our coordinator is on leave until January so Q3 will be late.", subject="Q3 late",
             channels=EMAIL),
    for_team("We had no meetings in November because of staff sickness, is that ok?",
             "We had no meetings in November because of staff sickness, is that ok?"),
    for_team("Can I get access to the dashboard for my new colleague?",
             "Can I get access to the dashboard for my new colleague?"),
    for_team("I've left the Marac, please update your records.",
             "I've left the Marac, please update your records."),
    for_team("Who should I contact about our data sharing agreement?",
             "Who should I contact about our data sharing agreement?"),
    for_team("Is there a Marac meeting next week?", "Is there a Marac meeting next week?"),
    for_team("Could we have an extension for the Q3 return please?",
             "Could we have an extension for the Q3 return please?"),
    for_team("please can someone call me about our figures",
             "please can someone call me about our figures"),
    for_team("Our Q4 return might be a few days late, sorry",
             "Our Q4 return might be a few days late, sorry"),
    for_team("I'd like to make a complaint about the reminder emails",
             "I'd like to make a complaint about the reminder emails"),
    for_team("Please take me off the reminder emails", "Please take me off the reminder emails"),
    for_team("Our December meeting was cancelled because of the strike.",
             "Our December meeting was cancelled because of the strike."),
    for_team("My email address has changed to jo.new@lambeth.gov.uk",
             "My email address has changed to jo.new@lambeth.gov.uk"),
    for_team("Hi\n\nWe're running a bit late with Q4, it'll be with you next week.\n\nJo",
             "We're running a bit late with Q4, it'll be with you next week."),
    for_team("Hi, I'm off until the new year. Sam will send our Q3 return when it's ready.",
             "Hi, I'm off until the new year."),
    for_team("FYI our coordinator is away for two weeks from Monday",
             "FYI our coordinator is away for two weeks from Monday"),
    # ... with a plain question beside it, the question is answered and the rest passed on
    Case("Hi,\n\nI'm on leave from Friday. Has Lambeth's Q3 2024/25 arrived?\n\nJo",
         "question-has-uploaded",
         {"data.marac": "Lambeth", "data.quarter": "Q3 2024/25", "data.uploaded": True},
         LAMBETH, says=re.escape("also passed this on to the data team"),
         kind="for-the-team"),
    # ... while questions about who is late are still questions about returns
    missing("who is late with Q4?", "Q4 2024/25"),
    missing("which Maracs are running late with Q4?", "Q4 2024/25"),
    missing("who will be late with Q4 2024/25?", "Q4 2024/25"),
    # --- a file we cannot read, described rather than asked about -----------------------------
    unread("Hi,\n\nOur Q3 figures for Lambeth.\n\nJo", "Lambeth Q3 2024/25 return",
           ("Lambeth Q3 return.pdf", PDF, "application/pdf")),
    unread("Hi,\n\nOur Q3 figures for Lambeth.\n\nKind regards\nJo",
           "Lambeth Marac Q3 2024/25 return", ("winmail.dat", TNEF, "application/ms-tnef")),
    unread("Here are the Lambeth numbers for October to December.", "Lambeth Oct-Dec",
           ("lambeth-q3.docx", b"PK\x03\x04", "application/vnd.openxmlformats-"
            "officedocument.wordprocessingml.document")),
    # ... but a plain question beside one is answered
    Case(
        "Hi,\n\nDid Lambeth's Q3 2024/25 return arrive ok? The minutes are attached too.",
        "question-has-uploaded",
        {"data.marac": "Lambeth", "data.quarter": "Q3 2024/25", "data.uploaded": True},
        LAMBETH,
        "Minutes",
        says=re.escape("Not read: minutes.pdf (not a spreadsheet)."),
        channels=EMAIL,
        kind="has",
        files=(("minutes.pdf", PDF, "application/pdf"),),
    ),
)
