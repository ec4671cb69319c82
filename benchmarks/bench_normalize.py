"""Lead normalisation throughput: Normalizer.normalize() over realistic noisy leads, one core.

    python benchmarks/bench_normalize.py [--leads 20000] [--repeat 3] [--seed 7] [--json]

The leads are the sample generator's (leadroute.sample), roughened the way real form fills and
list imports are: country names and aliases instead of codes, state names, national phone
formats, upper-case and padded emails, websites with scheme/www/path, numbers as text, and a
few percent of plain junk (bad emails, unknown countries, short phones, negative counts).

"cold" is the first pass on a fresh Normalizer with the title and company caches cleared (each
distinct value is seen for the first time once); "warm" is the best of --repeat further passes.
Construction time (loading the lists and tables) is reported separately. Prints a Markdown row.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from collections.abc import Mapping
from typing import Any

from leadroute.domain.normalize import Normalizer, company_key
from leadroute.domain.titles import classify_title
from leadroute.sample.leads import generate_leads
from leadroute.sample.org import sample_org_doc

COUNTRY_SPELLINGS = {
    "US": ["US", "USA", "United States", "U.S.", "united states of america", "America", "us"],
    "GB": ["GB", "UK", "United Kingdom", "England", "U.K.", "Great Britain"],
    "DE": ["DE", "Germany", "Deutschland", "DEU"],
    "NL": ["NL", "Netherlands", "The Netherlands", "Holland"],
    "CA": ["CA", "Canada", "CAN"],
    "FR": ["FR", "France"],
    "AU": ["AU", "Australia"],
    "BR": ["BR", "Brazil", "Brasil"],
    "KR": ["KR", "South Korea", "Korea"],
}
STATE_NAMES = {
    ("US", "CA"): "California",
    ("US", "NY"): "new york",
    ("US", "TX"): "Texas",
    ("US", "CO"): "Colorado",
    ("US", "MA"): "Massachusetts",
    ("US", "WA"): "US-WA",
    ("CA", "ON"): "Ontario",
    ("AU", "NSW"): "New South Wales",
    ("DE", "BY"): "Bavaria",
}
TITLES = [
    "CEO",
    "Chief Revenue Officer",
    "Co-Founder & CTO",
    "SVP, Sales",
    "Head of Marketing",
    "Sr. Director of Engineering",
    "VP Eng",
    "Marketing Manager",
    "Account Executive",
    "Software Engineer II",
    "Directeur Commercial",
    "Geschäftsführer",
    "Owner",
    "RevOps Lead",
    "Customer Success Manager",
    "IT Director",
]
JUNK: list[tuple[str, Any]] = [
    ("email", "first.last@"),
    ("email", "n/a"),
    ("country", "Narnia"),
    ("phone", "12345"),
    ("employees", "-10"),
    ("employees", "lots"),
    ("website", "n/a"),
    ("state", "Atlantis"),
    ("timezone", "Mars/Olympus"),
]


def roughen(row: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
    lead = {k: v for k, v in row.items() if k not in ("id", "received_at")}
    country = lead.get("country")
    if isinstance(country, str) and country in COUNTRY_SPELLINGS and rng.random() < 0.6:
        lead["country"] = rng.choice(COUNTRY_SPELLINGS[country])
    state = lead.get("state")
    if isinstance(country, str) and isinstance(state, str) and rng.random() < 0.5:
        lead["state"] = STATE_NAMES.get((country, state), state.lower())
    phone = lead.get("phone")
    if isinstance(phone, str) and rng.random() < 0.5:
        digits = "".join(ch for ch in phone if ch.isdigit())
        if phone.startswith("+1 "):
            lead["phone"] = f"({digits[1:4]}) {digits[4:7]}-{digits[7:]}"
        elif rng.random() < 0.5:
            lead["phone"] = phone.replace(" ", "-")
    email = lead.get("email")
    if isinstance(email, str) and rng.random() < 0.3:
        lead["email"] = f"  {email.upper()} " if rng.random() < 0.5 else email.title()
    domain = lead.get("domain") or lead.get("website")
    if isinstance(domain, str) and rng.random() < 0.5:
        bare = domain.split("//")[-1].removeprefix("www.").rstrip("/")
        lead["website"] = rng.choice(
            [f"https://www.{bare}/", f"http://{bare}/about", f"WWW.{bare.upper()}", bare]
        )
    company = lead.get("company")
    if isinstance(company, str) and rng.random() < 0.2:
        lead["company"] = f"  {company}   Inc. "
    if rng.random() < 0.4:
        lead["title"] = rng.choice(TITLES)
    employees = lead.get("employees")
    if isinstance(employees, int) and rng.random() < 0.2:
        lead["employees"] = rng.choice([f"{employees:,}", f"{employees / 1000:.1f}k", "10-50"])
    if rng.random() < 0.05:
        name, value = rng.choice(JUNK)
        lead[name] = value
    return lead


def run(leads: list[dict[str, Any]], normalizer: Normalizer) -> tuple[float, int]:
    flags = 0
    start = time.perf_counter()
    for lead in leads:
        flags += len(normalizer.normalize(lead).flags)
    return time.perf_counter() - start, flags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    rows = generate_leads(sample_org_doc(args.seed), args.leads, args.seed)
    leads = [roughen(row, rng) for row in rows]

    classify_title.cache_clear()
    company_key.cache_clear()
    start = time.perf_counter()
    normalizer = Normalizer()
    setup = time.perf_counter() - start
    cold, flags = run(leads, normalizer)
    warm = min(run(leads, normalizer)[0] for _ in range(max(args.repeat, 1)))

    result = {
        "leads": len(leads),
        "setup_s": round(setup, 3),
        "cold_leads_per_s": round(len(leads) / cold),
        "warm_leads_per_s": round(len(leads) / warm),
        "us_per_lead_cold": round(cold / len(leads) * 1e6, 1),
        "flags_per_lead": round(flags / len(leads), 3),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(
        "| step | leads | setup (s) | cold leads/s | warm leads/s | µs/lead (cold) | flags/lead |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(
        f"| normalize() | {result['leads']:,} | {result['setup_s']} | "
        f"{result['cold_leads_per_s']:,} | {result['warm_leads_per_s']:,} | "
        f"{result['us_per_lead_cold']} | {result['flags_per_lead']} |"
    )


if __name__ == "__main__":
    main()
