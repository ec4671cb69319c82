"""The Enricher on the store (SQLite and PostgreSQL): cache with TTL, daily caps, budget, order."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from leadroute.adapters.enrichers.inference import InferenceProvider, fallback_timezone
from leadroute.adapters.store.enrichment_store import EnrichmentStore
from leadroute.adapters.store.sql import Store
from leadroute.domain.enrichment import (
    EnrichmentConfig,
    InferenceProviderModel,
    LookupKey,
    Provenance,
    Provider,
    ProviderError,
    ProviderSetupError,
)
from leadroute.services.enrichment import Enricher, build_enricher

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Timer:
    """A monotonic timer the fake providers move forward."""

    def __init__(self) -> None:
        self.seconds = 100.0

    def __call__(self) -> float:
        return self.seconds


@dataclass
class FakeProvider:
    """Answers from a table by domain; records every call and the budget it was given."""

    name: str
    table: dict[str, dict[str, Any]]
    fields: frozenset[str] = frozenset()
    error: str | None = None
    takes_ms: float = 0.0
    timer: Timer | None = None
    calls: list[LookupKey] = field(default_factory=list)
    budgets: list[float | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.fields = frozenset(f for row in self.table.values() for f in row)

    def lookup(self, key: LookupKey, *, budget_ms: float | None = None) -> dict[str, Any]:
        self.calls.append(key)
        self.budgets.append(budget_ms)
        if self.timer is not None:
            self.timer.seconds += self.takes_ms / 1000
        if self.error is not None:
            raise ProviderError(self.error)
        return dict(self.table.get(key.domain or "", {}))


CONFIG = """
wait_ms: 1500
providers:
  warehouse: {type: table, path: companies.csv, key: domain,
              fields: {industry: industry, employees: employee_count}}
  vendor_a:
    type: http
    url: "http://127.0.0.1:8080/v2/companies/find?domain={domain}"
    fields: {industry: category.industry, employees: metrics.employees,
             annual_revenue: metrics.annualRevenue}
    daily_cap: 2
    cache_ttl_hours: 24
    confidence: 0.8
  vendor_b:
    type: http
    url: "http://127.0.0.1:8081/lookup/{domain}"
    fields: {industry: industry, employees: size}
    confidence: 0.5
  infer: {type: inference}
fields:
  industry: [warehouse, vendor_a, vendor_b]
  employees: [warehouse, vendor_a, vendor_b]
  annual_revenue: [vendor_a]
  timezone: [infer]
"""


def config(**changes: Any) -> EnrichmentConfig:
    document = yaml.safe_load(CONFIG)
    for key, value in changes.items():
        if key in document["providers"]:
            document["providers"][key].update(value)
        else:
            document[key] = value
    return EnrichmentConfig.model_validate(document)


@dataclass
class World:
    warehouse: FakeProvider
    vendor_a: FakeProvider
    vendor_b: FakeProvider
    clock: Clock
    timer: Timer

    def enricher(
        self, store: EnrichmentStore | None, model: EnrichmentConfig | None = None
    ) -> Enricher:
        infer = InferenceProvider(
            "infer",
            InferenceProviderModel(type="inference"),
            timezone_rule=fallback_timezone,
        )
        providers: dict[str, Provider] = {
            "warehouse": self.warehouse,
            "vendor_a": self.vendor_a,
            "vendor_b": self.vendor_b,
            "infer": infer,
        }
        return Enricher(model or config(), providers, store, self.clock, timer=self.timer)


@pytest.fixture
def world() -> World:
    timer = Timer()
    return World(
        warehouse=FakeProvider("warehouse", {"acme.com": {"industry": "Software"}}, timer=timer),
        vendor_a=FakeProvider(
            "vendor_a",
            {
                domain: {"industry": "Tech", "employees": "1,200", "annual_revenue": 5e6}
                for domain in ("acme.com", "beta.io", "gamma.io", "delta.io")
            },
            timer=timer,
        ),
        vendor_b=FakeProvider(
            "vendor_b",
            {d: {"industry": "B-industry", "employees": 7} for d in ("beta.io", "gamma.io")},
            timer=timer,
        ),
        clock=Clock(),
        timer=timer,
    )


@pytest.fixture
def state(store: Store) -> EnrichmentStore:
    return EnrichmentStore(store)


def outcomes(result: Any) -> list[tuple[str, str | None, str]]:
    return [(a.provider, a.field, a.outcome) for a in result.attempts]


def test_waterfall_order_per_field_with_provenance(world: World, state: EnrichmentStore) -> None:
    result = world.enricher(state).enrich({"domain": "acme.com", "country": "DE"})
    assert result.fields == {
        "industry": "Software",
        "employees": 1200,
        "annual_revenue": 5000000,
        "timezone": "Europe/Berlin",
    }
    assert {f: (p.provider, p.confidence, p.cached) for f, p in result.provenance.items()} == {
        "industry": ("warehouse", 1.0, False),
        "employees": ("vendor_a", 0.8, False),
        "annual_revenue": ("vendor_a", 0.8, False),
        "timezone": ("infer", 0.6, False),
    }
    assert result.provenance["employees"].at == NOW
    assert outcomes(result) == [
        ("warehouse", "industry", "filled"),
        ("warehouse", "employees", "empty"),
        ("vendor_a", "employees", "filled"),
        ("vendor_a", "annual_revenue", "filled"),
        ("infer", "timezone", "filled"),
    ]
    assert len(world.warehouse.calls) == 1 and len(world.vendor_a.calls) == 1
    assert world.vendor_b.calls == []
    assert result.elapsed_ms == 0.0
    assert result.as_record()["provenance"]["industry"]["provider"] == "warehouse"


def test_present_fields_are_kept_and_missing_narrows(world: World, state: EnrichmentStore) -> None:
    enricher = world.enricher(state)
    result = enricher.enrich(
        {"domain": "acme.com", "industry": "Retail", "employees": 5}, missing=["annual_revenue"]
    )
    assert result.fields == {"annual_revenue": 5000000}
    assert world.warehouse.calls == []
    assert enricher.enrich({"domain": "acme.com"}, missing=[]).attempts == []


def test_cache_hit_within_ttl_miss_after(world: World, state: EnrichmentStore) -> None:
    lead = {"website": "https://www.beta.io", "country": "US"}
    first = world.enricher(state).enrich(lead)
    assert first.provenance["industry"].provider == "vendor_a"
    assert not first.provenance["industry"].cached

    world.clock.now = NOW + timedelta(hours=23)
    again = world.enricher(state).enrich(lead)  # another process: same store
    assert len(world.vendor_a.calls) == 1, "answered from the cache"
    assert again.fields == first.fields
    assert again.provenance["industry"] == Provenance("vendor_a", NOW, 0.8, True)
    assert ("vendor_a", "industry", "cached") in outcomes(again)

    world.clock.now = NOW + timedelta(hours=25)
    late = world.enricher(state).enrich(lead)
    assert len(world.vendor_a.calls) == 2, "past its TTL the entry is fetched again"
    assert late.provenance["industry"].at == world.clock.now
    cached = state.cached("vendor_a", "domain:beta.io", fresh_since=NOW + timedelta(hours=24))
    assert cached is not None and cached.fetched_at == NOW + timedelta(hours=25)
    assert cached.fields == {"industry": "Tech", "employees": "1,200", "annual_revenue": 5e6}


def test_not_found_is_cached_but_errors_are_not(world: World, state: EnrichmentStore) -> None:
    enricher = world.enricher(state, config(vendor_a={"daily_cap": None}))
    enricher.enrich({"domain": "unknown.io"})
    enricher.enrich({"domain": "unknown.io"})
    assert len(world.vendor_a.calls) == 1, "an empty answer is remembered"
    assert len(world.vendor_b.calls) == 1, "the default cache_ttl_hours of http is 720"

    world.vendor_a.error = "HTTP 503 (3 tries)"
    for _ in range(2):
        result = enricher.enrich({"domain": "gamma.io"}, missing=["annual_revenue"])
        assert outcomes(result) == [("vendor_a", "annual_revenue", "error: HTTP 503 (3 tries)")]
    assert len(world.vendor_a.calls) == 3, "errors are asked again"


def test_cache_is_per_provider_and_key(world: World, state: EnrichmentStore) -> None:
    enricher = world.enricher(state)
    enricher.enrich({"domain": "beta.io"})
    enricher.enrich({"domain": "gamma.io"})
    assert [k.domain for k in world.vendor_a.calls] == ["beta.io", "gamma.io"]
    assert state.cached("vendor_b", "domain:beta.io", fresh_since=NOW) is None
    assert state.cached("vendor_a", "domain:beta.io", fresh_since=NOW) is not None


def test_daily_cap_stops_calls_and_falls_to_the_next_provider(
    world: World, state: EnrichmentStore
) -> None:
    enricher = world.enricher(state)
    for domain in ("acme.com", "beta.io"):
        enricher.enrich({"domain": domain})
    third = enricher.enrich({"domain": "gamma.io"})
    assert len(world.vendor_a.calls) == 2
    assert state.calls("vendor_a", "2026-11-24") == 2
    assert third.fields == {"industry": "B-industry", "employees": 7}
    assert outcomes(third)[:4] == [
        ("warehouse", "industry", "empty"),
        ("vendor_a", "industry", "skipped: daily cap 2 reached"),
        ("vendor_b", "industry", "filled"),
        ("warehouse", "employees", "empty"),
    ]
    assert ("vendor_a", "annual_revenue", "skipped: daily cap 2 reached") in outcomes(third)

    # Cache hits are not calls, so a capped provider still answers from its cache.
    cached = enricher.enrich({"domain": "beta.io"})
    assert cached.provenance["industry"].cached

    # The cap is per UTC day: 00:30 in Tokyo on the 25th is still the 24th in UTC.
    world.clock.now = datetime(2026, 11, 24, 23, 59, tzinfo=UTC)
    assert ("vendor_a", "industry", "skipped: daily cap 2 reached") in outcomes(
        enricher.enrich({"domain": "delta.io"})
    )
    world.clock.now = datetime(2026, 11, 25, 0, 1, tzinfo=UTC)
    fresh = enricher.enrich({"domain": "delta.io"})
    assert fresh.provenance["industry"].provider == "vendor_a"
    assert state.calls("vendor_a", "2026-11-25") == 1


def test_calls_are_counted_for_http_providers_without_a_cap(
    world: World, state: EnrichmentStore
) -> None:
    world.enricher(state).enrich({"domain": "beta.io"}, missing=["industry"])
    world.enricher(state).enrich({"domain": "zeta.io"}, missing=["industry"])
    assert state.calls("vendor_b", "2026-11-24") == 1
    assert state.calls("warehouse", "2026-11-24") == 0, "local tables are not counted"


def test_a_cap_holds_across_threads(state: EnrichmentStore) -> None:
    taken: list[bool] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(10):
            got = state.take_call("vendor_a", "2026-11-24", cap=25)
            with lock:
                taken.append(got)

    threads = [threading.Thread(target=take) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert taken.count(True) == 25
    assert state.calls("vendor_a", "2026-11-24") == 25
    assert not state.take_call("vendor_a", "2026-11-24", cap=0)
    assert state.take_call("vendor_a", "2026-11-24", cap=None)


def test_the_wait_budget_bounds_calls(world: World, state: EnrichmentStore) -> None:
    world.warehouse.takes_ms = 1000
    world.vendor_a.takes_ms = 600
    model = config(vendor_a={"daily_cap": None})
    result = world.enricher(state, model).enrich({"domain": "beta.io", "country": "DE"})
    assert world.warehouse.budgets == [1500]
    assert world.vendor_a.budgets == [500], "the call gets what is left of the budget"
    assert world.vendor_b.calls == [], "no call starts once the budget is spent"
    assert result.elapsed_ms == pytest.approx(1600)
    assert result.fields == {"industry": "Tech", "employees": 1200, "annual_revenue": 5000000}
    assert ("infer", "timezone", "skipped: wait budget 1500 ms spent") in outcomes(result)


def test_a_spent_budget_skips_the_rest(world: World, state: EnrichmentStore) -> None:
    world.warehouse.takes_ms = 1600
    result = world.enricher(state).enrich({"domain": "beta.io", "country": "DE"})
    assert world.vendor_a.calls == [] and world.vendor_b.calls == []
    assert ("vendor_a", "industry", "skipped: wait budget 1500 ms spent") in outcomes(result)
    assert ("infer", "timezone", "skipped: wait budget 1500 ms spent") in outcomes(result)
    assert result.fields == {}


def test_no_lookup_key_skips_a_provider(world: World, state: EnrichmentStore) -> None:
    result = world.enricher(state).enrich({"email": "ann@gmail.com", "phone": "+44 20 7946 0000"})
    assert world.vendor_a.calls == [] and world.warehouse.calls == []
    assert ("warehouse", "industry", "skipped: no lookup key") in outcomes(result)
    assert ("vendor_a", "annual_revenue", "skipped: no lookup key") in outcomes(result)
    assert result.fields == {"timezone": "Europe/London"}


def test_enriched_values_feed_later_lookups(world: World, state: EnrichmentStore) -> None:
    document = yaml.safe_load(CONFIG)
    document["providers"]["warehouse"]["fields"] = {"country": "country"}
    document["fields"] = {"country": ["warehouse"], "timezone": ["infer"]}
    world.warehouse.table = {"acme.com": {"country": "jp"}}
    world.warehouse.fields = frozenset({"country"})
    result = world.enricher(state, EnrichmentConfig.model_validate(document)).enrich(
        {"domain": "acme.com"}
    )
    assert result.fields == {"country": "jp", "timezone": "Asia/Tokyo"}


def test_without_a_store_there_is_no_cache_and_caps_are_counted_in_memory(world: World) -> None:
    enricher = world.enricher(None)
    for _ in range(3):
        enricher.enrich({"domain": "beta.io"}, missing=["annual_revenue"])
    assert len(world.vendor_a.calls) == 2
    assert outcomes(enricher.enrich({"domain": "beta.io"}, missing=["annual_revenue"])) == [
        ("vendor_a", "annual_revenue", "skipped: daily cap 2 reached")
    ]


def test_every_configured_provider_needs_an_object(world: World) -> None:
    with pytest.raises(ValueError, match="no provider object for infer, vendor_b"):
        Enricher(
            config(),
            {"warehouse": world.warehouse, "vendor_a": world.vendor_a},
            None,
            world.clock,
        )


def test_build_enricher_from_config(tmp_path: Path, store: Store) -> None:
    (tmp_path / "companies.csv").write_text(
        "Domain,industry,employee_count\nwww.acme.com,Software,\n", encoding="utf-8"
    )
    seen: list[httpx.Request] = []

    def vendor(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.port == 8081:
            return httpx.Response(500)
        return httpx.Response(
            200, json={"category": {"industry": "Tech"}, "metrics": {"employees": "250"}}
        )

    model = config(vendor_a={"headers": {"Authorization": "Bearer ${VENDOR_A_KEY}"}})
    enricher = build_enricher(
        model,
        store=EnrichmentStore(store),
        clock=Clock(),
        base_dir=tmp_path,
        transport=httpx.MockTransport(vendor),
        environ={"VENDOR_A_KEY": "k"},
    )
    result = enricher.enrich({"email": "ada@acme.com", "country": "DE"})
    assert result.fields == {"industry": "Software", "employees": 250, "timezone": "Europe/Berlin"}
    assert [str(r.url) for r in seen] == ["http://127.0.0.1:8080/v2/companies/find?domain=acme.com"]
    assert seen[0].headers["Authorization"] == "Bearer k"
    assert outcomes(result)[-1] == ("infer", "timezone", "filled")
    enricher.close()


def test_build_enricher_reports_setup_problems(tmp_path: Path) -> None:
    with pytest.raises(ProviderSetupError, match=r"companies\.csv"):
        build_enricher(config(), store=None, clock=Clock(), base_dir=tmp_path)


def test_purge_removes_stale_entries(world: World, state: EnrichmentStore) -> None:
    world.enricher(state).enrich({"domain": "beta.io"})
    assert state.purge(fetched_before=NOW) == 0
    assert state.purge(fetched_before=NOW + timedelta(seconds=1), days_before="2026-11-25") == 1
    assert state.cached("vendor_a", "domain:beta.io", fresh_since=NOW) is None
    assert state.calls("vendor_a", "2026-11-24") == 0
