"""The SQL store on SQLite and PostgreSQL: org round trip, configs, leads, routing sessions."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from leadroute.adapters.store.sql import Store
from leadroute.bootstrap import Root
from leadroute.domain.decision import Decision, Outcome
from leadroute.domain.distribution import PoolState
from leadroute.domain.org import RepStatus
from tests.services import fixtures


def test_migrate_is_idempotent(store: Store) -> None:
    store.migrate()
    assert store.lead_counts() == {}


def test_org_round_trip(store: Store) -> None:
    org = fixtures.org()
    store.save_org(org)
    loaded = store.load_org()
    assert loaded.reps == org.reps
    assert loaded.territories == org.territories
    assert loaded.segments == org.segments
    assert loaded.accounts == org.accounts


def test_rep_status_change_persists(store: Store) -> None:
    store.save_org(fixtures.org())
    assert store.set_rep_status("r2", RepStatus.PAUSED)
    assert store.load_org().reps["r2"].status is RepStatus.PAUSED
    assert not store.set_rep_status("nobody", RepStatus.PAUSED)


def test_config_versions_by_hash(store: Store) -> None:
    first = store.save_config(
        content_hash="h1", name="a", document={"x": 1}, source="x: 1", activate=True
    )
    again = store.save_config(content_hash="h1", name="a", document={"x": 1}, source="x: 1")
    second = store.save_config(
        content_hash="h2", name="b", document={"x": 2}, source="x: 2", activate=True
    )
    assert first == again
    assert second == first + 1
    active = store.config()
    assert active is not None and active.seq == second and active.hash == "h2"
    assert [c.active for c in store.configs()] == [False, True]


def test_add_leads_reports_existing_and_keeps_rejections(store: Store) -> None:
    batch = fixtures.leads(3)
    assert store.add_leads(batch, batch_id="b1") == set()
    assert store.add_leads(batch[:2], batch_id="b1") == {"L00000", "L00001"}
    store.add_rejections([("b1-9", 9, "row 9: bad", {"Email": "x"})], batch_id="b1")
    assert store.lead_counts(batch_id="b1") == {"new": 3, "rejected": 1}
    rejected = store.lead("b1-9")
    assert rejected is not None and rejected.reason == "row 9: bad"


def _decision(
    lead_id: str, rep: str | None, pool: str | None = None, state: PoolState | None = None
) -> Decision:
    return Decision(
        lead_id=lead_id,
        outcome=Outcome.ROUTED,
        reason="test",
        decided_at=fixtures.NOW,
        rep_id=rep,
        pool=pool,
        pool_state=state,
    )


def test_routing_session_persists_state_and_counters(store: Store) -> None:
    org = fixtures.org()
    store.save_org(org)
    store.add_leads(fixtures.leads(2))
    state = PoolState("all", {"r1": -1.0, "r2": 1.0}, {"r1": 1})
    with store.routing_session(org, ["sales"], 7) as session:
        claimed = session.claim(10)
        assert [lead.id for lead in claimed] == ["L00000", "L00001"]
        session.record(_decision("L00000", "r1", "sales", state), account_key="domain:co0.com")
        session.record(_decision("L00001", None))
    with store.routing_session(org, ["sales"], 7) as session:
        assert session.pool_state("sales") == state
        load = session.loads(["r1", "r2"], fixtures.NOW)
        assert load["r1"].day == 1 and load["r1"].week == 1 and load["r1"].month == 1
        assert load["r1"].open == 1 and load["r2"].open == 0
        assert session.sticky_rep("sales", "domain:co0.com") == "r1"
        assert session.claim(10) == []
    stored = store.decisions("L00000")
    assert len(stored) == 1 and stored[0].current and stored[0].record["config"]["seq"] == 7
    lead = store.lead("L00000")
    assert lead is not None and lead.status == "routed" and lead.owner_id == "r1"


def test_day_counter_is_per_local_day(store: Store) -> None:
    org = fixtures.org()
    store.save_org(org)
    store.add_leads(fixtures.leads(1))
    with store.routing_session(org, ["sales"], 1) as session:
        session.record(_decision("L00000", "r1"))
    with store.routing_session(org, ["sales"], 1) as session:
        tomorrow = session.loads(["r1"], fixtures.NOW + timedelta(days=1))["r1"]
        assert tomorrow.day == 0 and tomorrow.week == 1 and tomorrow.open == 1


def test_supersede_keeps_history_with_one_current(store: Store) -> None:
    org = fixtures.org()
    store.save_org(org)
    store.add_leads(fixtures.leads(1))
    with store.routing_session(org, [], 1) as session:
        session.record(_decision("L00000", "r1"))
    first = store.decisions("L00000")[0]
    again = _decision("L00000", "r2")
    again.supersedes = first.id
    with store.routing_session(org, [], 1) as session:
        session.record(again, previous_owner="r1")
        assert session.loads(["r1", "r2"], fixtures.NOW)["r1"].open == 0
    history = store.decisions("L00000")
    assert [d.current for d in history] == [False, True]
    assert history[1].supersedes == first.id


def test_closing_a_lead_frees_its_place_in_the_open_load(store: Store) -> None:
    org = fixtures.org()
    store.save_org(org)
    store.add_leads(fixtures.leads(1))
    with store.routing_session(org, ["sales"], 1) as session:
        session.record(_decision("L00000", "r1"))
    assert store.close_lead("L00000", "converted")
    assert not store.close_lead("L00000", "converted")
    with store.routing_session(org, ["sales"], 1) as session:
        assert session.loads(["r1"], fixtures.NOW)["r1"].open == 0
    lead = store.lead("L00000")
    assert lead is not None and lead.status == "converted"


def test_the_postgresql_pool_is_sized_from_the_environment(
    pg_schema_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADROUTE_DB_POOL_SIZE", "3")
    monkeypatch.setenv("LEADROUTE_DB_MAX_OVERFLOW", "2")
    store = Root().store(pg_schema_url, migrate=False)  # the composition root reads them
    try:
        pool = store.engine.pool
        assert pool.size() == 3 and pool._max_overflow == 2  # type: ignore[attr-defined]
    finally:
        store.dispose()


def test_processes_starting_together_on_an_empty_database_all_migrate(pg_schema_url: str) -> None:
    """Each migration takes an advisory lock: the first creates the tables, the others wait
    and find them there."""
    import subprocess
    import sys

    script = (
        "import sys; from leadroute.adapters.store.sql import Store; "
        "s = Store(sys.argv[1]); s.migrate(); s.dispose()"
    )
    started = [
        subprocess.Popen([sys.executable, "-c", script, pg_schema_url], stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    errors = [process.communicate(timeout=120)[1].decode() for process in started]
    assert [p.returncode for p in started] == [0, 0, 0, 0], errors
    store = Store(pg_schema_url)
    try:
        assert store.configs() == [] and store.lead_counts() == {}
    finally:
        store.dispose()


def test_the_schema_head_is_alembic_s_newest_revision(tmp_path: Path) -> None:
    """`Store.migrate` skips Alembic when the database is at SCHEMA_HEAD: it must be the
    newest migration, or a new one would never run."""
    from importlib import resources

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from leadroute.adapters.store.sql import SCHEMA_HEAD

    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("leadroute").joinpath("migrations"))
    )
    assert ScriptDirectory.from_config(config).get_current_head() == SCHEMA_HEAD
    store = Store(f"sqlite:///{tmp_path / 'head.db'}")
    assert store.schema_revision() is None
    store.migrate()
    assert store.schema_revision() == SCHEMA_HEAD
    store.migrate()  # at the head: nothing to do
    store.dispose()
