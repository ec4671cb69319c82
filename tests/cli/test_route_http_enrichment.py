"""`leadroute route` on the default SQLite store with an `http` enrichment provider: a real
server on 127.0.0.1 answers the lookups.

Before routing ran in phases, the provider's call counter (a write) waited for the routing
transaction's write lock, held by the same command: "database is locked" after SQLite's 30 s
busy timeout, nothing routed.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from typer.testing import CliRunner

from leadroute.adapters.store.enrichment_store import EnrichmentStore
from leadroute.adapters.store.sql import Store
from leadroute.cli import app
from tests.receivers import Reply, Request, http_receiver

ORG = """
reps:
  - {id: ann, name: Ann Lee, teams: [na]}
  - {id: bob, name: Bob Ray, teams: [na]}
  - {id: sam, name: Sam Soft, teams: [software]}
territories:
  - {id: na, countries: [US, CA]}
"""

CONFIG = """
name: http-enrichment
pools:
  na: {members: [team:na], fairness_window: all, working_hours: ignore}
  software: {members: [team:software], fairness_window: all, working_hours: ignore}
queues:
  nurture: {message: "Thanks, we'll be in touch"}
flow:
  - id: software
    when: {industry: Software}
    then: {distribute: software}
  - id: na
    when: {territory: na}
    then: {distribute: na}
  - id: fallback
    fallback: true
    then: {queue: nurture}
enrichment:
  policy: wait
  wait_ms: 5000
  providers:
    vendor:
      type: http
      url: "http://127.0.0.1:PORT/companies?domain={domain}"
      fields: {industry: industry}
      timeout_ms: 2000
      retries: 0
      daily_cap: 100
      cache_ttl_hours: 24
  fields:
    industry: [vendor]
"""

LEADS = """Id,FirstName,LastName,Email,Company,Country
1,Al,One,al@gamma.example,Gamma,US
2,Bea,Two,bea@delta.example,Delta,US
3,Cal,Three,cal@gamma.example,Gamma,CA
4,Dee,Four,dee@omega.example,Omega,DE
"""

INDUSTRIES = {"gamma.example": "Software", "delta.example": "Retail"}


def _answer(request: Request) -> Reply:
    domain = parse_qs(urlsplit(request.path).query).get("domain", [""])[0]
    if domain not in INDUSTRIES:
        return Reply(404, {"error": "not found"})
    return Reply(200, {"industry": INDUSTRIES[domain]})


def test_route_with_an_http_provider_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "cli.db"
    monkeypatch.setenv("LEADROUTE_DB", f"sqlite:///{db}")
    (tmp_path / "org.yaml").write_text(ORG, encoding="utf-8")
    (tmp_path / "leads.csv").write_text(LEADS, encoding="utf-8")
    with http_receiver(_answer) as provider:
        config = CONFIG.replace("PORT", str(provider.port))
        (tmp_path / "routing.yaml").write_text(config, encoding="utf-8")
        started = time.monotonic()
        result = CliRunner().invoke(
            app,
            [
                "route",
                str(tmp_path / "leads.csv"),
                "--config",
                str(tmp_path / "routing.yaml"),
                "--org",
                str(tmp_path / "org.yaml"),
            ],
        )
        seconds = time.monotonic() - started
    assert result.exit_code == 0, result.output
    assert seconds < 15, f"routing took {seconds:.1f} s"
    store = Store(f"sqlite:///{db}")
    try:
        decided = {s.lead.id: s for s in store.leads()}
        assert {lead: s.status for lead, s in decided.items()} == {
            "1": "routed",
            "2": "routed",
            "3": "routed",
            "4": "routed",
        }
        assert decided["1"].owner_id == decided["3"].owner_id == "sam"  # Software, enriched
        assert {decided["2"].owner_id} <= {"ann", "bob"}  # Retail: the territory's pool
        assert decided["4"].queue == "nurture"
        record = store.decisions("1")[0].record
        provenance = record["data_quality"]["enrichment"]["provenance"]["industry"]
        assert provenance["provider"] == "vendor"
        # one call per domain: gamma's second lead came from the cache
        paths = sorted(r.path for r in provider.requests)
        assert paths == [
            "/companies?domain=delta.example",
            "/companies?domain=gamma.example",
            "/companies?domain=omega.example",
        ]
        day = store.decisions("1")[0].decided_at.date().isoformat()
        assert EnrichmentStore(store).calls("vendor", day) == 3
    finally:
        store.dispose()
