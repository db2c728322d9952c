"""All user-facing wording, in one place, split by audience (STYLE.md 10).

Tone: plain English, say what to change. Tests call these functions rather than copying text.
Callers write ``wording.<name>``; each name lives in the module of its audience.

Each module is loaded when one of its names is first used (``_index.HOMES`` says which): a
command that words a validation report does not load the question wording and, through it, the
answer types (issue 14, start-up time). Type checkers see the star imports below.
"""

# ruff: noqa: F403

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from kernel.wording._index import HOMES, MODULES, star_names

if TYPE_CHECKING:
    from kernel.wording.chat import *
    from kernel.wording.common import *
    from kernel.wording.files import *
    from kernel.wording.forms import *
    from kernel.wording.history import *
    from kernel.wording.issues import *
    from kernel.wording.operator import *
    from kernel.wording.questions import *
    from kernel.wording.registry import *
    from kernel.wording.reminders import *
    from kernel.wording.replies import *
    from kernel.wording.reports import *
    from kernel.wording.workbooks import *
else:

    def __getattr__(name: str) -> Any:
        """``wording.<name>``, loading its module on first use, then kept as an attribute."""
        home = HOMES.get(name)
        if home is None:
            return _from_all_modules(name)
        value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(globals()) | set(HOMES))


def _from_all_modules(name: str) -> Any:
    """A name the index does not list: every module loaded, bound as the star imports did
    (the later module wins)."""
    found = False
    value: Any = None
    for module_name in MODULES:
        module = importlib.import_module(f"{__name__}.{module_name}")
        if name in star_names(module):
            found, value = True, getattr(module, name)
    if not found:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value
