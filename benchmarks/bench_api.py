"""The routing API under load: leads/s sustained, latency, errors, exactly one decision each.

    python benchmarks/bench_api.py [--rate 200] [--seconds 60] [--db postgresql+psycopg://...]

Starts `leadroute serve` in its own process on PostgreSQL (a fresh schema in the `test`
database at 127.0.0.1 by default), with the sample org of the demo (40 reps, 615 accounts) and
the `territory_segment` template, then drives POST /v1/leads at a constant arrival rate from
another process (an open-loop load generator: a request is sent on schedule whether or not
earlier ones have finished, so a slow server cannot hide behind a slowed client). Each request
carries an Idempotency-Key. Afterwards it checks in the database that every lead answered 201
has exactly one current decision.

The pieces (a fresh schema, the seeded org, servers and workers as processes, the load
generator, latency and exactly-once summaries) are shared with bench_scale.py and
bench_soak.py.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from leadroute.adapters.orgfile import org_from_doc
from leadroute.adapters.store.key_store import KeyStore
from leadroute.adapters.store.sql import Store
from leadroute.sample import generate_leads, sample_org_doc
from leadroute.services.configs import load_config_text

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TEMPLATE = Path(__file__).resolve().parents[1] / "src/leadroute/templates/territory_segment.yaml"

# One request's outcome: (latency s, HTTP status or 0 for no answer, lead id, sent at s after
# the start of the run).
Result = tuple[float, int, str | None, float]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fresh_schema(base: str) -> tuple[str, str]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    sep = "&" if "?" in base else "?"
    return schema, f"{base}{sep}options=-csearch_path%3D{schema}"


def drop_schema(base: str, schema: str) -> None:
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


def seed(url: str, config_source: str | None = None) -> str:
    """The org, the config (the template unless given), and an API key of scope ingest
    (returned)."""
    store = Store(url)
    store.migrate()
    org = org_from_doc(sample_org_doc())
    store.save_org(org)
    source = config_source if config_source is not None else TEMPLATE.read_text()
    loaded = load_config_text(source, org, file=TEMPLATE.name, with_lint=False)
    assert loaded.config is not None, loaded.problems
    store.save_config(
        content_hash=loaded.config.content_hash,
        name=loaded.config.name,
        document=loaded.document,
        source=loaded.source,
        activate=True,
    )
    key, _ = KeyStore(store).create("bench", ["ingest"])
    store.dispose()
    return key


# -- processes ------------------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[str]
    base_url: str

    @property
    def pid(self) -> int:
        return self.process.pid


def start_server(url: str, *, rate_per_minute: int) -> Server:
    """`leadroute serve` in its own process (and process group) on a free port."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            *("-m", "leadroute", "serve", "--port", str(port)),
            *("--rate-per-minute", str(rate_per_minute)),
        ],
        env={**os.environ, "LEADROUTE_DB": url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    return Server(process, f"http://127.0.0.1:{port}")


def start_worker(url: str, *args: str) -> subprocess.Popen[str]:
    """`leadroute worker` in its own process (and process group)."""
    return subprocess.Popen(
        [sys.executable, "-m", "leadroute", "worker", *args],
        env={**os.environ, "LEADROUTE_DB": url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def wait_ready(servers: Sequence[Server], key: str, timeout: float = 60.0) -> None:
    """Each server answers /v1/health, then routes one lead (its router and indexes built)."""
    deadline = time.monotonic() + timeout
    for server in servers:
        while True:
            if server.process.poll() is not None:
                _out, err = server.process.communicate()
                raise RuntimeError(f"leadroute serve exited: {err}")
            try:
                if httpx.get(server.base_url + "/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{server.base_url} did not start in {timeout:.0f} s")
            time.sleep(0.1)
        httpx.post(
            server.base_url + "/v1/leads",
            json={"email": "warm@up.com"},
            headers={"X-API-Key": key},
            timeout=30,
        )


def stop(processes: Sequence[subprocess.Popen[str]], timeout: float = 30.0) -> None:
    """SIGTERM, then SIGKILL to the process group of whatever is still running."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)


# -- the load generator ---------------------------------------------------------------------------


def lead_rows(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """`n` leads of the demo's generator as API bodies (malformed ones included)."""
    return [
        {k: v for k, v in row.items() if k not in ("id", "received_at") and v not in (None, "")}
        for row in generate_leads(sample_org_doc(), n, seed=seed)
    ]


def load(
    base_urls: Sequence[str],
    key: str,
    seconds: float,
    out: Any,
    *,
    rate: float | None = None,
    concurrency: int = 200,
    prefix: str = "bench",
    rows: int | None = None,
    seed: int = 7,
) -> None:
    """POST /v1/leads to `base_urls` in turn for `seconds`, each request with its own
    Idempotency-Key `<prefix>-<i>`; write the results to `out` as JSON.

    Open loop when `rate` is given: the i-th request leaves at start + i / rate, answered or
    not. Closed loop otherwise: `concurrency` clients each send their next request as soon as
    the last one is answered (the server's capacity at that concurrency)."""
    total = int(rate * seconds) if rate is not None else None
    bodies = lead_rows(rows or (total or 0) + 10, seed=seed)
    results: list[Result] = []
    lock = threading.Lock()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    clients = [
        httpx.Client(base_url=url, timeout=30, limits=limits, headers={"X-API-Key": key})
        for url in base_urls
    ]
    start = time.perf_counter() + 0.5

    def send(i: int) -> None:
        started = time.perf_counter()
        try:
            answer = clients[i % len(clients)].post(
                "/v1/leads",
                json=bodies[i % len(bodies)],
                headers={"Idempotency-Key": f"{prefix}-{i}"},
            )
            status, lead = answer.status_code, answer.json().get("lead_id")
        except (httpx.HTTPError, ValueError):
            status, lead = 0, None
        with lock:
            results.append((time.perf_counter() - started, status, lead, started - start))

    if total is not None and rate is not None:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            for i in range(total):
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(send, i)
    else:
        counter = itertools.count()
        end = start + seconds

        def client_loop() -> None:
            time.sleep(max(0.0, start - time.perf_counter()))
            while time.perf_counter() < end:
                send(next(counter))

        threads = [threading.Thread(target=client_loop) for _ in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    elapsed = time.perf_counter() - start
    for client in clients:
        client.close()
    json.dump({"results": results, "elapsed": elapsed, "total": len(results)}, out)


def _load_to_file(
    path: str, base_urls: list[str], key: str, seconds: float, options: dict[str, Any]
) -> None:
    with open(path, "w") as out:
        load(base_urls, key, seconds, out, **options)


def start_load(
    base_urls: Sequence[str], key: str, seconds: float, **options: Any
) -> tuple[multiprocessing.process.BaseProcess, Path]:
    """The load generator in a process of its own; `collect` gathers its results."""
    fd, name = tempfile.mkstemp(prefix="leadroute_load_", suffix=".json")
    os.close(fd)
    process = multiprocessing.get_context("spawn").Process(
        target=_load_to_file, args=(name, list(base_urls), key, seconds, options)
    )
    process.start()
    return process, Path(name)


def collect(started: Sequence[tuple[multiprocessing.process.BaseProcess, Path]]) -> dict[str, Any]:
    """Wait for load generators and merge what they measured."""
    results: list[Result] = []
    elapsed = 0.0
    for process, path in started:
        process.join()
        data = json.loads(path.read_text())
        path.unlink()
        results.extend((r[0], r[1], r[2], r[3]) for r in data["results"])
        elapsed = max(elapsed, data["elapsed"])
    return {"results": results, "elapsed": elapsed, "total": len(results)}


def run_load(base_urls: Sequence[str], key: str, seconds: float, **options: Any) -> dict[str, Any]:
    return collect([start_load(base_urls, key, seconds, **options)])


# -- summaries ------------------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


@dataclass
class Summary:
    requests: int
    ok: list[str | None]  # lead ids answered 200/201
    rejected: int  # 422: the sample leads include malformed ones on purpose
    errors: int
    failed: Counter[int]  # errors by status (0: no answer)
    latencies_ms: list[float]  # sorted

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")

    def pct(self, q: float) -> float:
        return percentile(self.latencies_ms, q)


def summarise(results: Sequence[Result]) -> Summary:
    ok = [r[2] for r in results if r[1] in (200, 201)]
    rejected = sum(1 for r in results if r[1] == 422)
    failed = Counter(r[1] for r in results if r[1] not in (200, 201, 422))
    return Summary(
        requests=len(results),
        ok=ok,
        rejected=rejected,
        errors=len(results) - len(ok) - rejected,
        failed=failed,
        latencies_ms=sorted(r[0] * 1000 for r in results),
    )


def exactly_once(url: str, leads: Sequence[str | None]) -> tuple[int, int]:
    """(answered leads with exactly one decision, all of them current, of how many)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "select lead_id, count(*), sum(case when is_current then 1 else 0 end) "
                "from decisions group by lead_id"
            )
        ).all()
    engine.dispose()
    per_lead = {lead: (int(n), int(current)) for lead, n, current in rows}
    return sum(1 for lead in leads if per_lead.get(lead or "") == (1, 1)), len(leads)


# -- this benchmark -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=200.0, help="leads per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--db", default=os.environ.get("LEADROUTE_BENCH_PG", PG))
    args = parser.parse_args()
    schema, url = fresh_schema(args.db)
    key = seed(url)
    server = start_server(url, rate_per_minute=int(args.rate * 60 * 2))
    try:
        wait_ready([server], key)
        data = run_load([server.base_url], key, args.seconds, rate=args.rate)
    finally:
        stop([server.process])
    report(data, url, args)
    drop_schema(args.db, schema)


def report(data: dict[str, Any], url: str, args: argparse.Namespace) -> None:
    summary = summarise(data["results"])
    once, answered = exactly_once(url, summary.ok)
    print(f"rate asked {args.rate:.0f}/s for {args.seconds:.0f} s: {data['total']} requests")
    print(f"achieved: {summary.requests / data['elapsed']:.1f} requests/s")
    if summary.failed:
        print("errors by status (0: no answer):", dict(summary.failed))
    print(
        "| requests | rejected (bad input) | errors | p50 ms | p90 ms | p99 ms | max ms "
        "| exactly one decision |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    latencies = summary.latencies_ms
    print(
        f"| {summary.requests} | {summary.rejected} | {summary.errors} | {summary.p50:.1f} "
        f"| {summary.pct(0.9):.1f} | {summary.pct(0.99):.1f} | {latencies[-1]:.1f} "
        f"| {once} of {answered} |"
    )


if __name__ == "__main__":
    main()
