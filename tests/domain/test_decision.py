"""The decision record: JSON-ready, and complete enough to explain every decision later."""

from __future__ import annotations

import json
from datetime import timedelta

from leadroute.adapters.memory import MemoryRoutingState
from leadroute.domain.decision import Decision, Outcome, rejected
from leadroute.domain.engine import Router
from leadroute.domain.org import Absence, Account, RepStatus
from tests.factories import NOW, make_config, make_lead, make_org, make_rep

FLOW = """
name: record-test
pools:
  na: {members: [r1, r2, r3, r4], method: weighted}
queues:
  self_serve: {redirect_url: "https://example.com/signup", message: Sign up}
flow:
  - id: named
    name: Named accounts
    when: {account.named: true}
    then: {assign_owner: {}}
  - id: na_big
    when: {territory: na, employees: {gte: 100}}
    then: {distribute: na}
  - id: small
    when: {segment: smb}
    then: {queue: self_serve}
  - id: fallback
    fallback: true
    then: {hold: needs review}
"""

ORG = make_org(
    [
        make_rep("r1", status=RepStatus.PAUSED),
        make_rep("r2", out_of_office=(Absence(NOW - timedelta(days=1), NOW + timedelta(days=1)),)),
        make_rep("r3", booking_link="https://cal.example.com/r3"),
        make_rep("r4", status=RepStatus.INACTIVE),
    ],
    accounts=[Account("a1", "Acme", "acme.com", owner_id="r4", named=True)],
)
CONFIG = make_config(FLOW, ORG)


def route(account: Account | None = None, **fields: object) -> Decision:
    router = Router(CONFIG, ORG)
    return router.route(
        make_lead("L1", **fields), now=NOW, state=MemoryRoutingState(ORG), account=account
    )


def round_trip(decision: Decision) -> dict[str, object]:
    record = decision.as_record()
    text = json.dumps(record)  # no default=: every value must already be JSON
    loaded: dict[str, object] = json.loads(text)
    assert loaded == record
    return loaded


def test_a_pool_decision_records_every_node_and_every_candidate() -> None:
    decision = route(ORG.accounts["a1"], country="US", employees=500)
    assert (decision.outcome, decision.node, decision.rep_id) == (Outcome.ROUTED, "na_big", "r3")
    record = round_trip(decision)
    assert record["lead_id"] == "L1"
    assert record["outcome"] == "routed"
    assert record["decided_at"] == NOW.isoformat()
    assert record["config"] == {"name": "record-test", "hash": CONFIG.content_hash, "seq": None}
    assert record["route"] == "na_big"
    assert record["rep"] == "r3"
    assert record["pool"] == "na"
    assert record["booking_link"] == "https://cal.example.com/r3"
    assert record["account"]["id"] == "a1"  # type: ignore[index]
    nodes = record["nodes"]
    assert isinstance(nodes, list)
    assert [n["node"] for n in nodes] == ["named", "na_big"]
    named, na_big = nodes
    assert named["name"] == "Named accounts"
    assert named["matched"] is True
    assert named["values"] == {"account.named": True}
    assert named["result"] == "fell through: r4 is inactive (deactivated)"
    assert na_big["values"] == {
        "country": "US",
        "state": None,
        "postal_code": None,
        "employees": 500,
    }
    assert na_big["condition"] == "territory in na and employees ≥ 100"
    assert na_big["result"] == "assigned to r3"
    candidates = {c["rep"]: c for c in na_big["candidates"]}
    assert {rep: c.get("reason") for rep, c in candidates.items()} == {
        "r1": "paused",
        "r2": "out of office",
        "r3": None,
        "r4": "inactive",
    }
    assert candidates["r3"]["eligible"] is True
    assert candidates["r3"]["count"] == 1
    assert "until" in candidates["r2"]["detail"]


def test_a_queue_decision_records_the_queue_and_its_redirect() -> None:
    record = round_trip(route(country="DE", employees=10))
    assert (record["outcome"], record["route"], record["queue"], record["rep"]) == (
        "routed",
        "small",
        "self_serve",
        None,
    )
    assert record["redirect_url"] == "https://example.com/signup"
    assert record["message"] == "Sign up"
    assert [n["matched"] for n in record["nodes"]] == [False, False, True]  # type: ignore[union-attr]
    assert "candidates" not in record["nodes"][0]  # type: ignore[index]


def test_a_held_decision() -> None:
    record = round_trip(route(country="DE", employees=500))
    assert (record["outcome"], record["route"], record["reason"]) == (
        "held",
        "fallback",
        "fallback: held (needs review)",
    )
    assert record["nodes"][-1]["values"] == {}  # type: ignore[index]


def test_values_are_what_the_condition_read() -> None:
    decision = route(country="DE", employees=500, title="CTO")
    for trace in decision.nodes:
        assert set(trace.values) <= {
            "account.named",
            "country",
            "state",
            "postal_code",
            "employees",
            "segment",
        }


def test_rejected_decisions() -> None:
    decision = rejected("L9", "no email and no phone", NOW)
    record = round_trip(decision)
    assert (record["outcome"], record["reason"], record["nodes"]) == (
        "rejected",
        "no email and no phone",
        [],
    )
    assert not decision.assigned
