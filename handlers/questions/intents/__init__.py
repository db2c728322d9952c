"""One module per kind of question; each handler takes an ``Ask`` and returns a ``Finding``."""
