"""The caps on one lead (fields, nesting) over real HTTP, at every way a lead comes in: POST
/v1/leads, /v1/leads/bulk and the HubSpot, Salesforce and web-to-lead webhooks (SQLite and
PostgreSQL). A lead over a cap is kept as rejected with a reason naming the cap and answered as
such (422 for one lead; that lead rejected and the others routed for a bulk); it is not
routed, and it is not lost."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from leadroute.adapters.inbound import sign_v3
from leadroute.adapters.store.sql import Store
from leadroute.api import create_app
from leadroute.domain.org import Rep, Territory, build_org
from tests.adapters.test_inbound import LEAD_ONE, ORG_18, outbound
from tests.api.problem import problem
from tests.api.server import serve
from tests.services.fixtures import activate

SECRET = "hub-secret"
CONFIG = """
name: lead-size
pools:
  sales: {members: [r1, r2], fairness_window: all}
queues:
  self_serve: {message: "Start now"}
flow:
  - id: sales
    when: {territory: na}
    then: {distribute: sales}
  - id: fallback
    fallback: true
    then: {queue: self_serve}
"""
FIELDS_CAP = "over the cap of 500 fields per lead"
DEPTH_CAP = "over the cap of 5 levels per field"


@pytest.fixture
def api(store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    monkeypatch.setenv("LEADROUTE_HUBSPOT_SECRET", SECRET)
    monkeypatch.setenv("LEADROUTE_SALESFORCE_ORG_ID", ORG_18)
    for name in ("LEADROUTE_LEAD_MAX_FIELDS", "LEADROUTE_LEAD_MAX_DEPTH"):
        monkeypatch.delenv(name, raising=False)
    reps = [Rep(id=r, name=r, email=f"{r}@vendor.com", teams=("sales",)) for r in ("r1", "r2")]
    org = build_org(reps=reps, territories=[Territory("na", "NA", frozenset({"US"}))])
    activate(store, org, CONFIG)
    with serve(create_app(store, auth=False)) as client:
        yield client


def lead(fields: int = 0, **more: Any) -> dict[str, Any]:
    """A lead that routes, with `fields` fields in all (padding with x0, x1, ...)."""
    body: dict[str, Any] = {"email": "ada@acme.com", "country": "US", **more}
    for i in range(fields - len(body)):
        body[f"x{i}"] = "v"
    return body


def nested(levels: int) -> Any:
    value: Any = "x"
    for level in range(levels):
        value = [value] if level % 2 else {"k": value}
    return value


def assert_rejected(store: Store, lead_id: str, *words: str) -> None:
    stored = store.lead(lead_id)
    assert stored is not None, f"lead {lead_id} was not kept"
    assert stored.status == "rejected"
    assert stored.reason is not None and all(w in stored.reason for w in words), stored.reason
    assert store.decisions(lead_id) == []


def test_one_lead_over_the_field_cap_is_rejected_kept_and_answered_422(
    api: httpx.Client, store: Store
) -> None:
    answer = api.post("/v1/leads", json=lead(10_000, id="L-huge"))  # the lead
    body = problem(answer, 422, "the lead has 10,000 fields", FIELDS_CAP)
    assert (body["lead_id"], body["outcome"]) == ("L-huge", "rejected")
    assert_rejected(store, "L-huge", "10,000 fields", FIELDS_CAP)

    over = problem(api.post("/v1/leads", json=lead(501, id="L-501")), 422, FIELDS_CAP)
    assert over["outcome"] == "rejected"
    assert_rejected(store, "L-501", "501 fields", FIELDS_CAP)

    sent = lead(500, id="L-500")
    at_cap = api.post("/v1/leads", json=sent)
    assert at_cap.status_code == 201, at_cap.text
    assert at_cap.json()["outcome"] == "routed"
    kept = store.lead("L-500")
    assert kept is not None and set(sent) - {"id"} <= set(kept.lead.fields)


def test_one_lead_nested_too_deep_or_too_wide_inside_a_field_is_rejected(
    api: httpx.Client, store: Store
) -> None:
    deep = api.post("/v1/leads", json=lead(id="L-deep", notes=nested(6)))
    problem(deep, 422, "field 'notes' is nested more than 5 levels deep", DEPTH_CAP)
    assert_rejected(store, "L-deep", DEPTH_CAP)

    wide = api.post("/v1/leads", json=lead(id="L-wide", notes=["n"] * 600))
    problem(wide, 422, "counting each entry of the objects and lists inside them", FIELDS_CAP)
    assert_rejected(store, "L-wide", FIELDS_CAP)

    fine = api.post("/v1/leads", json=lead(id="L-ok", notes=nested(5)))
    assert fine.status_code == 201, fine.text
    assert fine.json()["outcome"] == "routed"


def test_a_bulk_rejects_the_leads_over_a_cap_and_routes_the_others(
    api: httpx.Client, store: Store
) -> None:
    leads = [
        lead(id="B0"),
        lead(501, id="B1"),
        lead(id="B2", notes=nested(6)),
        lead(id="B3", email="bo@acme.com"),
        lead(10_000, id="B4"),
    ]
    answer = api.post("/v1/leads/bulk", json={"leads": leads})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    outcomes = [r["outcome"] for r in body["results"]]
    assert outcomes == ["routed", "rejected", "rejected", "routed", "rejected"]
    assert body["received"] == 5 and body["counts_add_up"] is True
    assert body["outcomes"] == {"routed": 2, "rejected": 3}
    results = body["results"]
    assert results[1]["detail"] == f"lead 1: the lead has 501 fields: {FIELDS_CAP}"
    assert DEPTH_CAP in results[2]["detail"]
    assert "10,000 fields" in results[4]["detail"]
    assert store.lead_counts() == {"routed": 2, "rejected": 3}


def test_webhook_leads_over_the_field_cap_are_kept_as_rejected(
    api: httpx.Client, store: Store
) -> None:
    extra = "".join(f"<sf:Custom_{i}__c>v</sf:Custom_{i}__c>" for i in range(600))
    big = LEAD_ONE.replace("<sf:Title>", extra + "<sf:Title>")
    answer = api.post(
        "/v1/webhooks/salesforce", content=outbound(big), headers={"content-type": "text/xml"}
    )
    assert answer.status_code == 200 and b"<Ack>true</Ack>" in answer.content, answer.text
    assert_rejected(store, "sf-00Q5e00000AbCdEEAZ", FIELDS_CAP)

    form = f"oid={ORG_18}&email=zoe%40cafe.fr&company=Cafe&debug=1&" + "&".join(
        f"custom_{i}=v" for i in range(600)
    )
    posted = api.post(
        "/v1/webhooks/web-to-lead",
        content=form.encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    body = problem(posted, 422, FIELDS_CAP)
    assert body["outcome"] == "rejected"
    assert_rejected(store, body["lead_id"], FIELDS_CAP)
    assert store.lead_counts() == {"rejected": 2}


def _hubspot(api: httpx.Client, events: list[dict[str, Any]]) -> httpx.Response:
    import json

    body = json.dumps(events).encode()
    url = str(api.base_url) + "/v1/webhooks/hubspot"
    stamp = str(int(datetime.now(UTC).timestamp() * 1000))
    headers = {
        "X-HubSpot-Signature-v3": sign_v3(
            secret=SECRET, method="POST", uri=url, body=body, timestamp=stamp
        ),
        "X-HubSpot-Request-Timestamp": stamp,
        "content-type": "application/json",
    }
    return api.post("/v1/webhooks/hubspot", content=body, headers=headers)


def test_the_caps_are_settings_and_hubspot_leads_are_held_to_them(
    api: httpx.Client, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A HubSpot event carries one property, so its lead (crm, crm_id and that property) can
    # only pass a cap set lower than 3 fields; the API's intake reads the caps when it starts.
    monkeypatch.setenv("LEADROUTE_LEAD_MAX_FIELDS", "2")
    monkeypatch.setenv("LEADROUTE_LEAD_MAX_DEPTH", "1")
    event = {
        "eventId": 1,
        "subscriptionId": 9,
        "portalId": 77,
        "occurredAt": 1795000000000,
        "subscriptionType": "contact.creation",
        "objectId": 501,
        "propertyName": "email",
        "propertyValue": "hs@acme.com",
    }
    answer = _hubspot(api, [event])
    assert answer.status_code == 200, answer.text
    [result] = answer.json()["results"]
    assert result["outcome"] == "rejected"
    assert "the lead has 3 fields: over the cap of 2 fields per lead" in result["detail"]
    assert_rejected(store, "hs-501", "over the cap of 2 fields per lead")
    again = _hubspot(api, [event])  # a resend is answered the same, and stored once
    assert again.json()["results"] == [result]
    assert store.lead_counts() == {"rejected": 1}

    shallow = api.post("/v1/leads", json={"tags": [["x"]]})  # 2 fields, counting the entry
    body = problem(shallow, 422, "field 'tags' is nested more than 1 level deep")
    assert_rejected(store, body["lead_id"], "over the cap of 1 level per field")
