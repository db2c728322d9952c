"""'what does repeat rate mean?', 'how is the police share worked out?': what a figure counts
and how it is worked out (spec §5), with its band and national reference. Nothing is looked
up: the answer is the same for every Marac."""

from __future__ import annotations

from handlers.questions.context import Ask
from handlers.questions.model import Finding
from kernel.answers import Meaning

INTENT = "meaning"


def names_a_figure(metric: str | None) -> bool:
    """Whether a question's figure is one this can explain ("figures" alone is none)."""
    return metric is not None and metric != "all"


def answer(ask: Ask) -> Finding:
    metric = ask.entities.metric
    assert metric is not None and names_a_figure(metric), "routed here only with a figure"
    return Finding(INTENT, True, Meaning(metric, ask.settings.bands))
