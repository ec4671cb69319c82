"""The schema's Alembic migrations, run by `Store.migrate` on first use (see docs/operations.md)."""
