"""Fit scoring: point rules over lead and account fields, each point with its reason.

    scoring:
      fit:
        rules:
          - {when: {segment: [C, D]}, points: 30, reason: mid-market or larger}
          - {when: {seniority: [c_level, vp]}, points: 20, reason: senior buyer}
          - {when: {free_email: true}, points: -15, reason: free-mail address}
        tiers: {A: 60, B: 40, C: 20}          # lowest score of each tier; below the last: D

Rules are conditions in the routing language, compiled once with the config. The score and tier
are set on the lead (`fit_score`, `fit_tier`) before the flow runs, so routes can use them, and
the matched rules go into the decision record as the reasons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from leadroute.domain.conditions import Condition


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FitRuleModel(_Strict):
    when: Any = Field(description="condition, in the routing condition language")
    points: float = Field(description="points added when the condition holds (may be negative)")
    reason: str = Field(min_length=1, description="why, in words a rep understands")


class FitModel(_Strict):
    rules: list[FitRuleModel] = Field(min_length=1)
    tiers: dict[str, float] = Field(
        default_factory=lambda: {"A": 60.0, "B": 40.0, "C": 20.0},
        description="tier -> lowest score of the tier; a score below every tier gets 'D'",
    )

    @field_validator("tiers")
    @classmethod
    def _distinct(cls, tiers: dict[str, float]) -> dict[str, float]:
        if len(set(tiers.values())) != len(tiers):
            raise ValueError("two tiers have the same lowest score")
        return tiers


class ScoringModel(_Strict):
    fit: FitModel | None = None


@dataclass(frozen=True, slots=True)
class FitRule:
    condition: Condition
    points: float
    reason: str


@dataclass(frozen=True, slots=True)
class FitScore:
    score: float
    tier: str
    reasons: tuple[tuple[str, float], ...]

    def as_record(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "tier": self.tier,
            "reasons": [{"reason": r, "points": p} for r, p in self.reasons],
        }


@dataclass(frozen=True)
class FitScorer:
    rules: tuple[FitRule, ...]
    tiers: tuple[tuple[str, float], ...]  # highest threshold first
    fallback_tier: str = "D"

    def score(self, data: Mapping[str, Any]) -> FitScore:
        total = 0.0
        reasons: list[tuple[str, float]] = []
        for rule in self.rules:
            if rule.condition.test(data):
                total += rule.points
                reasons.append((rule.reason, rule.points))
        tier = self.fallback_tier
        for name, lowest in self.tiers:
            if total >= lowest:
                tier = name
                break
        score = int(total) if float(total).is_integer() else round(total, 2)
        return FitScore(score, tier, tuple(reasons))


def fit_scorer(model: FitModel, rules: list[Condition]) -> FitScorer:
    ordered = tuple(sorted(model.tiers.items(), key=lambda kv: -kv[1]))
    fallback = "D" if "D" not in model.tiers else "E"
    return FitScorer(
        tuple(FitRule(c, r.points, r.reason) for c, r in zip(rules, model.rules, strict=True)),
        ordered,
        fallback,
    )
