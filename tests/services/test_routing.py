"""Routing service end to end on a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path

from leadroute.adapters.leadfile import batch_id_for, read_leads
from leadroute.adapters.store.sql import Store
from leadroute.domain.org import RepStatus
from leadroute.services.routing import RoutingService
from tests.services import fixtures


def _service(store: Store, reps: int = 4) -> RoutingService:
    org = fixtures.org(reps)
    config, seq = fixtures.activate(store, org)
    service = RoutingService(store, clock=lambda: fixtures.NOW, chunk_size=7)
    service.use(config, seq, org)
    return service


def _write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text(
        "Id,FirstName,LastName,Email,Company,Country,NumberOfEmployees\n" + "\n".join(rows) + "\n",
        encoding="utf-8",
    )
    return path


def test_batch_counts_add_up_and_bad_rows_are_rejected(store: Store, tmp_path: Path) -> None:
    rows = [f"{i},Ann,Lee,ann{i}@firm{i}.com,Firm {i},US,40" for i in range(1, 21)]
    rows += [
        "21,Bo,Ma,bo@acme.com,Acme,US,12",
        "22,Cy,Ng,cy@x.com,X,US,many",
        "23,,,,,,",
        "24,Di,Ox,di@y.com,Y,BR,30",
    ]
    path = _write_csv(tmp_path / "leads.csv", rows)
    service = _service(store)
    out = io.StringIO()
    batch = batch_id_for(path)
    summary = service.route_batch(read_leads(path, batch_id=batch), batch_id=batch, output=out)
    assert summary.adds_up and summary.total == 24
    assert summary.outcomes == Counter({"routed": 22, "rejected": 2})
    assert summary.routes == Counter({"na": 20, "named": 1, "fallback": 1})
    assert summary.reps == Counter({"r1": 6, "r2": 5, "r3": 5, "r4": 5})
    assert sorted(r for r, _ in summary.rejections) == [23, 24]
    assert "employees must be a number" in dict(summary.rejections)[23]
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 22 and all(line["config"]["seq"] for line in lines)
    named = store.decisions("21")[0]
    assert named.rep_id == "r1" and named.record["account"]["id"] == "a1"


def test_rerunning_a_file_never_routes_a_lead_twice(store: Store, tmp_path: Path) -> None:
    path = _write_csv(
        tmp_path / "leads.csv", [f"{i},Ann,Lee,ann{i}@firm{i}.com,Firm {i},US,40" for i in range(8)]
    )
    service = _service(store)
    batch = batch_id_for(path)
    first = service.route_batch(read_leads(path), batch_id=batch)
    second = service.route_batch(read_leads(path), batch_id=batch)
    assert first.outcomes == second.outcomes == Counter({"routed": 8})
    assert second.already_decided == 8 and second.adds_up
    assert all(len(store.decisions(str(i))) == 1 for i in range(8))


def test_round_robin_survives_a_restart(store: Store) -> None:
    service = _service(store)
    store.add_leads(fixtures.leads(6))
    service.route_pending()
    restarted = RoutingService(store, clock=lambda: fixtures.NOW)
    store.add_leads(fixtures.leads(6, start=6))
    result = restarted.route_pending()
    assert result.total == 6
    owners = Counter(s.owner_id for s in store.leads(status="routed"))
    assert owners == Counter({"r1": 3, "r2": 3, "r3": 3, "r4": 3})


def test_deactivating_a_rep_reroutes_its_open_leads(store: Store) -> None:
    service = _service(store)
    store.add_leads(fixtures.leads(8))
    service.route_pending()
    moved = service.deactivate_rep("r2")
    assert len(moved) == 2
    assert all(d.rep_id not in (None, "r2") for d in moved)
    assert not store.leads(status="routed", owner_id="r2")
    for decision in moved:
        history = store.decisions(decision.lead_id)
        assert [d.current for d in history] == [False, True]
        assert history[0].rep_id == "r2" and history[1].supersedes == history[0].id
        skipped = {c["rep"]: c.get("reason") for c in history[1].record["nodes"][1]["candidates"]}
        assert skipped["r2"] == "inactive"


def test_unrouted_when_fallback_pool_is_empty(store: Store) -> None:
    org = fixtures.org(2)
    text = fixtures.CONFIG.replace("then: {queue: nurture}", "then: {distribute: sales}")
    config, seq = fixtures.activate(store, org, text)
    for rep in ("r1", "r2"):
        store.set_rep_status(rep, RepStatus.PAUSED)
    service = RoutingService(store, clock=lambda: fixtures.NOW)
    service.use(config, seq, store.load_org())
    store.add_leads(fixtures.leads(3, country="DE"))
    result = service.route_pending()
    assert result.outcomes == Counter({"unrouted": 3})
    assert "nobody available" in next(iter(result.unrouted_reasons))


def test_held_leads_are_retried_once_and_reassigned_when_reps_return(store: Store) -> None:
    org = fixtures.org(2)
    text = fixtures.CONFIG.replace(
        "then: {distribute: sales}", "then: {distribute: {pool: sales, if_empty: hold}}"
    )
    config, seq = fixtures.activate(store, org, text)
    for rep in ("r1", "r2"):
        store.set_rep_status(rep, RepStatus.PAUSED)
    service = RoutingService(store, clock=lambda: fixtures.NOW)
    service.use(config, seq, store.load_org())
    store.add_leads(fixtures.leads(4))
    assert service.route_pending().outcomes == Counter({"held": 4})
    still = service.retry_held()
    assert still.outcomes == Counter({"held": 4})
    assert all(len(store.decisions(f"L{i:05d}")) == 1 for i in range(4))

    store.set_rep_status("r1", RepStatus.ACTIVE)
    store.set_rep_status("r2", RepStatus.ACTIVE)
    service.use(config, seq, store.load_org())
    moved = service.retry_held()
    assert moved.outcomes == Counter({"routed": 4})
    assert moved.reps == Counter({"r1": 2, "r2": 2})
    history = store.decisions("L00000")
    assert [d.outcome for d in history] == ["held", "routed"]
    assert history[1].supersedes == history[0].id and history[1].current


def test_summary_adds_up_only_when_every_record_is_settled() -> None:
    from leadroute.services.routing import BatchSummary

    summary = BatchSummary(input_rows=3, total=3, outcomes=Counter({"routed": 2, "rejected": 1}))
    assert summary.adds_up
    summary.outcomes = Counter({"routed": 2, "new": 1})
    assert not summary.adds_up
    summary.outcomes, summary.total = Counter({"routed": 2}), 2
    assert not summary.adds_up
