"""Misspelt names read as the one name they obviously are: "has Lambth uploaded Q3?" is
answered for Lambeth, saying "(taking 'Lambth' as Lambeth)", rather than costing a round trip.
Only a unique, close match is taken (registry.py ``take_as``), or the leading words of one
Marac's name and of no other name ("Barking" for Barking and Dagenham: ``led_by``); when two
names are about as close the question still asks "did you mean …?"."""

from __future__ import annotations

from dataclasses import replace

from handlers.questions.model import Area, Entities, TakenAs, Unknown
from handlers.questions.registry import RegistrySnapshot


def take_misspellings(entities: Entities, registry: RegistrySnapshot) -> Entities:
    """``entities`` with each obviously misspelt left-over read as the name it is close to."""
    maracs, areas = list(entities.maracs), _areas(entities)
    taken: list[TakenAs] = []
    left: list[Unknown] = []
    for unknown in entities.unknown:
        marac, area = registry.take_as(unknown.text)
        marac = marac or (registry.led_by(unknown.text) if area is None else None)
        if marac is not None:
            maracs += [] if marac.name in maracs else [marac.name]
            taken.append(TakenAs(unknown.quoted, marac.name))
        elif area is not None:
            areas += [] if area in areas else [area]
            taken.append(TakenAs(unknown.quoted, area.name))
        else:
            left.append(unknown)
    if not taken:
        return entities
    return replace(
        entities,
        maracs=tuple(maracs),
        area=areas[0] if areas else None,
        extra_areas=tuple(areas[1:]),
        unknown=tuple(left),
        taken=tuple(taken),
    )


def _areas(entities: Entities) -> list[Area]:
    return [entities.area, *entities.extra_areas] if entities.area is not None else []
