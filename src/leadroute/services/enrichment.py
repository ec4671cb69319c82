"""Enrich a lead: run the waterfall with the providers, the shared cache, daily caps and a budget.

For each provider the waterfall asks for, in order: no lookup key -> skipped; a fresh cache
entry -> used (no call, not counted); wait budget spent -> skipped; daily cap reached ->
skipped; else one call, given what is left of the budget, cached when the provider has a TTL.
Errors are never cached. Without a store there is no cache and caps are counted in memory.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadroute.domain.enrichment import (
    Answer,
    EnrichmentConfig,
    EnrichmentResult,
    EnrichmentState,
    HttpProviderModel,
    InferenceProviderModel,
    LookupKey,
    Provider,
    ProviderError,
    Waterfall,
    lookup_text,
)
from leadroute.domain.fields import Vocabulary

if TYPE_CHECKING:
    import httpx


class Enricher:
    """Fills a lead's empty fields from the configured providers, with per-field provenance.

    `store` is an `EnrichmentStore` (or any `EnrichmentState`); `clock` gives aware datetimes
    (cache freshness, provenance, the UTC day of the caps); `timer` measures the wait budget.
    """

    def __init__(
        self,
        config: EnrichmentConfig,
        providers: Mapping[str, Provider],
        store: EnrichmentState | None,
        clock: Callable[[], datetime],
        *,
        timer: Callable[[], float] = time.monotonic,
        vocabulary: Vocabulary | None = None,
    ) -> None:
        absent = sorted({p for chain in config.fields.values() for p in chain} - set(providers))
        if absent:
            raise ValueError(f"no provider object for {', '.join(absent)}")
        self.config = config
        self.providers = dict(providers)
        self.store = store
        self.clock = clock
        self.timer = timer
        self.vocabulary = vocabulary or Vocabulary()
        self._calls: dict[tuple[str, str], int] = {}
        self._calls_lock = threading.Lock()

    def enrich(
        self, fields: Mapping[str, Any], *, missing: Iterable[str] | None = None
    ) -> EnrichmentResult:
        """Fill the configured fields that are empty in `fields` (only those in `missing`, if
        given). Values already present are never replaced."""
        started = self.timer()
        waterfall = Waterfall(self.config, fields, missing, self.vocabulary)
        while (name := waterfall.next_provider()) is not None:
            key = LookupKey.from_fields(waterfall.known)
            waterfall.record(name, self._ask(name, key, started))
        return waterfall.result((self.timer() - started) * 1000)

    def calls_out(self, fields: Iterable[str]) -> bool:
        """Whether filling these fields may wait on a provider over the network (an HTTP API):
        such a lead is better enriched apart from the others."""
        providers = self.config.providers
        return any(
            isinstance(providers[name], HttpProviderModel)
            for f in fields
            for name in self.config.fields.get(f, ())
        )

    def close(self) -> None:
        """Release the providers' connections."""
        _close(self.providers.values())

    def _ask(self, name: str, key: LookupKey, started: float) -> Answer:
        model = self.config.providers[name]
        text = lookup_text(model, key)
        if text is None:
            return Answer.skipped("no lookup key")
        now = self.clock()
        ttl = 0.0 if isinstance(model, InferenceProviderModel) else model.cache_ttl_hours
        if ttl > 0 and self.store is not None:
            hit = self.store.cached(name, text, fresh_since=now - timedelta(hours=ttl))
            if hit is not None:
                return Answer.found(hit.fields, at=hit.fetched_at, cached=True)
        remaining = self.config.wait_ms - (self.timer() - started) * 1000
        if remaining <= 0:
            return Answer.skipped(f"wait budget {self.config.wait_ms} ms spent")
        cap = None if isinstance(model, InferenceProviderModel) else model.daily_cap
        if (cap is not None or isinstance(model, HttpProviderModel)) and not self._take_call(
            name, now, cap
        ):
            return Answer.skipped(f"daily cap {cap} reached")
        try:
            found = self.providers[name].lookup(key, budget_ms=remaining)
        except ProviderError as exc:
            return Answer.failed(str(exc))
        fetched_at = self.clock()
        if ttl > 0 and self.store is not None:
            self.store.put(name, text, found, fetched_at=fetched_at)
        return Answer.found(found, at=fetched_at)

    def _take_call(self, name: str, now: datetime, cap: int | None) -> bool:
        day = now.astimezone(UTC).date().isoformat()
        if self.store is not None:
            return self.store.take_call(name, day, cap=cap)
        with self._calls_lock:
            count = self._calls.get((name, day), 0)
            if cap is not None and count >= cap:
                return False
            self._calls[(name, day)] = count + 1
            return True


def _close(providers: Iterable[Provider]) -> None:
    for provider in providers:
        close = getattr(provider, "close", None)
        if callable(close):
            close()


def build_enricher(
    config: EnrichmentConfig,
    *,
    store: EnrichmentState | None,
    clock: Callable[[], datetime],
    base_dir: Path,
    transport: httpx.BaseTransport | None = None,
    environ: Mapping[str, str] | None = None,
    vocabulary: Vocabulary | None = None,
) -> Enricher:
    """An Enricher with a provider built for every configured provider.

    Table files resolve against `base_dir` (the config's folder). Raises ProviderSetupError
    when a provider cannot be built (missing CSV, unknown column, unreachable table).
    """
    from leadroute.adapters.enrichers import build_provider

    providers: dict[str, Provider] = {}
    try:
        for name, model in config.providers.items():
            providers[name] = build_provider(
                name, model, base_dir=base_dir, transport=transport, environ=environ
            )
    except Exception:
        _close(providers.values())
        raise
    return Enricher(config, providers, store, clock, vocabulary=vocabulary)
