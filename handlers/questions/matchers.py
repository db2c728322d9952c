"""Which kind of question this is: a declarative list of matchers (STYLE.md 12), tried in
order on the question with names blanked out. ``help`` is generated from the same list.

Order matters where phrasings overlap: "who hasn't uploaded" (missing) before "has … uploaded",
figures before "has … uploaded" so "how many cases has Leeds sent" is a figure, and the bare
fallbacks ("Croydon Q3", "Leeds") last.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from handlers.questions.context import Ask, Handler
from handlers.questions.intents import (
    export,
    figure,
    grid,
    has_uploaded,
    history,
    how_to,
    meaning,
    missing,
    status,
    template,
)
from handlers.questions.metrics import METRICS
from handlers.questions.model import Entities, Finding
from handlers.questions.words import ASKS_WHO
from kernel.answers import Help, HelpTopic

_VERB = r"(?:upload|sen[dt]|submit|return|provid|shar|put|file[ds]?\b|load)"


@dataclass(frozen=True)
class Matcher:
    intent: str
    patterns: tuple[re.Pattern[str], ...]
    handler: Handler
    examples: tuple[str, ...] = ()  # shown by help; none for a second way into an intent
    # What the question must also name for this matcher to fit (its words alone may not do).
    needs: Callable[[Entities], bool] | None = None

    def matches(self, text: str) -> bool:
        return any(p.search(text) for p in self.patterns)

    def fits(self, entities: Entities) -> bool:
        return self.matches(entities.residual) and (self.needs is None or self.needs(entities))


def _p(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


def _help(ask: Ask) -> Finding:
    return help_finding(understood=True)


MATCHERS: tuple[Matcher, ...] = (
    Matcher("meaning", _p(
        r"\bwhat (?:does|do|did)\b.{0,60}\bmean\b", r"\bwhat is meant by\b",
        r"\bdefin(?:e|ition of)\b", r"\bwhat counts as\b",
        r"\bhow (?:is|are|do you|does it)\b.{0,40}\b(?:calculated|worked out|measured"
        r"|counted|defined)\b",
    ), meaning.answer, ("what does repeat rate mean?",),
        needs=lambda e: meaning.names_a_figure(e.metric)),
    Matcher("help", _p(r"^\W*(?:help|\?+|commands|menu|options)\W*$",
                       r"\bwhat (?:can|do) (?:i|you) (?:ask|do)\b", r"\bhow do i ask\b",
                       r"^\W*help\b"), _help, ("help",)),
    Matcher("how-to", _p(
        rf"\bhow (?:do|can|should|would|shall|to)(?: (?:i|we))?\b.{{0,30}}\b(?:{_VERB}\w*|get|fill"
        r"|complete|do)\b.{0,30}\b(?:data|returns?|figures|files?|spreadsheets?|forms?"
        r"|templates?|numbers|stats)\b",
        rf"\bhow (?:do|can|should|would) (?:i|we) {_VERB}\w*\W*$",
        rf"\bhow to {_VERB}", r"\bwhere (?:do|should|can) (?:i|we) (?:send|email|upload|put)\b",
        r"\bwhere(?: is| are| can i (?:find|get)| do i (?:find|get)| would i find|'s)\b.{0,20}"
        r"\btemplates?\b",
        r"\bnew (?:marac )?(?:co-?ordinator|chair|administrator|admin|contact)\b",
        r"\b(?:just|recently) (?:started|joined|taken over)\b", r"\btaken over (?:as|from)\b",
        r"\bhow does (?:this|it) work\b", r"\bwhat (?:do|should) (?:i|we) (?:need to )?"
        r"(?:do|send)\b", r"\bwhat format\b",
        r"\bdo (?:i|we) (?:still )?(?:need|have) to (?:send|submit|return|upload|do)\b",
    ), how_to.answer, ("how do I send you our data?", "I'm the new coordinator")),
    Matcher("template", _p(r"\btemplates?\b", r"\bblank (?:form|return|spreadsheet|sheet)\b"),
            template.answer, ("template",)),
    Matcher("history", _p(
        r"\bhistory\b", r"\bwhere did\b.{0,80}\bcome from\b", r"\bwhere (?:do|does)\b.{0,80}"
        r"\bcome from\b", r"\bwhat changed\b", r"\bprovenance\b", r"\bversions?\b",
    ), history.answer, ("history of Croydon 3 Oct 2024", "what changed in Croydon's Q3?")),
    Matcher("export", _p(
        r"\bexport\b", r"\bdownload\b",
        r"\bsend (?:me|us)\b.{0,40}\b(?:data|figures|meetings|spreadsheet|csv|xlsx|file)\b",
    ), export.answer, ("send me the Q3 data for London",)),
    Matcher("grid", _p(r"\bgrid\b", r"\b(?:upload|submission)s? (?:table|chart|matrix|grid)\b",
                       r"\bwho has (?:sent|uploaded|submitted) what\b"),
            grid.answer, ("grid London 2024/25",)),
    Matcher("missing", _p(
        r"\b(?:two|2|both|consecutive) (?:consecutive )?quarters?(?: running| in a row)\b",
        r"\bquarters? (?:running|in a row)\b", r"\bback to back\b",
        r"\b(?:consecutive|successive) quarters\b",
        r"\b(?:missed|missing|miss)\b.{0,20}\b(?:last|past|previous) (?:two|2) quarters\b",
    ), missing.in_a_row),
    Matcher("missing", _p(
        r"\bmissing\b", r"\bmissed\b", r"\boutstanding\b", r"\boverdue\b", r"\blate\b",
        r"\bchase\b",
        # "hasn't", and "hasnt" as it is often typed: the same question, never "who has".
        rf"\b(?:has|have|had|did|do|does|is|are)(?:n'?t| not| yet to| still not| never)\b"
        rf"(?:.{{0,60}}\b{_VERB}|.{{0,60}}\bin yet\b)",
        rf"\b(?:not|never) (?:yet )?(?:been )?{_VERB}", r"\b(?:yet|still) to\b",
        r"\bnot (?:yet )?in\b", r"\bno (?:data|returns?|uploads?|figures)\b",
        r"\bwho (?:is|are) behind\b", r"\b(?:is|are) behind\b",
        r"\b(?:has|have|had)(?:n'?t| not| yet to| still not| never)\b.{0,20}\bdone\b",
        # "who still owes us Q3?", "who are we still waiting on for Q3?"
        r"\bowe[sd]?\b", r"\bowing\b", r"\bwaiting (?:on|for)\b",
        r"(?:n'?t| not) (?:yet )?(?:got|had|have|put|sent|handed)\b.{0,40}\bin\b",
    ), missing.answer, ("who hasn't uploaded Q2 2024/25?", "missing Q2 in London",
                        "who has missed two quarters in a row?")),
    Matcher("summary", _p(
        r"\bnational picture\b", r"\bsummary\b", r"\boverview\b", r"\bheadlines?\b",
        r"\bbig picture\b", r"\bpicture\b", r"\bhow many maracs\b", r"\bkey figures\b",
        r"\bhow are we doing\b", r"\bhow are (?:the |our )?(?:\S+ )?maracs doing\b",
    ), figure.summary, ("national picture 2024/25", "summary Q3")),
    # "How many returns has Leeds sent this year?" counts returns, not cases: before the
    # figures, whose "how many" it would otherwise be.
    Matcher("has-uploaded", _p(r"\bhow many (?:uploads|returns|submissions|quarters|files)\b"),
            has_uploaded.answer),
    Matcher("figure", tuple(m.pattern for m in METRICS if m.key != "all"), figure.answer, (
        "how many cases did Leeds discuss in 2023/24?", "repeat rate for Leeds Q1",
        "children in Kent Q4", "police referrals in West Yorkshire last quarter",
    )),
    Matcher("has-uploaded", _p(
        rf"\b(?:has|have|had|did|does|is|are)\b.{{0,60}}\b(?:{_VERB}|in\b|arrived|received"
        r"|come|got|had)",
        rf"\b{_VERB}\w*\b.{{0,40}}\?", r"\bany (?:data|returns?|figures|files?) (?:from|for)\b",
        r"\bheard (?:from|back)\b", r"\breceived\b", r"\bsubmitted\b", r"\buploaded\b",
        r"\bdeadline\b", r"\bwhen (?:is|are|was|were)\b.{0,40}\bdue\b", r"\bdue date\b",
        r"\barrived\b", r"\b(?:come|came|gone|went|got) (?:through|in)\b",
        r"\bany (?:news|word|update|sign)\b.{0,20}\b(?:on|from|of|about)\b",
        r"\buploads\b",
        # "did you get our Q3 figures?", "can you tell me if you got our return?"
        r"\b(?:did|have|has|if|whether) (?:you|u)(?: have)? (?:get|got|had|receive)\b",
    ), has_uploaded.answer, ("has Croydon uploaded Q3?",)),
    Matcher("status", _p(
        r"\bstatus\b", r"\bthis (?:financial )?year\b", r"\blast (?:financial )?year\b",
        r"\bso far\b", r"\byear to date\b", r"\bytd\b", r"\bprogress\b", r"\bhow is\b",
        r"\bhow's\b", r"\b(?:whole|full) year\b",
    ), status.answer, ("status Croydon", "Leeds this year")),
    Matcher("figure", _p(r"\bfigures\b", r"\bstats\b", r"\bstatistics\b", r"\bnumbers\b",
                         r"\bbreakdown\b"), figure.answer),
)

@dataclass(frozen=True)
class Route:
    """Where a question goes: its intent and the handler that answers it."""

    intent: str
    handler: Handler


def _about_many(e: Entities) -> bool:
    """No Marac named, but an area, "nationally", or "who …" / "which Maracs …"."""
    return not e.maracs and (e.area is not None or e.national or bool(ASKS_WHO.search(e.residual)))


def _one_marac(e: Entities) -> bool:
    return len(e.maracs) == 1


def _year_only(e: Entities) -> bool:
    return e.year is not None and e.quarter is None


# Second thoughts, in order, once a matcher has fitted: the same words ask a different
# question when what they name is different ("has London sent Q3?" is a list of Maracs).
REFINEMENTS: tuple[tuple[str, Callable[[Entities], bool], Route], ...] = (
    # "How many returns have come in this year nationally?": every quarter of the year.
    ("has-uploaded", lambda e: _about_many(e) and _year_only(e), Route("grid", grid.answer)),
    ("has-uploaded", _about_many, Route("missing", missing.uploaded)),
    ("has-uploaded", _year_only, Route("status", status.answer)),
    ("missing", _one_marac, Route("has-uploaded", has_uploaded.answer)),
    ("missing", _year_only, Route("grid", grid.answer)),
    ("status", _about_many, Route("grid", grid.answer)),
)


def route(entities: Entities) -> Route | None:
    """The first matcher that fits, refined by what the question names; then the bare forms
    ("Croydon Q3" is has-uploaded, "Leeds" or "Leeds 2023/24" is status); None when nothing
    fits (the question gets help, never a guess)."""
    found = next((m for m in MATCHERS if m.fits(entities)), None)
    if found is not None:
        chosen = Route(found.intent, found.handler)
        for intent, applies, instead in REFINEMENTS:
            if chosen.intent == intent and applies(entities):
                return instead
        return chosen
    if _bare(entities):
        if entities.quarter is not None:
            return Route("has-uploaded", has_uploaded.answer)
        return Route("status", status.answer)
    return None


def _bare(entities: Entities) -> bool:
    """Only a Marac and perhaps a period: nothing else was said."""
    return len(entities.maracs) == 1 and not entities.unknown and entities.metric is None


def help_topics() -> tuple[HelpTopic, ...]:
    """What can be asked, with examples, generated from the matchers (help itself last)."""
    topics = tuple(
        HelpTopic(m.intent, m.examples) for m in MATCHERS if m.examples and m.intent != "help"
    )
    # "what does … mean" is matched first (it names a figure too), but is listed last: the
    # figures it explains come before it.
    topics = tuple(sorted(topics, key=lambda t: t.intent == "meaning"))
    return (*topics, HelpTopic("help", ("help",)))


def help_finding(*, understood: bool) -> Finding:
    """Help; ``understood`` False when it answers a question that could not be parsed."""
    return Finding("help", understood, Help(help_topics(), understood=understood))


_SHORT_WORDS = 5
_NAMES_A_FILE = re.compile(r"\b(?:returns?|attached|attachment|enclosed|data|figures|files?)\b")
_PERIODISH = re.compile(
    r"\bq[1-4]\b|\b\d{2,4} ?[/-] ?\d{2,4}\b|\b(?:this|last) (?:financial )?year\b"
)


def looks_like_question(text: str) -> bool:
    """Whether free text (an email subject or body line) reads as a question for the bot,
    without touching the database: a matcher fits, or it ends with a question mark."""
    from handlers.questions.entities import normalise

    cleaned = normalise(text)
    if cleaned.endswith("?") or any(m.matches(cleaned) for m in MATCHERS):
        return True
    # "Cardiff Q3 2024-25", "Leeds 2024/25": a name and a period ask about a Marac; a subject
    # such as "Q3 2024/25 return for Croydon" names a file, not a question.
    words = cleaned.split()
    return (len(words) <= _SHORT_WORDS and bool(_PERIODISH.search(cleaned))
            and not _NAMES_A_FILE.search(cleaned))


# How a question opens ("has Croydon…", "which Maracs…", "could you tell me…").
_OPENS_A_QUESTION = re.compile(
    r"(?:who|whose|what|which|when|where|why|how|has|have|had|did|does|do|is|are|was|were"
    r"|can|could|would|will|should|shall|may)\b")


def asks_plainly(text: str) -> bool:
    """Whether free text is plainly a question, not only one a matcher could read: it has a
    question mark or opens as a question does. Beside a document we cannot read, "Our Q3
    figures for Lambeth." describes the file; answering it would hide that the file was not
    read."""
    from handlers.questions.entities import normalise

    cleaned = normalise(text)
    return "?" in cleaned or _OPENS_A_QUESTION.match(cleaned) is not None
