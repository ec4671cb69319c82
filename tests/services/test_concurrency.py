"""Several processes routing against one PostgreSQL: no lead assigned twice, equal round robin."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import pytest
from sqlalchemy import text

from leadroute.adapters.store.sql import Store
from tests.services import fixtures

pytestmark = pytest.mark.postgres

PROCESSES = 4
LEADS = 2_400
REPS = 7


def test_parallel_route_pending_is_exactly_once_and_fair(pg_schema_url: str) -> None:
    store = Store(pg_schema_url)
    store.migrate()
    org = fixtures.org(REPS)
    store.save_org(org)
    config, source = fixtures.config(org)
    store.save_config(
        content_hash=config.content_hash,
        name=config.name,
        document=config.document,
        source=source,
        activate=True,
    )
    store.add_leads(fixtures.leads(LEADS))

    env = {**os.environ, "LEADROUTE_DB": pg_schema_url, "LEADROUTE_CHUNK_SIZE": "25"}
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "leadroute", "route-pending"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    outputs = [w.communicate(timeout=600) for w in workers]
    for worker, (_out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
    routed_by = [int(out.split()[1]) for out, _ in outputs]
    assert sum(routed_by) == LEADS
    assert sum(1 for n in routed_by if n > 0) >= 2, f"no overlap between workers: {routed_by}"

    with store.engine.connect() as conn:
        per_lead = conn.execute(
            text("select lead_id, count(*) from decisions group by lead_id")
        ).all()
        current = conn.execute(text("select count(*) from decisions where is_current")).scalar_one()
        pending = conn.execute(text("select count(*) from leads where status = 'new'")).scalar_one()
    assert len(per_lead) == LEADS and all(n == 1 for _, n in per_lead)
    assert current == LEADS and pending == 0
    owners = Counter(s.owner_id for s in store.leads(status="routed"))
    assert sum(owners.values()) == LEADS and len(owners) == REPS
    assert max(owners.values()) - min(owners.values()) <= 1, owners
    with store.routing_session(org, ["sales"], None) as session:
        loads = session.loads([f"r{i}" for i in range(1, REPS + 1)], fixtures.NOW)
        assert sum(load.open for load in loads.values()) == LEADS
    store.dispose()
