"""Predictive scoring: the features a model reads from a lead, and a linear model that scores.

    model = LinearModel.from_json(stored)          # plain JSON: no pickle, no scikit-learn
    model.predict_many(contexts)                   # [0.31, 0.07, ...]: one matrix, one matmul
    model.explain(context, top=5)                  # what moved this lead's odds, and how much

A lead's features come from the data routing conditions see (`Router.context`):

- `employees`, `annual_revenue`: log1p of the number; when the number is missing, the indicator
  `employees_missing` (`annual_revenue_missing`) is 1 instead, so a linear model does not read
  "unknown" as "zero employees";
- `fit_score`, `intent_score`: as given, when present;
- one-hot text fields, lower-cased: `industry=software`, `seniority=vp`, `department=sales`,
  `country=us`, `segment=c`, `lead_source=webinar`, `channel=web_form`, `request_type=demo`,
  `product_interest=...`, and `account.status=customer` when a matched account is present;
- booleans as 1/0: `free_email` (when known), `has_phone` (always), `account.named` (with an
  account).

Any other missing value is simply absent (0 for the model). The model's log-odds are
`intercept + sum(coef * (x - mean) / scale)` with the mean and scale of the training rows, so the
intercept is the log-odds of the average training lead and `explain` splits the rest into one
effect per lead field: how much this lead's value, against the average lead's, moves the odds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

FORMAT = "leadroute/linear-model"
FORMAT_VERSION = 1

LOG_NUMBERS = ("employees", "annual_revenue")
NUMBERS = ("fit_score", "intent_score")
CATEGORIES = (
    "industry",
    "seniority",
    "department",
    "country",
    "segment",
    "lead_source",
    "channel",
    "request_type",
    "product_interest",
)
_MISSING = "_missing"

_BOOLEAN_LABELS: Mapping[str, tuple[str, str]] = {
    "free_email": ("free-mail address", "company email address"),
    "has_phone": ("has a phone number", "no phone number"),
    "account.named": ("named account", "not a named account"),
}

Vector = npt.NDArray[np.float64]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        if isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str) and value.strip():
            number = float(value.replace(",", ""))
        else:
            return None
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool | list | tuple | dict):
        return None
    text = str(value).strip().lower()
    return text or None


def features(data: Mapping[str, Any]) -> dict[str, float]:
    """The model's features of one lead context (see the module docstring)."""
    # Runs once per lead scored: plain strings and numbers take the short paths.
    out: dict[str, float] = {}
    get = data.get
    for name in LOG_NUMBERS:
        value: Any = get(name)
        kind = type(value)
        number = float(value) if kind is float else _number(value)
        if number is not None and 0 <= number < math.inf:  # NaN fails both comparisons
            out[name] = math.log1p(number)
        else:
            out[name + _MISSING] = 1.0
    for name in NUMBERS:
        value = get(name)
        if value is not None:
            number = _number(value)
            if number is not None:
                out[name] = number
    for name in CATEGORIES:
        value = get(name)
        if value is None:
            continue
        text = value.strip().lower() if type(value) is str else _text(value)
        if text:
            out[name + "=" + text] = 1.0
    free = get("free_email")
    if free is True or free is False:
        out["free_email"] = 1.0 if free else 0.0
    out["has_phone"] = 1.0 if _text(get("phone")) or _text(get("mobile_phone")) else 0.0
    account = get("account")
    if account is not None and isinstance(account, Mapping):
        status = _text(account.get("status"))
        if status is not None:
            out["account.status=" + status] = 1.0
        named = account.get("named")
        if named is True or named is False:
            out["account.named"] = 1.0 if named else 0.0
    return out


def field_of(feature: str) -> str:
    """The lead field a feature comes from: 'industry=software' -> 'industry',
    'employees_missing' -> 'employees'."""
    name = feature.split("=", 1)[0]
    if name.endswith(_MISSING) and name[: -len(_MISSING)] in LOG_NUMBERS:
        return name[: -len(_MISSING)]
    return name


def _label(name: str, found: Mapping[str, float], data: Mapping[str, Any]) -> tuple[Any, str]:
    """(value, words) of lead field `name`, as the model read it (`found` = features(data))."""
    if name in LOG_NUMBERS:
        if name not in found:
            return None, f"{name.replace('_', ' ')} unknown"
        number = math.expm1(found[name])
        return round(number, 2), f"{name.replace('_', ' ')} {number:,.0f}"
    if name in NUMBERS:
        if name not in found:
            return None, f"{name} unknown"
        return found[name], f"{name} {found[name]:g}"
    if name in _BOOLEAN_LABELS:
        yes, no = _BOOLEAN_LABELS[name]
        if name not in found:
            return None, f"{name} unknown" if name != "account.named" else no
        return found[name] == 1.0, yes if found[name] == 1.0 else no
    if name.startswith("account."):
        account = data.get("account")
        value = _text(account.get(name[8:])) if isinstance(account, Mapping) else None
    else:
        value = _text(data.get(name))
    return value, f"{name} is {value}" if value is not None else f"{name} unknown"


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _sigmoid_many(z: Vector) -> Vector:
    small = np.exp(-np.abs(z))  # never overflows; the same two branches as _sigmoid
    result: Vector = np.where(z >= 0, 1.0 / (1.0 + small), small / (1.0 + small))
    return result


def _size(item: tuple[str, float]) -> float:
    return -abs(item[1])


@dataclass(frozen=True, slots=True)
class Contribution:
    """How much one lead field moves the log-odds against the average training lead."""

    feature: str  # the lead field: industry, employees, account.status, ...
    value: Any  # the lead's value as the model read it (lower-case text, number, bool) or None
    effect: float  # change in log-odds; positive raises the probability
    label: str  # in words: "seniority is vp", "employees 5,000"

    def as_record(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "value": self.value,
            "effect": round(self.effect, 4),
            "label": self.label,
        }


@dataclass(frozen=True)
class LinearModel:
    """A logistic model over standardised features, stored as plain JSON."""

    name: str
    version: int
    features: tuple[str, ...]
    coefficients: tuple[float, ...]  # per standardised feature
    intercept: float  # log-odds of the average training lead
    means: tuple[float, ...]  # training mean of each feature
    scales: tuple[float, ...]  # training standard deviation of each feature (1 if constant)
    base_rate: float  # share of positive outcomes in the training rows

    _index: dict[str, int] = field(init=False, repr=False, compare=False)
    _padded: Vector = field(init=False, repr=False, compare=False)  # weights, then a 0
    _weight_list: tuple[float, ...] = field(init=False, repr=False, compare=False)
    _bias: float = field(init=False, repr=False, compare=False)
    _field: tuple[str, ...] = field(init=False, repr=False, compare=False)  # per feature
    _offsets: dict[str, float] = field(init=False, repr=False, compare=False)  # per lead field

    def __post_init__(self) -> None:
        n = len(self.features)
        if not (len(self.coefficients) == len(self.means) == len(self.scales) == n):
            raise ValueError("features, coefficients, means and scales differ in length")
        if len(set(self.features)) != n:
            raise ValueError("a feature is listed twice")
        numbers = (*self.coefficients, *self.means, *self.scales, self.intercept, self.base_rate)
        if not all(math.isfinite(x) for x in numbers):
            raise ValueError("the model holds a number that is not finite")
        if any(s <= 0 for s in self.scales):
            raise ValueError("every scale must be positive")
        # Fold the scaling into the weights: log-odds = bias + x . (coef / scale).
        weights = np.asarray(self.coefficients, dtype=np.float64) / np.asarray(self.scales)
        bias = self.intercept - float(np.dot(weights, np.asarray(self.means, dtype=np.float64)))
        # A lead field's effect is sum(weight * x) over its features present in the lead,
        # minus the same sum at the training means (its offset).
        fields = tuple(field_of(name) for name in self.features)
        offsets = dict.fromkeys(fields, 0.0)
        for name, w, mean in zip(fields, weights.tolist(), self.means, strict=True):
            offsets[name] -= w * mean
        object.__setattr__(self, "_index", {name: j for j, name in enumerate(self.features)})
        object.__setattr__(self, "_padded", np.append(weights, 0.0))
        object.__setattr__(self, "_weight_list", tuple(float(w) for w in weights))
        object.__setattr__(self, "_bias", bias)
        object.__setattr__(self, "_field", fields)
        object.__setattr__(self, "_offsets", offsets)

    # -- scoring -----------------------------------------------------------------------------

    @property
    def baseline(self) -> float:
        """Probability of the average training lead (all features at their training mean)."""
        return _sigmoid(self.intercept)

    def log_odds(self, row: Mapping[str, Any]) -> float:
        index, weights = self._index, self._weight_list
        z = self._bias
        for key, value in features(row).items():
            j = index.get(key)
            if j is not None:
                z += weights[j] * value
        return z

    def predict(self, row: Mapping[str, Any]) -> float:
        """Probability of the positive outcome for one lead context."""
        return _sigmoid(self.log_odds(row))

    def predict_many(self, rows: Sequence[Mapping[str, Any]]) -> list[float]:
        """Probabilities for many lead contexts: one feature matrix, one matrix product."""
        if not rows:
            return []
        index, width = self._index, len(self.features)
        keys: list[str] = []
        values: list[float] = []
        counts: list[int] = []
        for row in rows:
            found = features(row)
            keys.extend(found)
            values.extend(found.values())
            counts.append(len(found))
        # Features the model does not know go to an extra column whose weight is 0.
        columns = np.fromiter((index.get(k, width) for k in keys), dtype=np.intp, count=len(keys))
        lines = np.repeat(np.arange(len(rows)), counts)
        matrix = np.zeros((len(rows), width + 1), dtype=np.float64)
        matrix[lines, columns] = values
        probabilities: list[float] = _sigmoid_many(matrix @ self._padded + self._bias).tolist()
        return probabilities

    def explain(self, row: Mapping[str, Any], top: int | None = 5) -> list[Contribution]:
        """The lead fields that move this lead's log-odds most, against the average training
        lead, largest first. With every field (top=None) the effects add up:
        intercept + sum(effects) == log_odds(row)."""
        present = features(row)
        index, weights, fields = self._index, self._weight_list, self._field
        effects = dict(self._offsets)
        for key, x in present.items():
            j = index.get(key)
            if j is not None:
                effects[fields[j]] += weights[j] * x
        ranked = sorted(effects.items(), key=_size)  # stable: ties keep the feature order
        if top is not None:
            ranked = ranked[:top]
        contributions = []
        for name, effect in ranked:  # words only for the fields shown
            value, label = _label(name, present, row)
            contributions.append(Contribution(name, value, effect, label))
        return contributions

    def weights(self) -> list[tuple[str, float]]:
        """Each feature's coefficient in its own units (log-odds per unit of the feature, e.g.
        per one-hot step), largest magnitude first."""
        pairs = [(name, float(w)) for name, w in zip(self.features, self._weight_list, strict=True)]
        return sorted(pairs, key=lambda p: (-abs(p[1]), p[0]))

    # -- storage -----------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """A plain JSON object (str, numbers, lists): safe to store and to load anywhere."""
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "version": self.version,
            "intercept": self.intercept,
            "base_rate": self.base_rate,
            "weights": [
                {"feature": f, "coefficient": c, "mean": m, "scale": s}
                for f, c, m, s in zip(
                    self.features, self.coefficients, self.means, self.scales, strict=True
                )
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LinearModel:
        """The model of a `to_json()` object; ValueError says what is wrong with a bad one."""
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise ValueError(f"not a leadroute linear model (expected format '{FORMAT}')")
        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"unsupported model format version {data.get('format_version')!r}")
        try:
            weights = data["weights"]
            return cls(
                name=str(data["name"]),
                version=int(data["version"]),
                features=tuple(str(w["feature"]) for w in weights),
                coefficients=tuple(float(w["coefficient"]) for w in weights),
                intercept=float(data["intercept"]),
                means=tuple(float(w["mean"]) for w in weights),
                scales=tuple(float(w["scale"]) for w in weights),
                base_rate=float(data["base_rate"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed model: missing or wrong {exc}") from None
