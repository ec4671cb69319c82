"""Per-node counts of a version's flow, read from the decision records."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadroute.adapters.leadfile import ParsedRow
from leadroute.adapters.store.flow_store import FlowStore
from leadroute.adapters.store.sql import Store
from leadroute.domain.lead import Lead
from leadroute.domain.org import Account, Rep, RepStatus, Territory, build_org
from leadroute.services.flow import flow_counts
from leadroute.services.routing import RoutingService
from tests.services.fixtures import CONFIG, NOW, activate, leads
from tests.services.test_worker import Clock


def _org(owner_status: RepStatus = RepStatus.PAUSED) -> object:
    reps = [Rep(id="r1", name="Rep 1", teams=("sales",), status=owner_status)] + [
        Rep(id=f"r{i}", name=f"Rep {i}", teams=("sales",)) for i in (2, 3)
    ]
    return build_org(
        reps=reps,
        territories=[Territory("na", "North America", frozenset({"US", "CA"}))],
        accounts=[Account("a1", "Acme", "acme.com", owner_id="r1", named=True)],
    )


def _route(service: RoutingService, batch: list[Lead], batch_id: str) -> None:
    service.route_batch([ParsedRow(i, x, None, {}) for i, x in enumerate(batch)], batch_id=batch_id)


@pytest.fixture
def routed(store: Store) -> tuple[Store, int]:
    _, seq = activate(store, _org())  # type: ignore[arg-type]
    service = RoutingService(store, clock=Clock(NOW))
    named = Lead(
        id="N1",
        fields={"email": "cto@acme.com", "company": "Acme", "country": "US"},
        channel="api",
        received_at=NOW - timedelta(minutes=1),
    )
    _route(service, [*leads(6), *leads(2, country="DE", start=10), named], "b1")
    return store, seq


def test_counts_per_node(routed: tuple[Store, int]) -> None:
    store, seq = routed
    flow = flow_counts(FlowStore(store))
    assert flow.seq == seq and flow.decisions == 9
    named, na, fallback = flow.nodes
    assert [n.id for n in flow.nodes] == ["named", "na", "fallback"]
    assert named.condition == "account.named = True" and fallback.fallback
    # every lead is tried at the first node; only the Acme lead matches it, and its owner is
    # paused, so it falls through to the territory node
    assert (named.reached, named.matched, named.taken, named.fell_through) == (9, 1, 0, 1)
    assert named.passed == 9
    assert (na.reached, na.matched, na.taken) == (9, 7, 7)
    assert na.outcomes == {"routed": 7} and sum(na.targets.values()) == 7
    assert set(na.targets) == {"r2", "r3"}  # the paused owner gets nothing
    assert (fallback.reached, fallback.matched, fallback.taken) == (2, 2, 2)
    assert fallback.targets == {"queue:nurture": 2}
    assert flow.unplaced == 0 and not flow.before_flow and flow.other_versions == 0
    record = flow.as_record()
    assert record["nodes"][0]["fell_through"] == 1 and record["decisions"] == 9


def test_a_period_and_a_version_select_decisions(routed: tuple[Store, int]) -> None:
    store, first = routed
    assert flow_counts(FlowStore(store), since=NOW + timedelta(seconds=1)).decisions == 0
    assert flow_counts(FlowStore(store), until=NOW).decisions == 0
    assert flow_counts(FlowStore(store), since=NOW, until=NOW + timedelta(seconds=1)).decisions == 9
    # a second version routes three more leads; each version counts only its own decisions
    changed = CONFIG.replace("name: service-test", "name: second")
    _, second = activate(store, _org(), changed)  # type: ignore[arg-type]
    service = RoutingService(store, clock=Clock(NOW + timedelta(hours=1)))
    _route(service, leads(3, start=100), "b2")
    now = flow_counts(FlowStore(store))
    assert (now.seq, now.decisions, now.other_versions) == (second, 3, 9)
    before = flow_counts(FlowStore(store), seq=first)
    assert (before.decisions, before.other_versions) == (9, 3)
    with pytest.raises(LookupError):
        flow_counts(FlowStore(store), seq=99)


def test_held_before_the_flow_and_a_version_that_no_longer_compiles(store: Store) -> None:
    required = "required: [email, company]\n" + CONFIG
    _, seq = activate(store, _org(RepStatus.ACTIVE), required)  # type: ignore[arg-type]
    service = RoutingService(store, clock=Clock(NOW))
    bare = Lead(id="X1", fields={"email": "a@b.com", "country": "US"}, channel="api")
    _route(service, [bare, *leads(2)], "b")
    flow = flow_counts(FlowStore(store))
    assert flow.decisions == 3 and sum(flow.before_flow.values()) == 1
    assert flow.nodes[1].taken == 2
    # the org changes so the stored version names a territory that is gone: the graph is drawn
    # from the document as written, with the counts still read from the records
    store.save_org(build_org(reps=[Rep(id="r2", name="Rep 2", teams=("sales",))]), replace=True)
    old = flow_counts(FlowStore(store), seq=seq)
    assert [n.id for n in old.nodes] == ["named", "na", "fallback"]
    assert "territory" in old.nodes[1].condition and old.nodes[1].taken == 2
