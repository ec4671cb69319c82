"""What rule-based fit scoring adds to routing, per lead.

    python benchmarks/bench_scoring.py [--leads 20000]

Routes the same leads through the 30-node benchmark flow twice, without and with a 10-rule fit
score (segments, seniority, department, industry, country, free mail, account status), and
reports the difference per lead (target: <= 20 µs).
"""

from __future__ import annotations

import argparse
import time

from bench_routing import NOW, build, make_leads
from leadroute.adapters.memory import MemoryRoutingState
from leadroute.domain.config import compile_config
from leadroute.domain.engine import Router
from leadroute.domain.lead import Lead

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


def run(router: Router, leads: list[Lead], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        state = MemoryRoutingState(router.org)
        started = time.perf_counter()
        for lead in leads:
            decision = router.route(lead, now=NOW, state=state)
            state.apply(decision)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=20_000)
    args = parser.parse_args()
    org, config = build()
    scored, issues = compile_config({**config.document, "scoring": {"fit": FIT}}, org)
    assert scored is not None, issues
    leads = make_leads(args.leads)
    plain_s = run(Router(config, org), leads)
    scored_s = run(Router(scored, org), leads)
    added = (scored_s - plain_s) / args.leads * 1e6
    print("| routing | µs/lead |\n|---|---:|")
    print(f"| without scoring | {plain_s / args.leads * 1e6:.1f} |")
    print(f"| with a 10-rule fit score | {scored_s / args.leads * 1e6:.1f} |")
    print(f"| scoring adds | **{added:.1f}** (target <= 20) |")


if __name__ == "__main__":
    main()
