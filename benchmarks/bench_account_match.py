"""Lead-to-account matching at scale: accuracy and latency over labelled, noisy data.

    python benchmarks/bench_account_match.py [--accounts 1000000] [--leads 20000]
        [--no-tracemalloc] [--no-freeze] [--json]

Builds an `AccountIndex` over `--accounts` generated accounts and reports the build time and
memory: what the index holds, measured with tracemalloc on a second, untimed build (skip it
with --no-tracemalloc), and how much the process's resident set grew (less: the allocator
reuses memory the data generator freed). Then it matches `--leads` labelled leads
(`leadroute.sample.noisy_accounts`) one by one and reports:
- accuracy for leads with a corporate domain (website or non-free email; target >= 0.97);
- accuracy by company name alone (free-mail or no email, no website; target >= 0.90);
- the false-match rate on leads of companies that are no account (should match nothing);
- per-lead latency p50/p99 (target p99 <= 2 ms) and leads/s on one core.

After the build the index is moved out of the cyclic garbage collector's reach (`gc.freeze()`),
as a long-running service does with long-lived data; --no-freeze shows the cost of not doing so.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import time
import tracemalloc
from datetime import UTC, datetime
from importlib.metadata import version
from typing import Any

from leadroute.domain.account_match import AccountIndex
from leadroute.sample.noisy_accounts import noisy_accounts, noisy_leads

TARGETS = {"domain": 0.97, "name": 0.90, "p99_ms": 2.0}


def rss_bytes() -> int:
    """The resident set size now (Linux), else the peak so far."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def kind_of(fields: dict[str, Any], truth: str | None) -> str:
    if truth is None:
        return "unknown"
    return "domain" if fields.get("domain") else "name"


def run(accounts_n: int, leads_n: int, *, trace: bool, freeze: bool) -> dict[str, Any]:
    started = time.perf_counter()
    accounts = noisy_accounts(accounts_n, seed=1)
    leads = noisy_leads(accounts, leads_n, seed=2)
    generated_s = time.perf_counter() - started

    gc.collect()
    rss_before = rss_bytes()
    started = time.perf_counter()
    index = AccountIndex(accounts)
    build_s = time.perf_counter() - started
    gc.collect()
    rss_growth = rss_bytes() - rss_before
    heap = None
    if trace:  # a second, untimed build: tracing slows allocation several times over
        tracemalloc.start()
        probe = AccountIndex(accounts)
        heap = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        del probe
        gc.collect()
    if freeze:
        gc.freeze()

    latencies: list[int] = []
    counts = {"domain": 0, "name": 0, "unknown": 0}
    right = {"domain": 0, "name": 0, "unknown": 0}
    matched = matched_right = 0
    clock = time.perf_counter_ns
    for fields, truth in leads:
        begin = clock()
        result = index.match(fields)
        latencies.append(clock() - begin)
        got = result.account.id if result.account is not None else None
        kind = kind_of(fields, truth)
        counts[kind] += 1
        right[kind] += got == truth
        if got is not None:
            matched += 1
            matched_right += got == truth
    latencies.sort()

    def quantile(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] / 1e6

    total_s = sum(latencies) / 1e9
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{cpu_model()}, {os.cpu_count()} cores, {platform.system()}, "
        f"Python {platform.python_version()}, rapidfuzz {version('rapidfuzz')}",
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "accounts": accounts_n,
        "leads": leads_n,
        "lead_kinds": counts,
        "generate_s": generated_s,
        "build_s": build_s,
        "index_rss_mb": rss_growth / 2**20,
        "index_heap_mb": heap / 2**20 if heap is not None else None,
        "accuracy_domain": right["domain"] / max(1, counts["domain"]),
        "accuracy_name": right["name"] / max(1, counts["name"]),
        "false_match_unknown": 1 - right["unknown"] / max(1, counts["unknown"]),
        "precision": matched_right / max(1, matched),
        "p50_ms": quantile(0.50),
        "p99_ms": quantile(0.99),
        "max_ms": latencies[-1] / 1e6,
        "leads_per_s": len(latencies) / total_s,
        "gc_frozen": freeze,
    }


def check(value: float, target: float, *, at_most: bool = False) -> str:
    ok = value <= target if at_most else value >= target
    return "met" if ok else "MISSED"


def render(r: dict[str, Any]) -> str:
    kinds = r["lead_kinds"]
    memory = f"process resident set grew {r['index_rss_mb']:,.0f} MB"
    if r["index_heap_mb"] is not None:
        memory = f"{r['index_heap_mb']:,.0f} MB held (tracemalloc); {memory}"
    rows = [
        ("accounts indexed", f"{r['accounts']:,}", ""),
        ("index build", f"{r['build_s']:.1f} s", ""),
        ("index memory", memory, ""),
        (
            "labelled leads",
            f"{r['leads']:,}: {kinds['domain']:,} with a corporate domain, "
            f"{kinds['name']:,} by name alone, {kinds['unknown']:,} of unknown companies",
            "",
        ),
        (
            "accuracy, corporate domain",
            f"{r['accuracy_domain']:.4f}",
            f">= {TARGETS['domain']:.2f}: {check(r['accuracy_domain'], TARGETS['domain'])}",
        ),
        (
            "accuracy, company name alone",
            f"{r['accuracy_name']:.4f}",
            f">= {TARGETS['name']:.2f}: {check(r['accuracy_name'], TARGETS['name'])}",
        ),
        ("false matches, unknown companies", f"{r['false_match_unknown']:.2%}", ""),
        ("precision (matches that are right)", f"{r['precision']:.2%}", ""),
        (
            "latency per lead p50 / p99 / max",
            f"{r['p50_ms']:.3f} / {r['p99_ms']:.3f} / {r['max_ms']:.1f} ms",
            f"p99 <= {TARGETS['p99_ms']:.0f} ms: "
            f"{check(r['p99_ms'], TARGETS['p99_ms'], at_most=True)}",
        ),
        ("throughput, one core", f"{r['leads_per_s']:,.0f} leads/s", ""),
    ]
    lines = [
        f"# Lead-to-account matching ({r['date']})",
        "",
        f"{r['machine']}; load average {r['load_average']:.2f} at the end; "
        f"data generated in {r['generate_s']:.1f} s; "
        f"index {'frozen out of' if r['gc_frozen'] else 'left in'} the cyclic GC.",
        "",
        "| measure | result | target |",
        "|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument(
        "--no-tracemalloc", action="store_true", help="skip the traced build (saves a minute)"
    )
    parser.add_argument("--no-freeze", action="store_true", help="leave the index in the GC")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(
        args.accounts, args.leads, trace=not args.no_tracemalloc, freeze=not args.no_freeze
    )
    print(json.dumps(result, indent=2) if args.json else render(result))


if __name__ == "__main__":
    main()
