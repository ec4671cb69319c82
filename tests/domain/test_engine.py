"""The router: first match wins, fall-through, the fallback, owners, and the decision trace.

The property test builds random flows over a few fields and checks the router against a plain
re-statement of the rules.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadroute.adapters.memory import MemoryRoutingState
from leadroute.domain.decision import Outcome
from leadroute.domain.engine import Router, sticky_key
from leadroute.domain.lead import Lead
from leadroute.domain.org import Absence, Account, Org, RepStatus
from tests.factories import NOW, make_config, make_lead, make_org, make_rep

# --- the property: random flows against a plain statement of the rules ----------------------

REPS = [
    make_rep("ok1"),
    make_rep("ok2"),
    make_rep("paused", status=RepStatus.PAUSED),
    make_rep("gone", status=RepStatus.INACTIVE),
    make_rep("away", out_of_office=(Absence(NOW - timedelta(days=1), NOW + timedelta(days=1)),)),
]
AVAILABLE = {"ok1", "ok2"}
PROPERTY_ORG = make_org(REPS)
POOLS = {
    "open": ["ok1", "ok2"],
    "closed": ["paused", "gone", "away"],
    "mixed": ["paused", "ok2"],
}
POOLS_YAML = "\n".join(
    f"  {pool}: {{members: [{', '.join(members)}]}}" for pool, members in POOLS.items()
)


@dataclass(frozen=True)
class Leaf:
    yaml: str
    holds: Callable[[dict[str, Any]], bool]


def _num(d: dict[str, Any]) -> float | None:
    value = d.get("employees")
    return value if isinstance(value, int | float) else None


LEAVES = [
    Leaf("{country: US}", lambda d: str(d.get("country", "")).lower() == "us"),
    Leaf("{country: [DE, FR]}", lambda d: str(d.get("country", "")).lower() in ("de", "fr")),
    Leaf("{country: {ne: US}}", lambda d: str(d.get("country")).lower() != "us"),
    Leaf("{employees: {gte: 100}}", lambda d: (_num(d) or -1) >= 100),
    Leaf("{employees: {lt: 50}}", lambda d: _num(d) is not None and _num(d) < 50),  # type: ignore[operator]
    Leaf("{employees: {missing: true}}", lambda d: d.get("employees") is None),
    Leaf(
        "{lead_source: {in: [Web, Webinar]}}",
        lambda d: str(d.get("lead_source", "")).lower() in ("web", "webinar"),
    ),
    Leaf(
        "{any: [{country: US}, {employees: {gte: 1000}}]}",
        lambda d: str(d.get("country", "")).lower() == "us" or (_num(d) or -1) >= 1000,
    ),
    Leaf("{not: {lead_source: Web}}", lambda d: str(d.get("lead_source", "")).lower() != "web"),
]


@dataclass(frozen=True)
class Act:
    yaml: str
    # What happens when the node matches: "routed", "held" or None (falls through).
    outcome: str | None
    rep_in: frozenset[str] = frozenset()
    queue: str | None = None


def _actions() -> list[Act]:
    acts = [Act("{queue: q1}", "routed", queue="q1"), Act("{hold: check}", "held")]
    for pool, members in POOLS.items():
        can = frozenset(m for m in members if m in AVAILABLE)
        for if_empty in ("fall_through", "hold"):
            outcome = "routed" if can else (None if if_empty == "fall_through" else "held")
            acts.append(
                Act(f"{{distribute: {{pool: {pool}, if_empty: {if_empty}}}}}", outcome, can)
            )
    for rep in ("ok1", "paused", "gone", "away"):
        for policy in ("fall_through", "hold", "assign_anyway"):
            if rep in AVAILABLE or policy == "assign_anyway":
                outcome: str | None = "routed"
            else:
                outcome = None if policy == "fall_through" else "held"
            acts.append(
                Act(
                    f"{{assign: {{rep: {rep}, if_unavailable: {policy}}}}}",
                    outcome,
                    frozenset({rep}) if outcome == "routed" else frozenset(),
                )
            )
    return acts


ACTIONS = _actions()

node_strategy = st.tuples(
    st.lists(st.sampled_from(range(len(LEAVES))), max_size=2), st.sampled_from(range(len(ACTIONS)))
)

lead_strategy = st.fixed_dictionaries(
    {},
    optional={
        "country": st.sampled_from(["US", "us", "DE", "fr", "GB"]),
        "employees": st.sampled_from([1, 49, 50, 99, 100, 999, 1000, 5000]),
        "lead_source": st.sampled_from(["Web", "webinar", "Trade Show"]),
    },
)


def flow_yaml(nodes: list[tuple[list[int], int]], fallback: int) -> str:
    lines = ["name: random", "pools:", POOLS_YAML, "flow:"]
    for i, (leaves, action) in enumerate(nodes):
        when = "[" + ", ".join(LEAVES[j].yaml for j in leaves) + "]"
        lines += [f"  - id: n{i}", f"    when: {when}", f"    then: {ACTIONS[action].yaml}"]
    lines += ["  - id: fallback", "    fallback: true", f"    then: {ACTIONS[fallback].yaml}"]
    return "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    nodes=st.lists(node_strategy, max_size=6),
    fallback=st.sampled_from(range(len(ACTIONS))),
    leads=st.lists(lead_strategy, min_size=1, max_size=25),
)
def test_first_match_wins(
    nodes: list[tuple[list[int], int]], fallback: int, leads: list[dict[str, Any]]
) -> None:
    config = make_config(flow_yaml(nodes, fallback), PROPERTY_ORG)
    router, state = Router(config, PROPERTY_ORG), MemoryRoutingState(PROPERTY_ORG)
    plan = [
        (f"n{i}", [LEAVES[j] for j in leaves], ACTIONS[a]) for i, (leaves, a) in enumerate(nodes)
    ]
    plan.append(("fallback", [], ACTIONS[fallback]))
    outcomes: Counter[str] = Counter()
    by_node: Counter[str | None] = Counter()
    for n, fields in enumerate(leads):
        decision = router.route(make_lead(f"L{n}", **fields), now=NOW, state=state)
        state.apply(decision)
        # The plain statement: the first node whose condition holds and whose action does
        # not fall through takes the lead; every node before it was tried.
        expected_node, expected_outcome, tried = None, "unrouted", []
        for node_id, leaves, act in plan:
            matched = all(leaf.holds(fields) for leaf in leaves)
            tried.append((node_id, matched))
            if matched and act.outcome is not None:
                expected_node, expected_outcome = node_id, act.outcome
                break
        assert [(t.node, t.matched) for t in decision.nodes] == tried
        assert decision.node == expected_node
        assert decision.outcome.value == expected_outcome
        assert decision.outcome in (Outcome.ROUTED, Outcome.HELD, Outcome.UNROUTED)
        if expected_node is not None:
            act = dict((node_id, a) for node_id, _, a in plan)[expected_node]
            if act.queue:
                assert (decision.queue, decision.rep_id) == (act.queue, None)
            elif expected_outcome == "routed":
                assert decision.rep_id in act.rep_in
            else:
                assert decision.rep_id is None
        else:
            assert decision.rep_id is None and decision.queue is None
            assert decision.reason.startswith("fallback could not place the lead")
        outcomes[decision.outcome.value] += 1
        by_node[decision.node] += 1
    # Counts add up over the batch.
    assert sum(outcomes.values()) == len(leads)
    assert by_node[None] == outcomes["unrouted"]
    assert sum(c for node, c in by_node.items() if node is not None) == (
        outcomes["routed"] + outcomes["held"]
    )
    assigned = sum(state.open.values())
    assert assigned <= outcomes["routed"]
    assert (
        sum(c for (_, key), c in state.counters.items() if key == NOW.date().isoformat())
        == assigned
    )


# --- owners ----------------------------------------------------------------------------------

OWNER_FLOW = """
flow:
  - id: owner
    when: {{account.id: {{exists: true}}}}
    then: {{assign_owner: {{if_unavailable: {policy}, follow_parent: {parent}}}}}
  - id: fallback
    fallback: true
    then: {{queue: general}}
"""


def owner_org(owner_status: RepStatus = RepStatus.ACTIVE, *, away: bool = False) -> Org:
    absences = (Absence(NOW - timedelta(hours=1), NOW + timedelta(hours=1), "holiday"),)
    owner = make_rep(
        "owner",
        status=owner_status,
        out_of_office=absences if away else (),
        booking_link="https://cal.example.com/owner",
    )
    return make_org(
        [owner, make_rep("other")],
        accounts=[
            Account("parent", "Parent Inc", "parent.com", owner_id="owner"),
            Account("child", "Child Ltd", "child.com", parent_id="parent"),
            Account("acme", "Acme", "acme.com", owner_id="owner"),
            Account("orphan", "Orphan", "orphan.com"),
            Account("ghosted", "Ghosted", "ghosted.com", owner_id="nobody"),
        ],
    )


def route_owner(
    org: Org,
    account_id: str | None,
    policy: str = "fall_through",
    parent: bool = False,
    exclude: frozenset[str] = frozenset(),
) -> Any:
    router = Router(
        make_config(OWNER_FLOW.format(policy=policy, parent=str(parent).lower()), org), org
    )
    account = org.accounts.get(account_id) if account_id else None
    return router.route(
        make_lead(), now=NOW, state=MemoryRoutingState(org), account=account, exclude=exclude
    )


def test_assign_owner_assigns_an_available_owner() -> None:
    decision = route_owner(owner_org(), "acme")
    assert (decision.outcome, decision.node, decision.rep_id) == (Outcome.ROUTED, "owner", "owner")
    assert decision.booking_link == "https://cal.example.com/owner"
    assert decision.how == "account owner"


@pytest.mark.parametrize(
    ("status", "away", "said"),
    [
        (RepStatus.INACTIVE, False, "inactive"),
        (RepStatus.PAUSED, False, "paused"),
        (RepStatus.ACTIVE, True, "out of office"),
    ],
)
def test_assign_owner_when_the_owner_is_unavailable(
    status: RepStatus, away: bool, said: str
) -> None:
    org = owner_org(status, away=away)
    falls = route_owner(org, "acme", "fall_through")
    assert (falls.outcome, falls.node, falls.queue) == (Outcome.ROUTED, "fallback", "general")
    assert falls.nodes[0].matched and said in (falls.nodes[0].result or "")
    assert falls.nodes[0].result.startswith("fell through")

    held = route_owner(org, "acme", "hold")
    assert (held.outcome, held.node, held.rep_id) == (Outcome.HELD, "owner", None)
    assert said in held.reason

    anyway = route_owner(org, "acme", "assign_anyway")
    assert (anyway.outcome, anyway.node, anyway.rep_id) == (Outcome.ROUTED, "owner", "owner")


def test_assign_owner_ignores_working_hours_and_caps() -> None:
    from leadroute.domain.org import Caps, WorkingHours

    owner = make_rep("owner", working_hours=WorkingHours({}), caps=Caps(day=0))
    org = make_org([owner], accounts=[Account("acme", "Acme", owner_id="owner")])
    assert route_owner(org, "acme").rep_id == "owner"


def test_assign_owner_without_an_owner_falls_through() -> None:
    for account_id in (None, "orphan", "child"):
        decision = route_owner(owner_org(), account_id, "hold")
        assert decision.node == "fallback", account_id


def test_follow_parent_uses_the_parent_accounts_owner() -> None:
    decision = route_owner(owner_org(), "child", parent=True)
    assert (decision.node, decision.rep_id, decision.how) == (
        "owner",
        "owner",
        "parent account owner",
    )


def test_an_owner_who_is_not_in_the_org_is_never_assigned() -> None:
    for policy in ("fall_through", "assign_anyway"):
        decision = route_owner(owner_org(), "ghosted", policy)
        assert (decision.node, decision.rep_id) == ("fallback", None), policy
        assert "unknown rep" in (decision.nodes[0].result or "")
    assert route_owner(owner_org(), "ghosted", "hold").outcome is Outcome.HELD


def test_the_previous_owner_is_never_assigned_again() -> None:
    previous = frozenset({"owner"})
    for policy in ("fall_through", "assign_anyway"):
        decision = route_owner(owner_org(), "acme", policy, exclude=previous)
        assert (decision.node, decision.rep_id) == ("fallback", None), policy
    held = route_owner(owner_org(), "acme", "hold", exclude=previous)
    assert (held.outcome, held.rep_id) == (Outcome.HELD, None)
    assert "previous owner" in held.reason


def test_assign_a_named_rep() -> None:
    org = make_org([make_rep("r1"), make_rep("r2", status=RepStatus.PAUSED)])
    config = make_config(
        """
        flow:
          - {id: vip, when: {tags: {contains: vip}}, then: {assign: r2}}
          - {id: big, when: {employees: {gte: 1000}}, then: {assign: {rep: r1}}}
          - {id: fallback, fallback: true, then: {hold: later}}
        """,
        org,
    )
    router, state = Router(config, org), MemoryRoutingState(org)
    vip = router.route(make_lead(tags=["vip"], employees=5000), now=NOW, state=state)
    assert (vip.node, vip.rep_id, vip.how) == ("big", "r1", "named rep")
    assert vip.nodes[0].result == "fell through: r2 is paused (paused)"
    small = router.route(make_lead(employees=5), now=NOW, state=state)
    assert (small.outcome, small.node, small.reason) == (
        Outcome.HELD,
        "fallback",
        "fallback: held (later)",
    )


# --- unrouted, context ---------------------------------------------------------------------


def test_a_fallback_that_falls_through_leaves_the_lead_unrouted() -> None:
    org = make_org([make_rep("r1", status=RepStatus.PAUSED)])
    config = make_config(
        """
        pools:
          p: {members: [r1]}
        flow:
          - {id: fallback, fallback: true, then: {distribute: p}}
        """,
        org,
    )
    decision = Router(config, org).route(make_lead(), now=NOW, state=MemoryRoutingState(org))
    assert decision.outcome is Outcome.UNROUTED
    assert decision.node is None and decision.rep_id is None
    assert (
        decision.reason == "fallback could not place the lead: fell through: nobody "
        "available in pool p"
    )


def test_context_derives_fields() -> None:
    org = make_org()
    router = Router(make_config("flow: [{id: fb, fallback: true, then: {queue: q}}]", org), org)
    lead = Lead(
        "L1", {"email": "Ada@Example.COM", "employees": 150}, source="Webinar", channel="web_form"
    )
    data = router.context(lead, Account("a1", "Acme"))
    assert data["id"] == "L1"
    assert data["email_domain"] == "example.com"
    assert data["free_email"] is False
    assert data["segment"] == "mid"
    assert data["lead_source"] == "Webinar"
    assert data["channel"] == "web_form"
    assert data["account"]["id"] == "a1"
    assert router.context(make_lead(email="x@gmail.com"))["free_email"] is True
    assert router.context(make_lead())["free_email"] is None
    # What the lead says wins over what would be derived.
    given_values = router.context(
        Lead("L2", {"segment": "ent", "lead_source": "Ads", "free_email": True}, source="Webinar")
    )
    assert (given_values["segment"], given_values["lead_source"], given_values["free_email"]) == (
        "ent",
        "Ads",
        True,
    )


def test_free_email_conditions_work_on_derived_values() -> None:
    org = make_org()
    config = make_config(
        """
        flow:
          - {id: consumer, when: {free_email: true}, then: {queue: self_serve}}
          - {id: fallback, fallback: true, then: {queue: sales}}
        """,
        org,
    )
    router, state = Router(config, org), MemoryRoutingState(org)
    assert router.route(make_lead(email="a@gmail.com"), now=NOW, state=state).queue == "self_serve"
    assert router.route(make_lead(email="a@acme.com"), now=NOW, state=state).queue == "sales"


def test_sticky_key() -> None:
    assert sticky_key({"account": {"id": "a1"}, "email_domain": "x.com"}) == "account:a1"
    assert sticky_key({"domain": "Acme.com", "email_domain": "gmail.com"}) == "domain:acme.com"
    assert sticky_key({"email_domain": "acme.com"}) == "domain:acme.com"
    assert sticky_key({"email_domain": "gmail.com"}) is None
    assert sticky_key({"email_domain": "acme.com", "free_email": True}) is None
    assert sticky_key({}) is None


def test_routing_is_deterministic() -> None:
    org = make_org()
    config = make_config(
        """
        pools:
          p: {members: [team:sales], method: weighted}
        flow:
          - {id: us, when: {territory: na}, then: {distribute: p}}
          - {id: fallback, fallback: true, then: {queue: q}}
        """,
        org,
    )

    def run() -> list[tuple[str | None, str | None]]:
        router, state = Router(config, org), MemoryRoutingState(org)
        out = []
        for i in range(20):
            decision = router.route(
                make_lead(f"L{i}", country="US" if i % 3 else "DE"),
                now=NOW + timedelta(minutes=i),
                state=state,
            )
            state.apply(decision)
            out.append((decision.rep_id, decision.queue))
        return out

    assert run() == run()


def test_minimal_viable_lead_holds_incomplete_leads_globally_and_per_route() -> None:
    from leadroute.adapters.memory import MemoryRoutingState
    from leadroute.domain.config import compile_config
    from leadroute.domain.engine import Router
    from leadroute.domain.lead import Lead
    from leadroute.domain.org import Org

    document = {
        "required": ["email"],
        "queues": {"sales": {}},
        "flow": [
            {
                "id": "enterprise",
                "when": {"country": "US"},
                "requires": ["industry", "employees"],
                "then": {"queue": "sales"},
            },
            {"id": "fallback", "fallback": True, "then": {"queue": "sales"}},
        ],
    }
    config, issues = compile_config(document, Org())
    assert config is not None, issues
    router, state = Router(config, Org()), MemoryRoutingState(Org())
    now = datetime(2026, 11, 24, 15, tzinfo=UTC)

    no_email = router.route(Lead("a", {"country": "US"}), now=now, state=state)
    assert no_email.outcome.value == "held" and no_email.missing == ["email"]
    assert no_email.reason == "missing: email (minimal viable lead)"

    gaps = router.route(
        Lead("b", {"email": "b@x.example", "country": "US", "industry": "Retail"}),
        now=now,
        state=state,
    )
    assert gaps.outcome.value == "held" and gaps.node == "enterprise"
    assert gaps.missing == ["employees"] and gaps.reason == "enterprise: missing: employees"
    assert gaps.as_record()["missing"] == ["employees"]

    elsewhere = router.route(
        Lead("c", {"email": "c@x.example", "country": "DE"}), now=now, state=state
    )
    assert elsewhere.outcome.value == "routed" and elsewhere.queue == "sales"


def test_unknown_fields_in_the_minimal_viable_lead_are_errors() -> None:
    from leadroute.domain.config import compile_config
    from leadroute.domain.org import Org

    document = {
        "required": ["industy"],
        "flow": [{"id": "f", "fallback": True, "then": {"queue": "q"}}],
    }
    config, issues = compile_config(document, Org())
    assert config is None
    assert issues[0].path == ("required", 0) and "unknown field 'industy'" in issues[0].message
