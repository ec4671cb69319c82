"""Predictive features and the linear model: extraction, JSON storage, batched scoring, explain."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadroute.domain.predictive import LinearModel, features, field_of

FEATURES = (
    "employees",
    "employees_missing",
    "free_email",
    "has_phone",
    "industry=software",
    "industry=retail",
    "seniority=vp",
    "seniority=manager",
    "account.named",
    "account.status=customer",
    "fit_score",
)


def make_model(**overrides: Any) -> LinearModel:
    values: dict[str, Any] = {
        "name": "conversion",
        "version": 3,
        "features": FEATURES,
        "coefficients": (0.6, -0.2, -0.9, 0.1, 0.5, -0.4, 0.7, 0.2, 0.3, 0.25, 0.15),
        "intercept": -1.1,
        "means": (4.2, 0.05, 0.2, 0.5, 0.3, 0.1, 0.15, 0.3, 0.02, 0.01, 35.0),
        "scales": (1.8, 0.22, 0.4, 0.5, 0.46, 0.3, 0.36, 0.46, 0.14, 0.1, 12.0),
        "base_rate": 0.27,
    }
    values.update(overrides)
    return LinearModel(**values)


def logit(p: float) -> float:
    return math.log(p / (1 - p))


# -- features ------------------------------------------------------------------------------------


def test_features_of_a_full_lead_context() -> None:
    data = {
        "employees": 5000,
        "annual_revenue": "1,200,000",
        "industry": "Software",
        "seniority": "vp",
        "department": "Sales",
        "country": "US",
        "segment": "C",
        "lead_source": "Partner Referral",
        "channel": "web_form",
        "request_type": "Demo",
        "product_interest": "Platform",
        "free_email": False,
        "phone": "+14155550100",
        "account": {"status": "customer", "named": True, "industry": "Software"},
        "fit_score": 45,
        "intent_score": 0.8,
        "title": "VP Sales",  # not a feature itself: seniority and department are
        "_fit": object(),
    }
    assert features(data) == {
        "employees": pytest.approx(math.log1p(5000)),
        "annual_revenue": pytest.approx(math.log1p(1_200_000)),
        "industry=software": 1.0,
        "seniority=vp": 1.0,
        "department=sales": 1.0,
        "country=us": 1.0,
        "segment=c": 1.0,
        "lead_source=partner referral": 1.0,
        "channel=web_form": 1.0,
        "request_type=demo": 1.0,
        "product_interest=platform": 1.0,
        "free_email": 0.0,
        "has_phone": 1.0,
        "account.status=customer": 1.0,
        "account.named": 1.0,
        "fit_score": 45.0,
        "intent_score": 0.8,
    }


def test_missing_values_are_absent_and_unknown_sizes_are_flagged() -> None:
    found = features(
        {"industry": "", "seniority": None, "free_email": None, "account": None, "employees": -3}
    )
    assert found == {"employees_missing": 1.0, "annual_revenue_missing": 1.0, "has_phone": 0.0}


def test_a_mobile_phone_counts_as_a_phone_and_odd_values_are_not_features() -> None:
    found = features(
        {
            "mobile_phone": "+447700900123",
            "employees": float("nan"),
            "annual_revenue": 10**400,  # too large for a float
            "fit_score": True,  # a bool is not a score
            "industry": ["Software"],  # a list is not one category
            "account": {"status": None, "named": None},
        }
    )
    assert found == {"employees_missing": 1.0, "annual_revenue_missing": 1.0, "has_phone": 1.0}


@pytest.mark.parametrize(
    ("feature", "field"),
    [
        ("industry=financial services", "industry"),
        ("employees_missing", "employees"),
        ("annual_revenue", "annual_revenue"),
        ("account.status=customer", "account.status"),
        ("free_email", "free_email"),
    ],
)
def test_each_feature_belongs_to_a_lead_field(feature: str, field: str) -> None:
    assert field_of(feature) == field


# -- storage -------------------------------------------------------------------------------------


def test_json_round_trip_is_exact_and_plain() -> None:
    model = make_model()
    text = json.dumps(model.to_json())  # plain JSON: no pickle, no numpy types
    loaded = LinearModel.from_json(json.loads(text))
    assert loaded == model
    rows = [{"employees": 120, "industry": "Software"}, {"seniority": "VP", "free_email": True}]
    assert loaded.predict_many(rows) == model.predict_many(rows)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d | {"format": "pickle"}, "not a leadroute linear model"),
        (lambda d: d | {"format_version": 99}, "unsupported model format version"),
        (lambda d: {k: v for k, v in d.items() if k != "intercept"}, "malformed model"),
        (lambda d: d | {"weights": [{"feature": "x"}]}, "malformed model"),
        (lambda d: d | {"weights": d["weights"] * 2}, "listed twice"),
        (
            lambda d: d | {"weights": [w | {"scale": 0.0} for w in d["weights"]]},
            "scale must be positive",
        ),
        (lambda d: d | {"intercept": float("inf")}, "not finite"),
    ],
)
def test_a_bad_model_document_is_refused_with_a_reason(change: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LinearModel.from_json(change(make_model().to_json()))


def test_lengths_must_agree() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        make_model(coefficients=(1.0,))


# -- scoring -------------------------------------------------------------------------------------


def test_log_odds_follow_the_standardised_formula() -> None:
    model = make_model()
    row = {"employees": 999, "industry": "software", "free_email": True, "fit_score": 50}
    x = dict.fromkeys(FEATURES, 0.0) | features(row)
    expected = model.intercept + sum(
        c * (x[f] - m) / s
        for f, c, m, s in zip(FEATURES, model.coefficients, model.means, model.scales, strict=True)
    )
    assert model.log_odds(row) == pytest.approx(expected)
    assert model.predict(row) == pytest.approx(1 / (1 + math.exp(-expected)))
    assert model.baseline == pytest.approx(1 / (1 + math.exp(-model.intercept)))


def test_extreme_weights_give_probabilities_without_overflow() -> None:
    model = make_model(coefficients=(4000.0,) + (0.0,) * (len(FEATURES) - 1))
    rows = [{"employees": 10**9}, {"employees": 0}]
    assert model.predict_many(rows) == pytest.approx([1.0, 0.0], abs=1e-300)
    assert [model.predict(r) for r in rows] == pytest.approx([1.0, 0.0], abs=1e-300)
    assert model.predict_many([]) == []


# -- explain -------------------------------------------------------------------------------------


def test_explain_lists_lead_fields_by_size_of_effect_with_labels() -> None:
    model = make_model()
    row = {"employees": 5000, "seniority": "vp", "industry": "Healthcare", "free_email": False}
    every = model.explain(row, top=None)
    assert [abs(c.effect) for c in every] == sorted((abs(c.effect) for c in every), reverse=True)
    assert {c.feature for c in every} == {field_of(f) for f in FEATURES}
    by_field = {c.feature: c for c in every}
    assert by_field["seniority"].label == "seniority is vp"
    assert by_field["employees"].label == "employees 5,000"
    assert by_field["employees"].value == pytest.approx(5000)
    # a category the model never saw is named, and counts as none of the known ones
    assert by_field["industry"].label == "industry is healthcare"
    i, j = FEATURES.index("industry=software"), FEATURES.index("industry=retail")
    assert by_field["industry"].effect == pytest.approx(
        -model.coefficients[i] * model.means[i] / model.scales[i]
        - model.coefficients[j] * model.means[j] / model.scales[j]
    )
    assert by_field["free_email"].label == "company email address"
    assert by_field["account.named"].label == "not a named account"
    assert by_field["fit_score"].label == "fit_score unknown"
    assert model.explain(row, top=3) == every[:3]


def test_a_missing_size_is_explained_as_unknown() -> None:
    explained = {c.feature: c for c in make_model().explain({}, top=None)}
    assert explained["employees"].label == "employees unknown"
    assert explained["employees"].value is None


# -- properties ----------------------------------------------------------------------------------

ROWS = st.fixed_dictionaries(
    {},
    optional={
        "employees": st.one_of(
            st.none(),
            st.integers(-5, 10**7),
            st.floats(allow_nan=True, allow_infinity=True),
            st.sampled_from(["1,200", "12k", "lots", " "]),
        ),
        "industry": st.sampled_from(["Software", "retail", "Energy", "", None]),
        "seniority": st.sampled_from(["vp", "manager", "c_level", None]),
        "free_email": st.one_of(st.none(), st.booleans()),
        "phone": st.sampled_from(["", "+14155550100", None]),
        "fit_score": st.one_of(st.none(), st.integers(-50, 200)),
        "account": st.one_of(
            st.none(),
            st.fixed_dictionaries(
                {
                    "status": st.sampled_from(["customer", "prospect", None]),
                    "named": st.one_of(st.none(), st.booleans()),
                }
            ),
        ),
    },
)
MODELS = st.builds(
    lambda coefficients, means, scales, intercept: make_model(
        coefficients=tuple(coefficients),
        means=tuple(means),
        scales=tuple(scales),
        intercept=intercept,
    ),
    st.lists(st.floats(-5, 5), min_size=len(FEATURES), max_size=len(FEATURES)),
    st.lists(st.floats(0, 50), min_size=len(FEATURES), max_size=len(FEATURES)),
    st.lists(st.floats(0.05, 20), min_size=len(FEATURES), max_size=len(FEATURES)),
    st.floats(-4, 4),
)


@settings(max_examples=150, deadline=None)
@given(model=MODELS, rows=st.lists(ROWS, max_size=30))
def test_batched_scores_equal_one_at_a_time_scores(
    model: LinearModel, rows: list[dict[str, Any]]
) -> None:
    batched = model.predict_many(rows)
    assert len(batched) == len(rows)
    for p, row in zip(batched, rows, strict=True):
        assert 0.0 <= p <= 1.0
        assert p == pytest.approx(model.predict(row), rel=1e-9, abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(model=MODELS, row=ROWS)
def test_effects_add_up_to_the_log_odds(model: LinearModel, row: dict[str, Any]) -> None:
    every = model.explain(row, top=None)
    total = model.intercept + sum(c.effect for c in every)
    assert total == pytest.approx(model.log_odds(row), rel=1e-9, abs=1e-9)
