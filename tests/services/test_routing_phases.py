"""Routing in three phases: prepare with no lock, decide and record under the locks of the
pools the leads can reach, then update what the process keeps in memory.

- An `http` enrichment provider (a real server on 127.0.0.1) that hangs for its whole
  timeout delays only its own lead, on SQLite and PostgreSQL: the other leads of the org,
  sent meanwhile through other requests, are answered at once.
- On PostgreSQL, transactions whose leads reach disjoint pools hold their locks at the same
  time; transactions that share a pool wait for each other; many at once keep round robin,
  caps and counters exact.
- What phase 2 checks again: the active config (a provider activated another one while the
  lead was being enriched), and duplicates another process routed meanwhile.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from leadroute.adapters.store.sql import Store
from leadroute.domain.lead import Lead
from leadroute.domain.org import Caps, Rep, Territory, build_org
from leadroute.services.intake import IntakeResult, LeadIntake
from leadroute.services.routing import RoutingService
from tests.receivers import HttpReceiver, Reply, Request, http_receiver
from tests.services import fixtures

NOW = fixtures.NOW

ORG = build_org(
    reps=[
        Rep(id="ann", name="Ann", teams=("na",)),
        Rep(id="bob", name="Bob", teams=("na",)),
        Rep(id="eve", name="Eve", teams=("emea",)),
        Rep(id="fay", name="Fay", teams=("emea",)),
        Rep(id="sam", name="Sam", teams=("software",)),
    ],
    territories=[
        Territory("na", "North America", frozenset({"US", "CA"})),
        Territory("emea", "EMEA", frozenset({"DE", "FR", "GB"})),
    ],
)

FLOW = """
name: NAME
pools:
  na: {members: [team:na], fairness_window: all, working_hours: ignore}
  emea: {members: [team:emea], fairness_window: all, working_hours: ignore}
  software: {members: [team:software], fairness_window: all, working_hours: ignore}
queues:
  nurture: {message: later}
  v2_software: {message: the second config}
flow:
  - id: software
    when: {industry: Software}
    then: SOFTWARE
  - id: na
    when: {territory: na}
    then: {distribute: na}
  - id: emea
    when: {territory: emea}
    then: {distribute: emea}
  - id: fallback
    fallback: true
    then: {queue: nurture}
"""

ENRICHMENT = """
enrichment:
  policy: wait
  wait_ms: 8000
  providers:
    vendor:
      type: http
      url: "http://127.0.0.1:PORT/companies?domain={domain}"
      fields: {industry: industry}
      timeout_ms: TIMEOUT
      retries: 0
  fields:
    industry: [vendor]
"""


def _config(
    port: int = 9, *, name: str = "phases", timeout_ms: int = 5000, v2: bool = False
) -> str:
    flow = FLOW.replace("NAME", name).replace(
        "SOFTWARE", "{queue: v2_software}" if v2 else "{distribute: software}"
    )
    return flow + ENRICHMENT.replace("PORT", str(port)).replace("TIMEOUT", str(timeout_ms))


def _domain(request: Request) -> str:
    return parse_qs(urlsplit(request.path).query).get("domain", [""])[0]


# -- a slow provider ----------------------------------------------------------------------------


@dataclass
class Round:
    """One lead whose provider hangs, and 100 others sent meanwhile."""

    slow: IntakeResult
    slow_seconds: float
    slow_after_others: bool
    others: list[IntakeResult]
    latencies: list[float]  # of the others, sorted

    @property
    def p99(self) -> float:
        return self.latencies[98]


def _round(intake: LeadIntake, provider: HttpReceiver, n: int) -> Round:
    """Send a lead whose lookup hangs; once the provider holds its request, send 100 others
    from 4 threads (a lead every 180 ms on each, not in step; half of them to be enriched
    by the same provider) and time each answer; then wait for the slow one."""
    slow: dict[str, Any] = {}
    slow_domain = f"slow{n}.example"

    def send_slow() -> None:
        started = time.monotonic()
        slow["result"] = intake.submit(
            {"email": f"pat@{slow_domain}", "company": "Slow", "country": "US"}, key=f"slow{n}"
        )
        slow["seconds"], slow["done"] = time.monotonic() - started, time.monotonic()

    slow_thread = threading.Thread(target=send_slow)
    slow_thread.start()
    deadline = time.monotonic() + 5
    while not any(_domain(r) == slow_domain for r in provider.requests):
        assert time.monotonic() < deadline, "the slow lookup never reached the provider"
        time.sleep(0.01)
    timed: list[tuple[float, IntakeResult]] = []
    lock = threading.Lock()

    def send(thread: int) -> None:
        time.sleep(thread * 0.045)
        for k in range(25):
            i = thread * 25 + k
            raw = {"email": f"p{i}@r{n}co{i}.example", "company": f"Co {i}"}
            raw["country"] = "US" if i % 2 else "DE"
            if i % 2 == 0:
                raw["industry"] = "Retail"  # nothing to enrich
            started = time.perf_counter()
            result = intake.submit(raw, key=f"r{n}k{i}")
            spent = time.perf_counter() - started
            with lock:
                timed.append((spent, result))
            time.sleep(max(0.0, 0.180 - spent))

    threads = [threading.Thread(target=send, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    others_done = time.monotonic()
    slow_thread.join(20)
    return Round(
        slow["result"],
        slow["seconds"],
        slow["done"] > others_done,
        [result for _, result in timed],
        sorted(spent for spent, _ in timed),
    )


def test_a_provider_that_hangs_delays_only_its_own_lead(store: Store) -> None:
    """One lead's provider call hangs for its whole timeout (6 s) while 100 other leads of the
    org are sent through other requests on 4 threads (`_round`): they are answered within a
    second (p99; about 100 ms on a quiet machine, but the test must not fail on a loaded one:
    waiting on the hung call would take 6 s), all before the slow one, which is routed when its
    call times out. The better of two rounds counts."""

    def answer(request: Request) -> Reply:
        if _domain(request).startswith("slow"):
            return Reply(200, {"industry": "Software"}, delay=7.0)  # beyond the 6 s timeout
        return Reply(200, {"industry": "Retail"})

    rounds: list[Round] = []
    with http_receiver(answer) as provider:
        fixtures.activate(store, ORG, _config(provider.port, timeout_ms=6000))
        intake = LeadIntake(RoutingService(store, clock=lambda: NOW))
        try:
            warm = intake.submit({"email": "w@warm.example", "country": "US"}, key="warm")
            assert warm.status_code == 201  # the router, the dedupe index, the routing thread
            for n in range(2):
                rounds.append(_round(intake, provider, n))
                if rounds[-1].p99 < 1.0:
                    break
        finally:
            intake.close()
    for done in rounds:
        assert len(done.others) == 100 and all(r.status_code == 201 for r in done.others)
        assert all(r.body["outcome"] == "routed" for r in done.others)
        assert done.slow.status_code == 201 and done.slow.body["rep"]["id"] in ("ann", "bob")
        assert done.slow_seconds >= 5.5 and done.slow_after_others
        (decision,) = store.decisions(done.slow.body["lead_id"])
        attempts = decision.record["data_quality"]["enrichment"]["attempts"]
        assert any("timeout" in str(a) for a in attempts), attempts
    best = min(rounds, key=lambda r: r.p99)
    assert best.p99 < 1.0, [
        f"p99 {r.p99 * 1000:.0f} ms, max {r.latencies[-1] * 1000:.0f} ms" for r in rounds
    ]
    assert store.lead_counts() == {"routed": 1 + 101 * len(rounds)}


# -- locks on reachable pools only (PostgreSQL) ----------------------------------------------------


def _leads(prefix: str, country: str, n: int, **fields: Any) -> list[Lead]:
    return [
        Lead(
            f"{prefix}{i:03d}",
            {"email": f"{prefix}{i}@{prefix}{i}.example", "country": country, **fields},
            channel="api",
            received_at=NOW - timedelta(minutes=1),
        )
        for i in range(n)
    ]


def _no_enrichment(store: Store) -> None:
    text = _config().split("enrichment:")[0]
    fixtures.activate(store, ORG, text)


@pytest.mark.postgres
def test_batches_of_disjoint_pools_hold_their_locks_at_the_same_time(pg_schema_url: str) -> None:
    """Each transaction, once it holds its locks, waits (up to 10 s) for the other to hold
    its own: both get there only if neither waits for the other's lock."""
    store = Store(pg_schema_url)
    store.migrate()
    try:
        _no_enrichment(store)
        both = threading.Barrier(2, timeout=10)
        locked: dict[str, Sequence[str]] = {}

        def service(name: str) -> RoutingService:
            def on_locked(pools: Sequence[str]) -> None:
                locked[name] = tuple(pools)
                both.wait()

            return RoutingService(store, clock=lambda: NOW, on_locked=on_locked)

        na, emea = service("na"), service("emea")
        errors: list[BaseException] = []

        def route(routing: RoutingService, leads: list[Lead]) -> None:
            try:
                routing.route_now(leads, batch_id=f"b-{leads[0].id}")
            except BaseException as exc:
                errors.append(exc)

        threads = [
            threading.Thread(target=route, args=(na, _leads("us", "US", 6))),
            threading.Thread(target=route, args=(emea, _leads("de", "DE", 6))),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert errors == []
        assert locked == {"na": ("na",), "emea": ("emea",)}
        assert store.lead_counts() == {"routed": 12}
    finally:
        store.dispose()


@pytest.mark.postgres
def test_a_batch_waits_for_the_pool_another_holds(pg_schema_url: str) -> None:
    store = Store(pg_schema_url)
    store.migrate()
    try:
        _no_enrichment(store)
        first_locked = threading.Event()
        times: dict[str, float] = {}

        def hold(pools: Sequence[str]) -> None:
            first_locked.set()
            time.sleep(0.5)
            times["first released"] = time.monotonic()

        def mark(pools: Sequence[str]) -> None:
            times["second locked"] = time.monotonic()

        first = RoutingService(store, clock=lambda: NOW, on_locked=hold)
        second = RoutingService(store, clock=lambda: NOW, on_locked=mark)
        thread = threading.Thread(
            target=first.route_now, args=(_leads("a", "US", 3),), kwargs={"batch_id": "a"}
        )
        thread.start()
        assert first_locked.wait(10)
        second.route_now(_leads("b", "CA", 3), batch_id="b")
        thread.join(10)
        assert times["second locked"] >= times["first released"]
        owners = Counter(s.owner_id for s in store.leads(status="routed"))
        assert owners == Counter({"ann": 3, "bob": 3})  # one rotation across both batches
    finally:
        store.dispose()


CAPPED_ORG = build_org(
    reps=[
        Rep(id="r1", name="R1", teams=("na",)),
        Rep(id="r2", name="R2", teams=("na",)),
        Rep(id="r3", name="R3", teams=("na",)),
        Rep(id="r4", name="R4", teams=("na", "emea"), caps=Caps(day=10)),
        Rep(id="r5", name="R5", teams=("emea",)),
        Rep(id="r6", name="R6", teams=("emea",)),
        Rep(id="r7", name="R7", teams=("apac",)),
        Rep(id="r8", name="R8", teams=("apac",)),
    ],
    territories=[
        Territory("na", "North America", frozenset({"US", "CA"})),
        Territory("emea", "EMEA", frozenset({"DE", "FR"})),
        Territory("apac", "APAC", frozenset({"JP", "SG"})),
    ],
)

CAPPED = """
name: shared
pools:
  na: {members: [team:na], fairness_window: all}
  emea: {members: [team:emea], fairness_window: all}
  apac: {members: [team:apac], fairness_window: all}
flow:
  - {id: na, when: {territory: na}, then: {distribute: na}}
  - {id: emea, when: {territory: emea}, then: {distribute: emea}}
  - {id: apac, when: {territory: apac}, then: {distribute: apac}}
  - {id: fallback, fallback: true, then: {queue: nurture}}
"""


@pytest.mark.postgres
def test_many_batches_at_once_keep_round_robin_caps_and_counters(pg_schema_url: str) -> None:
    """Six services (as six processes) route 60 batches of 5 at once; r4 is in two pools with
    a cap of 10 a day. Batches that reach na or emea lock both (they share r4); apac batches
    lock apac alone."""
    store = Store(pg_schema_url)
    store.migrate()
    try:
        fixtures.activate(store, CAPPED_ORG, CAPPED)
        countries = ("US", "DE", "JP", "CA", "FR", "SG")
        batches: list[list[Lead]] = []
        for b in range(60):
            if b % 10 == 9:  # a mixed batch now and then
                leads = [_leads(f"m{b}x{c}", country, 1)[0] for c, country in enumerate(countries)]
            else:
                leads = _leads(f"b{b}x", countries[b % len(countries)], 5)
            batches.append(leads)
        locked: list[tuple[str, ...]] = []
        errors: list[BaseException] = []

        def work(k: int) -> None:
            routing = RoutingService(
                store, clock=lambda: NOW, on_locked=lambda pools: locked.append(tuple(pools))
            )
            try:
                for leads in batches[k::6]:
                    routing.route_now(leads, batch_id=f"batch-{leads[0].id}")
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert errors == []
        total = sum(len(b) for b in batches)
        assert store.lead_counts() == {"routed": total}
        assert set(locked) == {("emea", "na"), ("apac",), ("apac", "emea", "na")}
        decisions = list(store.decisions_since())
        assert len(decisions) == total and len({d.lead_id for d in decisions}) == total
        by_pool: dict[str, Counter[str]] = {"na": Counter(), "emea": Counter(), "apac": Counter()}
        for d in decisions:
            assert d.node is not None and d.rep_id is not None
            by_pool[d.node][d.rep_id] += 1
        assert by_pool["na"]["r4"] + by_pool["emea"]["r4"] == 10  # the cap, exactly
        for pool, counts in by_pool.items():
            uncapped = [n for rep, n in counts.items() if rep != "r4"]
            assert max(uncapped) - min(uncapped) <= 1, (pool, counts)
        with store.routing_session(CAPPED_ORG, ["na", "emea", "apac"], None) as session:
            for pool, counts in by_pool.items():
                assert dict(session.pool_state(pool).counts) == dict(counts)
            loads = session.loads([f"r{i}" for i in range(1, 9)], NOW)
            owners = Counter(s.owner_id for s in store.leads(status="routed"))
            assert {rep: load.open for rep, load in loads.items()} == dict(owners)
            assert loads["r4"].day == 10
    finally:
        store.dispose()


# -- what phase 2 checks again -----------------------------------------------------------------


def test_a_config_activated_while_a_lead_was_enriched_decides_it(store: Store) -> None:
    """The provider activates another config while it is asked: the transaction sees it
    under its locks, prepares the lead again with the new config and decides with it."""
    activated: list[int] = []

    def answer(request: Request) -> Reply:
        if not activated:
            _, seq = fixtures.activate(store, ORG, _config(port, name="second", v2=True))
            activated.append(seq)
        return Reply(200, {"industry": "Software"})

    with http_receiver(answer) as provider:
        port = provider.port
        _, first_seq = fixtures.activate(store, ORG, _config(port, name="first"))
        routing = RoutingService(store, clock=lambda: NOW)
        store.add_leads(_leads("l", "US", 1))
        summary = routing.route_pending()
    assert summary.total == 1 and activated and activated[0] != first_seq
    (decision,) = store.decisions("l000")
    assert decision.queue == "v2_software" and decision.record["config"]["name"] == "second"
    assert decision.record["config"]["seq"] == activated[0]


@pytest.mark.postgres
def test_a_duplicate_committed_by_another_process_meanwhile_is_found(pg_schema_url: str) -> None:
    """Two processes route one person at the same moment through disjoint pools (the second
    lead's country is unknown to the first): both hold their locks at once, so neither sees
    the other's lead when it starts. The one that commits second finds the first's lead
    under the commit lock, starts again, and gives its lead to the first's owner."""
    store = Store(pg_schema_url)
    store.migrate()
    try:
        _no_enrichment(store)
        both = threading.Barrier(2, timeout=10)
        first_done = threading.Event()
        calls: Counter[str] = Counter()
        armed = threading.Event()

        def hook(name: str) -> Callable[[Sequence[str]], None]:
            def on_locked(pools: Sequence[str]) -> None:
                if not armed.is_set():
                    return
                calls[name] += 1
                if calls[name] == 1:
                    both.wait()
                    if name == "second":
                        assert first_done.wait(10)

            return on_locked

        first = RoutingService(store, clock=lambda: NOW, on_locked=hook("first"))
        second = RoutingService(store, clock=lambda: NOW, on_locked=hook("second"))
        for routing, lead_id in ((first, "w1"), (second, "w2")):  # both build their index
            routing.route_now(_leads(lead_id, "GB", 1), batch_id=lead_id)
        armed.set()
        ann = {"email": "ann.lee@gamma.example", "first_name": "Ann", "last_name": "Lee"}
        one = Lead("A1", {**ann, "country": "US"}, received_at=NOW)
        two = Lead("A2", {**ann, "country": "DE"}, received_at=NOW)

        def route_first() -> None:
            first.route_now([one], batch_id="one")
            first_done.set()

        thread = threading.Thread(target=route_first)
        thread.start()
        decisions, _ = second.route_now([two], batch_id="two")
        thread.join(10)
        owner = store.lead("A1").owner_id  # type: ignore[union-attr]
        assert owner in ("ann", "bob")
        assert decisions["A2"].duplicate_of == "A1" and decisions["A2"].rep_id == owner
        assert calls["second"] == 2  # its first attempt rolled back
        assert [d.record.get("duplicate_of") for d in store.decisions("A2")] == ["A1"]
    finally:
        store.dispose()


# -- leads routed apart keep the intake's promises ---------------------------------------------


def test_a_lead_routed_apart_answers_its_key_once_routed(store: Store) -> None:
    """A lead waiting for its provider holds its Idempotency-Key: a retry meanwhile gets 409,
    a retry afterwards the first answer, replayed; the lead is routed once."""
    asked = threading.Event()

    def answer(request: Request) -> Reply:
        asked.set()
        return Reply(200, {"industry": "Software"}, delay=1.0)

    raw = {"email": "kim@wait.example", "company": "Wait", "country": "US"}
    with http_receiver(answer) as provider:
        fixtures.activate(store, ORG, _config(provider.port))
        intake = LeadIntake(RoutingService(store, clock=lambda: NOW))
        try:
            first: list[IntakeResult] = []
            thread = threading.Thread(target=lambda: first.append(intake.submit(raw, key="k1")))
            thread.start()
            assert asked.wait(5)
            meanwhile = intake.submit(raw, key="k1")
            thread.join(10)
            again = intake.submit(raw, key="k1")
        finally:
            intake.close()
    assert meanwhile.status_code == 409
    (answered,) = first
    assert answered.status_code == 201 and answered.body["rep"]["id"] == "sam"
    assert again.replayed and again.body == answered.body
    assert len(store.decisions(answered.body["lead_id"])) == 1
    assert len(provider.requests) == 1


def test_a_local_provider_routes_the_lead_at_once(store: Store, tmp_path: Path) -> None:
    """Only a provider over the network sends a lead apart: a table lookup is made in the
    lead's own batch, which answers it directly."""
    (tmp_path / "companies.csv").write_text(
        "domain,industry\ngamma.example,Software\n", encoding="utf-8"
    )
    table = """
enrichment:
  providers:
    warehouse: {type: table, path: companies.csv, key: domain, fields: {industry: industry}}
  fields:
    industry: [warehouse]
"""
    fixtures.activate(store, ORG, _config().split("enrichment:")[0] + table)
    routing = RoutingService(store, clock=lambda: NOW, base_dir=tmp_path)
    with ThreadPoolExecutor(max_workers=1) as pool:
        arrivals = routing.route_arrivals(
            _leads("g", "US", 1, email="ann@gamma.example"), batch_id="b", enrich_with=pool
        )
    assert arrivals.enriching == {}
    decision = arrivals.decisions["g000"]
    assert decision.rep_id == "sam" and arrivals.ids["g000"]
