"""Enrichment state in the SQL store: provider answers cached by lookup key, daily call counts.

Implements the `EnrichmentState` port. A daily cap is taken with one atomic upsert
(INSERT ... ON CONFLICT DO UPDATE ... WHERE count < cap RETURNING), so processes sharing the
database never exceed it together.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from leadroute.adapters.store.enrichment_tables import enrichment_cache, provider_calls
from leadroute.adapters.store.sql import Store, aware
from leadroute.domain.enrichment import CachedAnswer


class EnrichmentStore:
    """The enrichment cache and call counters, on the store's engine (SQLite or PostgreSQL)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine
        self.dialect = store.dialect

    def cached(self, provider: str, key: str, *, fresh_since: datetime) -> CachedAnswer | None:
        """The answer cached for (provider, key) if fetched at or after `fresh_since`."""
        query = select(enrichment_cache.c.fields, enrichment_cache.c.fetched_at).where(
            enrichment_cache.c.provider == provider,
            enrichment_cache.c.key == key,
            enrichment_cache.c.fetched_at >= fresh_since,
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return CachedAnswer(dict(row.fields), aware(row.fetched_at))

    def put(
        self, provider: str, key: str, fields: Mapping[str, Any], *, fetched_at: datetime
    ) -> None:
        stmt = self.store.insert(enrichment_cache).values(
            provider=provider, key=key, fields=dict(fields), fetched_at=fetched_at
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["provider", "key"],
            set_={"fields": stmt.excluded.fields, "fetched_at": stmt.excluded.fetched_at},
        )
        with self.store.write() as conn:
            conn.execute(stmt)

    def take_call(self, provider: str, day: str, *, cap: int | None) -> bool:
        """Count one call of `provider` on `day` unless `cap` were counted; False when at cap."""
        if cap is not None and cap <= 0:
            return False
        stmt = self.store.insert(provider_calls).values(provider=provider, day=day, count=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=["provider", "day"],
            set_={"count": provider_calls.c.count + 1},
            where=(provider_calls.c.count < cap) if cap is not None else None,
        ).returning(provider_calls.c.count)
        with self.store.write() as conn:
            return conn.execute(stmt).first() is not None

    def calls(self, provider: str, day: str) -> int:
        query = select(provider_calls.c.count).where(
            provider_calls.c.provider == provider, provider_calls.c.day == day
        )
        with self.engine.connect() as conn:
            return int(conn.scalar(query) or 0)

    def purge(self, *, fetched_before: datetime, days_before: str | None = None) -> int:
        """Delete cache entries fetched before a moment (and counters of days before a day)."""
        with self.store.write() as conn:
            removed = conn.execute(
                delete(enrichment_cache).where(enrichment_cache.c.fetched_at < fetched_before)
            ).rowcount
            if days_before is not None:
                conn.execute(delete(provider_calls).where(provider_calls.c.day < days_before))
        return int(removed or 0)
