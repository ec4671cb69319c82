"""The HTTP API on a real server on 127.0.0.1, over the `store` fixture (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from leadroute.adapters.leadfile import ParsedRow
from leadroute.adapters.store.sql import Store
from leadroute.api import create_app
from leadroute.domain.lead import Lead
from leadroute.services.routing import RoutingService
from tests.api.server import serve
from tests.services.fixtures import activate
from tests.services.test_activities import CONFIG, _org


@pytest.fixture
def api(store: Store) -> Iterator[httpx.Client]:
    activate(store, _org(), CONFIG)
    now = datetime.now(UTC)
    lead = Lead(
        "L1",
        {"email": "bea@small.com", "company": "Small", "country": "US", "employees": 10},
        channel="web_form",
        received_at=now,
    )
    RoutingService(store).route_batch([ParsedRow(1, lead, None, {})], batch_id="b1")
    with serve(create_app(store, auth=False)) as client:
        yield client


def _at(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def test_one_event_wakes_a_nurtured_lead(api: httpx.Client) -> None:
    brief = api.get("/v1/leads/L1/brief").json()
    assert brief["route"]["queue"] == "nurture"
    answer = api.post(
        "/v1/activities",
        json={"type": "demo_request", "email": "bea@small.com", "occurred_at": _at(0), "id": "e1"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["received"], body["stored"], body["duplicates"]) == (1, 1, 0)
    [moved] = body["rerouted"]
    assert moved["lead_id"] == "L1" and moved["rep"] in {"sdr1", "sdr2"}
    assert moved["reason"].startswith("re-routed because intent moved from low (0) to high")
    brief = api.get("/v1/leads/L1/brief").json()
    assert brief["route"]["rep"] == moved["rep"]
    assert brief["scores"]["intent"]["tier"] == "high"
    assert brief["recent_activity"][0]["type"] == "demo_request"
    again = api.post(
        "/v1/activities",
        json={"type": "demo_request", "email": "bea@small.com", "occurred_at": _at(0), "id": "e1"},
    )
    assert again.json()["duplicates"] == 1


def test_a_batch_reports_each_rejection_by_index(api: httpx.Client) -> None:
    events = [
        {"type": "page_view", "email": "x@y.com", "occurred_at": _at(1)},
        {"type": "warp", "email": "x@y.com", "occurred_at": _at(1)},
        {"type": "page_view", "occurred_at": _at(1)},
    ]
    body = api.post("/v1/activities", json={"events": events}).json()
    assert (body["received"], body["stored"]) == (3, 1)
    assert [r["index"] for r in body["rejected"]] == [1, 2]
    assert "unknown activity type 'warp'" in body["rejected"][0]["reason"]


def test_errors_have_clear_status_and_reason(api: httpx.Client) -> None:
    single = api.post("/v1/activities", json={"type": "page_view", "occurred_at": _at(1)})
    assert single.status_code == 422
    assert "no one to tie it to" in single.json()["detail"]
    shape = api.post("/v1/activities", json={"events": "nope"})
    assert shape.status_code == 422
    missing = api.get("/v1/leads/nope/brief")
    assert missing.status_code == 404 and "no lead 'nope'" in missing.json()["detail"]
    assert api.get("/v1/health").json() == {"status": "ok", "database": "ok", "config": 1}
