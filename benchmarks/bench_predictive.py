"""Predictive inference per lead: batched (one matrix, one matmul per chunk) vs one at a time.

    python benchmarks/bench_predictive.py [--leads 100000]

Trains a model on 3,000 leads of the synthetic history (leadroute.sample.history), then scores
`--leads` lead contexts (the fields routing conditions see: seniority and department from the
title, free_email, industry, employees, ...) four ways, and reports µs per lead (best of 3):

- `predict_many` over chunks of 500 and of 2,000 leads (what a routing chunk would do);
- `predict` one lead at a time (pure Python dot product over the lead's features);
- `predict_many([lead])` one lead at a time (numpy per lead: what batching saves);
- `features` alone, the share of the cost that is reading the lead;
- `explain(top=3)`, the reasons the router records with each prediction.

All ways must give the same probabilities (checked to 1e-9).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from leadroute.domain.predictive import LinearModel, features
from leadroute.domain.titles import classify_title
from leadroute.sample.history import FREE_MAIL, generate_history
from leadroute.services.predictive import History, train

TRAIN_ROWS = 3000


def context_of(row: dict[str, Any]) -> dict[str, Any]:
    """A history row as routing sees it after cleaning (what the Normalizer derives)."""
    seniority, department = classify_title(row["title"])
    data = {k: v for k, v in row.items() if v is not None and k != "converted"}
    data["seniority"], data["department"] = seniority, department
    data["free_email"] = row["email"].split("@", 1)[1] in FREE_MAIL
    data["account"] = None
    return data


def best_of(repeat: int, run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def chunked(model: LinearModel, leads: list[dict[str, Any]], size: int) -> list[float]:
    out: list[float] = []
    for start in range(0, len(leads), size):
        out.extend(model.predict_many(leads[start : start + size]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = generate_history(TRAIN_ROWS + args.leads, seed=1)
    contexts = [context_of(r) for r in rows]
    history = History(
        "synthetic",
        contexts[:TRAIN_ROWS],
        [1 if r["converted"] == "yes" else 0 for r in rows[:TRAIN_ROWS]],
    )
    model = train(history).model
    leads = contexts[TRAIN_ROWS:]
    n = len(leads)

    reference = [model.predict(lead) for lead in leads]
    for size in (500, 2000):
        got = chunked(model, leads, size)
        assert max(abs(a - b) for a, b in zip(got, reference, strict=True)) < 1e-9

    ways: list[tuple[str, Callable[[], object]]] = [
        ("predict_many, chunks of 500", lambda: chunked(model, leads, 500)),
        ("predict_many, chunks of 2,000", lambda: chunked(model, leads, 2000)),
        ("predict, one lead at a time", lambda: [model.predict(lead) for lead in leads]),
        (
            "predict_many([lead]), one at a time",
            lambda: [model.predict_many([lead]) for lead in leads],
        ),
        ("features only (reading the lead)", lambda: [features(lead) for lead in leads]),
        ("explain(top=3), one lead at a time", lambda: [model.explain(lead, 3) for lead in leads]),
    ]
    print(f"{n:,} lead contexts, model of {len(model.features)} features\n")
    print("| inference | µs/lead |\n|---|---:|")
    for label, run in ways:
        seconds = best_of(args.repeat, run)
        print(f"| {label} | {seconds / n * 1e6:.2f} |")


if __name__ == "__main__":
    main()
