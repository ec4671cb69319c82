"""Routing throughput: 100k leads through a 30-node flow with 200 reps.

    python benchmarks/bench_routing.py [--leads 100000] [--skip-sqlite] [--json]

Measures (1) the engine alone (Router + in-memory state, one core) and (2) full batch routing
with every decision record persisted to SQLite through RoutingService.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from leadroute.adapters.memory import MemoryRoutingState
from leadroute.adapters.store.sql import Store
from leadroute.domain.config import RoutingConfig, compile_config
from leadroute.domain.engine import Router, sticky_key
from leadroute.domain.lead import Lead
from leadroute.domain.matching import match_account
from leadroute.domain.org import (
    Account,
    Caps,
    Org,
    Rep,
    Segment,
    Territory,
    WorkingHours,
    build_org,
)
from leadroute.services.routing import RoutingService

REGIONS = {
    "na": ["US", "CA"],
    "emea": ["GB", "DE", "FR", "NL", "SE", "ES", "IT"],
    "apac": ["AU", "SG", "JP", "IN"],
    "latam": ["BR", "MX", "AR"],
}
ZONES = {
    "na": "America/New_York",
    "emea": "Europe/Berlin",
    "apac": "Asia/Singapore",
    "latam": "America/Sao_Paulo",
}
INDUSTRIES = [
    "Software",
    "Financial Services",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Education",
    "Media",
    "Logistics",
]
SOURCES = ["Web", "Webinar", "Trade Show", "Content Download", "Partner Referral", "Free Trial"]
PRODUCTS = ["Analytics", "Payments", "Platform"]
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def build(seed: int = 11, *, cleaning: bool = False) -> tuple[Org, RoutingConfig]:
    rng = random.Random(seed)
    reps = []
    teams: dict[str, list[str]] = {}
    for i in range(200):
        region = list(REGIONS)[i % 4]
        team = f"{region}_{['sdr', 'ae', 'ent', 'smb', 'mid'][i // 4 % 5]}"
        rep_id = f"rep{i:03d}"
        teams.setdefault(team, []).append(rep_id)
        reps.append(
            Rep(
                id=rep_id,
                name=f"Rep {i}",
                teams=(team,),
                timezone="UTC",
                working_hours=WorkingHours.weekdays(datetime.min.time(), datetime.max.time()),
                weight=rng.choice([0.5, 1.0, 1.0, 1.5]),
                caps=Caps(day=10_000) if i % 7 == 0 else Caps(),
            )
        )
    territories = [Territory(r, r, frozenset(c)) for r, c in REGIONS.items()]
    segments = [
        Segment("A", "A", high=20),
        Segment("B", "B", low=20, high=100),
        Segment("C", "C", low=100, high=500),
        Segment("D", "D", low=500),
    ]
    accounts = [
        Account(
            f"acc{i}",
            f"Account {i}",
            f"account{i}.com",
            owner_id=f"rep{rng.randrange(200):03d}",
            named=i % 3 == 0,
        )
        for i in range(2_000)
    ]
    org = build_org(reps=reps, territories=territories, segments=segments, accounts=accounts)
    pools = {
        team: {
            "members": [f"team:{team}"],
            "method": "weighted" if "ae" in team else "round_robin",
            "fairness_window": "day",
        }
        for team in teams
    }
    flow: list[dict[str, object]] = [
        {"id": "named", "when": {"account.named": True}, "then": {"assign_owner": {}}},
    ]
    for region in REGIONS:
        flow += [
            {
                "id": f"{region}_ent",
                "when": {"territory": region, "segment": "D"},
                "then": {"distribute": f"{region}_ent"},
            },
            {
                "id": f"{region}_mid_demo",
                "when": {"territory": region, "segment": "C", "request_type": "demo"},
                "then": {"distribute": f"{region}_ae"},
            },
            {
                "id": f"{region}_mid",
                "when": {
                    "territory": region,
                    "segment": ["B", "C"],
                    "industry": {"in": INDUSTRIES[:4]},
                },
                "then": {"distribute": f"{region}_mid"},
            },
            {
                "id": f"{region}_partner",
                "when": {"all": [{"territory": region}, {"lead_source": "Partner Referral"}]},
                "then": {"distribute": f"{region}_ae"},
            },
            {
                "id": f"{region}_smb",
                "when": {
                    "territory": region,
                    "segment": "A",
                    "title": {"matches": "founder|ceo|owner"},
                },
                "then": {"distribute": f"{region}_smb"},
            },
            {
                "id": f"{region}_sdr",
                "when": {"territory": region, "employees": {"gte": 10}},
                "then": {"distribute": f"{region}_sdr"},
            },
        ]
    flow += [
        {
            "id": "students",
            "when": {"email": {"ends_with": ".edu"}},
            "then": {"queue": "disqualified"},
        },
        {
            "id": "no_size",
            "when": {"employees": {"missing": True}},
            "then": {"hold": "awaiting enrichment"},
        },
        {"id": "tiny", "when": {"employees": {"lt": 10}}, "then": {"queue": "self_serve"}},
        {
            "id": "product",
            "when": {"product_interest": {"in": PRODUCTS}},
            "then": {"distribute": "na_sdr"},
        },
        {"id": "fallback", "fallback": True, "then": {"queue": "nurture"}},
    ]
    document = {
        "name": "bench-30",
        "pools": pools,
        "flow": flow,
        "cleaning": {"normalize": cleaning, "dedupe": cleaning, "match_names": cleaning},
    }
    config, issues = compile_config(document, org)
    assert config is not None, issues
    assert len(config.nodes) == 30, len(config.nodes)
    return org, config


def make_leads(n: int, seed: int = 5) -> list[Lead]:
    rng = random.Random(seed)
    leads = []
    for i in range(n):
        region = rng.choices(list(REGIONS), weights=[55, 30, 12, 3])[0]
        fields: dict[str, object] = {
            "email": (
                f"p{i}@account{rng.randrange(4000)}.com"
                if rng.random() < 0.4
                else f"p{i}@company{i}.com"
            ),
            "company": f"Company {i}",
            "country": rng.choice(REGIONS[region]),
            "industry": rng.choice(INDUSTRIES),
            "lead_source": rng.choice(SOURCES),
            "request_type": rng.choice(["demo", "contact", "content"]),
            "product_interest": rng.choice(PRODUCTS),
            "title": rng.choice(["CEO", "VP Sales", "Engineer", "Founder", "Analyst"]),
        }
        if rng.random() > 0.03:
            fields["employees"] = int(rng.lognormvariate(4, 1.6))
        leads.append(
            Lead(
                f"L{i:06d}", fields, channel="web_form", received_at=NOW - timedelta(seconds=n - i)
            )
        )
    return leads


def engine_only(org: Org, config: RoutingConfig, leads: list[Lead]) -> float:
    router = Router(config, org)
    state = MemoryRoutingState(org)
    started = time.perf_counter()
    for lead in leads:
        account = match_account(lead.fields, org)
        data = router.context(lead, account)
        decision = router.route(lead, now=NOW, state=state, account=account, data=data)
        state.apply(decision, sticky_key(data))
    return time.perf_counter() - started


def stored_service(
    path: Path, org: Org, config: RoutingConfig, leads: list[Lead]
) -> tuple[Store, RoutingService]:
    """A SQLite store at `path` with the org, the active config and the leads waiting, and a
    routing service on it (chunks of 2,000, the clock at NOW)."""
    store = Store(f"sqlite:///{path}")
    store.migrate()
    store.save_org(org)
    seq = store.save_config(
        content_hash=config.content_hash,
        name=config.name,
        document=config.document,
        source=json.dumps(config.document),
        activate=True,
    )
    store.add_leads(leads)
    service = RoutingService(store, clock=lambda: NOW, chunk_size=2000)
    service.use(config, seq, org)
    return store, service


def persisted_sqlite(org: Org, config: RoutingConfig, leads: list[Lead]) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        store, service = stored_service(Path(tmp) / "bench.db", org, config, leads)
        started = time.perf_counter()
        summary = service.route_pending()
        seconds = time.perf_counter() - started
        assert summary.total == len(leads) and summary.adds_up
        decisions = sum(1 for _ in store.decisions_since())
        store.dispose()
        return seconds, decisions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--with-cleaning",
        action="store_true",
        help="also run the persisted batch with normalisation and dedupe on",
    )
    args = parser.parse_args()
    org, config = build()
    leads = make_leads(args.leads)
    engine_s = min(engine_only(org, config, leads) for _ in range(2))
    results: dict[str, object] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "leads": args.leads,
        "nodes": len(config.nodes),
        "reps": len(org.reps),
        "engine_seconds": round(engine_s, 3),
        "engine_leads_per_s": round(args.leads / engine_s),
        "engine_us_per_lead": round(engine_s / args.leads * 1e6, 2),
    }
    if not args.skip_sqlite:
        sqlite_s, decisions = persisted_sqlite(org, config, leads)
        results.update(
            sqlite_seconds=round(sqlite_s, 3),
            sqlite_leads_per_s=round(args.leads / sqlite_s),
            sqlite_decisions=decisions,
        )
    if args.with_cleaning:
        _, cleaning_config = build(cleaning=True)
        clean_s, _ = persisted_sqlite(org, cleaning_config, leads)
        results.update(
            cleaning_seconds=round(clean_s, 3), cleaning_leads_per_s=round(args.leads / clean_s)
        )
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"# Routing benchmark ({results['date']}, {results['machine']})\n")
    print(f"{args.leads:,} leads, {len(config.nodes)}-node flow, {len(org.reps)} reps\n")
    print("| mode | seconds | leads/s | µs/lead |")
    print("|---|---:|---:|---:|")
    print(
        f"| engine only (in-memory state) | {engine_s:.2f} | {args.leads / engine_s:,.0f} | "
        f"{engine_s / args.leads * 1e6:.1f} |"
    )
    if args.with_cleaning:
        print(
            f"| persisted, SQLite, with normalisation + dedupe | {clean_s:.2f} | "
            f"{args.leads / clean_s:,.0f} | {clean_s / args.leads * 1e6:.1f} |"
        )
    if not args.skip_sqlite:
        print(
            f"| persisted decisions, SQLite | {sqlite_s:.2f} | {args.leads / sqlite_s:,.0f} | "
            f"{sqlite_s / args.leads * 1e6:.1f} |"
        )


if __name__ == "__main__":
    main()
