"""Registry checks (spec §4, §6): is the Marac known, and may this sender submit for it.

The names are resolved before the checks run (``validation.names``): a row whose written name
the registry does not know has no ``marac``. With no registry at all (a coordinator checking a
file on their own machine) names are not checked and one info note says so; the orchestrator
adds that note.
"""

from __future__ import annotations

from collections.abc import Iterator

from kernel import wording
from validation.checks.base import RowView, row_check
from validation.context import ValidationContext
from validation.issues import Issue


@row_check("unknown-marac", "not-authorised", needs=("registry|sender",))
def check_marac_known(row: RowView, context: ValidationContext) -> Iterator[Issue]:
    registry, text = context.registry, row.parsed.marac_text
    if not text:
        return
    if registry is None or registry.is_empty():
        # No registry, but the file is declared for one Marac (``validate --marac``): rows
        # naming another are flagged, compared as loosely as the registry would.
        if context.sender is not None and not context.sender.may_submit(text):
            yield row.issue("not-authorised", "marac", value=text)
        return
    name = row.parsed.marac
    if name is None:
        suggestion = wording.did_you_mean(list(registry.suggest(text)))
        yield row.issue("unknown-marac", "marac", value=text, suggestion=suggestion)
        return
    if context.sender is not None and not context.sender.may_submit(name):
        yield row.issue("not-authorised", "marac", value=name)
