"""What every intent handler is given, and the steps they share: settling which Marac or area
a question is about (with "did you mean" and the asker's scope), and which quarter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from handlers.questions.model import Entities, Finding
from handlers.questions.period import default_quarter
from handlers.questions.registry import MaracEntry, RegistrySnapshot
from handlers.questions.scope import Scope
from handlers.questions.words import ASKS_WHO
from kernel.answers import (
    Area,
    NeedMarac,
    NoMaracsIn,
    PlaceInfo,
    Problem,
    Refusal,
    SeveralAreas,
    SeveralMaracs,
    UnclearPeriod,
    UnknownName,
)
from kernel.config import Policy
from kernel.quarters import Quarter
from reports import answers


@dataclass(frozen=True)
class Ask:
    """One question on its way through a handler."""

    session: Session
    settings: Policy
    today: date
    scope: Scope
    registry: RegistrySnapshot
    entities: Entities
    images: bool = True  # attach images (the grid PNG) for channels that show them

    @property
    def due_days(self) -> int:
        return self.settings.due_days

    def local(self, moment: datetime) -> datetime:
        """A stored UTC time in the configured time zone."""
        return moment.astimezone(self.settings.tz)


Handler = Callable[[Ask], Finding]


@dataclass(frozen=True)
class Place:
    """What a question is about, cut down to what the asker may see."""

    marac: MaracEntry | None  # one Marac
    area: Area | None  # or an area (None with no Marac: the asker's whole scope)
    maracs: tuple[MaracEntry, ...]  # the Maracs covered, all visible to the asker
    restricted: bool  # some Maracs of the area were left out: outside the asker's scope

    @property
    def marac_ids(self) -> list[int]:
        return [m.id for m in self.maracs]

    def info(self) -> PlaceInfo:
        """The place as an answer states it."""
        return PlaceInfo(self.marac.name if self.marac else None, self.area, len(self.maracs),
                         self.restricted)


def problem(intent: str, why: Problem) -> Finding:
    """A question not answered, and why (the text comes from reports/answers.py)."""
    return Finding(intent, False, why)


def refusal(intent: str, why: Refusal) -> Finding:
    return Finding(intent, False, why, refused_reason=answers.refusal_text(why))


def quarter_of(ask: Ask) -> tuple[Quarter, bool]:
    """The quarter asked about, or the last one that ended; and whether it was defaulted."""
    if ask.entities.quarter is not None:
        return ask.entities.quarter, False
    return default_quarter(ask.today), True


def unclear_period(ask: Ask, intent: str) -> Finding | None:
    phrase = ask.entities.period_unclear
    if not phrase:
        return None
    own = sorted(ask.scope.own)
    example = ask.entities.maracs[0] if ask.entities.maracs else own[0] if own else None
    return problem(intent, UnclearPeriod(phrase, example))


def place_of(ask: Ask, intent: str, *, need_marac: bool) -> Place | Finding:
    """The one Marac or the area the question is about, within the asker's scope, or the
    Finding that says why not (unknown name, several Maracs, outside scope)."""
    e = ask.entities
    if (doubt := doubtful_name(ask.registry, e)) is not None:
        return problem(intent, doubt)
    if len(e.maracs) > 1:
        return problem(intent, SeveralMaracs(e.maracs))
    if e.maracs:
        return _one_marac(ask, intent, ask.registry.maracs[e.maracs[0]])
    if e.area is not None and e.extra_areas:
        return problem(intent, SeveralAreas(tuple(a.name for a in (e.area, *e.extra_areas))))
    if e.area is not None:
        return _area(ask, intent, e.area)
    own = [ask.registry.maracs[n] for n in sorted(ask.scope.own) if n in ask.registry.maracs]
    if need_marac and len(own) == 1 and not ask.scope.everything:
        return _one_marac(ask, intent, own[0])  # "status" from Croydon's coordinator
    if need_marac:
        return problem(intent, NeedMarac())
    if e.mine and own:
        return Place(None, None, tuple(own), restricted=not ask.scope.everything)
    return _whole_scope(ask, intent)


def doubtful_name(registry: RegistrySnapshot, e: Entities) -> UnknownName | None:
    """Left-over words that look like a misspelt name, or stand where a name should be: the
    question is then not answered, never answered for a wider place than the one asked
    about ("is Inverness missing Q2?" with no Inverness is not a list of every Marac)."""
    named = bool(e.maracs or e.area)
    for unknown in e.unknown:
        close = registry.suggest(unknown.text, strong=True)
        if close:
            return UnknownName(unknown.quoted, tuple(close))
        # Listed with a known name ("Croydon and Narnia"), the rest is answered and this one
        # said to be unknown (``unknown_places``); any other word beside a name is just a word.
        if not named or (unknown.after_place_word and not unknown.beside_place):
            near = registry.suggest(unknown.text, strong=False)
            return UnknownName(unknown.quoted, tuple(near))
    return None


def unknown_places(entities: Entities) -> tuple[str, ...]:
    """Names listed with a known place that the registry does not know, as written: an
    answer about the known ones says these are unknown, never drops them in silence."""
    if not (entities.maracs or entities.area):
        return ()
    return tuple(u.quoted for u in entities.unknown if u.beside_place)


def _one_marac(ask: Ask, intent: str, marac: MaracEntry) -> Place | Finding:
    if not ask.scope.may_view(marac.name):
        return refusal(intent, Refusal("outside-scope", marac=marac.name, scope=ask.scope.info()))
    return Place(marac, None, (marac,), restricted=False)


def _area(ask: Ask, intent: str, area: Area) -> Place | Finding:
    everyone = ask.registry.in_area(area)
    if not everyone:
        return problem(intent, NoMaracsIn(area))
    visible = ask.scope.visible(ask.registry, area)
    if everyone and not visible:
        return refusal(intent, Refusal("outside-scope", area=area, scope=ask.scope.info()))
    return Place(None, area, tuple(visible), restricted=len(visible) < len(everyone))


def _whole_scope(ask: Ask, intent: str) -> Place | Finding:
    visible = ask.scope.visible(ask.registry, None)
    if not visible and not ask.scope.everything:
        return refusal(intent, Refusal("no-maracs", scope=ask.scope.info()))
    if len(visible) == 1 and visible[0].name in ask.scope.own and not ask.scope.everything:
        # "our repeat rate" is about the asker's own Marac; "national picture" or "who hasn't
        # uploaded?" asked about every Marac, and the answer says it was narrowed to theirs.
        narrowed = _asks_about_all(ask.entities, intent)
        return Place(visible[0], None, (visible[0],), restricted=narrowed)
    return Place(None, None, tuple(visible), restricted=not ask.scope.everything)


# Intents whose answer is a list of Maracs: asked with no place, they are about every one.
_LISTS = frozenset({"missing", "grid", "export"})


def _asks_about_all(e: Entities, intent: str) -> bool:
    """The question, naming no place, is about every Marac rather than the asker's own."""
    return e.national or intent in _LISTS or bool(ASKS_WHO.search(e.residual))
