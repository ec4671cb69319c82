"""The routing service over HTTP, on a real server on 127.0.0.1, SQLite and PostgreSQL."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

from leadroute.adapters.inbound import sign_v3
from leadroute.adapters.store.idempotency_store import IN_PROGRESS
from leadroute.adapters.store.key_store import KeyStore
from leadroute.adapters.store.service_tables import idempotency
from leadroute.adapters.store.sql import Store
from leadroute.api import create_app
from leadroute.domain.org import Rep, Segment, Territory, build_org
from tests.adapters.test_inbound import LEAD_ONE, LEAD_TWO, ORG_18, outbound
from tests.api.problem import problem
from tests.api.server import serve
from tests.services.fixtures import activate

CONFIG = """
name: api-test
pools:
  sales: {members: [team:sales], fairness_window: all}
queues:
  self_serve: {redirect_url: "https://example.com/signup", message: "Start now"}
sla:
  default: {accept_within: 1h}
flow:
  - id: small
    when: {employees: {lt: 20}}
    then: {queue: self_serve}
  - id: sales
    when: {territory: na}
    then: {distribute: sales}
  - id: fallback
    fallback: true
    then: {queue: self_serve}
"""


def _org() -> object:
    reps = [
        Rep(
            id=f"r{i}",
            name=f"Rep {i}",
            email=f"r{i}@vendor.com",
            teams=("sales",),
            booking_link=f"https://cal.example.com/r{i}",
        )
        for i in (1, 2, 3)
    ]
    return build_org(
        reps=reps,
        territories=[Territory("na", "NA", frozenset({"US", "CA"}))],
        segments=[Segment("A", "A", high=20), Segment("B", "B", low=20)],
    )


@pytest.fixture
def api(store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    monkeypatch.setenv("LEADROUTE_HUBSPOT_SECRET", "hub-secret")
    monkeypatch.setenv("LEADROUTE_SALESFORCE_ORG_ID", ORG_18)
    activate(store, _org(), CONFIG)  # type: ignore[arg-type]
    with serve(create_app(store, auth=False)) as client:
        yield client


LEAD = {"email": "ada@acme.com", "company": "Acme", "Country": "US", "NumberOfEmployees": 250}


def test_a_lead_is_routed_in_the_response(api: httpx.Client) -> None:
    answer = api.post("/v1/leads", json=LEAD)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["outcome"] == "routed" and body["route"] == "sales"
    assert body["rep"]["id"] in {"r1", "r2", "r3"}
    assert body["booking_link"] == f"https://cal.example.com/{body['rep']['id']}"
    assert body["reason"].startswith("sales:")
    small = api.post("/v1/leads", json={"email": "x@tiny.com", "employees": 5}).json()
    assert small["queue"] == "self_serve"
    assert (small["redirect_url"], small["message"]) == ("https://example.com/signup", "Start now")
    lead = api.get(f"/v1/leads/{body['lead_id']}").json()
    assert lead["status"] == "routed" and lead["fields"]["country"] == "US"
    history = api.get(f"/v1/leads/{body['lead_id']}/decisions").json()
    assert [h["decision_id"] for h in history] == [body["decision_id"]]


def test_a_retry_with_the_same_key_returns_the_first_answer(
    api: httpx.Client, store: Store
) -> None:
    headers = {"Idempotency-Key": "form-123"}
    first = api.post("/v1/leads", json=LEAD, headers=headers)
    again = api.post("/v1/leads", json=LEAD, headers=headers)
    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert store.lead_counts() == {"routed": 1}
    other = api.post("/v1/leads", json={**LEAD, "company": "Other"}, headers=headers)
    assert other.status_code == 422
    assert "used with a different request" in other.json()["detail"]


def test_a_retry_takes_over_the_key_of_a_server_that_died_before_answering(
    api: httpx.Client, store: Store
) -> None:
    headers = {"Idempotency-Key": "died-1"}
    first = api.post("/v1/leads", json=LEAD, headers=headers).json()
    # as if the server had routed the lead and died before it stored the answer
    with store.write() as conn:
        conn.execute(
            update(idempotency).values(
                status_code=IN_PROGRESS,
                response={},
                created_at=datetime.now(UTC) - timedelta(minutes=5),
            )
        )
    retry = api.post("/v1/leads", json=LEAD, headers=headers)
    assert retry.status_code == 200, retry.text  # not 409 for ever
    assert retry.json()["decision_id"] == first["decision_id"]
    assert "received before" in retry.json()["detail"]
    assert store.lead_counts() == {"routed": 1}
    assert api.post("/v1/leads", json=LEAD, headers=headers).status_code == 200


def test_concurrent_retries_make_one_lead(api: httpx.Client, store: Store) -> None:
    answers: list[httpx.Response] = []

    def send() -> None:
        answers.append(api.post("/v1/leads", json=LEAD, headers={"Idempotency-Key": "burst"}))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = sorted(a.status_code for a in answers)
    assert set(codes) <= {201, 409}, codes
    assert 201 in codes
    assert store.lead_counts() == {"routed": 1}
    decided = {a.json()["decision_id"] for a in answers if a.status_code == 201}
    assert len(decided) == 1


def test_bad_leads_are_rejected_with_the_reason_and_kept(api: httpx.Client) -> None:
    answer = api.post("/v1/leads", json={"id": "bad-1", "employees": "lots", "email": "a@b.com"})
    assert answer.status_code == 422
    assert "employees" in answer.json()["detail"]
    assert api.get("/v1/leads/bad-1").json()["status"] == "rejected"
    nobody = api.post("/v1/leads", json={"country": "US"})
    assert nobody.status_code == 422 and "nothing identifies the lead" in nobody.json()["detail"]


def test_bulk_answers_each_lead(api: httpx.Client) -> None:
    leads = [LEAD, {"email": "b@b.com", "employees": 3}, {"employees": "many"}]
    body = api.post("/v1/leads/bulk", json={"leads": leads}).json()
    assert body["received"] == 3 and body["counts_add_up"]
    assert [r["outcome"] for r in body["results"]] == ["routed", "routed", "rejected"]
    assert body["results"][1]["queue"] == "self_serve"
    assert "lead 2" in body["results"][2]["detail"]
    assert api.post("/v1/leads/bulk", json={"leads": "x"}).status_code == 422


def test_rep_actions_stop_the_clock_and_show_in_the_events(api: httpx.Client) -> None:
    lead_id = api.post("/v1/leads", json=LEAD).json()["lead_id"]
    accepted = api.post(f"/v1/leads/{lead_id}/actions/accept", params={"actor": "r1"})
    assert accepted.json()["status"] == "routed"
    converted = api.post(f"/v1/leads/{lead_id}/actions/convert")
    assert converted.json()["status"] == "converted"
    kinds = [e["kind"] for e in api.get(f"/v1/leads/{lead_id}/events").json()]
    assert kinds == ["assigned", "accepted", "converted"]
    assert api.post(f"/v1/leads/{lead_id}/actions/accept").status_code == 409
    assert api.post(f"/v1/leads/{lead_id}/actions/dance").status_code == 409
    assert api.post("/v1/leads/nope/actions/accept").status_code == 404


def test_reps_pause_and_hand_off(api: httpx.Client) -> None:
    owner = api.post("/v1/leads", json=LEAD).json()["rep"]["id"]
    paused = api.patch(f"/v1/reps/{owner}", json={"status": "paused", "caps": {"day": 5}})
    assert paused.status_code == 200, paused.text
    assert paused.json()["rep"]["status"] == "paused"
    for _ in range(4):
        assert api.post("/v1/leads", json=LEAD).json()["rep"]["id"] != owner
    handed = api.post(f"/v1/reps/{owner}/deactivate").json()
    assert len(handed["handed_on"]) == 1
    assert handed["handed_on"][0]["rep"] not in (None, owner)
    assert api.get(f"/v1/reps/{owner}").json()["status"] == "inactive"
    assert api.patch("/v1/reps/ghost", json={"status": "paused"}).status_code == 404


def test_accounts(api: httpx.Client) -> None:
    saved = api.post(
        "/v1/accounts", json={"accounts": [{"id": "acme", "name": "Acme", "domain": "acme.com"}]}
    )
    assert saved.json() == {"saved": 1}
    assert api.get("/v1/accounts/acme").json()["domain"] == "acme.com"
    assert [a["id"] for a in api.get("/v1/accounts", params={"domain": "acme.com"}).json()] == [
        "acme"
    ]
    body = api.post("/v1/leads", json=LEAD).json()
    assert api.get(f"/v1/leads/{body['lead_id']}/decisions").json()[0]["account"]["id"] == "acme"


def test_configs_validate_draft_diff_activate_and_roll_back(api: httpx.Client) -> None:
    bad = CONFIG.replace("then: {distribute: sales}", "then: {distribute: nowhere}")
    checked = api.post("/v1/configs/validate", json={"source": bad}).json()
    assert not checked["valid"]
    found = checked["problems"][0]
    assert "unknown pool 'nowhere'" in found["message"] and found["line"] == 15
    refused = problem(
        api.post("/v1/configs", json={"source": bad}), 422, "line 15: ", "unknown pool 'nowhere'"
    )
    assert refused["problems"] == checked["problems"]
    draft_text = CONFIG.replace("lt: 20", "lt: 50")
    draft = api.post("/v1/configs", json={"source": draft_text}).json()
    assert draft["active"] is False and draft["seq"] == 2
    diff = api.get("/v1/configs/diff", params={"a": 1, "b": 2}).text
    assert "-    when: {employees: {lt: 20}}" in diff and "+    when: {employees: {lt: 50}}" in diff
    assert api.post("/v1/configs/2/activate").json()["active"] is True
    routed = api.post("/v1/leads", json={**LEAD, "NumberOfEmployees": 30}).json()
    assert routed["queue"] == "self_serve"  # the new version decides at once
    rolled = api.post("/v1/configs/rollback").json()
    assert rolled["seq"] == 1 and rolled["active"]
    assert api.post("/v1/leads", json={**LEAD, "NumberOfEmployees": 30}).json()["route"] == "sales"
    assert [c["active"] for c in api.get("/v1/configs").json()] == [True, False]
    assert api.post("/v1/configs/9/activate").status_code == 404
    assert api.post("/v1/configs/rollback").json()["seq"] == 2  # back to the one before


def test_hubspot_webhook_is_verified(api: httpx.Client) -> None:
    events = (
        b'[{"eventId": 1, "subscriptionId": 9, "portalId": 77, "occurredAt": 1795000000000,'
        b' "subscriptionType": "contact.creation", "attemptNumber": 0, "objectId": 501,'
        b' "changeSource": "CRM"}]'
    )
    url = str(api.base_url) + "/v1/webhooks/hubspot"
    stamp = str(int(datetime.now(UTC).timestamp() * 1000))
    signature = sign_v3(secret="hub-secret", method="POST", uri=url, body=events, timestamp=stamp)
    headers = {
        "X-HubSpot-Signature-v3": signature,
        "X-HubSpot-Request-Timestamp": stamp,
        "content-type": "application/json",
    }
    answer = api.post("/v1/webhooks/hubspot", content=events, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["received"] == 1
    forged = api.post(
        "/v1/webhooks/hubspot", content=events.replace(b"501", b"502"), headers=headers
    )
    assert forged.status_code == 401


def test_salesforce_outbound_message_is_acked_once(api: httpx.Client, store: Store) -> None:
    body = outbound(LEAD_ONE, LEAD_TWO)
    for _ in range(2):  # Salesforce resends until it gets the Ack
        answer = api.post("/v1/webhooks/salesforce", content=body)
        assert answer.status_code == 200
        assert b"<Ack>true</Ack>" in answer.content
        assert answer.headers["content-type"].startswith("text/xml")
    assert sum(store.lead_counts().values()) == 2
    lead = store.lead("sf-00Q5e00000AbCdEEAZ")
    assert lead is not None and lead.lead.fields["crm_id"] == "00Q5e00000AbCdEEAZ"
    broken = api.post("/v1/webhooks/salesforce", content=b"<nope")
    assert broken.status_code == 400 and b"faultstring" in broken.content
    stranger = api.post(
        "/v1/webhooks/salesforce", content=outbound(LEAD_ONE, org="00D000000000001AAA")
    )
    assert stranger.status_code == 403


def test_web_to_lead_redirects_after_routing(api: httpx.Client, store: Store) -> None:
    form = {
        "oid": ORG_18,
        "first_name": "Lin",
        "last_name": "Wu",
        "email": "lin@wu-labs.com",
        "company": "Wu Labs",
        "country": "US",
        "employees": "120",
        "retURL": "https://example.com/thanks",
    }
    answer = api.post("/v1/webhooks/web-to-lead", data=form)
    assert answer.status_code == 303
    assert answer.headers["location"] == "https://example.com/thanks"
    assert store.lead_counts() == {"routed": 1}
    again = api.post("/v1/webhooks/web-to-lead", data=form)  # a double click
    assert again.status_code == 303 and store.lead_counts() == {"routed": 1}
    empty = api.post("/v1/webhooks/web-to-lead", data={"oid": ORG_18, "first_name": "X"})
    assert empty.status_code == 422


def test_metrics_and_openapi(api: httpx.Client) -> None:
    api.post("/v1/leads", json=LEAD)
    time.sleep(0.05)
    metrics = api.get("/metrics").text
    assert 'leadroute_http_requests_total{method="POST",route="/v1/leads",status="201"} 1.0' in (
        metrics
    )
    assert 'leadroute_leads_total{outcome="routed"} 1.0' in metrics
    spec = api.get("/openapi.json").json()
    for path in ("/v1/leads", "/v1/leads/bulk", "/v1/reps/{rep_id}", "/v1/configs/rollback"):
        assert path in spec["paths"]


def test_every_endpoint_but_health_needs_a_key_of_its_scope(store: Store) -> None:
    activate(store, _org(), CONFIG)  # type: ignore[arg-type]
    ingest, _ = KeyStore(store).create("web-form", ["ingest"])
    admin, _ = KeyStore(store).create("ops", ["admin"])
    with serve(create_app(store)) as api:
        assert api.get("/v1/health").status_code == 200
        assert api.post("/v1/leads", json=LEAD).status_code == 401
        assert api.get("/metrics").status_code == 401
        routed = api.post("/v1/leads", json=LEAD, headers={"Authorization": f"Bearer {ingest}"})
        assert routed.status_code == 201
        lead_id = routed.json()["lead_id"]
        refused = api.get(f"/v1/leads/{lead_id}", headers={"X-API-Key": ingest})
        assert refused.status_code == 403 and "read" in refused.json()["detail"]
        assert api.get(f"/v1/leads/{lead_id}", headers={"X-API-Key": admin}).status_code == 200
        made = api.post(
            "/v1/keys", json={"name": "reader", "scopes": ["read"]}, headers={"X-API-Key": admin}
        ).json()
        assert made["key"].startswith("lr_")
        reader = {"X-API-Key": made["key"]}
        assert api.get("/metrics", headers=reader).status_code == 200
        assert api.delete("/v1/keys/reader", headers={"X-API-Key": admin}).status_code == 200
        assert api.get("/metrics", headers=reader).status_code == 401
        erased = api.post(
            "/v1/privacy/erase", json={"email": "ada@acme.com"}, headers={"X-API-Key": admin}
        ).json()
        assert erased["lead_ids"] == [lead_id]
        fields = api.get(f"/v1/leads/{lead_id}", headers={"X-API-Key": admin}).json()["fields"]
        assert fields["email"] == "[erased]"
        big = api.post(
            "/v1/leads",
            content=b"{" + b" " * 3_000_000 + b"}",
            headers={"X-API-Key": ingest, "content-type": "application/json"},
        )
        assert big.status_code == 413


def test_config_numbers_outside_the_column_are_refused_not_crashed(api: httpx.Client) -> None:
    # Found by the schema fuzz: a version number past 32 bits used to reach the database (500).
    for path in ("/v1/configs/99999999999999999999", "/v1/configs/0"):
        answer = problem(api.get(path), 422, "path.seq: Input should be")
        assert answer["errors"][0]["loc"] == ["path", "seq"]
    assert api.post("/v1/configs/2147483648/activate").status_code == 422
    diff = problem(api.get("/v1/configs/diff", params={"a": 1, "b": -(10**24)}), 422, "query.b")
    assert diff["errors"][0]["loc"] == ["query", "b"]
    assert api.get("/v1/configs/2147483647").status_code == 404  # in range: just not there


def test_recent_decisions_stop_reading_at_the_limit(api: httpx.Client) -> None:
    # Found by the schema fuzz on PostgreSQL: stopping early left a server-side cursor open
    # until garbage collection (a ResourceWarning, an error here).
    for i in range(3):
        assert api.post("/v1/leads", json={**LEAD, "email": f"p{i}@acme.com"}).status_code == 201
    first = api.get("/v1/decisions", params={"limit": 1})
    assert first.status_code == 200 and len(first.json()) == 1
    gc.collect()
    assert len(api.get("/v1/decisions", params={"limit": 5}).json()) == 3
