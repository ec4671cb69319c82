"""Training on a history with a known signal, model versions in the store, histories."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_auc_score

from leadroute.adapters.store.model_store import ModelStore
from leadroute.adapters.store.sql import Store
from leadroute.domain.normalize import Normalizer
from leadroute.domain.predictive import features
from leadroute.domain.titles import classify_title
from leadroute.sample import history as h
from leadroute.sample.org import INDUSTRIES
from leadroute.services.predictive import (
    MIN_ROWS,
    History,
    Training,
    history_from_file,
    history_from_store,
    outcome_of,
    train,
)
from leadroute.services.routing import RoutingService
from leadroute.services.training import _pipeline
from tests.services import fixtures as fx

ROWS = 3000


@pytest.fixture(scope="module")
def normalizer() -> Normalizer:
    return Normalizer()


@pytest.fixture(scope="module")
def synthetic() -> list[dict[str, Any]]:
    return h.generate_history(ROWS, seed=7)


@pytest.fixture(scope="module")
def history(
    synthetic: list[dict[str, Any]],
    tmp_path_factory: pytest.TempPathFactory,
    normalizer: Normalizer,
) -> History:
    path = tmp_path_factory.mktemp("history") / "history.csv"
    h.write_history(path, synthetic)
    return history_from_file(path, "converted", normalizer=normalizer)


@pytest.fixture(scope="module")
def training(history: History) -> Training:
    return train(history, name="conversion", folds=5)


# -- the known signal ----------------------------------------------------------------------------


def test_the_file_is_read_and_cleaned_as_routing_would(
    history: History, synthetic: list[dict[str, Any]]
) -> None:
    assert (history.size, history.skipped, history.rejected) == (ROWS, 0, 0)
    assert history.outcomes == [1 if r["converted"] == "yes" else 0 for r in synthetic]
    # the file has titles and emails; the normalizer derives what the model reads from them
    assert [r["seniority"] for r in history.rows] == [
        classify_title(s["title"])[0] for s in synthetic
    ]
    assert [r["free_email"] for r in history.rows] == [
        s["email"].split("@")[1] in h.FREE_MAIL for s in synthetic
    ]
    assert all("converted" not in r for r in history.rows)  # the outcome is no lead field


def test_cross_validated_auc_is_well_above_chance_and_near_the_oracle(
    training: Training, synthetic: list[dict[str, Any]]
) -> None:
    outcomes = [r["converted"] == "yes" for r in synthetic]
    oracle = roc_auc_score(outcomes, [r["true_probability"] for r in synthetic])
    metrics = training.metrics
    assert metrics.auc_mean >= 0.75
    assert oracle - 0.05 <= metrics.auc_mean <= oracle
    assert len(metrics.fold_aucs) == 5 and metrics.auc_std < 0.05
    # the folds' held-out predictions, pooled, rank about as well
    assert roc_auc_score(outcomes, training.held_out) == pytest.approx(metrics.auc_mean, abs=0.02)


def _true_effects() -> dict[str, dict[str, float]]:
    """The generator's signal per category, keyed as the model's features are."""
    industries = {i: h.INDUSTRY.get(i, 0.0) for i in INDUSTRIES}
    return {
        "seniority": dict(h.SENIORITY),
        "industry": {k.lower(): v for k, v in industries.items()},
        "request_type": dict(h.REQUEST),
    }


def test_learned_coefficients_have_the_signs_of_the_known_signal(training: Training) -> None:
    learned = dict(training.model.weights())  # log-odds per unit of each feature
    for name, effects in _true_effects().items():
        for a, b in combinations(effects, 2):
            true_gap = effects[a] - effects[b]
            if abs(true_gap) < 0.5:  # too close to tell apart on 3,000 leads
                continue
            gap = learned[f"{name}={a}"] - learned[f"{name}={b}"]
            assert math.copysign(1, gap) == math.copysign(1, true_gap), (name, a, b, gap)
    assert learned["free_email"] < 0
    assert learned["free_email"] == pytest.approx(h.FREE_EMAIL, abs=0.4)
    # employees enter as log1p: per tenfold size the model adds coef * ln(10)
    assert learned["employees"] * math.log(10) == pytest.approx(h.EMPLOYEES_PER_DECADE, abs=0.25)


def test_probabilities_are_calibrated_on_held_out_leads(
    history: History, training: Training
) -> None:
    metrics = training.metrics
    assert metrics.brier < metrics.brier_base
    assert metrics.calibration_error < 0.05
    assert sum(b.count for b in metrics.bins) == metrics.rows
    assert round(sum(b.observed * b.count for b in metrics.bins)) == metrics.positives
    predicted = [b.predicted for b in metrics.bins]
    assert predicted == sorted(predicted)
    # the bins are of the held-out predictions, by decile
    observed, mean_predicted = calibration_curve(
        history.outcomes, training.held_out, n_bins=10, strategy="quantile"
    )
    assert [b.observed for b in metrics.bins] == pytest.approx(list(observed))
    assert predicted == pytest.approx(list(mean_predicted))


def test_the_exported_model_scores_like_the_fitted_pipeline(
    history: History, training: Training
) -> None:
    fitted = _pipeline(1.0).fit([features(r) for r in history.rows], history.outcomes)
    expected = fitted.predict_proba([features(r) for r in history.rows[:500]])[:, 1]
    got = training.model.predict_many(history.rows[:500])
    assert np.allclose(got, expected, atol=1e-9)
    assert training.model.base_rate == pytest.approx(np.mean(history.outcomes))


# -- refusals ------------------------------------------------------------------------------------


def test_a_single_class_is_refused(history: History) -> None:
    rows = [r for r, y in zip(history.rows, history.outcomes, strict=True) if y == 0][:200]
    with pytest.raises(ValueError, match="all 200 leads are lost"):
        train(History("test", rows, [0] * len(rows)))


def test_too_few_rows_are_refused(history: History) -> None:
    n = MIN_ROWS - 1
    with pytest.raises(ValueError, match=f"only {n} closed leads"):
        train(History("test", history.rows[:n], history.outcomes[:n]))


def test_too_few_of_a_class_for_the_folds_is_refused(history: History) -> None:
    rows, outcomes = history.rows[:100], [1, 1] + [0] * 98
    with pytest.raises(ValueError, match="2 converted and 98 lost leads: 5-fold"):
        train(History("test", rows, outcomes), folds=5)


# -- reading histories ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "outcome"),
    [
        ("converted", 1),
        ("Won", 1),
        ("TRUE", 1),
        ("1", 1),
        ("1.0", 1),
        (True, 1),
        ("yes", 1),
        ("lost", 0),
        ("Disqualified", 0),
        ("false", 0),
        ("0", 0),
        ("no", 0),
        ("", None),
        ("open", None),
        (None, None),
    ],
)
def test_outcome_values(value: Any, outcome: int | None) -> None:
    assert outcome_of(value) == outcome


def test_blank_and_unknown_outcomes_are_skipped_and_bad_rows_counted(
    tmp_path: Path, normalizer: Normalizer
) -> None:
    path = tmp_path / "closed.jsonl"
    records = [
        {"email": "a@x.com", "Title": "VP Sales", "Outcome": "Won"},
        {"email": "b@y.com", "Outcome": "lost"},
        {"email": "c@z.com", "Outcome": ""},
        {"email": "d@w.com", "Outcome": "open"},
        {"first_name": "Nobody", "Outcome": "won"},  # nothing identifies the lead
    ]
    path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    found = history_from_file(path, "outcome", normalizer=normalizer)
    assert (found.outcomes, found.skipped, found.rejected) == ([1, 0], 2, 1)
    assert found.rows[0]["seniority"] == "vp" and found.rows[0]["department"] == "sales"


def test_history_from_store_reads_converted_and_disqualified_leads(store: Store) -> None:
    fx.activate(store, fx.org())
    leads = fx.leads(12)
    store.add_leads(leads)
    service = RoutingService(store, clock=lambda: fx.NOW)
    service.route_pending()
    for lead in leads[:4]:
        service.close_lead(lead.id, "converted")
    for lead in leads[4:9]:
        service.close_lead(lead.id, "disqualified")
    service.close_lead(leads[9].id, "contacted")  # not closed either way: not history

    found = history_from_store(store)
    ids = [row["id"] for row in found.rows]
    assert sorted(ids) == sorted(lead.id for lead in leads[:9])
    assert {i: y for i, y in zip(ids, found.outcomes, strict=True)} == {
        **{lead.id: 1 for lead in leads[:4]},
        **{lead.id: 0 for lead in leads[4:9]},
    }
    # rows are what routing conditions see: derived fields included
    assert found.rows[0]["segment"] == "B" and found.rows[0]["free_email"] is False


# -- model versions ------------------------------------------------------------------------------


def test_model_versions_in_the_store(store: Store, training: Training) -> None:
    models = ModelStore(store)
    metrics = training.metrics.as_record()
    assert models.active("conversion") is None
    assert models.save(training.model, metrics, rows=ROWS) == 1
    assert models.save(training.model, metrics, rows=ROWS) == 2
    assert models.save(replace(training.model, name="other"), {}, rows=5) == 1

    active = models.active("conversion")
    assert active is not None and active.version == 2
    assert active.features == training.model.features
    assert active.coefficients == training.model.coefficients  # exact, through JSON
    rows = [{"seniority": "vp", "employees": 900}, {"free_email": True}]
    assert active.predict_many(rows) == training.model.predict_many(rows)

    first = models.get("conversion", 1)
    assert first is not None and not first.active and first.rows == ROWS
    assert first.metrics["auc_mean"] == metrics["auc_mean"]
    assert [(m.name, m.version, m.active) for m in models.list()] == [
        ("conversion", 1, False),
        ("conversion", 2, True),
        ("other", 1, True),
    ]

    assert models.activate("conversion", 1)
    again = models.active("conversion")
    assert again is not None and again.version == 1
    assert [m.active for m in models.list("conversion")] == [True, False]
    assert models.active("other") is not None  # other names are untouched
    assert not models.activate("conversion", 9)
    assert models.get("conversion", 9) is None


def test_without_scikit_learn_scoring_works_and_training_says_what_to_install(
    training: Training, history: History, tmp_path: Path
) -> None:
    """In a process where scikit-learn cannot be imported (as after `pip install leadroute`
    without the `train` extra), every CLI module loads, a stored model scores and explains a
    lead exactly as in this process, and `train` answers with what to install."""
    import json
    import subprocess
    import sys
    import textwrap

    from leadroute.adapters.store.model_store import ModelStore

    db = tmp_path / "scores.db"
    store = Store(f"sqlite:///{db}")
    store.migrate()
    ModelStore(store).save(training.model, training.metrics.as_record(), history.size)
    store.dispose()
    rows = history.rows[:60]
    expected = [round(p, 12) for p in training.model.predict_many(rows)]
    (tmp_path / "rows.json").write_text(json.dumps({"rows": rows, "outcomes": [1, 0] * 30}))
    script = textwrap.dedent(
        f"""
        import json, sys

        class NoSklearn:
            def find_spec(self, name, path=None, target=None):
                if name == "sklearn" or name.startswith("sklearn."):
                    raise ImportError("No module named 'sklearn'", name="sklearn")
                return None

        sys.meta_path.insert(0, NoSklearn())
        import leadroute.cli  # every command module
        from leadroute.adapters.store.model_store import ModelStore
        from leadroute.adapters.store.sql import Store
        from leadroute.services.predictive import History, TrainingUnavailable, train

        data = json.load(open({str(tmp_path / "rows.json")!r}))
        model = ModelStore(Store({f"sqlite:///{db}"!r})).active("conversion")
        scores = [round(p, 12) for p in model.predict_many(data["rows"])]
        assert model.explain(data["rows"][0]), "no explanation"
        try:
            train(History("file", data["rows"], data["outcomes"]))
        except TrainingUnavailable as exc:
            assert "pip install 'leadroute[train]'" in str(exc), exc
        else:
            raise AssertionError("trained without scikit-learn")
        assert not [m for m in sys.modules if m.startswith("sklearn")]
        print(json.dumps(scores))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == expected
