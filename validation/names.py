"""The registry's names for the Maracs a file names: a step before the checks, not a check.

A file may write "croydon marac" or an alias; the registry check, the duplicates, the stored
meetings and the quarter bands all go by the registry's one name for it. ``validate`` resolves
the names once, here, and sets them on the rows itself, so no check changes what another sees.
"""

from __future__ import annotations

from collections.abc import Sequence

from validation.context import RegistryView


def resolve_names(texts: Sequence[str | None], registry: RegistryView) -> list[str | None]:
    """The registry's name for each Marac as written; None for a blank or unknown one.

    Each distinct text is looked up once: a file of thousands of rows names a few Maracs.
    """
    names: dict[str, str] = {}
    for text in set(texts):
        if text and (info := registry.resolve(text)) is not None:
            names[text] = info.name
    return [names.get(text) if text else None for text in texts]
