"""Erasing a person: their data is gone from every table, everyone else's stays, counts stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, inspect, select, text

from leadroute.adapters.leadfile import read_leads
from leadroute.adapters.store import tables as t
from leadroute.adapters.store.enrichment_tables import enrichment_cache
from leadroute.adapters.store.privacy_store import ErasureStore
from leadroute.adapters.store.scoring_tables import activities
from leadroute.adapters.store.service_tables import idempotency, lead_events, outbox, timers
from leadroute.adapters.store.sql import Store
from leadroute.domain.privacy import ERASED
from leadroute.services.activities import ActivityService
from leadroute.services.privacy import erase_person
from leadroute.services.routing import RoutingService
from tests.services import fixtures

NOW = datetime.now(UTC).replace(microsecond=0)

# Bea has two leads (one with her email in capitals, and a third row rejected); Cy works at the
# same company with the same title and phone line; Dee's lead quotes Bea's email.
LEADS = """Id,FirstName,LastName,Email,Phone,Title,Street,Company,Country,NumberOfEmployees,Referrer
B1,Bea,Twofold,Bea.Two@Small.com,(415) 555-0100,VP Sales,1 Main St,Small Co,US,40,
C1,Cy,Ng,cy.ng@small.com,(415) 555-0100,VP Sales,9 Elm Rd,Small Co,US,40,
D1,Dee,Park,dee@other.org,,Engineer,,Other Org,US,30,BEA.TWO@small.com
B2,Bea,Twofold,BEA.TWO@SMALL.COM,,VP Sales,,Small Co,US,40,
B3,Bea,Twofold,bea.two@small.com,,,,Small Co,US,many,
"""

BEA_LEADS = ("B1", "B2", "b1-6")  # the rejected row keeps its batch-and-row id
# What must not survive anywhere, lower-cased.
BEA = ("bea.two@small.com", "twofold", "1 main st")


def _dump(store: Store) -> dict[str, list[str]]:
    """Every row of every table, as lower-cased text."""
    found: dict[str, list[str]] = {}
    with store.engine.connect() as conn:
        for name in inspect(conn).get_table_names():
            rows = conn.execute(text(f'SELECT * FROM "{name}"')).all()
            found[name] = [str(tuple(row)).lower() for row in rows]
    return found


def _counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {
            table.name: int(conn.scalar(select(func.count()).select_from(table)) or 0)
            for table in (t.leads, t.decisions, activities, outbox, idempotency, timers)
        }


def _world(store: Store, tmp_path: Path) -> None:
    org = fixtures.org()
    config, seq = fixtures.activate(store, org)
    routing = RoutingService(store)
    routing.use(config, seq, org)
    path = tmp_path / "leads.csv"
    path.write_text(LEADS, encoding="utf-8")
    summary = routing.route_batch(read_leads(path, batch_id="b1"), batch_id="b1")
    assert summary.adds_up and summary.total == 5
    at = (NOW - timedelta(hours=1)).isoformat()
    events: list[tuple[int | None, dict[str, Any]]] = [
        (None, {"type": "page_view", "email": "bea.two@small.com", "occurred_at": at, "id": "e1",
                "url": "https://small.com/pricing?who=bea.two@small.com", "campaign": "fall"}),
        (None, {"type": "demo_request", "lead_id": "B1", "occurred_at": at, "id": "e2"}),
        (None, {"type": "page_view", "email": "cy.ng@small.com", "occurred_at": at, "id": "e3",
                "url": "https://small.com/docs"}),
        (None, {"type": "page_view", "domain": "small.com", "occurred_at": at, "id": "e4"}),
        (None, {"type": "email_click", "email": "bea.two@small.com", "occurred_at": at,
                "id": "click-bea.two@small.com"}),
    ]  # fmt: skip
    assert ActivityService(routing).record(events).stored == 5
    with store.write() as conn:
        conn.execute(
            outbox.insert(),
            [
                _message("B1", "Bea Twofold <bea.two@small.com> is yours", "sent"),
                _message("C1", "Cy Ng <cy.ng@small.com> is yours", "pending"),
                _message(None, "digest: bea.two@small.com, cy.ng@small.com", "sent"),
            ],
        )
        conn.execute(
            idempotency.insert(),
            [
                _answer("k1", "B1", {"lead_id": "B1", "email": "bea.two@small.com"}),
                _answer("k2", None, {"leads": ["C1", "B2"]}),
                _answer("k3", "C1", {"lead_id": "C1", "status": "routed"}),
            ],
        )
        conn.execute(
            timers.insert(),
            [
                {"lead_id": "B1", "kind": "reminder", "due_at": NOW, "status": "pending",
                 "created_at": NOW, "detail": {"note": "call Bea Twofold on (415) 555-0100"}},
            ],
        )  # fmt: skip
        conn.execute(
            lead_events.insert(),
            [
                {"lead_id": "B1", "at": NOW, "kind": "assigned", "rep_id": "r1",
                 "detail": {"to": "r1", "email": "Bea.Two@small.com"}},
                {"lead_id": "C1", "at": NOW, "kind": "assigned", "rep_id": "r2",
                 "detail": {"to": "r2", "email": "cy.ng@small.com"}},
            ],
        )  # fmt: skip
        conn.execute(
            enrichment_cache.insert(),
            [
                {"provider": "p", "key": "email:bea.two@small.com",
                 "fields": {"title": "VP Sales"}, "fetched_at": NOW},
                {"provider": "p", "key": "domain:small.com",
                 "fields": {"industry": "Software"}, "fetched_at": NOW},
            ],
        )  # fmt: skip


def _message(lead_id: str | None, body: str, status: str) -> dict[str, Any]:
    return {
        "key": f"m-{lead_id}-{status}",
        "channel": "email",
        "target": "reps",
        "event": "lead.assigned",
        "lead_id": lead_id,
        "payload": {"text": body},
        "status": status,
        "attempts": 1,
        "next_attempt_at": NOW,
        "last_error": f"bounced: {body}" if status == "pending" else None,
        "created_at": NOW,
    }


def _answer(key: str, lead_id: str | None, response: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": key,
        "request_hash": "0" * 64,
        "status_code": 200,
        "response": response,
        "lead_id": lead_id,
        "created_at": NOW,
    }


def test_erasing_a_person_leaves_no_trace_and_keeps_every_count(
    store: Store, tmp_path: Path
) -> None:
    _world(store, tmp_path)
    before = _dump(store)
    assert any(BEA[0] in row for row in before["leads"])
    counts = _counts(store)
    others = {i: store.lead(i) for i in ("C1", "D1")}
    other_decisions = {i: store.decisions(i) for i in ("C1", "D1")}
    owners = {i: (s.status, s.owner_id) for i in BEA_LEADS if (s := store.lead(i))}
    with store.engine.connect() as conn:
        activity_rows = conn.execute(select(activities).order_by(activities.c.id)).mappings().all()

    erasure = ErasureStore(store)
    report = erase_person(erasure, email="BEA.TWO@Small.com", now=NOW, actor="admin-key")

    assert report.lead_ids == BEA_LEADS
    assert report.rows["leads"] == 3 and report.rows["decisions"] >= 2
    assert report.rows["activities"] == 3  # e1, e2 (by lead) and the click
    assert report.rows["outbox"] == 1 and report.rows["idempotency"] == 1
    assert report.mentions == {"leads": 1, "outbox": 1, "idempotency": 1}
    assert report.cached_lookups == 1 and report.events == 3
    assert {"email", "phone", "title", "street"} <= set(report.fields["B1"])
    after = _dump(store)
    for table, rows in after.items():
        for row in rows:
            for value in BEA:
                assert value not in row, f"{value!r} still in {table}: {row}"
    assert _counts(store) == counts
    # Bea's leads keep their outcome and owner, with her fields erased.
    b1 = store.lead("B1")
    assert b1 is not None and (b1.status, b1.owner_id) == owners["B1"]
    assert b1.lead.fields["email"] == ERASED and b1.lead.fields["phone"] == ERASED
    assert b1.lead.fields["company"] == "Small Co" and b1.lead.fields["country"] == "US"
    assert b1.raw is not None and b1.raw["first_name"] == ERASED
    assert all(d.outcome for d in store.decisions("B1"))
    # Cy (same company, title and phone line) is untouched; Dee only loses the quoted email.
    assert store.lead("C1") == others["C1"] and store.decisions("C1") == other_decisions["C1"]
    dee, dee_before = store.lead("D1"), others["D1"]
    assert dee is not None and dee_before is not None
    assert dee.lead.fields["referrer"] == ERASED
    assert {k: v for k, v in dee.lead.fields.items() if k != "referrer"} == {
        k: v for k, v in dee_before.lead.fields.items() if k != "referrer"
    }
    with store.engine.connect() as conn:
        kept = conn.execute(select(activities).order_by(activities.c.id)).mappings().all()
        messages = conn.execute(select(outbox).order_by(outbox.c.id)).mappings().all()
        answers = {r["key"]: r for r in conn.execute(select(idempotency)).mappings()}
        erased = conn.execute(select(lead_events).where(lead_events.c.kind == "erased")).all()
    assert [(a["type"], a["occurred_at"], a["lead_id"], a["account_id"]) for a in kept] == [
        (a["type"], a["occurred_at"], a["lead_id"], a["account_id"]) for a in activity_rows
    ]
    assert kept[0]["email"] is None and kept[0]["url"] is None and kept[0]["properties"] is None
    assert kept[0]["account_id"] == kept[2]["account_id"] and kept[2]["email"] == "cy.ng@small.com"
    assert kept[4]["key"].startswith("erased:")
    assert messages[0]["payload"]["erased"] is True and messages[0]["status"] == "sent"
    assert messages[1]["payload"] == {"text": "Cy Ng <cy.ng@small.com> is yours"}
    assert messages[2]["payload"] == {"text": f"digest: {ERASED}, cy.ng@small.com"}
    assert answers["k1"]["response"]["erased"] is True
    assert answers["k2"]["response"]["erased"] is True  # it named one of Bea's leads
    assert answers["k3"]["response"] == {"lead_id": "C1", "status": "routed"}
    assert sorted(e.lead_id for e in erased) == list(BEA_LEADS)
    assert all(e.actor == "admin-key" and "@" not in str(e.detail) for e in erased)


def test_erasing_by_lead_finds_the_person_s_other_leads(store: Store, tmp_path: Path) -> None:
    _world(store, tmp_path)
    report = erase_person(ErasureStore(store), lead_id="B2", now=NOW)
    assert report.lead_ids == BEA_LEADS
    assert not any(BEA[0] in row for rows in _dump(store).values() for row in rows)
    brief = RoutingService(store).brief("B1").as_record()
    assert BEA[0] not in str(brief).lower()


def test_a_dry_run_reports_and_changes_nothing(store: Store, tmp_path: Path) -> None:
    _world(store, tmp_path)
    before = _dump(store)
    report = erase_person(ErasureStore(store), email="bea.two@small.com", now=NOW, dry_run=True)
    assert report.dry_run and report.lead_ids == BEA_LEADS
    assert report.rows["leads"] == 3
    assert _dump(store) == before


def test_erasing_twice_touches_nothing_more(store: Store, tmp_path: Path) -> None:
    _world(store, tmp_path)
    erase_person(ErasureStore(store), email="bea.two@small.com", now=NOW)
    again = erase_person(ErasureStore(store), lead_id="B1", now=NOW + timedelta(minutes=1))
    assert again.lead_ids == ("B1", "B2")  # B2 was folded into B1 as its duplicate
    assert again.linked == ("B2",)
    assert sum(again.rows.values()) == 0 and not again.mentions
    nobody = erase_person(ErasureStore(store), email="nobody@nowhere.com", now=NOW)
    assert not nobody.found and nobody.events == 0


def test_exactly_one_way_to_name_the_person(store: Store) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        erase_person(ErasureStore(store), now=NOW)
    with pytest.raises(ValueError, match="exactly one"):
        erase_person(ErasureStore(store), email="a@b.com", lead_id="L1", now=NOW)
    with pytest.raises(ValueError, match="not an email"):
        erase_person(ErasureStore(store), email="bea", now=NOW)
