"""The SQL store (SQLite by default, PostgreSQL in production), on SQLAlchemy 2."""

from leadroute.adapters.store.sql import Store, StoredDecision, StoredLead

__all__ = ["Store", "StoredDecision", "StoredLead"]
