"""Scale-out: two `leadroute serve` and two `leadroute worker` processes on one PostgreSQL.

Leads arrive at both servers in turn, and some at both at once with one Idempotency-Key; the
workers fire the SLA timers (reminders, escalations, a reassignment, a recycle) and deliver the
outbox to a webhook while the servers route. Afterwards the database must show what one
process would have produced: one lead and one first decision per key, the round robin within
one lead, the cap never passed, every timer fired once, every message delivered once, and the
open-lead counters equal to the leads the reps hold.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from leadroute.adapters.store.key_store import KeyStore
from leadroute.adapters.store.sql import Store
from leadroute.domain.org import Caps, Org, Rep, build_org, periods_at
from leadroute.services.intake import lead_id_for
from leadroute.services.routing import RoutingService
from tests.receivers import HttpReceiver, free_port, http_receiver
from tests.services.fixtures import activate, leads

pytestmark = pytest.mark.postgres

CAP = 8  # leads a day for r1
LEADS = 240  # every fourth from Canada
BOTH = 5  # every fifth is sent to both servers at once, with one key
SECRET_ENV = "LEADROUTE_SCALE_TEST_HOOK_SECRET"

CONFIG = """
name: scale-out
pools:
  sales: {members: [team:sales], method: round_robin, fairness_window: all}
  canada: {members: [team:canada], method: round_robin, fairness_window: all}
queues:
  nurture: {}
notifications:
  channels:
    ops: {webhook: {url: "HOOK", secret_env: SECRET_ENV}}
  send:
    assigned: [ops]
    reminder: [ops]
    escalated: [ops]
    reassigned: [ops]
    recycled: [ops]
sla:
  routes:
    us: {accept_within: 10s, remind_at: 0.5, reassign: false}
    ca: {accept_within: 6s, remind_at: 0.5, max_reassignments: 1, then: nurture}
flow:
  - id: us
    when: {country: US}
    then: {distribute: sales}
  - id: ca
    when: {country: CA}
    then: {distribute: canada}
  - id: fallback
    fallback: true
    then: {queue: nurture}
"""


def _config(hook_url: str) -> str:
    return CONFIG.replace("HOOK", hook_url).replace("SECRET_ENV", SECRET_ENV)


def _org() -> Org:
    sales = [Rep(id=f"r{i}", name=f"Rep {i}", teams=("sales",)) for i in (2, 3, 4)]
    canada = [Rep(id=f"c{i}", name=f"Rep C{i}", teams=("canada",)) for i in (1, 2, 3)]
    capped = Rep(id="r1", name="Rep 1", teams=("sales",), caps=Caps(day=CAP))
    return build_org(reps=[capped, *sales, *canada])


# -- processes ----------------------------------------------------------------------------------


@dataclass
class Cluster:
    """The servers' base URLs, an API key, and every process started (to stop them)."""

    servers: list[str]
    key: str
    processes: list[subprocess.Popen[bytes]]
    workers: list[subprocess.Popen[bytes]]
    logs: Path

    def log(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-2000:]}" for p in self.logs.iterdir())


def _start(args: list[str], url: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "leadroute", *args],
            env={**os.environ, "LEADROUTE_DB": url, SECRET_ENV: "s3cret"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as a whole
        )


@pytest.fixture
def store(pg_schema_url: str) -> Iterator[Store]:
    """The PostgreSQL schema every process of the test shares, migrated before they start."""
    store = Store(pg_schema_url)
    store.migrate()
    yield store
    store.dispose()


@pytest.fixture
def cluster(store: Store, pg_schema_url: str, tmp_path: Path) -> Iterator[Callable[..., Cluster]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(*, servers: int = 2, workers: int = 2) -> Cluster:
        key, _ = KeyStore(store).create("scale", ["ingest"])
        ports = [free_port() for _ in range(servers)]
        serve = [
            _start(
                ["serve", "--port", str(port), "--rate-per-minute", "1000000"],
                pg_schema_url,
                tmp_path / f"serve-{port}.log",
            )
            for port in ports
        ]
        work = [
            _start(
                ["worker", "--interval", "0.2", "--lease-seconds", "10"],
                pg_schema_url,
                tmp_path / f"worker-{n}.log",
            )
            for n in range(workers)
        ]
        started.extend(serve + work)
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        deadline = time.monotonic() + 60
        for url, process in zip(urls, serve, strict=True):
            while True:
                assert process.poll() is None, (tmp_path / f"serve-{url[-5:]}.log").read_text()
                try:
                    if httpx.get(url + "/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, f"{url} did not answer in 60 s"
                time.sleep(0.1)
        return Cluster(urls, key, serve + work, work, tmp_path)

    try:
        yield start
    finally:
        for process in started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def _post(client: httpx.Client, key: str, body: dict[str, Any]) -> httpx.Response:
    """POST a lead; while another server holds the key (409, in progress), ask again."""
    for _ in range(600):
        answer = client.post("/v1/leads", json=body, headers={"Idempotency-Key": key})
        if answer.status_code != 409:
            return answer
        time.sleep(0.05)
    raise AssertionError(f"{key} still in progress after 30 s")


def _lead(i: int) -> dict[str, Any]:
    country = "CA" if i % 4 == 0 else "US"
    return {"email": f"p{i}@co{i}.com", "company": f"Co {i}", "country": country, "employees": 50}


def _rows(store: Store, sql: str) -> list[Any]:
    with store.engine.connect() as conn:
        return list(conn.execute(text(sql)).all())


def _settled(store: Store, canadian: int) -> bool:
    """Every timer fired or skipped, every Canadian lead recycled, every message sent."""
    (open_timers,) = _rows(
        store, "select count(*) from timers where status not in ('fired', 'skipped', 'cancelled')"
    )[0]
    (recycled,) = _rows(store, "select count(*) from lead_events where kind = 'recycled'")[0]
    (unsent,) = _rows(store, "select count(*) from outbox where status <> 'sent'")[0]
    return bool(open_timers == 0 and recycled == canadian and unsent == 0)


# -- the test -------------------------------------------------------------------------------------


def test_servers_and_workers_share_all_state(store: Store, cluster: Callable[..., Cluster]) -> None:
    with http_receiver() as hook:
        activate(
            store,
            _org(),
            _config(hook.url("/hook")),
        )
        running = cluster(servers=2, workers=2)
        answers = _send_everything(running)
        deadline = time.monotonic() + 90
        canadian = sum(1 for i in range(LEADS) if i % 4 == 0)
        while not _settled(store, canadian):
            assert time.monotonic() < deadline, "timers or messages left after 90 s\n" + (
                running.log()
            )
            time.sleep(0.25)
        for worker in running.workers:  # a clean stop: SIGTERM, exit 0 with its report
            worker.send_signal(signal.SIGTERM)
        for worker in running.workers:
            assert worker.wait(timeout=30) == 0, running.log()
        _check_answers(store, answers)
        _check_fairness_and_caps(store)
        _check_timers(store, canadian)
        _check_delivery(store, hook)
        _check_open_counters(store)


def _send_everything(running: Cluster) -> dict[str, list[httpx.Response]]:
    """Every lead to one server in turn; every BOTH-th to both at the same moment."""
    answers: dict[str, list[httpx.Response]] = {}
    clients = [
        httpx.Client(base_url=url, timeout=60, headers={"X-API-Key": running.key})
        for url in running.servers
    ]
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            futures: list[tuple[str, Future[httpx.Response]]] = []
            for i in range(LEADS):
                key = f"scale-{i}"
                if i % BOTH == 0:
                    together = threading.Barrier(2)

                    def at_once(
                        client: httpx.Client, key: str = key, i: int = i, b: Any = together
                    ) -> httpx.Response:
                        b.wait(timeout=30)
                        return _post(client, key, _lead(i))

                    for client in clients:
                        futures.append((key, pool.submit(at_once, client)))
                else:
                    client = clients[i % len(clients)]
                    futures.append((key, pool.submit(_post, client, key, _lead(i))))
            for key, future in futures:
                answers.setdefault(key, []).append(future.result())
    finally:
        for client in clients:
            client.close()
    return answers


def _check_answers(store: Store, answers: dict[str, list[httpx.Response]]) -> None:
    """One lead and one first decision per key; both servers answer that decision."""
    assert len(answers) == LEADS
    first = {
        lead: (ident, rep)
        for lead, ident, rep in _rows(
            store, "select lead_id, id, rep_id from decisions where supersedes is null"
        )
    }
    per_lead = Counter(
        lead for (lead,) in _rows(store, "select lead_id from decisions where supersedes is null")
    )
    leads = {lead for (lead,) in _rows(store, "select id from leads")}
    assert leads == {lead_id_for(key) for key in answers}
    assert set(per_lead.values()) == {1}
    for key, replies in answers.items():
        lead = lead_id_for(key)
        assert all(r.status_code in (200, 201) for r in replies), [r.text for r in replies]
        bodies = [r.json() for r in replies]
        assert {b["lead_id"] for b in bodies} == {lead}
        assert {(b["decision_id"], b["rep"]["id"]) for b in bodies} == {first[lead]}, bodies
        originals = [r for r in replies if r.headers.get("Idempotent-Replayed") != "true"]
        assert len(originals) == 1, f"{key}: {len(originals)} servers routed it"
    both = [key for key, replies in answers.items() if len(replies) == 2]
    assert len(both) == LEADS // BOTH
    keys = _rows(store, "select key, status_code, lead_id from idempotency")
    assert sorted(keys) == sorted((key, 201, lead_id_for(key)) for key in answers)


def _check_fairness_and_caps(store: Store) -> None:
    """Round robin within one lead among the uncapped reps; the capped rep at its cap."""
    first = _rows(
        store,
        "select rep_id, decided_at from decisions where supersedes is null and node = 'us'",
    )
    counts = Counter(rep for rep, _ in first)
    uncapped = [counts[r] for r in ("r2", "r3", "r4")]
    assert max(uncapped) - min(uncapped) <= 1, counts
    per_day = Counter(periods_at("UTC", at)["day"] for rep, at in first if rep == "r1")
    assert per_day and max(per_day.values()) == CAP, per_day  # reached, never passed
    counters = dict(
        (period, n)
        for rep, period, n in _rows(store, "select rep_id, period, count from rep_counters")
        if rep == "r1" and period in per_day
    )
    assert counters == dict(per_day)
    # The pools' fairness state saw every pick, whichever process made it.
    state = {
        pool: counts_ for pool, counts_ in _rows(store, "select pool_id, counts from pool_state")
    }
    assert state["sales"] == dict(counts)
    canada = Counter(
        rep for (rep,) in _rows(store, "select rep_id from decisions where node = 'ca'")
    )
    assert state["canada"] == dict(canada)


def _check_timers(store: Store, canadian: int) -> None:
    """Every timer fired once (its one event) or was skipped (none); the SLA ladder ran."""
    events = _rows(store, "select lead_id, kind, detail from lead_events")
    by_timer = Counter((d or {}).get("timer") for _, kind, d in events if d and "timer" in d)
    timers = _rows(store, "select id, kind, status from timers")
    expected = {"reminder": "reminded", "breach": "escalated"}
    for ident, kind, status in timers:
        assert by_timer[ident] == (1 if status == "fired" else 0), (ident, kind, status)
        assert status in ("fired", "skipped"), (ident, kind, status)
        if kind == "breach":
            assert status == "fired"
    kinds = Counter(kind for _, kind, d in events if d and "timer" in d)
    fired = Counter(kind for _, kind, status in timers if status == "fired")
    assert kinds == Counter({expected[k]: n for k, n in fired.items()})
    # US leads: one reminder and one breach; Canadian leads: two of each (reassigned once).
    assert Counter(kind for _, kind, _ in timers) == {
        "reminder": LEADS - canadian + 2 * canadian,
        "breach": LEADS - canadian + 2 * canadian,
    }
    per_lead = Counter((lead, kind) for lead, kind, _ in events)
    ca_leads = {lead_id_for(f"scale-{i}") for i in range(LEADS) if i % 4 == 0}
    for lead in ca_leads:
        assert per_lead[(lead, "reassigned")] == 1 and per_lead[(lead, "recycled")] == 1
    history: dict[str, list[str | None]] = {}
    for lead, rep, queue in _rows(
        store,
        "select lead_id, rep_id, queue from decisions where node = 'ca' or queue is not null "
        "order by id",
    ):
        history.setdefault(lead, []).append(rep or queue)
    for lead in ca_leads:  # reassigned to someone else, then recycled
        first, second, third = history[lead]
        assert first != second and third == "nurture", history[lead]


def _check_delivery(store: Store, hook: HttpReceiver) -> None:
    """Every outbox message reached the webhook exactly once."""
    delivered = Counter(r.headers.get("x-leadroute-delivery") for r in hook.requests)
    queued = {key for (key,) in _rows(store, "select key from outbox")}
    assert set(delivered.values()) == {1}, [k for k, n in delivered.items() if n > 1][:5]
    assert set(delivered) == queued and len(queued) > LEADS


def _check_open_counters(store: Store) -> None:
    """Each rep's open-lead counter equals the routed leads the rep holds."""
    holding = Counter(
        owner
        for (owner,) in _rows(
            store, "select owner_id from leads where status = 'routed' and owner_id is not null"
        )
    )
    counters = {
        rep: n
        for rep, n in _rows(store, "select rep_id, count from rep_counters where period = 'open'")
    }
    assert {rep: n for rep, n in counters.items() if n} == dict(holding)
    assert sum(holding.values()) == LEADS - LEADS // 4  # the Canadian ones were recycled


def test_a_duplicate_is_found_whichever_server_routed_the_first(
    store: Store, cluster: Callable[..., Cluster]
) -> None:
    activate(
        store,
        _org(),
        _config("http://127.0.0.1:9/"),
    )
    running = cluster(servers=2, workers=0)
    one, other = (
        httpx.Client(base_url=url, timeout=60, headers={"X-API-Key": running.key})
        for url in running.servers
    )
    with one, other:
        for client in (one, other):  # each server builds its dedupe index from the store
            assert _post(client, f"warm-{client.base_url}", _lead(1)).status_code == 201

        def duplicate_of(first: httpx.Client, second: httpx.Client, i: int) -> str | None:
            """Send lead i, then the same person under another key; what the second became."""
            lead = _lead(i)
            assert _post(first, f"first-{i}", lead).status_code == 201
            assert _post(second, f"again-{i}", lead).status_code == 201
            (row,) = _rows(
                store, f"select duplicate_of from leads where id = '{lead_id_for(f'again-{i}')}'"
            )
            return row[0]  # type: ignore[no-any-return]

        assert duplicate_of(one, one, 2) == lead_id_for("first-2")  # one server: found
        # each server catches its dedupe index up with what the others decided
        assert duplicate_of(one, other, 3) == lead_id_for("first-3")
        assert duplicate_of(other, one, 4) == lead_id_for("first-4")


def test_no_process_holds_the_pool_locks_while_it_builds_its_indexes(
    store: Store, pg_schema_url: str
) -> None:
    """A process's first routing (after a start or a config change) reads every stored lead
    for its dedupe index and every account's activity: not while it holds the pools' locks,
    or every other server and worker waits that long."""
    activate(store, _org(), _config("http://127.0.0.1:9/"))
    first = RoutingService(store)
    first.route_now(leads(3), batch_id="b0")  # the pools' state rows exist from here on
    other = create_engine(pg_schema_url)
    locked: list[tuple[str, bool]] = []

    def spy(name: str) -> Callable[..., Any]:
        real = getattr(store, name)

        def call(*args: Any) -> Any:
            with other.connect() as conn:
                try:
                    conn.execute(text("select pool_id from pool_state for update nowait"))
                    locked.append((name, False))
                except OperationalError:  # lock not available
                    locked.append((name, True))
                conn.rollback()
            return real(*args)

        return call

    try:
        for name in ("known_lead_fields", "account_activity"):
            setattr(store, name, spy(name))
        RoutingService(store).route_now(leads(3, start=3), batch_id="b1")  # a new server
        worker = RoutingService(store)  # a new worker: its first reassignment
        assert worker.reassign(["L00000"], cause="sla")
    finally:
        other.dispose()
    assert ("known_lead_fields", False) in locked and ("account_activity", False) in locked
    assert [call for call in locked if call[1]] == []
