"""Alembic migrations, run in code by ``store.db.upgrade`` (no alembic.ini needed)."""
