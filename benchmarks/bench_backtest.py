"""Backtest throughput: replay 100k stored leads through a draft config (target: <= 30 s),
and the console's flow graph counts over the same stored decisions.

    python benchmarks/bench_backtest.py [--leads 100000] [--repeat 1] [--json]

The org, the 30-node flow and the leads of bench_routing.py: the leads are stored in a fresh
SQLite database and routed there by `RoutingService.route_pending` (so each has a current
decision; this set-up is not timed). Then a draft that sends two routes to other pools (North
American mid-market to the AEs, EMEA SDR leads to the SMB team) is backtested over the whole
period with `services.backtest.backtest`: every lead read from the store with its current
decision, replayed at its own `received_at` through the draft with in-memory state, compared.
Then `services.flow.flow_counts` reads every decision record of the period for the per-node
counts the routing page draws.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench_routing import NOW, build, make_leads, stored_service
from leadroute.adapters.store.sql import Store
from leadroute.domain.backtest import BacktestReport
from leadroute.domain.config import RoutingConfig, compile_config
from leadroute.domain.org import Org
from leadroute.services.backtest import backtest
from leadroute.services.flow import flow_counts

CHANGES = {"na_mid": "na_ae", "emea_sdr": "emea_smb"}  # route -> the pool it now uses


def org_and_config() -> tuple[Org, RoutingConfig]:
    """bench_routing's org and 30-node flow."""
    return build()


def draft_of(config: RoutingConfig, org: Org) -> RoutingConfig:
    document: dict[str, Any] = copy.deepcopy(dict(config.document))
    document["name"] = "bench-30-draft"
    for node in document["flow"]:
        if node["id"] in CHANGES:
            node["then"] = {"distribute": CHANGES[node["id"]]}
    draft, issues = compile_config(document, org)
    assert draft is not None, issues
    return draft


def stored(path: Path, org: Org, config: RoutingConfig, n: int) -> tuple[Store, float]:
    """A store with `n` leads routed by `config`; returns it and the seconds routing took."""
    store, service = stored_service(path, org, config, make_leads(n))
    started = time.perf_counter()
    summary = service.route_pending()
    assert summary.total == n and summary.adds_up
    return store, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1, help="backtest runs; the best counts")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    org, config = org_and_config()
    draft = draft_of(config, org)
    since = NOW - timedelta(days=7)
    with tempfile.TemporaryDirectory() as tmp:
        store, routing_s = stored(Path(tmp) / "bench.db", org, config, args.leads)
        runs: list[tuple[float, BacktestReport]] = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            report = backtest(store, draft, since=since)
            runs.append((time.perf_counter() - started, report))
        started = time.perf_counter()
        flow = flow_counts(store, since=since)
        flow_s = time.perf_counter() - started
        store.dispose()
    assert flow.decisions == args.leads, flow.decisions
    seconds, report = min(runs, key=lambda run: run[0])
    assert report.leads == args.leads, report.leads
    results: dict[str, object] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "leads": args.leads,
        "setup_routing_seconds": round(routing_s, 2),
        "backtest_seconds": round(seconds, 3),
        "backtest_leads_per_s": round(args.leads / seconds),
        "backtest_us_per_lead": round(seconds / args.leads * 1e6, 1),
        "changed": report.changed,
        "flow_counts_seconds": round(flow_s, 3),
        "runs": [round(s, 3) for s, _ in runs],
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"# Backtest benchmark ({results['date']}, {results['machine']})\n")
    print(
        f"{args.leads:,} stored leads routed by a {len(config.nodes)}-node flow "
        f"({routing_s:.1f} s to set up), replayed through a draft moving "
        f"{', '.join(CHANGES)}: {report.changed:,} leads change hands\n"
    )
    print("| step | seconds | leads/s | µs/lead |")
    print("|---|---:|---:|---:|")
    print(
        f"| backtest (read, replay, compare) | {seconds:.2f} | {args.leads / seconds:,.0f} | "
        f"{seconds / args.leads * 1e6:.1f} |"
    )
    print(
        f"| flow graph counts (read every decision record) | {flow_s:.2f} | "
        f"{args.leads / flow_s:,.0f} | {flow_s / args.leads * 1e6:.1f} |"
    )
    if args.repeat > 1:
        print(f"\nruns: {', '.join(f'{s:.2f}' for s, _ in runs)} s")


if __name__ == "__main__":
    main()
