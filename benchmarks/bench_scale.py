"""Scale-out: `leadroute serve` with 1, 2 and 4 processes on one PostgreSQL.

    python benchmarks/bench_scale.py [--processes 1,2,4] [--seconds 30] [--concurrency 64]
                                     [--loaders 2] [--db postgresql+psycopg://...]

For each process count: a fresh schema with the demo's org (40 reps, 615 accounts) and the
`territory_segment` template (the data pipeline on), that many `leadroute serve` processes on
their own ports, and load generator processes that send POST /v1/leads to the servers in turn,
closed loop: `--concurrency` clients in all, each sending its next lead as soon as the last one
is answered, for `--seconds`. Every request carries its own Idempotency-Key. Afterwards every
lead answered 200/201 must have exactly one decision.

Before the runs it times the routing transaction itself (`RoutingService.route_now` on
PostgreSQL: the time the pool rows stay locked) for batches of 1, 10 and 50 leads: every
routing transaction of one config holds the locks of all its pools, so these times bound what
any number of processes can route for one org.

The whole run takes about 40 s per process count plus the transaction timing (under 4 minutes
with the defaults). The load generators and PostgreSQL share the machine with the servers.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import uuid
from datetime import UTC, datetime

from bench_api import (
    PG,
    collect,
    drop_schema,
    exactly_once,
    fresh_schema,
    seed,
    start_load,
    start_server,
    stop,
    summarise,
    wait_ready,
)
from leadroute.adapters.leadfile import build_lead
from leadroute.adapters.store.sql import Store
from leadroute.domain.lead import Lead
from leadroute.sample import generate_leads, sample_org_doc
from leadroute.services.intake import map_fields
from leadroute.services.routing import RoutingService


def transaction_times(base: str, sizes: tuple[int, ...] = (1, 10, 50), repeat: int = 15) -> None:
    """Median time of one routing transaction (locks held) per batch size, on a fresh schema."""
    schema, url = fresh_schema(base)
    try:
        seed(url)
        store = Store(url)
        service = RoutingService(store)
        vocabulary = service.router.config.vocabulary
        now = datetime.now(UTC)
        leads = []
        for i, row in enumerate(generate_leads(sample_org_doc(), sum(sizes) * (repeat + 2), 11)):
            body = {k: v for k, v in row.items() if k not in ("id", "received_at")}
            try:
                lead = build_lead(
                    map_fields(body, vocabulary), default_id=f"tx-{i}", vocabulary=vocabulary
                )
            except ValueError:
                continue  # a malformed sample lead: the API answers it 422 before routing
            leads.append(Lead(lead.id, lead.fields, lead.source, "api", now))
        position = 0
        print("| leads per transaction | median ms | p90 ms | at most leads/s for one org |")
        print("|---:|---:|---:|---:|")
        for size in sizes:
            times = []
            for attempt in range(repeat + 1):
                batch = leads[position : position + size]
                position += size
                started = time.perf_counter()
                service.route_now(batch, batch_id=f"tx-{uuid.uuid4().hex[:8]}")
                if attempt:  # the first one warms the router, indexes and caches
                    times.append((time.perf_counter() - started) * 1000)
            times.sort()
            median = statistics.median(times)
            p90 = times[int(0.9 * (len(times) - 1))]
            print(f"| {size} | {median:.1f} | {p90:.1f} | {size / median * 1000:,.0f} |")
        store.dispose()
    finally:
        drop_schema(base, schema)


def run(base: str, processes: int, args: argparse.Namespace) -> str:
    """One process count: a table row."""
    schema, url = fresh_schema(base)
    try:
        key = seed(url)
        servers = [start_server(url, rate_per_minute=100_000_000) for _ in range(processes)]
        try:
            wait_ready(servers, key)
            per_loader = max(1, args.concurrency // args.loaders)
            rows = int(args.seconds * args.rows_per_second / args.loaders) + 1000
            loaders = [
                start_load(
                    [s.base_url for s in servers],
                    key,
                    args.seconds,
                    concurrency=per_loader,
                    prefix=f"scale{n}",
                    rows=rows,
                    seed=7 + n,
                )
                for n in range(args.loaders)
            ]
            data = collect(loaders)
        finally:
            stop([s.process for s in servers])
        summary = summarise(data["results"])
        once, answered = exactly_once(url, summary.ok)
        if summary.failed:
            print(
                f"{processes} process(es), errors by status (0: no answer):", dict(summary.failed)
            )
        rate = len(summary.ok) / data["elapsed"]  # leads routed (answered 200/201) a second
        return (
            f"| {processes} | {summary.requests} | {rate:,.0f} | {summary.p50:.1f} "
            f"| {summary.pct(0.99):.1f} | {summary.errors} | {summary.rejected} "
            f"| {once} of {answered} |"
        )
    finally:
        drop_schema(base, schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--processes", default="1,2,4", help="server process counts to run")
    parser.add_argument("--seconds", type=float, default=30.0, help="load per process count")
    parser.add_argument("--concurrency", type=int, default=64, help="clients in all")
    parser.add_argument("--loaders", type=int, default=2, help="load generator processes")
    parser.add_argument(
        "--rows-per-second",
        type=int,
        default=1500,
        help="distinct sample leads generated per second of load (reused beyond that)",
    )
    parser.add_argument("--skip-transaction", action="store_true")
    parser.add_argument("--db", default=os.environ.get("LEADROUTE_BENCH_PG", PG))
    args = parser.parse_args()
    counts = [int(n) for n in args.processes.split(",")]
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; closed loop, {args.concurrency} clients "
        f"in {args.loaders} load generator processes, {args.seconds:.0f} s per run"
    )
    if not args.skip_transaction:
        print("\nRouting transaction on PostgreSQL (pool rows locked for this long):\n")
        transaction_times(args.db)
    print("\nleadroute serve processes on one PostgreSQL:\n")
    print(
        "| processes | requests | leads/s | p50 ms | p99 ms | errors | rejected (bad input) "
        "| exactly one decision |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for processes in counts:
        print(run(args.db, processes, args), flush=True)


if __name__ == "__main__":
    main()
