from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from leadroute.domain.intent import DEFAULT_POINTS, Activity, IntentModel, IntentScorer

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
TYPES = sorted(str(t) for t in DEFAULT_POINTS)


def _at(days: float, type_: str = "page_view", email: str | None = "a@x.com") -> Activity:
    return Activity(type=type_, occurred_at=NOW - timedelta(days=days), email=email)


def test_points_halve_every_half_life() -> None:
    scorer = IntentScorer(IntentModel(half_life_days=10))
    assert scorer.score([_at(0, "demo_request")], NOW).score == 50
    assert scorer.score([_at(10, "demo_request")], NOW).score == 25
    assert scorer.score([_at(20, "demo_request")], NOW).score == 12.5


def test_each_type_is_capped_and_says_so() -> None:
    scorer = IntentScorer(IntentModel())
    result = scorer.score([_at(0)] * 40 + [_at(0, "email_click")], NOW)
    assert result.score == 15 + 3
    page_views = result.by_type[0]
    assert (page_views.type, page_views.count, page_views.points, page_views.capped) == (
        "page_view",
        40,
        15,
        True,
    )
    assert page_views.reason == "40 page views: 15 pts, capped"


def test_per_type_settings_override_the_defaults() -> None:
    model = IntentModel.model_validate(
        {
            "types": {
                "page_view": {"points": 2, "cap": 4, "half_life_days": 1},
                "podcast": {"points": 7},
            }
        }
    )
    scorer = IntentScorer(model)
    assert scorer.score([_at(1)] * 3, NOW).score == 3  # 3 x 2 x 0.5, under the cap of 4
    assert scorer.score([_at(0, "podcast")], NOW).score == 7


def test_activity_older_than_the_lookback_does_not_count() -> None:
    scorer = IntentScorer(IntentModel(lookback_days=30))
    assert scorer.score([_at(31, "demo_request")], NOW).score == 0
    assert scorer.score([_at(29, "demo_request")], NOW).score > 0


def test_tiers_and_surge_as_high() -> None:
    scorer = IntentScorer(IntentModel(tiers={"high": 40, "medium": 15}))
    assert scorer.tier_names == ("high", "medium", "low")
    assert scorer.tier(40) == "high"
    assert scorer.tier(20) == "medium"
    assert scorer.tier(3) == "low"
    assert scorer.tier(3, surging=True) == "high"
    no_surge = IntentScorer(IntentModel(surge_is_high=False))
    assert no_surge.tier(3, surging=True) == "low"


def test_most_engaged_product() -> None:
    scorer = IntentScorer(IntentModel())
    acts = [
        Activity("content_download", NOW, email="a@x.com", product="analytics"),
        Activity("webinar_attended", NOW - timedelta(days=1), email="a@x.com", product="crm"),
    ]
    assert scorer.score(acts, NOW).product == "crm"


def test_pricing_pages_are_recognised_by_path() -> None:
    scorer = IntentScorer(IntentModel(pricing_paths=["/pricing"]))
    assert scorer.classify("page_view", "https://acme.com/Pricing/teams?x=1") == "pricing_page"
    assert scorer.classify("page_view", "/pricing") == "pricing_page"
    assert scorer.classify("page_view", "acme.com/blog/pricing") == "page_view"
    assert scorer.classify("email_click", "https://acme.com/pricing") == "email_click"


def test_account_surge_compares_the_window_with_the_daily_baseline() -> None:
    scorer = IntentScorer(IntentModel())  # 3-day window, 30-day baseline, 10x, 10 visits
    baseline = [_at(4 + d, email=None) for d in range(0, 30, 3)]  # 10 visits: 1/3 a day
    account = scorer.account(baseline + [_at(d / 10, email=None) for d in range(9)], NOW)
    assert (account.window_visits, account.surging) == (9, False)  # fewer than min_visits
    burst = [_at(d / 10, email=None) for d in range(10)]
    account = scorer.account(baseline + burst, NOW)
    assert account.surging  # 10 >= 10 x 0.33 and >= 10
    busy = [_at(3.1 + d / 3, email=None) for d in range(90)]  # 3 visits a day for 30 days
    account = scorer.account(busy + burst, NOW)
    assert account.baseline_daily == 3 and not account.surging  # 10 < 30


def test_account_intent_sums_its_people() -> None:
    scorer = IntentScorer(IntentModel())
    acts = [_at(0, "demo_request", "a@x.com"), _at(0, "demo_request", "b@x.com")]
    acts += [_at(0, email=None)] * 30  # anonymous visits, capped as one visitor
    account = scorer.account(acts, NOW)
    assert account.score == 50 + 50 + 15
    assert account.people == 2


def test_config_errors() -> None:
    with pytest.raises(ValidationError, match="same lowest score"):
        IntentModel(tiers={"high": 30, "warm": 30})
    with pytest.raises(ValidationError, match="do not declare it"):
        IntentModel(tiers={"high": 30, "low": 0})
    with pytest.raises(ValidationError, match="lower_snake_case"):
        IntentModel.model_validate({"types": {"Page View": {"points": 1}}})


activities = st.lists(
    st.tuples(st.sampled_from(TYPES), st.floats(min_value=0, max_value=120)), max_size=40
)


@given(activities, st.sampled_from(TYPES), st.floats(min_value=0, max_value=120))
def test_more_activity_never_lowers_intent(
    acts: list[tuple[str, float]], extra_type: str, extra_age: float
) -> None:
    scorer = IntentScorer(IntentModel())
    events = [_at(age, t) for t, age in acts]
    before = scorer.score(events, NOW).score
    assert scorer.score([*events, _at(extra_age, extra_type)], NOW).score >= before


@given(activities, st.floats(min_value=0, max_value=60))
def test_intent_only_decays_with_time_and_stays_under_the_caps(
    acts: list[tuple[str, float]], later: float
) -> None:
    scorer = IntentScorer(IntentModel())
    events = [_at(age, t) for t, age in acts]
    now_score = scorer.score(events, NOW)
    assert scorer.score(events, NOW + timedelta(days=later)).score <= now_score.score
    for part in now_score.by_type:
        cap = scorer.types[part.type][1]
        assert cap is None or part.points <= cap
    assert now_score.score == pytest.approx(sum(p.points for p in now_score.by_type), abs=0.2)
