"""A trained model in the routing path: the probability in conditions and decision records,
scored for a whole chunk at once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadroute.adapters.leadfile import ParsedRow, build_lead
from leadroute.adapters.store.model_store import ModelStore
from leadroute.adapters.store.sql import Store
from leadroute.domain.fields import Vocabulary
from leadroute.domain.lead import Lead
from leadroute.domain.normalize import Normalizer
from leadroute.sample.history import generate_history
from leadroute.services.predictive import History, train
from leadroute.services.routing import RoutingService
from tests.services.fixtures import NOW, activate, org

CONFIG = """
name: predictive
pools:
  sales: {members: [team:sales], fairness_window: all}
queues:
  nurture: {}
scoring:
  predictive: {model: conversion}
flow:
  - id: likely
    when: {conversion_probability: {gte: 0.5}}
    then: {distribute: sales}
  - id: nurture
    fallback: true
    then: {queue: nurture}
"""


@pytest.fixture(scope="module")
def rows() -> list[dict[str, object]]:
    return generate_history(900, seed=3)


@pytest.fixture(scope="module")
def history(rows: list[dict[str, object]]) -> History:
    normalizer = Normalizer()
    data = [normalizer.normalize({k: v for k, v in r.items() if k in _FIELDS}).fields for r in rows]
    outcomes = [1 if r["converted"] == "yes" else 0 for r in rows]
    return History(source="synthetic", rows=data, outcomes=outcomes)


_FIELDS = ("email", "company", "title", "country", "industry", "employees", "request_type")


def _leads(rows: list[dict[str, object]]) -> list[ParsedRow]:
    parsed = []
    for i, row in enumerate(rows[:300], start=1):
        fields = {k: row[k] for k in _FIELDS if row.get(k) not in (None, "")}
        lead = build_lead({**fields, "id": f"P{i}"}, default_id=f"P{i}", vocabulary=Vocabulary())
        lead = Lead(lead.id, lead.fields, "web", "web_form", NOW - timedelta(minutes=1))
        parsed.append(ParsedRow(i, lead, None, fields))
    return parsed


def test_probability_routes_and_is_recorded_with_reasons(
    store: Store, history: History, rows: list[dict[str, object]]
) -> None:
    model = train(history, folds=3).model
    version = ModelStore(store).save(model, {"note": "test"}, history.size)
    activate(store, org(), CONFIG)
    service = RoutingService(store, clock=lambda: NOW, chunk_size=100)
    summary = service.route_batch(_leads(rows), batch_id="b1")
    assert summary.adds_up and summary.total == 300
    likely = nurtured = 0
    for stored in store.leads():
        record = store.decisions(stored.lead.id)[-1].record
        predictive = record["scores"]["predictive"]
        assert (predictive["model"], predictive["version"]) == ("conversion", version)
        assert len(predictive["reasons"]) == 3
        probability = predictive["probability"]
        expected = model.predict(service.lead_context(stored.lead.id))
        assert probability == pytest.approx(expected, abs=1e-4)
        if probability >= 0.5:
            assert record["route"] == "likely" and record["rep"] is not None
            likely += 1
        else:
            assert record["route"] == "nurture"
            nurtured += 1
    assert likely >= 20 and nurtured >= 100


def test_a_config_naming_a_missing_model_stops_with_the_fix(store: Store) -> None:
    activate(store, org(), CONFIG)
    with pytest.raises(LookupError, match="model 'conversion', which is not in the store"):
        RoutingService(store).route_pending()
