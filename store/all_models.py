"""Every module that defines tables, imported so ``Base.metadata`` is complete.

Alembic's env and the schema test import this module rather than ``store.models`` alone:
tables added by other store modules (the inbox/outbox queue) must be seen too.
"""

from __future__ import annotations

import importlib
import importlib.util

from store import models
from store.base import Base

# Modules that add tables, beside store.models. A module not written yet is skipped; one that
# exists but fails to import must fail loudly, so find_spec is used rather than try/except.
TABLE_MODULES = ("store.queue", "store.totals", "store.registry_version")

for _name in TABLE_MODULES:
    if importlib.util.find_spec(_name) is not None:
        importlib.import_module(_name)

metadata = Base.metadata

__all__ = ["Base", "metadata", "models"]
