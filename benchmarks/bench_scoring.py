"""What rule-based scoring adds to routing, per lead.

    python benchmarks/bench_scoring.py [--leads 20000] [--skip-sqlite]

1. Engine only: routes the same leads through the 30-node benchmark flow without scoring, with
   a 10-rule fit score, and with fit + intent + the fit x intent matrix (each lead's intent
   scored from its 0-12 activities of mixed types and ages), and reports what each adds per
   lead (target: <= 20 µs). Account intent is scored once per account and chunk, not per lead.
2. Persisted on SQLite (RoutingService.route_pending, chunks of 2,000, cleaning off): the same
   leads with 2 activities each on average stored, routed without and with fit + intent +
   matrix: what scoring adds to batch routing, the chunk's activity reads included.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench_routing import NOW, build, make_leads, stored_service
from leadroute.adapters.memory import MemoryRoutingState
from leadroute.adapters.store.activity_store import ActivityStore
from leadroute.domain.config import RoutingConfig, compile_config
from leadroute.domain.engine import Router
from leadroute.domain.intent import DEFAULT_POINTS, Activity
from leadroute.domain.lead import Lead
from leadroute.domain.org import Org
from leadroute.domain.scoring import Signals

FIT = {
    "rules": [
        {"when": {"segment": ["C", "D"]}, "points": 30, "reason": "mid-market or larger"},
        {"when": {"segment": "B"}, "points": 15, "reason": "growing company"},
        {
            "when": {"title": {"matches": "ceo|vp|founder|chief"}},
            "points": 20,
            "reason": "senior buyer",
        },
        {
            "when": {"industry": ["Software", "Financial Services"]},
            "points": 15,
            "reason": "core industry",
        },
        {"when": {"country": ["US", "CA", "GB", "DE"]}, "points": 10, "reason": "core market"},
        {"when": {"free_email": True}, "points": -15, "reason": "free-mail address"},
        {"when": {"account.named": True}, "points": 25, "reason": "named account"},
        {"when": {"lead_source": "Partner Referral"}, "points": 10, "reason": "partner lead"},
        {"when": {"request_type": "demo"}, "points": 10, "reason": "asked for a demo"},
        {"when": {"employees": {"missing": True}}, "points": -5, "reason": "size unknown"},
    ],
}


INTENT = {"half_life_days": 14, "tiers": {"high": 30}}
MATRIX = {
    "A": {"high": "fast_track", "low": "spread"},
    "B": {"high": "fast_track", "low": "spread"},
    "C": {"high": "qualify", "low": "nurture"},
    "D": {"high": "qualify", "low": "nurture"},
}
TYPES = sorted(str(t) for t in DEFAULT_POINTS)


def activities_for(leads: list[Lead], seed: int = 3) -> dict[str, list[Activity]]:
    """0-12 activities per lead (2 on average), of any type, up to 60 days old."""
    rng = random.Random(seed)
    found: dict[str, list[Activity]] = {}
    for lead in leads:
        n = min(int(rng.expovariate(0.5)), 12)
        found[lead.id] = [
            Activity(
                rng.choice(TYPES),
                NOW - timedelta(days=rng.uniform(0, 60)),
                email=str(lead.fields.get("email") or "").lower() or None,
                lead_id=lead.id,
            )
            for _ in range(n)
        ]
    return found


def run(
    router: Router,
    leads: list[Lead],
    repeat: int = 3,
    activity: dict[str, list[Activity]] | None = None,
) -> float:
    best = float("inf")
    intent = router.config.intent
    for _ in range(repeat):
        state = MemoryRoutingState(router.org)
        started = time.perf_counter()
        for lead in leads:
            data = None
            if intent is not None and activity is not None:
                score = intent.score(activity[lead.id], NOW)
                data = router.context(lead, None, Signals(score))
            decision = router.route(lead, now=NOW, state=state, data=data)
            state.apply(decision)
        best = min(best, time.perf_counter() - started)
    return best


def persisted(
    org: Org, config: RoutingConfig, leads: list[Lead], activity: dict[str, list[Activity]]
) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        store, service = stored_service(Path(tmp) / "bench.db", org, config, leads)
        every = [a for acts in activity.values() for a in acts]
        ActivityStore(store).add(every, received_at=NOW)
        started = time.perf_counter()
        summary = service.route_pending()
        seconds = time.perf_counter() - started
        assert summary.total == len(leads) and summary.adds_up
        store.dispose()
        return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    org, config = build()
    scored, issues = compile_config({**config.document, "scoring": {"fit": FIT}}, org)
    assert scored is not None, issues
    full_scoring = {"fit": FIT, "intent": INTENT, "matrix": MATRIX}
    full, issues = compile_config({**config.document, "scoring": full_scoring}, org)
    assert full is not None, issues
    leads = make_leads(args.leads)
    activity = activities_for(leads)
    n = args.leads
    plain_s = run(Router(config, org), leads)
    scored_s = run(Router(scored, org), leads)
    full_s = run(Router(full, org), leads, activity=activity)
    print(f"engine only, {n:,} leads, {sum(map(len, activity.values())):,} activities, best of 3")
    print("| routing | µs/lead | scoring adds |\n|---|---:|---:|")
    print(f"| without scoring | {plain_s / n * 1e6:.1f} | |")
    added = (scored_s - plain_s) / n * 1e6
    print(f"| 10-rule fit score | {scored_s / n * 1e6:.1f} | **{added:.1f}** |")
    added = (full_s - plain_s) / n * 1e6
    print(f"| fit + intent + matrix | {full_s / n * 1e6:.1f} | **{added:.1f}** |")
    if args.skip_sqlite:
        return
    plain_db = persisted(org, config, leads, activity)
    full_db = persisted(org, full, leads, activity)
    print(f"\npersisted on SQLite, chunks of 2,000, {n:,} leads")
    print("| routing | leads/s | µs/lead | scoring adds |\n|---|---:|---:|---:|")
    print(f"| without scoring | {n / plain_db:,.0f} | {plain_db / n * 1e6:.1f} | |")
    added = (full_db - plain_db) / n * 1e6
    print(
        f"| fit + intent + matrix | {n / full_db:,.0f} | {full_db / n * 1e6:.1f} "
        f"| **{added:.1f}** |"
    )


if __name__ == "__main__":
    main()
