"""The synthetic history: deterministic, the documented mix and signal, files that load."""

from __future__ import annotations

import csv
import math
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from leadroute.adapters.leadfile import read_leads
from leadroute.domain.titles import classify_title
from leadroute.sample import history as h

N = 5000


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return h.generate_history(N, seed=11)


def _seniority(row: dict[str, Any]) -> str:
    seniority, _ = classify_title(str(row["title"]))
    assert seniority is not None
    return seniority


def test_same_seed_same_rows_other_seed_other_rows() -> None:
    assert h.generate_history(200, seed=3) == h.generate_history(200, seed=3)
    assert h.generate_history(200, seed=3) != h.generate_history(200, seed=4)


@pytest.mark.parametrize("seniority", list(h.TITLES))
def test_every_title_reads_as_its_seniority(seniority: str) -> None:
    assert {classify_title(t)[0] for t in h.TITLES[seniority]} == {seniority}


def test_the_documented_mix(rows: list[dict[str, Any]]) -> None:
    def share(test: Callable[[dict[str, Any]], bool]) -> float:
        return sum(1 for r in rows if test(r)) / N

    tolerance = 4 * math.sqrt(0.25 / N)  # four standard errors of a share
    free = share(lambda r: str(r["email"]).split("@")[1] in h.FREE_MAIL)
    assert free == pytest.approx(h.FREE_EMAIL_SHARE, abs=tolerance)
    assert share(lambda r: r["industry"] is None) == pytest.approx(
        h.NO_INDUSTRY_SHARE, abs=tolerance
    )
    assert share(lambda r: r["employees"] is None) == pytest.approx(
        h.NO_EMPLOYEES_SHARE, abs=tolerance
    )
    sizes = [r["employees"] for r in rows if r["employees"] is not None]
    assert min(sizes) >= 5 and max(sizes) <= 20_000
    assert share(lambda r: r["converted"] == "yes") == pytest.approx(0.28, abs=0.03)


def test_the_true_probability_is_the_stated_signal_plus_normal_noise(
    rows: list[dict[str, Any]],
) -> None:
    residuals = []
    for row in rows:
        p = float(row["true_probability"])
        signal = h.true_log_odds(
            seniority=_seniority(row),
            industry=row["industry"],
            employees=row["employees"],
            free_email=str(row["email"]).split("@")[1] in h.FREE_MAIL,
            request_type=str(row["request_type"]),
        )
        residuals.append(math.log(p / (1 - p)) - signal)
    assert statistics.fmean(residuals) == pytest.approx(0.0, abs=4 * h.NOISE_SD / math.sqrt(N))
    assert statistics.stdev(residuals) == pytest.approx(h.NOISE_SD, rel=0.05)


def test_outcomes_are_drawn_with_the_true_probability(rows: list[dict[str, Any]]) -> None:
    probabilities = [float(r["true_probability"]) for r in rows]
    expected = sum(probabilities)
    spread = math.sqrt(sum(p * (1 - p) for p in probabilities))
    converted = sum(1 for r in rows if r["converted"] == "yes")
    assert abs(converted - expected) < 4 * spread
    # and they follow it: leads above the median probability convert far more often
    median = statistics.median(probabilities)
    high = [r["converted"] == "yes" for r in rows if float(r["true_probability"]) > median]
    low = [r["converted"] == "yes" for r in rows if float(r["true_probability"]) <= median]
    assert statistics.fmean(high) > 2 * statistics.fmean(low)


def test_the_csv_loads_as_leads_with_their_outcomes(tmp_path: Path) -> None:
    rows = h.generate_history(300, seed=5)
    path = tmp_path / "history.csv"
    assert h.write_history(path, rows) == 300
    with path.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    assert tuple(header) == h.FIELDS
    parsed = list(read_leads(path))
    assert all(p.lead is not None for p in parsed), [p.reason for p in parsed if p.lead is None]
    by_id = {p.lead.id: p.lead for p in parsed if p.lead is not None}
    assert set(by_id) == {r["id"] for r in rows}
    for row in rows:
        fields = by_id[str(row["id"])].fields
        assert fields["converted"] == row["converted"]
        assert fields.get("employees") == row["employees"]
        assert fields.get("industry") == row["industry"]
