"""Router.reach: the pools a lead's decision may touch, known before any state is read.

A routing transaction locks only these pools, so what reach leaves out must be something no
decision on the lead can read or change: checked here on examples and, as a property, against
the decisions the router makes in every state (reps paused or capped, pools empty, previous
owners excluded).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadroute.adapters.memory import MemoryRoutingState
from leadroute.domain.engine import Router
from leadroute.domain.org import Account, Caps, RepStatus
from tests.factories import NOW, make_config, make_lead, make_org, make_rep

FLOW = """
required: [email]
pools:
  na: {members: [r1, r2]}
  ent: {members: [r2, r4]}
  dach: {members: [r3]}
flow:
  - id: named
    when: {account.named: true}
    then: {assign_owner: {}}
  - id: big
    when: {employees: {gte: 1000}}
    then: {distribute: ent}
  - id: na
    when: {territory: na}
    then: {distribute: na}
  - id: dach
    when: {territory: dach}
    then: {distribute: {pool: dach, if_empty: hold}}
  - id: vip
    when: {industry: VIP}
    then: {assign: {rep: r5}}
  - id: fallback
    fallback: true
    then: {queue: nurture}
"""

ACCOUNTS = [
    Account("acc-r3", "Dach Named", "named.example", owner_id="r3", named=True),
    Account("acc-none", "No Owner", "noowner.example", named=True),
]


def _router() -> Router:
    org = make_org([make_rep(f"r{i}") for i in range(1, 6)], accounts=ACCOUNTS)
    return Router(make_config(FLOW, org), org)


def _reach(router: Router, **fields: Any) -> frozenset[str]:
    account = router.org.accounts.get(str(fields.pop("account", "")))
    data = router.context(make_lead("L1", email="x@y.example", **fields), account)
    return router.reach(data, account).pools


def test_a_pool_brings_the_pools_that_share_its_reps() -> None:
    router = _router()
    # na's r2 is also in ent: giving r2 a lead moves counters ent's caps check
    assert _reach(router, country="US", employees=50) == {"na", "ent"}
    assert _reach(router, country="US", employees=5000) == {"ent", "na"}


def test_the_walk_stops_where_a_lead_cannot_fall_through() -> None:
    router = _router()
    assert _reach(router, country="DE", employees=50) == {"dach"}  # if_empty: hold
    assert _reach(router, country="FR", employees=50) == frozenset()  # to a queue
    assert _reach(router, country="FR", industry="VIP") == frozenset()  # r5 is in no pool


def test_a_named_account_adds_its_owner_s_pools_and_may_fall_through() -> None:
    router = _router()
    assert _reach(router, country="US", employees=50, account="acc-r3") == {"dach", "na", "ent"}
    assert _reach(router, country="DE", employees=50, account="acc-none") == {"dach"}


def test_a_lead_held_for_missing_fields_needs_no_pool() -> None:
    router = _router()
    lead = make_lead("L1", country="US", employees=50)  # no email: required
    assert router.reach(router.context(lead)).pools == frozenset()


def test_tested_conditions_are_the_flow_s_own() -> None:
    router = _router()
    data = router.context(make_lead("L1", email="x@y.example", country="DE", employees=50))
    reach = router.reach(data)
    assert reach.tested == tuple(n.condition.test(data) for n in router.config.nodes[:4])


# -- as a property ------------------------------------------------------------------------------

REPS = [f"r{i}" for i in range(1, 7)]
COUNTRIES = ("US", "CA", "DE", "FR", "JP")
NODES = (
    ("named", "{account.named: true}", "{assign_owner: {if_unavailable: IFU}}"),
    ("owner", "{account.owner: {exists: true}}", "{assign_owner: {follow_parent: true}}"),
    ("big", "{employees: {gte: 1000}}", "{distribute: {pool: p1, if_empty: IFE}}"),
    ("na", "{territory: na}", "{distribute: {pool: p2, if_empty: IFE}}"),
    ("dach", "{territory: dach}", "{distribute: {pool: p3, if_empty: IFE}}"),
    ("soft", "{industry: Software}", "{assign: {rep: r6, if_unavailable: IFU}}"),
    ("hold", "{industry: Hold}", "{hold: waiting}"),
    ("small", "{employees: {lt: 10}}", "{distribute: {pool: p4, if_empty: IFE}}"),
    ("q", "{industry: Retail}", "{queue: retail}"),
)


@st.composite
def worlds(draw: st.DrawFn) -> tuple[Router, list[dict[str, Any]], dict[str, Any]]:
    members = {
        pool: draw(st.lists(st.sampled_from(REPS), min_size=1, max_size=3, unique=True))
        for pool in ("p1", "p2", "p3", "p4")
    }
    nodes = draw(st.lists(st.sampled_from(NODES), min_size=1, max_size=6, unique=True))
    lines = ["pools:"]
    lines += [
        f"  {p}: {{members: [{', '.join(m)}], fairness_window: all}}" for p, m in members.items()
    ]
    lines.append("flow:")
    for node_id, when, then in nodes:
        then = then.replace("IFU", draw(st.sampled_from(("fall_through", "assign_anyway", "hold"))))
        then = then.replace("IFE", draw(st.sampled_from(("fall_through", "hold"))))
        lines += [f"  - id: {node_id}", f"    when: {when}", f"    then: {then}"]
    lines += ["  - id: fallback", "    fallback: true", "    then: {queue: nurture}"]
    statuses = draw(
        st.lists(
            st.sampled_from((RepStatus.ACTIVE, RepStatus.ACTIVE, RepStatus.PAUSED)),
            min_size=len(REPS),
            max_size=len(REPS),
        )
    )
    capped = draw(st.sets(st.sampled_from(REPS)))
    reps = [
        make_rep(rep, status=status, caps=Caps(day=0) if rep in capped else Caps())
        for rep, status in zip(REPS, statuses, strict=True)
    ]
    accounts = [
        Account("parent", "Parent", "parent.example", owner_id=draw(st.sampled_from(REPS))),
        Account("child", "Child", "child.example", named=True, parent_id="parent"),
        Account("own", "Own", "own.example", owner_id=draw(st.sampled_from(REPS)), named=True),
    ]
    org = make_org(reps, accounts=accounts)
    router = Router(make_config("\n".join(lines) + "\n", org), org)
    leads = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "country": st.sampled_from(COUNTRIES),
                    "employees": st.sampled_from((5, 50, 5000)),
                    "industry": st.sampled_from(("Software", "Hold", "Retail", "Other")),
                    "account": st.sampled_from((None, "parent", "child", "own")),
                }
            ),
            min_size=1,
            max_size=8,
        )
    )
    exclude = {"exclude": draw(st.sets(st.sampled_from(REPS), max_size=2))}
    return router, leads, exclude


@given(worlds())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_decision_stays_within_its_reach(
    world: tuple[Router, list[dict[str, Any]], dict[str, Any]],
) -> None:
    router, leads, extra = world
    state = MemoryRoutingState(router.org)
    exclude = frozenset(extra["exclude"])
    for i, fields in enumerate(leads):
        fields = dict(fields)
        account = router.org.accounts.get(fields.pop("account") or "")
        lead = make_lead(f"L{i}", **fields)
        data = router.context(lead, account)
        reach = router.reach(data, account)
        plain = router.route(
            lead, now=NOW, state=state, account=account, data=data, exclude=exclude
        )
        fast = router.route(
            lead,
            now=NOW,
            state=state,
            account=account,
            data=data,
            exclude=exclude,
            tested=reach.tested,
        )
        assert (fast.outcome, fast.node, fast.rep_id, fast.queue, fast.reason) == (
            plain.outcome,
            plain.node,
            plain.rep_id,
            plain.queue,
            plain.reason,
        )
        if plain.pool is not None:
            assert plain.pool in reach.pools
        if plain.rep_id is not None:
            assert router.pools_of([plain.rep_id]) <= reach.pools
        assert len(plain.nodes) <= len(reach.tested)  # no node past where the walk stopped
        state.apply(plain)
