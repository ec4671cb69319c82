"""Predictive scoring use cases: gather a history, train and validate a model, explain a lead.

    history = history_from_file(Path("closed.csv"), target="converted", context=context_for(store))
    training = train(history, name="conversion", folds=5)
    training.metrics.auc_mean, training.metrics.brier      # held-out: cross-validated
    version = models.save(training.model, training.metrics.as_record(), history.size)

`models` is where model versions are kept (a `ModelVersions`: the store's is
`adapters.registry.model_versions(store)`).

The model is a logistic regression (scikit-learn: DictVectorizer -> StandardScaler ->
LogisticRegression, L2-regularised, C=1) on `leadroute.domain.predictive.features`, exported to a
`LinearModel` that scores with numpy alone. Classes are NOT re-weighted (no class_weight=
"balanced"): routes compare the probability with thresholds ("conversion_probability > 0.3"), so
it must stay a calibrated probability near the base rate; balancing would push every probability
toward 0.5 and changes the ranking (AUC) very little.

Every metric comes from held-out predictions: StratifiedKFold splits the history, each fold's
model scores the leads it did not see, and AUC (per fold: mean and spread), Brier score and the
reliability table (predicted vs observed conversion per decile of predicted probability) are
computed on those. The model that is stored is then fitted on every row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from leadroute.adapters.leadfile import canonical_header, read_leads
from leadroute.adapters.store.sql import Store
from leadroute.domain.config import compile_config
from leadroute.domain.engine import Router
from leadroute.domain.fields import Vocabulary
from leadroute.domain.lead import Lead, LeadLimits
from leadroute.domain.matching import match_account
from leadroute.domain.normalize import Normalizer
from leadroute.domain.org import Account, Org
from leadroute.domain.predictive import Contribution, LinearModel
from leadroute.ports import ModelVersions

MIN_ROWS = 50
POSITIVE = frozenset({"converted", "won", "closed won", "true", "1", "yes", "y"})
NEGATIVE = frozenset({"lost", "closed lost", "disqualified", "false", "0", "no", "n"})
STORE_OUTCOMES: Mapping[str, int] = {"converted": 1, "disqualified": 0}

Context = Callable[[Lead, Account | None], dict[str, Any]]


# -- histories ---------------------------------------------------------------------------------


@dataclass
class History:
    """Closed leads as routing sees them (lead contexts), each with its outcome (1 or 0)."""

    source: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    outcomes: list[int] = field(default_factory=list)
    skipped: int = 0  # records whose outcome is blank or not a known value
    rejected: int = 0  # records the lead reader rejected (nothing identifies the lead, ...)

    @property
    def size(self) -> int:
        return len(self.rows)

    @property
    def positives(self) -> int:
        return sum(self.outcomes)


def outcome_of(value: Any) -> int | None:
    """1 for converted/won/true/1/yes, 0 for lost/disqualified/false/0/no, else None."""
    if isinstance(value, bool):
        return int(value)
    if value is None:
        return None
    text = str(value).strip().lower()
    if text.endswith(".0"):  # spreadsheets write 1 as 1.0
        text = text[:-2]
    if text in POSITIVE:
        return 1
    if text in NEGATIVE:
        return 0
    return None


def plain_context(org: Org) -> Context:
    """What routing conditions see, without a routing config: the lead's fields, the derived
    ones (free_email, segment, ...) and the matched account; no fit score."""
    config, issues = compile_config(
        {
            "queues": {"none": {}},
            "flow": [{"id": "all", "fallback": True, "then": {"queue": "none"}}],
        },
        org,
    )
    assert config is not None, issues
    return Router(config, org).context


def context_for(store: Store) -> Context:
    """The active config's view of a lead (with its fit score), else `plain_context`. The
    predictive score itself is left out: it is no feature, and the model may not exist yet."""
    from leadroute.services.routing import RoutingService

    try:
        router = RoutingService(store).router
    except (LookupError, ValueError):
        return plain_context(store.load_org())

    def context(lead: Lead, account: Account | None) -> dict[str, Any]:
        return router.context(lead, account, predict=False)

    return context


def history_from_file(
    path: Path,
    target: str = "converted",
    *,
    context: Context | None = None,
    org: Org | None = None,
    normalizer: Normalizer | None = None,
    limits: LeadLimits | None = None,
) -> History:
    """Closed leads from a CSV or JSON-lines file, with the outcome in column `target`.

    Each lead is cleaned with the `Normalizer` (seniority and department from the title,
    country codes, numbers, free mail...) and matched to an account of `org` by domain, as
    routing would, before its context is taken (default: `plain_context(org)`).
    """
    org = org if org is not None else Org()
    context = context or plain_context(org)
    normalizer = normalizer or Normalizer()
    vocabulary = Vocabulary()
    wanted = target.strip().casefold()
    column = canonical_header(target, vocabulary)
    history = History(source=str(path))
    for parsed in read_leads(path, vocabulary=vocabulary, limits=limits):
        if parsed.lead is None:
            history.rejected += 1
            continue
        value = next(
            (v for k, v in parsed.raw.items() if str(k).strip().casefold() == wanted), None
        )
        if value is None and column is not None:
            value = parsed.lead.fields.get(column)
        outcome = outcome_of(value)
        if outcome is None:
            history.skipped += 1
            continue
        fields = normalizer.normalize(parsed.lead.fields).fields
        fields.pop(column or target, None)
        lead = Lead(
            id=parsed.lead.id,
            fields=fields,
            source=parsed.lead.source,
            channel=parsed.lead.channel,
            received_at=parsed.lead.received_at,
        )
        history.rows.append(context(lead, match_account(fields, org)))
        history.outcomes.append(outcome)
    return history


def history_from_store(store: Store, *, context: Context | None = None) -> History:
    """Closed leads of the store: status converted (1) or disqualified (0), with the fields
    and matched account they were routed with, seen through `context_for(store)`."""
    context = context or context_for(store)
    accounts = store.load_org().accounts
    history = History(source="store")
    for status, outcome in STORE_OUTCOMES.items():
        for stored in store.leads(status=status):
            account = accounts.get(stored.account_id or "")
            history.rows.append(context(stored.lead, account))
            history.outcomes.append(outcome)
    return history


# -- training ----------------------------------------------------------------------------------


class TrainingUnavailable(RuntimeError):
    """scikit-learn is not installed (it is the `train` extra)."""


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    predicted: float  # mean predicted probability of the bin's leads
    observed: float  # share of them that converted
    count: int


@dataclass(frozen=True)
class Metrics:
    """How well a model ranks and how honest its probabilities are, on held-out leads."""

    rows: int
    positives: int
    folds: int
    fold_aucs: tuple[float, ...]
    brier: float
    bins: tuple[CalibrationBin, ...]
    features: int
    source: str = ""
    target: str = ""

    @property
    def base_rate(self) -> float:
        return self.positives / self.rows

    @property
    def auc_mean(self) -> float:
        return float(np.mean(self.fold_aucs))

    @property
    def auc_std(self) -> float:
        return float(np.std(self.fold_aucs))

    @property
    def brier_base(self) -> float:
        """Brier score of always predicting the base rate: a model must beat it."""
        return self.base_rate * (1 - self.base_rate)

    @property
    def calibration_error(self) -> float:
        """Mean |observed - predicted| over the bins, weighted by their leads (ECE)."""
        return sum(b.count * abs(b.observed - b.predicted) for b in self.bins) / self.rows

    def as_record(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "positives": self.positives,
            "base_rate": round(self.base_rate, 4),
            "folds": self.folds,
            "auc_mean": round(self.auc_mean, 4),
            "auc_std": round(self.auc_std, 4),
            "fold_aucs": [round(a, 4) for a in self.fold_aucs],
            "brier": round(self.brier, 4),
            "brier_base": round(self.brier_base, 4),
            "calibration_error": round(self.calibration_error, 4),
            "calibration": [
                {
                    "predicted": round(b.predicted, 4),
                    "observed": round(b.observed, 4),
                    "count": b.count,
                }
                for b in self.bins
            ],
            "features": self.features,
            "source": self.source,
            "target": self.target,
        }


@dataclass(frozen=True)
class Training:
    model: LinearModel
    metrics: Metrics
    held_out: tuple[float, ...]  # each row's probability from the fold that did not see it


def _check(outcomes: Sequence[int], folds: int) -> None:
    rows, positives = len(outcomes), sum(outcomes)
    if folds < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    if rows < MIN_ROWS:
        raise ValueError(
            f"only {rows} closed leads with an outcome: training needs at least {MIN_ROWS}"
        )
    if positives in (0, rows):
        kind = "converted" if positives else "lost"
        raise ValueError(
            f"all {rows} leads are {kind}: a model needs both converted and lost leads"
        )
    if min(positives, rows - positives) < folds:
        raise ValueError(
            f"{positives} converted and {rows - positives} lost leads: {folds}-fold "
            f"cross-validation needs at least {folds} of each"
        )


def train(
    history: History,
    *,
    name: str = "conversion",
    folds: int = 5,
    seed: int = 0,
    c: float = 1.0,
    target: str = "",
) -> Training:
    """Cross-validate, then fit on every row and export the model (version 0: unsaved). Needs
    scikit-learn (`pip install 'leadroute[train]'`); scoring with a stored model does not."""
    _check(history.outcomes, folds)
    try:
        from leadroute.services import training
    except ImportError as exc:  # scikit-learn is an extra: only training needs it
        raise TrainingUnavailable(
            f"training a model needs scikit-learn: pip install 'leadroute[train]' ({exc.msg})"
        ) from None
    return training.fit(history, name=name, folds=folds, seed=seed, c=c, target=target)


def train_and_save(
    models: ModelVersions,
    history: History,
    *,
    name: str = "conversion",
    folds: int = 5,
    target: str = "",
) -> tuple[Training, int]:
    """Train on a history and keep the model as the next, active version of `name`."""
    training = train(history, name=name, folds=folds, target=target)
    version = models.save(training.model, training.metrics.as_record(), history.size)
    return training, version


# -- explaining --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Explanation:
    lead_id: str
    model: str
    version: int
    probability: float
    base_rate: float  # share of the model's training leads that converted
    baseline: float  # probability of a lead with every feature at its training average
    contributions: tuple[Contribution, ...]


def explain_lead(
    store: Store,
    lead_id: str,
    *,
    models: ModelVersions,
    model: str = "conversion",
    top: int = 5,
) -> Explanation:
    """A stored lead's probability under the active version of `model` in `models`, and the
    lead fields that move it most (as the active routing config over `store` sees the lead)."""
    from leadroute.services.routing import RoutingService

    linear = models.active(model)
    if linear is None:
        raise LookupError(
            f"no active model '{model}': train one with `leadroute score train --name {model}`"
        )
    data = RoutingService(store).lead_context(lead_id)
    return Explanation(
        lead_id,
        linear.name,
        linear.version,
        linear.predict(data),
        linear.base_rate,
        linear.baseline,
        tuple(linear.explain(data, top=top)),
    )
