"""Scoring: fit rules, intent (see intent.py), the fit x intent matrix and predictive scores.

    scoring:
      fit:
        rules:
          - {when: {segment: [C, D]}, points: 30, reason: mid-market or larger}
          - {when: {seniority: [c_level, vp]}, points: 20, reason: senior buyer}
          - {when: {free_email: true}, points: -15, reason: free-mail address}
        tiers: {A: 60, B: 40, C: 20}          # lowest score of each tier; below the last: D

        intent: {tiers: {high: 30}}          # see leadroute.domain.intent
        matrix:                              # fit tier -> intent tier -> path
          A: {high: fast_track, low: spread}
          B: {high: fast_track, low: spread}
          C: {high: qualify, low: nurture}
          D: {high: qualify, low: nurture}
        predictive: {model: conversion}      # a model trained by `leadroute score train`

Rules are conditions in the routing language, compiled once with the config. The scores, tiers
and path are set on the lead (`fit_score`, `fit_tier`, `intent_score`, `intent_tier`, `path`,
`conversion_probability`) before the flow runs, so routes can use them, and the reasons go into
the decision record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from leadroute.domain.conditions import Condition
from leadroute.domain.intent import AccountIntent, IntentModel, IntentScore


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


class PredictiveModel(_Strict):
    model: str = Field(
        "conversion", min_length=1, description="name of a model trained by `score train`"
    )
    version: int | None = Field(None, ge=1, description="a fixed version; default: the active")


class ScoringModel(_Strict):
    fit: FitModel | None = None
    intent: IntentModel | None = None
    matrix: dict[str, dict[str, str]] | None = Field(
        None,
        description="fit tier -> intent tier -> path: sets the lead's `path` for routes to use",
    )
    predictive: PredictiveModel | None = None


@dataclass(frozen=True, slots=True)
class Prediction:
    model: str
    version: int
    probability: float
    reasons: tuple[tuple[str, float], ...] = ()  # (feature label, effect on the log-odds)

    def as_record(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "probability": self.probability,
            "reasons": [{"feature": f, "effect": e} for f, e in self.reasons],
        }


@dataclass(frozen=True, slots=True)
class Signals:
    """What routing knows of a lead beyond its fields: its engagement, its account's, and the
    predictive model's probability (computed for a whole chunk at once)."""

    intent: IntentScore | None = None
    account: AccountIntent | None = None
    prediction: Prediction | None = None


@dataclass(frozen=True)
class Matrix:
    """The fit x intent matrix: which path a lead takes for its two tiers."""

    cells: Mapping[tuple[str, str], str]

    def path(self, fit_tier: str, intent_tier: str) -> str | None:
        return self.cells.get((fit_tier, intent_tier))

    @property
    def paths(self) -> frozenset[str]:
        return frozenset(self.cells.values())


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

    @property
    def tier_names(self) -> tuple[str, ...]:
        """Every tier, highest first, ending with the fallback tier."""
        return (*(name for name, _ in self.tiers), self.fallback_tier)

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


def matrix_problems(
    cells: Mapping[str, Mapping[str, str]],
    fit_tiers: tuple[str, ...],
    intent_tiers: tuple[str, ...],
) -> list[tuple[tuple[str, ...], str]]:
    """Every cell a lead can land in must name a path; no unknown tiers. (where, message)"""
    problems: list[tuple[tuple[str, ...], str]] = []
    for fit_tier in cells:
        if fit_tier not in fit_tiers:
            known = ", ".join(fit_tiers)
            problems.append(((fit_tier,), f"unknown fit tier '{fit_tier}' (tiers: {known})"))
    for fit_tier in fit_tiers:
        row = cells.get(fit_tier)
        if row is None:
            problems.append(((), f"no row for fit tier '{fit_tier}': every tier needs a path"))
            continue
        for intent_tier in row:
            if intent_tier not in intent_tiers:
                known = ", ".join(intent_tiers)
                problems.append(
                    ((fit_tier, intent_tier), f"unknown intent tier '{intent_tier}' ({known})")
                )
        for intent_tier in intent_tiers:
            if intent_tier not in row:
                problems.append(((fit_tier,), f"fit {fit_tier} x intent {intent_tier} has no path"))
            elif not str(row[intent_tier]).strip():
                problems.append(((fit_tier, intent_tier), "a path name must not be empty"))
    return problems


def build_matrix(cells: Mapping[str, Mapping[str, str]]) -> Matrix:
    return Matrix({(f, i): path for f, row in cells.items() for i, path in row.items()})
