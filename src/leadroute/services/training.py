"""Training the predictive model with scikit-learn: the only module that imports it.

scikit-learn is the `train` extra (`pip install 'leadroute[train]'`); `services.predictive.train`
imports this module when asked to train, so every other command, scoring with a stored model
included, starts without it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.calibration import calibration_curve  # type: ignore[import-untyped]
from sklearn.feature_extraction import DictVectorizer  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.metrics import brier_score_loss, roc_auc_score  # type: ignore[import-untyped]
from sklearn.model_selection import StratifiedKFold  # type: ignore[import-untyped]
from sklearn.pipeline import Pipeline  # type: ignore[import-untyped]
from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]

from leadroute.domain.predictive import LinearModel, features
from leadroute.services.predictive import CalibrationBin, History, Metrics, Training


def _pipeline(c: float) -> Pipeline:
    return Pipeline(
        [
            ("features", DictVectorizer(sparse=False)),
            ("scale", StandardScaler()),
            ("model", LogisticRegression(C=c, max_iter=2000)),
        ]
    )


def _bins(y: np.ndarray[Any, Any], p: np.ndarray[Any, Any], n_bins: int) -> list[CalibrationBin]:
    """Reliability per decile of predicted probability (sklearn's calibration_curve with
    strategy='quantile'), with the count of leads in each non-empty bin."""
    observed, predicted = calibration_curve(y, p, n_bins=n_bins, strategy="quantile")
    edges = np.percentile(p, np.linspace(0, 100, n_bins + 1))
    counts = np.bincount(np.searchsorted(edges[1:-1], p), minlength=n_bins)
    counts = counts[counts != 0]
    if len(counts) != len(observed):  # calibration_curve binned differently than expected
        raise RuntimeError("calibration bins do not line up with their counts")
    return [
        CalibrationBin(float(pr), float(ob), int(n))
        for pr, ob, n in zip(predicted, observed, counts, strict=True)
    ]


def fit(
    history: History,
    *,
    name: str = "conversion",
    folds: int = 5,
    seed: int = 0,
    c: float = 1.0,
    target: str = "",
) -> Training:
    """Cross-validate, then fit on every row and export the model (version 0: unsaved)."""
    x = [features(row) for row in history.rows]
    y = np.asarray(history.outcomes, dtype=np.int64)
    held_out = np.zeros(len(y), dtype=np.float64)
    aucs = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fit_rows, test_rows in splitter.split(np.zeros(len(y)), y):
        pipeline = _pipeline(c).fit([x[i] for i in fit_rows], y[fit_rows])
        scores = pipeline.predict_proba([x[i] for i in test_rows])[:, 1]
        held_out[test_rows] = scores
        aucs.append(float(roc_auc_score(y[test_rows], scores)))
    final = _pipeline(c).fit(x, y)
    vectorizer: DictVectorizer = final.named_steps["features"]
    scaler: StandardScaler = final.named_steps["scale"]
    regression: LogisticRegression = final.named_steps["model"]
    model = LinearModel(
        name=name,
        version=0,
        features=tuple(str(f) for f in vectorizer.feature_names_),
        coefficients=tuple(float(v) for v in regression.coef_[0]),
        intercept=float(regression.intercept_[0]),
        means=tuple(float(v) for v in scaler.mean_),
        scales=tuple(float(v) for v in scaler.scale_),
        base_rate=float(y.mean()),
    )
    metrics = Metrics(
        rows=len(y),
        positives=int(y.sum()),
        folds=folds,
        fold_aucs=tuple(aucs),
        brier=float(brier_score_loss(y, held_out)),
        bins=tuple(_bins(y, held_out, 10)),
        features=len(model.features),
        source=history.source,
        target=target,
    )
    return Training(model, metrics, tuple(float(p) for p in held_out))
