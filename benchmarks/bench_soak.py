"""A one-hour-equivalent soak of the API and a worker on PostgreSQL: memory, latency, errors.

    python benchmarks/bench_soak.py [--minutes 10] [--rate 60] [--db postgresql+psycopg://...]

The traffic assumed: a busy org receiving 36,000 leads an hour (10 a second, all day long is
more than most teams see in a week). The soak sends that hour compressed six times, 60 leads a
second for 10 minutes, to one `leadroute serve` process, while one `leadroute worker` process
fires the SLA timers and delivers the outbox. `--minutes 1` is a short run of the same.

Setup: the demo's org (40 reps, 615 accounts) and the `territory_segment` template (data
pipeline on), plus an SLA compressed like the traffic (accept within half the run, remind
halfway, one reassignment, then the triage queue) and a signed webhook for every lifecycle
event, delivered to a receiver on 127.0.0.1 in this process. Leads are sent open loop by a
load generator process, each with an Idempotency-Key.

Reported: the resident memory (VmRSS) of the server and of the worker at the start (after one
warm-up lead), every minute and at the end, with its slope; latency and errors per minute; and
afterwards, from the database, that every answered lead has exactly one first decision and one
current one, that no timer fired twice, that no message was delivered twice, and how many rows
each table gained per lead.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import create_engine, text

from bench_api import (
    PG,
    TEMPLATE,
    collect,
    drop_schema,
    free_port,
    fresh_schema,
    percentile,
    seed,
    start_load,
    start_server,
    start_worker,
    stop,
    summarise,
    wait_ready,
)

SECRET_ENV = "LEADROUTE_SOAK_HOOK_SECRET"
HOUR_OF_A_BUSY_ORG = 36_000  # leads
TABLES = (
    "leads",
    "decisions",
    "lead_events",
    "timers",
    "outbox",
    "idempotency",
    "activities",
    "rep_counters",
    "pool_state",
    "sticky",
)


def config_source(hook_url: str, accept_seconds: int) -> str:
    """The template with an SLA and a webhook for every lifecycle event."""
    return TEMPLATE.read_text() + (
        "\nsla:\n"
        f"  default: {{accept_within: {accept_seconds}s, remind_at: 0.5, "
        "max_reassignments: 1, then: triage}\n"
        "notifications:\n"
        "  channels:\n"
        f'    ops: {{webhook: {{url: "{hook_url}", secret_env: {SECRET_ENV}}}}}\n'
        "  send:\n"
        "    assigned: [ops]\n"
        "    reassigned: [ops]\n"
        "    reminder: [ops]\n"
        "    escalated: [ops]\n"
        "    queued: [ops]\n"
        "    recycled: [ops]\n"
    )


class Receiver:
    """A webhook receiver on 127.0.0.1 that counts deliveries by their delivery key."""

    def __init__(self) -> None:
        self.deliveries: Counter[str] = Counter()
        lock = threading.Lock()
        deliveries = self.deliveries

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    deliveries[self.headers.get("X-Leadroute-Delivery") or ""] += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def rss_mib(pid: int) -> float:
    """Resident memory of a process, from /proc (MiB)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (minute, MiB) points: MiB per minute."""
    if len(points) < 2:
        return float("nan")
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the load")
    parser.add_argument("--rate", type=float, default=60.0, help="leads per second")
    parser.add_argument(
        "--bucket-seconds", type=float, default=60.0, help="latency table: one row per this long"
    )
    parser.add_argument("--db", default=os.environ.get("LEADROUTE_BENCH_PG", PG))
    args = parser.parse_args()
    seconds = args.minutes * 60
    total = int(args.rate * seconds)
    print(
        f"{total:,} leads at {args.rate:g}/s for {args.minutes:g} min: "
        f"{total / HOUR_OF_A_BUSY_ORG:.2f} hour(s) of a busy org ({HOUR_OF_A_BUSY_ORG:,} "
        f"leads an hour, 10/s), compressed {args.rate / 10:g}x"
    )
    receiver = Receiver()
    os.environ.setdefault(SECRET_ENV, "soak-secret")  # the worker signs webhooks with it
    accept_seconds = max(10, round(seconds / 2))
    schema, url = fresh_schema(args.db)
    key = seed(url, config_source(receiver.url, accept_seconds))
    server = start_server(url, rate_per_minute=int(args.rate * 60 * 2))
    worker = start_worker(url)
    samples: list[tuple[float, float, float]] = []  # (minute, server MiB, worker MiB)
    try:
        wait_ready([server], key)
        began = time.monotonic()

        def sample() -> None:
            minute = (time.monotonic() - began) / 60
            samples.append((minute, rss_mib(server.pid), rss_mib(worker.pid)))

        sample()
        loader = start_load([server.base_url], key, seconds, rate=args.rate, prefix="soak")
        next_at = began + 60
        while loader[0].is_alive():
            loader[0].join(timeout=max(0.0, min(1.0, next_at - time.monotonic())))
            if time.monotonic() >= next_at:
                sample()
                next_at += 60
        sample()
        ended = datetime.now(UTC)
        data = collect([loader])
    finally:
        stop([server.process, worker])
        receiver.close()
    report(data, samples, url, receiver, ended, args)
    drop_schema(args.db, schema)


def report(
    data: dict[str, Any],
    samples: list[tuple[float, float, float]],
    url: str,
    receiver: Receiver,
    ended: datetime,
    args: argparse.Namespace,
) -> None:
    results = data["results"]
    summary = summarise(results)
    print(
        f"\nachieved {summary.requests / data['elapsed']:.1f} requests/s; "
        f"{summary.requests} requests, {len(summary.ok)} routed, {summary.rejected} rejected "
        f"(bad input, 422), {summary.errors} errors"
        + (f" by status (0: no answer) {dict(summary.failed)}" if summary.failed else "")
    )

    print("\nMemory (VmRSS, MiB):\n")
    print("| at minute | server | worker |")
    print("|---|---:|---:|")
    for n, (minute, server, worker) in enumerate(samples):
        label = "start" if n == 0 else "end" if n == len(samples) - 1 else f"{minute:.1f}"
        print(f"| {label} | {server:.1f} | {worker:.1f} |")
    for name, column in (("server", 1), ("worker", 2)):
        values = [s[column] for s in samples]
        points = [(s[0], s[column]) for s in samples[1:]]  # from the first minute of load on
        print(
            f"{name}: start {values[0]:.1f}, end {values[-1]:.1f}, max {max(values):.1f} MiB; "
            f"slope after the first minute {slope(points):+.2f} MiB/min"
        )

    bucket = args.bucket_seconds
    print(f"\nLatency per {bucket:g} s (by when the request was sent):\n")
    print("| from s | requests | errors | p50 ms | p99 ms | max ms |")
    print("|---:|---:|---:|---:|---:|---:|")
    buckets: dict[int, list[Any]] = defaultdict(list)
    for result in results:
        buckets[int(result[3] // bucket)].append(result)
    for n in sorted(buckets):
        part = buckets[n]
        latencies = sorted(r[0] * 1000 for r in part)
        errors = sum(1 for r in part if r[1] not in (200, 201, 422))
        print(
            f"| {n * bucket:g} | {len(part)} | {errors} | {percentile(latencies, 0.5):.1f} "
            f"| {percentile(latencies, 0.99):.1f} | {latencies[-1]:.1f} |"
        )

    engine = create_engine(url)
    with engine.connect() as conn:
        decisions = {
            lead: (int(first), int(current))
            for lead, first, current in conn.execute(
                text(
                    "select lead_id, sum(case when supersedes is null then 1 else 0 end), "
                    "sum(case when is_current then 1 else 0 end) from decisions group by lead_id"
                )
            )
        }
        fired_twice = conn.scalar(
            text(
                "select count(*) from (select detail->>'timer' from lead_events "
                "where detail->>'timer' is not null group by 1 having count(*) > 1) twice"
            )
        )
        timers = {
            status: int(n)
            for status, n in conn.execute(text("select status, count(*) from timers group by 1"))
        }
        outbox = {
            status: int(n)
            for status, n in conn.execute(text("select status, count(*) from outbox group by 1"))
        }
        behind = {
            table: conn.scalar(text(query), {"end": ended})
            for table, query in (
                (
                    "timers",
                    "select count(*) from timers where due_at <= :end "
                    "and status in ('pending', 'firing', 'escalated')",
                ),
                (
                    "outbox",
                    "select count(*) from outbox where next_attempt_at <= :end "
                    "and status <> 'sent'",
                ),
            )
        }
        leads = conn.scalar(text("select count(*) from leads")) or 1
        sizes = [
            (
                table,
                conn.scalar(text(f"select count(*) from {table}")),
                conn.scalar(text(f"select pg_total_relation_size('{table}')")),
            )
            for table in TABLES
        ]
    engine.dispose()
    once = sum(1 for lead in summary.ok if decisions.get(lead or "") == (1, 1))
    print(
        f"\nExactly once: {once} of {len(summary.ok)} answered leads have one first decision "
        f"and one current one; timers fired twice: {fired_twice}; timers by status: {timers}; "
        f"outbox by status: {outbox}; webhook deliveries {sum(receiver.deliveries.values())} "
        f"of {len(receiver.deliveries)} messages, "
        f"delivered twice: {sum(1 for n in receiver.deliveries.values() if n > 1)}"
    )
    print(
        f"Worker backlog when the load ended: {behind['timers']} timers due and not fired, "
        f"{behind['outbox']} messages due and not sent"
    )
    print(f"\nRows and bytes (tables with their indexes) per lead, {leads:,} leads:\n")
    print("| table | rows | rows per lead | MiB | bytes per lead |")
    print("|---|---:|---:|---:|---:|")
    for table, rows, size in sizes:
        print(
            f"| {table} | {rows:,} | {rows / leads:.2f} | {size / 2**20:.1f} "
            f"| {size / leads:,.0f} |"
        )


if __name__ == "__main__":
    main()
