"""Fit scoring: point rules with reasons, tiers, and use in routes and decision records."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadroute.adapters.memory import MemoryRoutingState
from leadroute.domain.config import compile_config
from leadroute.domain.engine import Router
from leadroute.domain.lead import Lead
from leadroute.domain.org import Org, Segment, build_org

NOW = datetime(2026, 11, 24, 15, tzinfo=UTC)

DOCUMENT = {
    "scoring": {
        "fit": {
            "rules": [
                {"when": {"segment": ["C", "D"]}, "points": 30, "reason": "mid-market or larger"},
                {"when": {"seniority": ["c_level", "vp"]}, "points": 20, "reason": "senior buyer"},
                {
                    "when": {"industry": ["Software", "Fintech"]},
                    "points": 15,
                    "reason": "core industry",
                },
                {"when": {"free_email": True}, "points": -15, "reason": "free-mail address"},
            ],
            "tiers": {"A": 60, "B": 40, "C": 20},
        }
    },
    "queues": {"ae": {}, "sdr": {}, "nurture": {}},
    "flow": [
        {"id": "a_fit", "when": {"fit_tier": "A"}, "then": {"queue": "ae"}},
        {"id": "some_fit", "when": {"fit_score": {"gte": 20}}, "then": {"queue": "sdr"}},
        {"id": "fallback", "fallback": True, "then": {"queue": "nurture"}},
    ],
}


def _org() -> Org:
    return build_org(
        segments=[
            Segment("A", "A", high=100),
            Segment("C", "C", low=100, high=500),
            Segment("D", "D", low=500),
        ]
    )


def _router() -> Router:
    config, issues = compile_config(DOCUMENT, _org())
    assert config is not None, issues
    return Router(config, _org())


def test_points_add_up_with_their_reasons_and_set_the_tier() -> None:
    router = _router()
    lead = Lead(
        "l1", {"employees": 800, "seniority": "vp", "industry": "Software", "email": "a@b.com"}
    )
    decision = router.route(lead, now=NOW, state=MemoryRoutingState(_org()))
    fit = decision.as_record()["scores"]["fit"]
    assert fit["score"] == 65 and fit["tier"] == "A"
    assert [r["reason"] for r in fit["reasons"]] == [
        "mid-market or larger",
        "senior buyer",
        "core industry",
    ]
    assert decision.queue == "ae"


def test_negative_points_and_lower_tiers_route_elsewhere() -> None:
    router = _router()
    state = MemoryRoutingState(_org())
    middling = router.route(
        Lead("l2", {"employees": 300, "email": "x@gmail.com"}), now=NOW, state=state
    )
    assert middling.scores["fit"]["score"] == 15 and middling.scores["fit"]["tier"] == "D"
    assert middling.queue == "nurture"
    sdr = router.route(Lead("l3", {"employees": 300, "email": "x@corp.com"}), now=NOW, state=state)
    assert sdr.scores["fit"]["tier"] == "C" and sdr.queue == "sdr"


def test_bad_rules_are_config_errors_at_their_place() -> None:
    document = {
        **DOCUMENT,
        "scoring": {
            "fit": {"rules": [{"when": {"industy": "Software"}, "points": 5, "reason": "typo"}]}
        },
    }
    config, issues = compile_config(document, _org())
    assert config is None
    assert issues[0].path[:4] == ("scoring", "fit", "rules", 0)
    assert "unknown field 'industy'" in issues[0].message


def test_tiers_must_have_distinct_thresholds() -> None:
    document = {
        **DOCUMENT,
        "scoring": {
            "fit": {"rules": DOCUMENT["scoring"]["fit"]["rules"], "tiers": {"A": 50, "B": 50}}
        },
    }
    config, issues = compile_config(document, _org())
    assert config is None and "same lowest score" in issues[0].message


@settings(max_examples=200, deadline=None)
@given(employees=st.integers(0, 5000), senior=st.booleans(), free=st.booleans())
def test_score_is_the_sum_of_matched_points(employees: int, senior: bool, free: bool) -> None:
    router = _router()
    fields = {
        "employees": employees,
        "seniority": "vp" if senior else "individual_contributor",
        "email": "a@gmail.com" if free else "a@corp.com",
    }
    data = router.context(Lead("p", fields))
    expected = (30 if employees >= 100 else 0) + (20 if senior else 0) - (15 if free else 0)
    assert data["fit_score"] == expected
    tier = next((t for t, low in (("A", 60), ("B", 40), ("C", 20)) if expected >= low), "D")
    assert data["fit_tier"] == tier


@pytest.mark.parametrize(
    "document", [{"flow": [{"id": "f", "fallback": True, "then": {"queue": "q"}}]}]
)
def test_no_scoring_section_means_no_scores(document: dict[str, object]) -> None:
    config, _ = compile_config(document, Org())
    assert config is not None and config.fit is None
    decision = Router(config, Org()).route(Lead("x", {}), now=NOW, state=MemoryRoutingState(Org()))
    assert decision.scores == {}


MATRIX = {
    "A": {"high": "fast_track", "low": "spread"},
    "B": {"high": "fast_track", "low": "spread"},
    "C": {"high": "qualify", "low": "nurture"},
    "D": {"high": "qualify", "low": "nurture"},
}


def _with_matrix(matrix: object, intent: object = None) -> dict[str, object]:
    scoring = dict(DOCUMENT["scoring"])  # type: ignore[call-overload]
    scoring["intent"] = intent if intent is not None else {"tiers": {"high": 30}}
    scoring["matrix"] = matrix
    return {**DOCUMENT, "scoring": scoring}


def test_matrix_sets_the_path_from_both_tiers() -> None:
    config, issues = compile_config(_with_matrix(MATRIX), _org())
    assert config is not None, issues
    router = Router(config, _org())
    lead = Lead("L1", {"employees": 800, "title": "VP", "seniority": "vp", "industry": "Software"})
    data = router.context(lead)
    assert (data["fit_tier"], data["intent_tier"], data["path"]) == ("A", "low", "spread")
    decision = router.route(lead, now=NOW, state=MemoryRoutingState(_org()), data=data)
    assert decision.scores["path"] == {"fit_tier": "A", "intent_tier": "low", "path": "spread"}
    assert decision.scores["intent"]["score"] == 0


@pytest.mark.parametrize(
    ("matrix", "intent", "message"),
    [
        ({**MATRIX, "D": {"high": "qualify"}}, None, "fit D x intent low has no path"),
        ({k: v for k, v in MATRIX.items() if k != "C"}, None, "no row for fit tier 'C'"),
        ({**MATRIX, "E": {"high": "x", "low": "y"}}, None, "unknown fit tier 'E'"),
        (
            {k: {**v, "warm": "x"} for k, v in MATRIX.items()},
            None,
            "unknown intent tier 'warm'",
        ),
        (
            MATRIX,
            {"tiers": {"high": 50, "warm": 20}},
            "fit A x intent warm has no path",
        ),
    ],
)
def test_matrix_must_cover_every_cell(matrix: object, intent: object, message: str) -> None:
    config, issues = compile_config(_with_matrix(matrix, intent), _org())
    assert config is None
    assert any(message in i.message for i in issues), issues


def test_matrix_needs_fit_and_intent() -> None:
    document = {**DOCUMENT, "scoring": {"matrix": MATRIX}}
    config, issues = compile_config(document, _org())
    assert config is None
    assert [i.message for i in issues] == [
        "the fit x intent matrix needs scoring.fit and scoring.intent"
    ]
    assert issues[0].path == ("scoring", "matrix")


def test_reroute_queues_must_be_declared() -> None:
    document = _with_matrix(MATRIX, {"reroute": {"queues": ["nurture", "parking"]}})
    config, issues = compile_config(document, _org())
    assert config is None
    assert [(i.path, i.message) for i in issues] == [
        (("scoring", "intent", "reroute", "queues", 1), "re-route names undeclared queue 'parking'")
    ]
