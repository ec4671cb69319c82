"""Duplicate detection at scale: index existing leads, then look up labelled incoming leads.

    python benchmarks/bench_dedupe.py [--existing 1000000] [--queries 20000] [--json]

The leads come from `leadroute.sample.noisy_leads.noisy_lead_stream`: the first `--existing`
leads of the stream are indexed (people's first leads and their earlier duplicates), the next
`--queries` leads are looked up without being added. A lookup is right when it names a lead of
the same person; an incoming lead is a duplicate when its person already has a lead indexed.
Precision = right matches / matches; recall = right matches / duplicates. Memory is the size of
the objects the index holds (each shared object counted once); RSS growth is shown as well but
understates it, since the process reuses memory the generator freed.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import sys
import time
import types
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from leadroute.domain.dedupe import LeadIndex
from leadroute.sample.noisy_leads import noisy_lead_stream

TARGET_PRECISION = 0.98
TARGET_RECALL = 0.95


def rss_mb() -> float:
    """Resident memory of this process (Linux), in MB."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return float("nan")
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def deep_size_mb(root: object) -> float:
    """Bytes held by an object and everything it references (classes and modules excluded),
    each shared object counted once, in MB."""
    seen: set[int] = set()
    stack = [root]
    total = 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, type | types.ModuleType | types.FunctionType):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        stack.extend(gc.get_referents(obj))
    return total / 1e6


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def run(existing: int, queries: int, duplicates: float, seed: int, max_block: int) -> dict:
    started = time.perf_counter()
    people = math.ceil((existing + queries) * (1 - duplicates))
    stream = noisy_lead_stream(people, duplicates=duplicates, seed=seed)
    indexed, incoming = stream[:existing], stream[existing : existing + queries]
    generated = time.perf_counter() - started

    gc.collect()
    before = rss_mb()
    index = LeadIndex(max_block=max_block)
    started = time.perf_counter()
    for lead_id, fields, _ in indexed:
        index.add(lead_id, fields)
    build = time.perf_counter() - started
    gc.collect()
    memory = rss_mb() - before
    size = deep_size_mb(index)

    person_of = {lead_id: person for lead_id, _, person in indexed}
    known = set(person_of.values())
    # The generated leads (a million dicts) are the benchmark's, not the index's: keep the
    # garbage collector from walking them during lookups, as a service would after loading.
    gc.freeze()
    latencies: list[float] = []
    positives = matched = right = 0
    by_method = {"email": 0, "fuzzy": 0}
    started = time.perf_counter()
    for _, fields, person in incoming:
        t0 = time.perf_counter_ns()
        match = index.find(fields)
        latencies.append((time.perf_counter_ns() - t0) / 1e3)
        positives += person in known
        if match is not None:
            matched += 1
            by_method[match.method] += 1
            right += person_of[match.lead_id] == person
    lookups = time.perf_counter() - started
    return {
        "existing": len(index),
        "queries": len(incoming),
        "duplicates_in_queries": positives,
        "generate_s": round(generated, 1),
        "build_s": round(build, 2),
        "adds_per_s": round(len(indexed) / build),
        "index_mb": round(size),
        "rss_growth_mb": round(memory),
        "precision": round(right / matched, 4) if matched else 1.0,
        "recall": round(right / positives, 4) if positives else 1.0,
        "matched": matched,
        "wrong": matched - right,
        "by_email": by_method["email"],
        "by_fuzzy": by_method["fuzzy"],
        "p50_us": round(statistics.median(latencies), 1),
        "p99_us": round(percentile(latencies, 0.99), 1),
        "max_us": round(max(latencies), 1),
        "lookups_per_s": round(len(incoming) / lookups),
        "max_block": max_block,
        "threshold": index.threshold,
    }


def machine() -> dict[str, str]:
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{cpu_model()} ({os.cpu_count()} logical CPUs)",
        "os": platform.platform(),
        "python": platform.python_version(),
        "rapidfuzz": version("rapidfuzz"),
    }


def markdown(result: dict, info: dict[str, str]) -> str:
    ok_p = "met" if result["precision"] >= TARGET_PRECISION else "MISSED"
    ok_r = "met" if result["recall"] >= TARGET_RECALL else "MISSED"
    rows = [
        ("Existing leads indexed", f"{result['existing']:,}"),
        ("Index build", f"{result['build_s']} s ({result['adds_per_s']:,} adds/s)"),
        (
            "Index memory",
            f"{result['index_mb']:,} MB of objects ({result['rss_growth_mb']:,} MB RSS growth)",
        ),
        ("Incoming leads looked up", f"{result['queries']:,}"),
        ("... of which duplicates", f"{result['duplicates_in_queries']:,}"),
        ("Matches (email / fuzzy)", f"{result['by_email']:,} / {result['by_fuzzy']:,}"),
        ("Wrong matches", f"{result['wrong']:,}"),
        ("Precision", f"{result['precision']:.4f} (target >= {TARGET_PRECISION}: {ok_p})"),
        ("Recall", f"{result['recall']:.4f} (target >= {TARGET_RECALL}: {ok_r})"),
        ("Lookup latency p50 / p99", f"{result['p50_us']} / {result['p99_us']} µs"),
        ("Lookup latency max", f"{result['max_us']} µs"),
        ("Lookups per second (one core)", f"{result['lookups_per_s']:,}"),
        ("Settings", f"threshold {result['threshold']}, max_block {result['max_block']}"),
    ]
    lines = ["| Measure | Value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    lines += [f"| {k.capitalize()} | {v} |" for k, v in info.items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--existing", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=20_000)
    parser.add_argument("--duplicates", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--max-block", type=int, default=100)
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    args = parser.parse_args()
    result = run(args.existing, args.queries, args.duplicates, args.seed, args.max_block)
    info = machine()
    if args.json:
        print(json.dumps({**result, **info}, indent=2))
    else:
        print(markdown(result, info))


if __name__ == "__main__":
    main()
