"""What docs/api.md says, statement by statement, over HTTP on a real server (SQLite and
PostgreSQL). Where the page shows an answer or a table, the test reads it from the page, so the
page and the server cannot drift apart unnoticed.

Statements proven elsewhere: the schema of every answer and the 401 of every operation without
a key (test_schema_fuzz.py); bad input case by case (test_bad_input.py); keys, the rate and the
body limit (test_security.py); Idempotency-Key replays, concurrent retries, bulk, actions,
reps, accounts, configs, webhooks and erasure (test_service_api.py); 503 while the database is
down (test_faults_database_down.py); the 408 of the body deadline (test_deadline.py); requests
routed in shared batches, each answered with its own decision (tests/services/test_intake.py);
several processes over one PostgreSQL (tests/services/test_scale_out.py,
tests/services/test_concurrency.py); a lead action stops the SLA clock
(tests/services/test_worker.py); `leadroute serve` and its settings (test_serve.py).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from leadroute.adapters.store.idempotency_store import IN_PROGRESS
from leadroute.adapters.store.key_store import KeyStore
from leadroute.adapters.store.service_tables import idempotency
from leadroute.adapters.store.sql import Store
from leadroute.api import create_app
from leadroute.domain.org import Account, Rep, Territory, build_org
from leadroute.services.configs import save_version
from tests.adapters.test_inbound import LEAD_ONE, outbound
from tests.api.problem import problem
from tests.api.server import serve
from tests.services.fixtures import activate

PAGE = Path(__file__).parents[2] / "docs" / "api.md"
CONFIG = """
name: api-docs
pools:
  sales: {members: [r1, r2], fairness_window: all}
queues:
  self_serve: {redirect_url: "https://example.com/signup", message: "Start now"}
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
LEAD = {"email": "ada@acme.com", "company": "Acme", "Country": "US", "NumberOfEmployees": 250}


def _org() -> Any:
    reps = [
        Rep(
            id=r,
            name=f"Rep {r}",
            email=f"{r}@vendor.com",
            teams=("sales",),
            booking_link=f"https://cal.example.com/{r}",
        )
        for r in ("r1", "r2")
    ]
    return build_org(
        reps=reps,
        territories=[Territory("na", "NA", frozenset({"US", "CA"}))],
        accounts=[Account("acme", "Acme", "acme.com", owner_id="r1")],
    )


@dataclass
class Api:
    client: httpx.Client
    store: Store
    keys: dict[str, str]  # scope -> a key with only that scope

    def as_(self, scope: str | None) -> dict[str, str]:
        return {} if scope is None else {"Authorization": f"Bearer {self.keys[scope]}"}


@pytest.fixture
def api(store: Store) -> Iterator[Api]:
    activate(store, _org(), CONFIG)
    keys = {scope: KeyStore(store).create(f"{scope}-key", [scope])[0] for scope in SCOPES}
    with serve(create_app(store)) as client:
        yield Api(client, store, keys)


SCOPES = ("ingest", "read", "admin")
# who may call an endpoint of a scope (None: no key); admin implies the others
HOLDERS: dict[str, set[str | None]] = {"none": {None, *SCOPES}, "admin": {"admin"}}


def _page() -> str:
    return PAGE.read_text(encoding="utf-8")


def _json_examples() -> list[Any]:
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", _page(), re.S)]


def _section(title: str) -> str:
    return _page().split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def _table(title: str) -> list[list[str]]:
    """The rows of the first table of a section, each a list of its cells."""
    rows = [line for line in _section(title).splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows[1:]]


# -- the lead answer, as the page shows it ---------------------------------------------------


def test_a_lead_is_answered_with_the_members_the_page_shows(api: Api) -> None:
    shown = _json_examples()[0]
    answer = api.client.post(
        "/v1/leads", json=LEAD, headers={**api.as_("ingest"), "Idempotency-Key": "form-7f3a"}
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body.keys() == shown.keys()
    assert body["rep"].keys() == shown["rep"].keys()
    assert body["config"].keys() == shown["config"].keys()
    # Salesforce's names (Country, NumberOfEmployees) are read as leadroute's
    assert (body["outcome"], body["route"]) == ("routed", "sales")
    assert body["booking_link"] == f"https://cal.example.com/{body['rep']['id']}"
    assert body["config"] == {"name": "api-docs", "hash": body["config"]["hash"], "seq": 1}
    # and HubSpot's (numemployees): 5 employees goes to the small-company queue
    small = api.client.post(
        "/v1/leads",
        json={"email": "bo@tiny.io", "numemployees": 5, "country": "US"},
        headers=api.as_("ingest"),
    ).json()
    assert (small["queue"], small["redirect_url"], small["message"]) == (
        "self_serve",
        "https://example.com/signup",
        "Start now",
    )
    stored = api.client.get(f"/v1/leads/{small['lead_id']}", headers=api.as_("read")).json()
    assert stored["fields"]["employees"] == 5


def test_the_same_id_twice_routes_once_and_answers_200_the_second_time(api: Api) -> None:
    lead = {"id": "web-1", "email": "cy@acme.com", "country": "US"}
    first = api.client.post("/v1/leads", json=lead, headers=api.as_("ingest"))
    again = api.client.post("/v1/leads", json=lead, headers=api.as_("ingest"))
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json()["decision_id"] == first.json()["decision_id"]
    assert again.json()["detail"] == "this lead was received before: its current decision"
    assert api.store.lead_counts() == {"routed": 1}
    decisions = api.client.get("/v1/leads/web-1/decisions", headers=api.as_("read")).json()
    assert len(decisions) == 1


def test_a_key_whose_request_is_still_in_progress_gets_409(api: Api) -> None:
    headers = {**api.as_("ingest"), "Idempotency-Key": "form-busy"}
    assert api.client.post("/v1/leads", json=LEAD, headers=headers).status_code == 201
    # as if another server had reserved the key a moment ago and were routing it now
    with api.store.write() as conn:
        conn.execute(
            update(idempotency).values(status_code=IN_PROGRESS, created_at=datetime.now(UTC))
        )
    busy = api.client.post("/v1/leads", json=LEAD, headers=headers)
    problem(busy, 409, "a request with Idempotency-Key 'form-busy' is in progress")
    assert api.store.lead_counts() == {"routed": 1}


def test_an_invalid_lead_is_refused_with_the_id_it_is_kept_under(api: Api) -> None:
    refused = problem(
        api.client.post(
            "/v1/leads",
            json={"email": "dee@acme.com", "employees": "lots"},
            headers=api.as_("ingest"),
        ),
        422,
        "employees must be a number",
    )
    assert refused["outcome"] == "rejected"
    kept = api.client.get(f"/v1/leads/{refused['lead_id']}", headers=api.as_("read")).json()
    assert kept["status"] == "rejected" and kept["decision"] is None


def test_without_an_active_config_leads_get_409_and_reps_keep_their_leads(store: Store) -> None:
    store.save_org(_org())
    admin, _ = KeyStore(store).create("ops", ["admin"])
    headers = {"X-API-Key": admin}
    with serve(create_app(store)) as client:
        problem(client.post("/v1/leads", json=LEAD, headers=headers), 409, "no active routing")
        bulk = client.post("/v1/leads/bulk", json={"leads": [LEAD]}, headers=headers)
        problem(bulk, 409, "no active routing config")
        assert client.get("/v1/decisions", headers=headers).json() == []
        deactivated = client.post("/v1/reps/r1/deactivate", headers=headers)
        assert deactivated.status_code == 200, deactivated.text
        assert deactivated.json()["rep"]["status"] == "inactive"
        assert deactivated.json()["handed_on"] == []
        form = client.post(
            "/v1/webhooks/web-to-lead", data={"email": "a@b.io", "debug": "1"}, headers=headers
        )
        problem(form, 409, "no active routing config")
        soap = client.post("/v1/webhooks/salesforce", content=outbound(LEAD_ONE), headers=headers)
        assert soap.status_code == 409 and b"no active routing config" in soap.content
        assert soap.headers["content-type"].startswith("text/xml")
    assert sum(store.lead_counts().values()) == 0


# -- the endpoints table -----------------------------------------------------------------------

# Values for the path parameters the table names, each something the fixture stored.
EXAMPLE_PATH = {
    "/v1/leads/{id}": "/v1/leads/L1",
    "/v1/accounts/{id}": "/v1/accounts/acme",
    "/v1/reps/{id}": "/v1/reps/r2",
    "/v1/configs/{seq}": "/v1/configs/1",
    "/v1/keys/{name}": "/v1/keys/spare",
}


def _requests_of(cell: str) -> list[tuple[str, str]]:
    """`GET /v1/a`, `GET /v1/a/{id}` or `POST /v1/webhooks/x`, `/y`: (method, path) each."""
    found: list[tuple[str, str]] = []
    for item in re.findall(r"`([^`]+)`", cell):
        if item.startswith("/"):  # the previous one's method and folder
            method, previous = found[-1]
            item = f"{method} {previous.rsplit('/', 1)[0]}{item}"
        method, path = item.split(" ", 1)
        found.append((method, re.sub(r"\[.*?\]|\?.*", "", path)))
    return found


def _example(path: str) -> str:
    for pattern, example in EXAMPLE_PATH.items():
        path = path.replace(pattern, example)
    return path.replace("{action}", "accept")


def _template(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def test_each_endpoint_needs_the_scope_the_table_names(api: Api) -> None:
    """Without a key: 401 (but for scope none). With a key lacking the scope: 403 naming it.
    With one holding it (admin holds them all): neither."""
    api.client.post("/v1/leads", json={"id": "L1", **LEAD}, headers=api.as_("ingest"))
    KeyStore(api.store).create("spare", ["read"])
    rows = _table("Endpoints")
    assert len(rows) == 26, rows
    checked: set[tuple[str, str]] = set()
    for cell, scope, _ in rows:
        for method, template in _requests_of(cell):
            path = _example(template)
            allowed = HOLDERS.get(scope, {scope, "admin"})
            for holder in (None, "ingest", "read", "admin"):  # admin last: it may change things
                answer = api.client.request(method, path, json={}, headers=api.as_(holder))
                where = (method, path, holder, answer.status_code, answer.text[:200])
                if holder in allowed:
                    assert answer.status_code not in (401, 403), where
                elif holder is None:
                    assert answer.status_code == 401, where
                else:
                    assert answer.status_code == 403, where
                    assert f"the '{scope}' scope" in answer.json()["detail"], where
            checked.add((method, _template(template)))
    described = api.client.get("/openapi.json").json()["paths"]
    operations = {(m.upper(), _template(p)) for p, ms in described.items() for m in ms}
    assert operations == checked  # every operation the API has is in the table, and no other


def test_a_lead_its_decisions_brief_and_events_hold_what_the_table_says(api: Api) -> None:
    lead = api.client.post("/v1/leads", json={"id": "L7", **LEAD}, headers=api.as_("ingest")).json()
    first_rep = lead["rep"]["id"]
    api.client.post(f"/v1/reps/{first_rep}/deactivate", headers=api.as_("admin"))  # hands it on
    read = api.as_("read")
    got = api.client.get("/v1/leads/L7", headers=read).json()
    assert got.keys() == {
        "lead_id",
        "status",
        "owner",
        "queue",
        "fields",
        "source",
        "channel",
        "received_at",
        "decision",
    }
    assert got["owner"] not in (None, first_rep) and got["fields"]["company"] == "Acme"
    assert got["decision"]["rep"]["id"] == got["owner"]
    decisions = api.client.get("/v1/leads/L7/decisions", headers=read).json()
    assert [d["current"] for d in decisions] == [False, True]  # oldest first
    assert decisions[0]["decision_id"] < decisions[1]["decision_id"]
    brief = api.client.get("/v1/leads/L7/brief", headers=read).json()
    assert brief.keys() == {"lead_id", "person", "route", "account", "scores", "recent_activity"}
    assert brief["person"]["email"] == "ada@acme.com" and brief["account"]["id"] == "acme"
    assert brief["route"]["rep"] == got["owner"] and brief["route"]["reason"]
    kinds = [e["kind"] for e in api.client.get("/v1/leads/L7/events", headers=read).json()]
    assert kinds[0] == "assigned" and "reassigned" in kinds


def test_each_action_the_table_names_is_taken_and_others_are_409(api: Api) -> None:
    ingest = api.as_("ingest")
    for action in ("accept", "contacted", "convert", "disqualify"):
        lead = api.client.post(
            "/v1/leads", json={**LEAD, "email": f"{action}@acme.com"}, headers=ingest
        ).json()
        taken = api.client.post(f"/v1/leads/{lead['lead_id']}/actions/{action}", headers=ingest)
        assert taken.status_code == 200, (action, taken.text)
        assert taken.json()["action"] == action
    lead = api.client.post("/v1/leads", json=LEAD, headers=ingest).json()
    problem(
        api.client.post(f"/v1/leads/{lead['lead_id']}/actions/dance", headers=ingest),
        409,
        "action must be one of accept",
    )
    queued = api.client.post(
        "/v1/leads", json={"email": "x@tiny.io", "employees": 3}, headers=ingest
    ).json()
    assert queued["queue"] == "self_serve"
    problem(
        api.client.post(f"/v1/leads/{queued['lead_id']}/actions/accept", headers=ingest),
        409,
        "not assigned to a rep",
    )


def test_recent_decisions_are_oldest_first_from_since_and_limit_is_kept_in_range(
    api: Api,
) -> None:
    ingest, read = api.as_("ingest"), api.as_("read")
    ids = [
        api.client.post(
            "/v1/leads", json={**LEAD, "email": f"p{i}@acme.com"}, headers=ingest
        ).json()["decision_id"]
        for i in range(3)
    ]
    every = api.client.get("/v1/decisions", headers=read).json()
    assert [d["decision_id"] for d in every] == ids
    assert every[0].keys() == _json_examples()[0].keys()
    since = api.client.get("/v1/decisions", params={"since": every[1]["decided_at"]}, headers=read)
    assert [d["decision_id"] for d in since.json()] == ids[1:]
    for limit, count in ((0, 1), (2, 2), (5000, 3)):
        answer = api.client.get("/v1/decisions", params={"limit": limit}, headers=read)
        assert len(answer.json()) == count, limit


def test_a_rep_change_is_all_or_nothing_and_names_each_field(api: Api) -> None:
    admin = api.as_("admin")
    before = api.client.get("/v1/reps/r2", headers=api.as_("read")).json()
    refused = problem(
        api.client.patch(
            "/v1/reps/r2",
            json={"status": "paused", "working_hours": "mon-fri 9-5", "caps": {"day": -1}},
            headers=admin,
        ),
        422,
        "invalid rep: ",
        "working_hours: ",
        "caps.day: ",
    )
    assert "errors" not in refused
    assert api.client.get("/v1/reps/r2", headers=api.as_("read")).json() == before
    problem(
        api.client.patch(
            "/v1/reps/r2",
            json={"out_of_office": [{"start": "2026-12-10", "end": "2026-12-01"}]},
            headers=admin,
        ),
        422,
        "out_of_office.0.end: the end is before the start",
    )
    assert api.client.get("/v1/reps/r2", headers=api.as_("read")).json() == before


def test_config_versions_are_listed_shown_stored_and_activated_as_the_table_says(
    api: Api,
) -> None:
    read, admin = api.as_("read"), api.as_("admin")
    [first] = api.client.get("/v1/configs", headers=read).json()
    assert first.keys() == {"seq", "name", "hash", "active", "created_at"}
    assert (first["seq"], first["name"], first["active"]) == (1, "api-docs", True)
    shown = api.client.get("/v1/configs/1", headers=read).json()
    assert shown["source"] == CONFIG and shown["hash"] == first["hash"]
    checked = api.client.post(
        "/v1/configs/validate", json={"source": CONFIG.replace("lt: 20", "lt: 9")}, headers=read
    )
    assert checked.json() == {"valid": True, "problems": []}
    assert len(api.client.get("/v1/configs", headers=read).json()) == 1  # nothing stored
    newer = CONFIG.replace("lt: 20", "lt: 500")
    stored = api.client.post(
        "/v1/configs", params={"activate": "true"}, json={"source": newer}, headers=admin
    )
    assert stored.status_code == 201 and stored.json()["active"] is True, stored.text
    # the next request is routed by it: 250 employees is now small
    lead = api.client.post("/v1/leads", json=LEAD, headers=api.as_("ingest")).json()
    assert lead["route"] == "small" and lead["config"]["seq"] == 2
    diff = api.client.get("/v1/configs/diff", params={"a": 1, "b": 2}, headers=read)
    assert diff.headers["content-type"].startswith("text/plain")
    assert "+    when: {employees: {lt: 500}}" in diff.text


def test_a_config_activated_by_another_process_routes_within_two_seconds(api: Api) -> None:
    ingest = api.as_("ingest")

    def route(n: int) -> dict[str, Any]:
        lead = {**LEAD, "email": f"p{n}@acme.com"}
        answer: dict[str, Any] = api.client.post("/v1/leads", json=lead, headers=ingest).json()
        return answer

    assert route(0)["route"] == "sales"
    other = Store(api.store.url)  # another process: its own connections, no shared memory
    try:
        save_version(other, CONFIG.replace("lt: 20", "lt: 500"), activate=True)
    finally:
        other.dispose()
    activated = time.monotonic()
    n = 1
    while (lead := route(n))["route"] != "small":  # 250 employees: small under the new version
        assert lead["route"] == "sales", lead
        assert time.monotonic() - activated < 2.5, "the API still routes by the old version"
        n += 1
        time.sleep(0.1)
    assert lead["config"]["seq"] == 2


def test_keys_are_listed_created_with_the_key_shown_once_and_revoked(api: Api) -> None:
    admin = api.as_("admin")
    made = api.client.post("/v1/keys", json={"name": "bi-tool", "scopes": ["read"]}, headers=admin)
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    assert key.startswith("lr_") and made.json()["scopes"] == ["read"]
    listed = api.client.get("/v1/keys", headers=admin).json()
    assert "bi-tool" in [k["name"] for k in listed]
    assert key not in json.dumps(listed) and all("key" not in k for k in listed)
    assert api.client.get("/v1/reps", headers={"X-API-Key": key}).status_code == 200
    problem(
        api.client.post("/v1/keys", json={"name": "bi-tool", "scopes": ["read"]}, headers=admin),
        422,
        "a key named 'bi-tool' exists",
    )
    problem(
        api.client.post("/v1/keys", json={"name": "x" * 121, "scopes": ["read"]}, headers=admin),
        422,
        "body.name: String should have at most 120 characters",
    )
    assert api.client.delete("/v1/keys/bi-tool", headers=admin).status_code == 200
    assert api.client.get("/v1/reps", headers={"X-API-Key": key}).status_code == 401
    problem(api.client.delete("/v1/keys/nobody", headers=admin), 404, "no key 'nobody'")


def test_health_needs_no_key_and_tells_nothing_about_the_leads(api: Api) -> None:
    api.client.post("/v1/leads", json=LEAD, headers=api.as_("ingest"))
    health = api.client.get("/v1/health")
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "database": "ok", "config": 1}


def test_not_found_names_what_is_missing_quoted_whole(api: Api) -> None:
    read, admin = api.as_("read"), api.as_("admin")
    problem(api.client.get("/v1/leads/nope", headers=read), 404, "no lead 'nope'")
    problem(api.client.get("/v1/leads/nope/brief", headers=read), 404, "no lead 'nope'")
    problem(api.client.get("/v1/reps/ghost", headers=read), 404, "no rep 'ghost'")
    problem(api.client.patch("/v1/reps/ghost", json={}, headers=admin), 404, "'ghost'")
    problem(api.client.get("/v1/accounts/none", headers=read), 404, "no account 'none'")
    problem(api.client.get("/v1/configs/9", headers=read), 404, "no config #9")
    diff = api.client.get("/v1/configs/diff", params={"a": 1, "b": 9}, headers=read)
    problem(diff, 404, "no config #9")
    problem(api.client.post("/v1/configs/9/activate", headers=admin), 404, "#9")


# -- errors ------------------------------------------------------------------------------------


def test_the_error_example_is_what_the_server_answers(api: Api) -> None:
    shown = _json_examples()[1]
    answer = problem(api.client.get("/v1/configs/0", headers=api.as_("read")), 422)
    assert answer == shown


def test_each_member_of_a_problem_appears_where_the_page_says(api: Api) -> None:
    members = {row[0].strip("`") for row in _table("Errors")[:5]}
    assert members == {"detail", "errors", "problems", "retryable", "lead_id`, `outcome"}
    admin = api.as_("admin")
    bad = CONFIG.replace("distribute: sales", "distribute: nowhere")
    refused = problem(
        api.client.post("/v1/configs", json={"source": bad}, headers=admin),
        422,
        "the config is not valid: line 13: ",
        "unknown pool 'nowhere'",
    )
    checked = api.client.post(
        "/v1/configs/validate", json={"source": bad}, headers=api.as_("read")
    ).json()
    assert refused["problems"] == checked["problems"] and not checked["valid"]
    assert set(refused) == {"detail", "problems"}
    invalid = problem(
        api.client.post("/v1/leads", json={"company": "A", "received_at": "x"}, headers=admin),
        422,
    )
    assert set(invalid) == {"detail", "lead_id", "outcome"}
    assert set(problem(api.client.get("/v1/leads/x", headers=admin), 404)) == {"detail"}


def test_a_version_is_checked_against_todays_org_when_activated(api: Api) -> None:
    admin = api.as_("admin")
    three = _org().reps | {"r3": Rep(id="r3", name="Rep r3", teams=("sales",))}
    api.store.save_org(build_org(reps=three.values()))
    draft = api.client.post(
        "/v1/configs",
        json={"source": CONFIG.replace("members: [r1, r2]", "members: [r1, r2, r3]")},
        headers=admin,
    )
    assert draft.status_code == 201 and draft.json()["active"] is False, draft.text
    api.store.save_org(_org(), replace=True)  # as `leadroute org load` of an org without r3
    refused = problem(
        api.client.post(f"/v1/configs/{draft.json()['seq']}/activate", headers=admin),
        422,
        "the config is not valid: ",
        "r3",
    )
    assert set(refused) == {"detail", "problems"} and refused["problems"]
    active = [c["seq"] for c in api.client.get("/v1/configs", headers=admin).json() if c["active"]]
    assert active == [1]


def test_a_page_of_statuses_matches_the_description(api: Api) -> None:
    """The statuses the Errors table lists are the ones the OpenAPI description uses."""
    listed = {int(row[0]) for row in _table("Errors")[5:] if row[0].isdigit()}
    described = api.client.get("/openapi.json").json()["paths"]
    used = {
        int(status)
        for methods in described.values()
        for operation in methods.values()
        for status in operation["responses"]
        if status.startswith(("4", "5"))
    }
    assert listed == used


# -- metrics -----------------------------------------------------------------------------------


def test_metrics_need_the_read_scope_and_answer_prometheus_text(api: Api) -> None:
    api.client.post("/v1/leads", json=LEAD, headers=api.as_("ingest"))
    problem(api.client.get("/metrics"), 401, "an API key is required")
    problem(api.client.get("/metrics", headers=api.as_("ingest")), 403, "the 'read' scope")
    scraped = api.client.get("/metrics", headers=api.as_("read"))  # as Prometheus sends it
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain; version=")
    text = scraped.text
    assert 'leadroute_http_requests_total{method="POST",route="/v1/leads",status="201"} 1.0' in (
        text
    )
    assert 'leadroute_leads_total{outcome="routed"} 1.0' in text
    assert 'leadroute_http_request_seconds_bucket{le="0.005",route="/v1/leads"}' in text
    scrape = _section("Metrics")
    assert "type: Bearer" in scrape and "credentials_file:" in scrape


def test_metrics_count_the_requests_of_their_own_process(api: Api) -> None:
    api.client.post("/v1/leads", json=LEAD, headers=api.as_("ingest"))
    with serve(create_app(api.store)) as other:  # a second server process over the same store
        text = other.get("/metrics", headers=api.as_("read")).text
    assert 'route="/v1/leads"' not in text and "leadroute_leads_total{" not in text
    assert 'route="/v1/leads"' in api.client.get("/metrics", headers=api.as_("read")).text
