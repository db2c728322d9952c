"""The registry's names for the Maracs a file names: resolved once per text, before the checks."""

from __future__ import annotations

from collections.abc import Sequence

from validation.context import MaracInfo
from validation.names import resolve_names


class CountingRegistry:
    """A registry of Croydon (alias "Croydon Borough") that counts the lookups made."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def is_empty(self) -> bool:
        return False

    def resolve(self, text: str) -> MaracInfo | None:
        self.asked.append(text)
        known = " ".join(text.lower().split()) in {"croydon", "croydon borough"}
        return MaracInfo("Croydon") if known else None

    def suggest(self, text: str, limit: int = 3) -> Sequence[str]:
        return ["Croydon"]


def test_each_row_gets_the_registry_name_or_none() -> None:
    texts = ["croydon ", "Croydon Borough", None, "", "Atlantis"]
    assert resolve_names(texts, CountingRegistry()) == ["Croydon", "Croydon", None, None, None]


def test_each_distinct_text_is_looked_up_once() -> None:
    registry = CountingRegistry()
    names = resolve_names(["Croydon"] * 5_000 + ["Atlantis"] * 5_000, registry)
    assert names == ["Croydon"] * 5_000 + [None] * 5_000
    assert sorted(registry.asked) == ["Atlantis", "Croydon"]
