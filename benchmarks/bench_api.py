"""The routing API under load: leads/s sustained, latency, errors, exactly one decision each.

    python benchmarks/bench_api.py [--rate 200] [--seconds 60] [--db postgresql+psycopg://...]

Starts `leadroute serve` in its own process on PostgreSQL (a fresh schema in the `test`
database at 127.0.0.1 by default), with the sample org of the demo (40 reps, 615 accounts) and
the `territory_segment` template, then drives POST /v1/leads at a constant arrival rate from
another process (an open-loop load generator: a request is sent on schedule whether or not
earlier ones have finished, so a slow server cannot hide behind a slowed client). Each request
carries an Idempotency-Key. Afterwards it checks in the database that every lead answered 201
has exactly one current decision.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from leadroute.adapters.orgfile import org_from_doc
from leadroute.adapters.store.key_store import KeyStore
from leadroute.adapters.store.sql import Store
from leadroute.sample import generate_leads, sample_org_doc
from leadroute.services.configs import load_config_file

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TEMPLATE = Path(__file__).resolve().parents[1] / "src/leadroute/templates/territory_segment.yaml"


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


def seed(url: str) -> str:
    """The org, the config, and an API key of scope ingest (returned)."""
    store = Store(url)
    store.migrate()
    org = org_from_doc(sample_org_doc())
    store.save_org(org)
    loaded = load_config_file(TEMPLATE, org)
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


def load(base_url: str, key: str, rate: float, seconds: float, out: Any) -> None:
    """Open-loop: the i-th request leaves at start + i / rate."""
    rows = [
        {k: v for k, v in row.items() if k not in ("id", "received_at") and v not in (None, "")}
        for row in generate_leads(sample_org_doc(), int(rate * seconds) + 10)
    ]
    results: list[tuple[float, int, str | None]] = []
    lock = threading.Lock()
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    client = httpx.Client(base_url=base_url, timeout=30, limits=limits, headers={"X-API-Key": key})

    def send(i: int) -> None:
        key = f"bench-{i}"
        started = time.perf_counter()
        try:
            answer = client.post("/v1/leads", json=rows[i], headers={"Idempotency-Key": key})
            status, lead = answer.status_code, answer.json().get("lead_id")
        except httpx.HTTPError:
            status, lead = 0, None
        with lock:
            results.append((time.perf_counter() - started, status, lead))

    total = int(rate * seconds)
    start = time.perf_counter() + 0.5
    with ThreadPoolExecutor(max_workers=200) as pool:
        for i in range(total):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, i)
    elapsed = time.perf_counter() - start
    client.close()
    json.dump({"results": results, "elapsed": elapsed, "total": total}, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=200.0, help="leads per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--db", default=os.environ.get("LEADROUTE_BENCH_PG", PG))
    args = parser.parse_args()
    schema, url = fresh_schema(args.db)
    key = seed(url)
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            *("-m", "leadroute", "serve", "--port", str(port)),
            *("--rate-per-minute", str(int(args.rate * 60 * 2))),
        ],
        env={**os.environ, "LEADROUTE_DB": url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(base_url + "/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        httpx.post(
            base_url + "/v1/leads",
            json={"email": "warm@up.com"},
            headers={"X-API-Key": key},
            timeout=30,
        )
        result_file = Path(f"/tmp/bench_api_{schema}.json")
        with result_file.open("w"):
            process = multiprocessing.get_context("spawn").Process(
                target=_load_to_file,
                args=(base_url, key, args.rate, args.seconds, str(result_file)),
            )
            process.start()
            process.join()
        data = json.loads(result_file.read_text())
        result_file.unlink()
    finally:
        server.terminate()
        server.wait(timeout=30)
    report(data, url, args)
    engine = create_engine(args.db)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


def _load_to_file(base_url: str, key: str, rate: float, seconds: float, path: str) -> None:
    with open(path, "w") as out:
        load(base_url, key, rate, seconds, out)


def report(data: dict[str, Any], url: str, args: argparse.Namespace) -> None:
    results = data["results"]
    latencies = sorted(r[0] * 1000 for r in results)
    ok = [r for r in results if r[1] in (200, 201)]
    # The sample leads include malformed ones on purpose: answered 422 with the reason.
    rejected = sum(1 for r in results if r[1] == 422)
    errors = len(results) - len(ok) - rejected
    leads = [r[2] for r in ok]
    engine = create_engine(url)
    with engine.connect() as conn:
        per_lead = dict(
            conn.execute(
                text("select lead_id, count(*) from decisions where is_current group by lead_id")
            ).all()
        )
    engine.dispose()
    once = sum(1 for lead in leads if per_lead.get(lead) == 1)

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))]

    print(f"rate asked {args.rate:.0f}/s for {args.seconds:.0f} s: {data['total']} requests")
    print(f"achieved: {len(results) / data['elapsed']:.1f} requests/s")
    failed = Counter(r[1] for r in results if r[1] not in (200, 201, 422))
    if failed:
        print("errors by status (0: no answer):", dict(failed))
    print(
        "| requests | rejected (bad input) | errors | p50 ms | p90 ms | p99 ms | max ms "
        "| exactly one decision |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {len(results)} | {rejected} | {errors} | {statistics.median(latencies):.1f} "
        f"| {pct(0.9):.1f} | {pct(0.99):.1f} | {latencies[-1]:.1f} | {once} of {len(ok)} |"
    )


if __name__ == "__main__":
    main()
