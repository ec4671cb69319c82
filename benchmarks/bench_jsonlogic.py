"""JsonLogic engines on one routing task: the first of 12 routes each lead matches.

    python benchmarks/bench_jsonlogic.py [--leads 20000] [--repeat 5] [--json]

20,000 seeded leads (random.Random(7)) go through 12 route rules in order, first match wins,
the last route being a catch-all `true`. Every engine compiles (or parses) each rule once,
outside the timing, and applies its own JsonLogic truthiness to each result:

  leadroute         compile_jsonlogic_predicate(rule) per route, then a plain loop
  datalogic-py      Engine().compile(rule) per route; timed four ways, the best one counts:
                    Rule.evaluate(dict); Session + DataHandle + evaluate_truthy (the hot loop
                    its docs recommend); Session.evaluate_many (all 12 rules per lead, one
                    native call); Session.evaluate_batch (one native call per route over the
                    leads still unrouted). Converting each lead dict to a DataHandle is timed.
  panzi-json-logic  jsonLogic(rule, lead) per route, truthiness by json_logic's to_bool

A second table folds the 12 routes into one `if` rule that returns the route's index (one
evaluation per lead), which suits an engine with a high per-call cost. All engines must pick
the same route for every lead; the script prints the first disagreement and exits 1 if not.
Times are the best of --repeat runs of all leads, with the garbage collector off.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from typing import Any

import datalogic_py as dl
from json_logic import jsonLogic  # type: ignore[import-untyped]
from json_logic.builtins import to_bool  # type: ignore[import-untyped]

from leadroute.domain.jsonlogic import compile_jsonlogic, compile_jsonlogic_predicate

SEED = 7
COUNTRIES = {"US": 30, "CA": 6, "GB": 8, "DE": 6, "FR": 4, "NL": 2, "SE": 2, "ES": 2, "IT": 2,
             "AU": 4, "SG": 2, "JP": 3, "IN": 4, "NZ": 1, "BR": 3, "MX": 2}  # fmt: skip
STATES = ["CA", "WA", "OR", "NV", "AZ", "UT", "CO", "TX", "IL", "MN",
          "NY", "MA", "NJ", "PA", "FL", "GA", "NC", "VA", "OH", "MI"]  # fmt: skip
INDUSTRIES = ["Software", "Financial Services", "Healthcare", "Manufacturing", "Retail",
              "Education", "Media", "Logistics"]  # fmt: skip
SOURCES = ["Web", "Webinar", "Trade Show", "Content Download", "Partner Referral", "Free Trial"]
PRODUCTS = ["Analytics", "Payments", "Platform"]
TITLES = ["Software Engineer", "Engineering Manager", "Director of IT", "VP Engineering",
          "VP Sales", "Chief Technology Officer", "Chief Financial Officer", "Head of Data",
          "Analyst", "Operations Manager", "Founder", "CEO", "Marketing Coordinator",
          "SVP Operations", "Product Manager"]  # fmt: skip
FREE_MAIL = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com"]
NA, EMEA = ["US", "CA"], ["GB", "DE", "FR", "NL", "SE", "ES", "IT"]
APAC = ["AU", "SG", "JP", "IN", "NZ"]
WEST = ["CA", "WA", "OR", "NV", "AZ", "UT", "CO"]
EAST = ["NY", "MA", "NJ", "PA", "FL", "GA", "NC", "VA"]


def make_leads(n: int, seed: int = SEED) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    countries = [c for c, weight in COUNTRIES.items() for _ in range(weight)]
    leads = []
    for i in range(n):
        country = rng.choice(countries)
        employees = int(rng.lognormvariate(4.5, 1.8)) + 1
        domain = rng.choice(FREE_MAIL) if rng.random() < 0.15 else f"co{rng.randrange(5000)}.com"
        lead: dict[str, Any] = {
            "id": f"L{i:06d}",
            "country": country,
            "state": rng.choice(STATES) if country == "US" else None,
            "employees": employees,
            "annual_revenue": round(employees * rng.uniform(50_000, 400_000), 2),
            "industry": rng.choice(INDUSTRIES),
            "lead_source": rng.choice(SOURCES),
            "title": rng.choice(TITLES),
            "email_domain": domain,
            "product_interest": rng.choice(PRODUCTS),
            "score": rng.randrange(101),
        }
        gap = rng.random()  # a few leads arrive without a field
        if gap < 0.03:
            del lead["employees"]
        elif gap < 0.06:
            del lead["email_domain"]
        leads.append(lead)
    return leads


def var(name: str) -> dict[str, str]:
    return {"var": name}


ROUTES: list[tuple[str, Any]] = [
    ("enrichment", {"!!": {"missing": ["employees", "email_domain"]}}),
    ("strategic_na", {"and": [
        {"in": [var("country"), NA]},
        {">=": [var("employees"), 5000]},
        {"in": [var("industry"), ["Financial Services", "Healthcare", "Software"]]},
    ]}),
    ("partner", {"and": [
        {"==": [var("lead_source"), "Partner Referral"]}, {">=": [var("score"), 40]},
    ]}),
    ("exec_fast_track", {"and": [
        {"or": [{"in": ["VP", var("title")]}, {"in": ["Chief", var("title")]}]},
        {">": [var("annual_revenue"), 10_000_000]},
    ]}),
    ("emea_enterprise", {"and": [
        {"in": [var("country"), EMEA]}, {">=": [var("employees"), 1000]},
    ]}),
    ("na_west_mid", {"and": [
        {"==": [var("country"), "US"]},
        {"in": [var("state"), WEST]},
        {"<=": [200, var("employees"), 999]},
    ]}),
    ("na_east_mid", {"and": [
        {"==": [var("country"), "US"]},
        {"in": [var("state"), EAST]},
        {"<=": [200, var("employees"), 999]},
    ]}),
    ("payments_intl", {"and": [
        {"==": [var("product_interest"), "Payments"]}, {"!": {"in": [var("country"), NA]}},
    ]}),
    ("apac", {"and": [
        {"in": [var("country"), APAC]}, {"!=": [var("lead_source"), "Free Trial"]},
    ]}),
    ("smb_self_serve", {"and": [
        {"<": [var("employees"), 50]},
        {"in": [var("lead_source"), ["Free Trial", "Web", "Content Download"]]},
    ]}),
    ("high_intent", {"and": [
        {"or": [
            {">=": [var("score"), 80]},
            {"and": [{"==": [var("industry"), "Education"]}, {"<=": [50, var("employees"), 5000]}]},
        ]},
        {"!": {"in": [var("email_domain"), FREE_MAIL]}},
    ]}),
    ("catch_all", True),
]  # fmt: skip
RULES = [rule for _, rule in ROUTES]
CHAIN = {"if": [x for i, rule in enumerate(RULES[:-1]) for x in (rule, i)] + [len(RULES) - 1]}

Run = Callable[[list[dict[str, Any]]], list[int]]


# --- the engines: each returns a function from leads to route indexes ---------------------


def leadroute_rules() -> Run:
    tests = [compile_jsonlogic_predicate(rule) for rule in RULES]

    def run(leads: list[dict[str, Any]]) -> list[int]:
        out = []
        for lead in leads:
            for i, test in enumerate(tests):
                if test(lead):
                    out.append(i)
                    break
        return out

    return run


def datalogic_rule_evaluate() -> Run:
    rules = [dl.Engine().compile(rule) for rule in RULES]

    def run(leads: list[dict[str, Any]]) -> list[int]:
        out = []
        for lead in leads:
            for i, rule in enumerate(rules):
                if rule.evaluate(lead):  # every route returns a boolean
                    out.append(i)
                    break
        return out

    return run


def datalogic_session_truthy() -> Run:
    engine = dl.Engine()
    rules = [engine.compile(rule) for rule in RULES]
    handle = dl.DataHandle

    def run(leads: list[dict[str, Any]]) -> list[int]:
        out = []
        with engine.session() as session:
            truthy = session.evaluate_truthy
            for lead in leads:
                data = handle(lead)
                for i, rule in enumerate(rules):
                    if truthy(rule, data):
                        out.append(i)
                        break
        return out

    return run


def datalogic_session_many() -> Run:
    engine = dl.Engine()
    rules = [engine.compile(rule) for rule in RULES]
    handle = dl.DataHandle

    def run(leads: list[dict[str, Any]]) -> list[int]:
        with engine.session() as session:
            many = session.evaluate_many
            out = [many(rules, handle(lead)).index("true") for lead in leads]
        return out

    return run


def datalogic_session_batch() -> Run:
    engine = dl.Engine()
    rules = [engine.compile(rule) for rule in RULES]
    handle = dl.DataHandle

    def run(leads: list[dict[str, Any]]) -> list[int]:
        out = [-1] * len(leads)
        with engine.session() as session:
            handles = [handle(lead) for lead in leads]
            todo = list(range(len(leads)))
            for i, rule in enumerate(rules):
                results = session.evaluate_batch(rule, [handles[j] for j in todo])
                rest = []
                for j, result in zip(todo, results, strict=True):
                    if result == "true":
                        out[j] = i
                    else:
                        rest.append(j)
                todo = rest
        return out

    return run


def panzi_rules() -> Run:
    def run(leads: list[dict[str, Any]]) -> list[int]:
        out = []
        for lead in leads:
            for i, rule in enumerate(RULES):
                if to_bool(jsonLogic(rule, lead)):
                    out.append(i)
                    break
        return out

    return run


def leadroute_chain() -> Run:
    chain = compile_jsonlogic(CHAIN)
    return lambda leads: [chain(lead) for lead in leads]


def datalogic_chain() -> Run:
    engine = dl.Engine()
    chain = engine.compile(CHAIN)

    def run(leads: list[dict[str, Any]]) -> list[int]:
        with engine.session() as session:
            evaluate = session.evaluate
            out = [evaluate(chain, lead) for lead in leads]
        return out

    return run


def datalogic_chain_rule() -> Run:
    chain = dl.Engine().compile(CHAIN)
    return lambda leads: [chain.evaluate(lead) for lead in leads]


def panzi_chain() -> Run:
    return lambda leads: [jsonLogic(CHAIN, lead) for lead in leads]


# (engine, how, factory); the first row of each engine's group is what the summary quotes
ROUTE_RULES: list[tuple[str, str, Callable[[], Run]]] = [
    ("leadroute", "compile_jsonlogic_predicate per route", leadroute_rules),
    ("datalogic-py", "Session + DataHandle + evaluate_truthy", datalogic_session_truthy),
    ("datalogic-py", "Session.evaluate_many (12 rules, 1 call)", datalogic_session_many),
    ("datalogic-py", "Session.evaluate_batch per route", datalogic_session_batch),
    ("datalogic-py", "Rule.evaluate(dict)", datalogic_rule_evaluate),
    ("panzi-json-logic", "jsonLogic(rule, lead) per route", panzi_rules),
]
ONE_RULE: list[tuple[str, str, Callable[[], Run]]] = [
    ("leadroute", "compile_jsonlogic(if-chain)", leadroute_chain),
    ("datalogic-py", "Session.evaluate(if-chain, dict)", datalogic_chain),
    ("datalogic-py", "Rule.evaluate(dict)", datalogic_chain_rule),
    ("panzi-json-logic", "jsonLogic(if-chain, lead)", panzi_chain),
]


def timed(run: Run, leads: list[dict[str, Any]], repeat: int) -> tuple[float, list[int]]:
    best, routes = float("inf"), []
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            routes = run(leads)
            best = min(best, time.perf_counter() - start)
        finally:
            gc.enable()
    return best, routes


def measure(
    table: list[tuple[str, str, Callable[[], Run]]], leads: list[dict[str, Any]], repeat: int
) -> tuple[list[dict[str, Any]], list[list[int]]]:
    rows, answers = [], []
    for engine, how, factory in table:
        start = time.perf_counter()
        run = factory()
        compile_ms = (time.perf_counter() - start) * 1000
        seconds, routes = timed(run, leads, repeat)
        rows.append(
            {
                "engine": engine,
                "how": how,
                "compile_ms": round(compile_ms, 2),
                "seconds": round(seconds, 4),
                "leads_per_s": round(len(leads) / seconds),
                "us_per_lead": round(seconds / len(leads) * 1e6, 3),
            }
        )
        answers.append(routes)
    return rows, answers


def check_agreement(
    table: list[tuple[str, str, Callable[[], Run]]],
    answers: list[list[int]],
    leads: list[dict[str, Any]],
) -> bool:
    reference = answers[0]
    for (engine, how, _), routes in zip(table[1:], answers[1:], strict=True):
        for lead, want, got in zip(leads, reference, routes, strict=True):
            if want != got:
                print(
                    f"MISMATCH: {engine} ({how}) routes lead {lead['id']} to "
                    f"{ROUTES[got][0] if 0 <= got < len(ROUTES) else got!r}, "
                    f"leadroute to {ROUTES[want][0]}\n  lead: {json.dumps(lead)}",
                    file=sys.stderr,
                )
                return False
        if len(routes) != len(reference):
            print(f"MISMATCH: {engine} ({how}) routed {len(routes)} leads", file=sys.stderr)
            return False
    return True


def speedups(rows: list[dict[str, Any]]) -> dict[str, float]:
    """leadroute's speed-up over each other engine's best way."""
    ours = rows[0]["seconds"]
    best: dict[str, float] = {}
    for row in rows[1:]:
        best[row["engine"]] = min(best.get(row["engine"], float("inf")), row["seconds"])
    return {engine: round(seconds / ours, 2) for engine, seconds in best.items()}


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def print_table(title: str, rows: list[dict[str, Any]]) -> None:
    ours = rows[0]["seconds"]
    print(f"## {title}\n")
    print("| engine | how | compile ms | seconds (best) | leads/s | µs/lead | leadroute speed-up |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for row in rows:
        ratio = "1.00x (itself)" if row is rows[0] else f"{row['seconds'] / ours:.2f}x"
        print(
            f"| {row['engine']} | {row['how']} | {row['compile_ms']:.2f} | "
            f"{row['seconds']:.4f} | {row['leads_per_s']:,} | {row['us_per_lead']:.2f} | {ratio} |"
        )
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    leads = make_leads(args.leads)

    rules_rows, rules_answers = measure(ROUTE_RULES, leads, args.repeat)
    chain_rows, chain_answers = measure(ONE_RULE, leads, args.repeat)
    if not (
        check_agreement(ROUTE_RULES + ONE_RULE, rules_answers + chain_answers, leads)
    ):  # every engine, every way, against leadroute's per-route answer
        sys.exit(1)
    counts = Counter(rules_answers[0])
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "cpu": cpu_model(),
            "cpu_count": os.cpu_count(),
            "python": f"{platform.python_implementation()} {platform.python_version()}",
        },
        "versions": {
            "datalogic-py": version("datalogic-py"),
            "panzi-json-logic": version("panzi-json-logic"),
        },
        "leads": args.leads,
        "repeat": args.repeat,
        "seed": SEED,
        "routes": {name: counts[i] for i, (name, _) in enumerate(ROUTES)},
        "rules_per_lead": round(sum(i + 1 for i in rules_answers[0]) / args.leads, 2),
        "route_rules": rules_rows,
        "route_rules_speedup": speedups(rules_rows),
        "one_rule": chain_rows,
        "one_rule_speedup": speedups(chain_rows),
        "agree": True,
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    machine = results["machine"]
    print(f"# JsonLogic benchmark ({results['date']})\n")
    print(
        f"{machine['platform']}; {machine['cpu']}, {machine['cpu_count']} CPUs; "
        f"{machine['python']}; datalogic-py {results['versions']['datalogic-py']}, "
        f"panzi-json-logic {results['versions']['panzi-json-logic']}\n"
    )
    print(
        f"{args.leads:,} leads (seed {SEED}), {len(ROUTES)} routes, first match wins; "
        f"{results['rules_per_lead']} rules evaluated per lead on average; best of "
        f"{args.repeat} runs. All engines agree on every lead's route.\n"
    )
    print_table("12 route rules, evaluated in order", rules_rows)
    print_table("The 12 routes folded into one `if` rule", chain_rows)
    print("Leads per route: " + ", ".join(f"{k} {v}" for k, v in results["routes"].items()))
    for label, key in (("route rules", "route_rules_speedup"), ("one rule", "one_rule_speedup")):
        parts = ", ".join(f"{x:.2f}x faster than {e}" for e, x in results[key].items())
        print(f"\nleadroute ({label}): {parts} (each engine's fastest way).")


if __name__ == "__main__":
    main()
