"""The whole clean-and-match step on one core: normalise + dedupe lookup + account match.

    python benchmarks/bench_pipeline.py [--accounts 100000] [--known 100000] [--leads 20000]

Raw, noisy leads (as a form or a list import gives them) are cleaned by the Normalizer, looked up
in a dedupe index of `--known` existing leads, matched against `--accounts` accounts, and added to
the dedupe index, exactly as `RoutingService` does before the router decides. Reports leads/s and
per-lead latency (target: >= 3,000 leads/s on one core).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from leadroute.domain.account_match import AccountIndex
from leadroute.domain.dedupe import LeadIndex
from leadroute.domain.normalize import Normalizer
from leadroute.sample.noisy_accounts import noisy_accounts

FIRST = [
    "Ann",
    "Bo",
    "Carla",
    "Deepak",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jon",
    "Kemal",
    "Lena",
    "Marta",
    "Nils",
    "Olu",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tomás",
]
LAST = [
    "Lee",
    "Okafor",
    "Schmidt",
    "Garcia",
    "Nguyen",
    "Rossi",
    "Kowalski",
    "Dubois",
    "Sato",
    "Silva",
    "Khan",
    "Novak",
    "Larsen",
    "Murphy",
    "Haddad",
    "Costa",
    "Berg",
    "Ivanova",
]
COUNTRIES = [
    "USA",
    "United States",
    "US",
    "Deutschland",
    "Germany",
    "UK",
    "United Kingdom",
    "France",
    "Canada",
    "Australia",
    "Netherlands",
    "Spain",
    "India",
    "Japan",
]
STATES = {
    "USA": "California",
    "United States": "NY",
    "US": "texas",
    "Canada": "Ontario",
    "Australia": "NSW",
    "Deutschland": "Bayern",
}
TITLES = [
    "VP Sales",
    "Head of Marketing",
    "Software Engineer",
    "CEO",
    "Marketing Manager",
    "Sr. Director, Engineering",
    "Account Executive",
    "Founder & CTO",
    "Analyst",
]


def raw_leads(accounts: list[Any], n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    leads = []
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        country = rng.choice(COUNTRIES)
        lead: dict[str, Any] = {
            "first_name": first,
            "last_name": last,
            "country": country,
            "title": rng.choice(TITLES),
        }
        if rng.random() < 0.6:
            account = rng.choice(accounts)
            domain = account.domain or f"co{i}.example"
            lead["company"] = account.name if rng.random() < 0.7 else account.name.upper()
            lead["email"] = (
                f"{first}.{last}{i}@{domain}" if rng.random() < 0.85 else f"{first}{i}@gmail.com"
            )
            lead["website"] = f"https://www.{domain}/contact" if rng.random() < 0.4 else ""
        else:
            lead["company"] = f"Unlisted Works {i}"
            lead["email"] = f"{first}{i}@unlisted{i}.example"
        if country in STATES:
            lead["state"] = STATES[country]
        if rng.random() < 0.7:
            lead["phone"] = f"(415) 555-{rng.randrange(10_000):04d}"
        leads.append(lead)
    return leads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--known", type=int, default=100_000)
    parser.add_argument("--leads", type=int, default=20_000)
    args = parser.parse_args()

    accounts = noisy_accounts(args.accounts, seed=1)
    normalizer = Normalizer()
    started = time.perf_counter()
    index = AccountIndex(accounts)
    dedupe = LeadIndex()
    for i, lead in enumerate(raw_leads(accounts, args.known, seed=5)):
        dedupe.add(f"K{i}", normalizer.normalize(lead).fields)
    build_s = time.perf_counter() - started

    leads = raw_leads(accounts, args.leads, seed=9)
    latencies = []
    matched = duplicates = 0
    began = time.perf_counter()
    for i, lead in enumerate(leads):
        t0 = time.perf_counter_ns()
        fields = normalizer.normalize(lead).fields
        if dedupe.find(fields) is not None:
            duplicates += 1
        if index.match(fields).account is not None:
            matched += 1
        dedupe.add(f"N{i}", fields)
        latencies.append((time.perf_counter_ns() - t0) / 1e6)
    seconds = time.perf_counter() - began
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(
        f"# Clean-and-match benchmark ({datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()})\n"
    )
    print(
        f"{args.accounts:,} accounts and {args.known:,} known leads indexed in {build_s:.1f} s; "
        f"{args.leads:,} raw leads cleaned, deduped and matched on one core.\n"
    )
    print("| leads/s | mean µs | p50 ms | p99 ms | matched to an account | duplicates found |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {args.leads / seconds:,.0f} | {seconds / args.leads * 1e6:.0f} | "
        f"{statistics.median(latencies):.3f} | {p99:.3f} | {matched / args.leads:.1%} | "
        f"{duplicates / args.leads:.1%} |"
    )


if __name__ == "__main__":
    main()
