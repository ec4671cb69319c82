"""Tables of enrichment: cached provider answers and daily call counters (migration 0002)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Integer, String, Table

from leadroute.adapters.store.tables import metadata

enrichment_cache = Table(
    "enrichment_cache",
    metadata,
    Column("provider", String(80), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fields", JSON, nullable=False),
    Column("fetched_at", DateTime(timezone=True), nullable=False),
)

provider_calls = Table(
    "provider_calls",
    metadata,
    Column("provider", String(80), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("count", Integer, nullable=False),
)
