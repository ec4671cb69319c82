"""The data pipeline inside the routing path: clean, dedupe, match, enrich, then route."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from leadroute.adapters.store.sql import Store
from leadroute.domain.lead import Lead
from leadroute.domain.org import Account, AccountStatus, Org, Rep, Segment, Territory, build_org
from leadroute.services.routing import RoutingService
from tests.services import fixtures

CONFIG = """
name: pipeline-test
required: [email]
pools:
  west: {members: [w1, w2], fairness_window: all}
  software: {members: [s1], fairness_window: all}
flow:
  - id: owned
    when: {account.owner: {exists: true}}
    then: {assign_owner: {}}
  - id: software
    when: {industry: Software}
    then: {distribute: software}
  - id: west
    when: {territory: na_west}
    then: {distribute: west}
  - id: fallback
    fallback: true
    then: {queue: nurture}
"""

ENRICHMENT = """
enrichment:
  policy: {policy}
  providers:
    warehouse: {{type: table, path: companies.csv, key: domain, fields: {{industry: industry}}}}
  fields:
    industry: [warehouse]
"""


def _org() -> Org:
    reps = [Rep(id=r, name=r.upper()) for r in ("w1", "w2", "s1", "own")]
    return build_org(
        reps=reps,
        territories=[Territory("na_west", "NA West", subdivisions=frozenset({"US-CA", "US-WA"}))],
        segments=[Segment("A", "A", high=20), Segment("B", "B", low=20)],
        accounts=[
            Account(
                "acc1",
                "Beta Logistics GmbH",
                "beta.example",
                owner_id="own",
                status=AccountStatus.CUSTOMER,
            ),
        ],
    )


def _service(store: Store, tmp_path: Path, text: str = CONFIG) -> RoutingService:
    config, seq = fixtures.activate(store, _org(), text)
    service = RoutingService(store, clock=lambda: fixtures.NOW, base_dir=tmp_path)
    service.use(config, seq, store.load_org())
    return service


def _lead(lead_id: str, minutes: int = 5, **fields: object) -> Lead:
    return Lead(
        lead_id,
        dict(fields),
        channel="web_form",
        source="Webinar",
        received_at=fixtures.NOW - timedelta(minutes=minutes),
    )


def test_leads_are_cleaned_before_routing_and_the_raw_values_kept(
    store: Store, tmp_path: Path
) -> None:
    service = _service(store, tmp_path)
    store.add_leads(
        [
            _lead(
                "L1",
                email=" Ann@Example.ORG ",
                country="United States",
                state="California",
                phone="(415) 555-0100",
                company="Gamma Tools Inc.",
            )
        ]
    )
    result = service.route_pending()
    assert result.routes == Counter({"west": 1})
    stored = store.lead("L1")
    assert stored is not None and stored.owner_id in ("w1", "w2")
    assert stored.lead.fields["country"] == "US" and stored.lead.fields["state"] == "CA"
    assert stored.lead.fields["phone"] == "+14155550100"
    assert stored.raw is not None and stored.raw["country"] == "United States"
    record = store.decisions("L1")[0].record
    assert record["data_quality"]["changes"]["state"] == ["California", "CA"]
    assert record["data_quality"]["account_match"]["method"] == "none"


def test_free_mail_lead_matches_its_account_by_company_name(store: Store, tmp_path: Path) -> None:
    service = _service(store, tmp_path)
    store.add_leads([_lead("L1", email="kai@gmail.com", company="Beta Logistics")])
    service.route_pending()
    decision = store.decisions("L1")[0]
    assert decision.rep_id == "own" and decision.node == "owned"
    match = decision.record["data_quality"]["account_match"]
    assert match["account_id"] == "acc1" and match["method"] == "name_exact"
    lead = store.lead("L1")
    assert lead is not None and lead.account_id == "acc1"


def test_a_duplicate_of_an_owned_lead_goes_to_that_owner_and_merges(
    store: Store, tmp_path: Path
) -> None:
    service = _service(store, tmp_path)
    store.add_leads(
        [
            _lead(
                "L1",
                minutes=60,
                email="ann@gamma.example",
                first_name="Ann",
                last_name="Lee",
                country="US",
                state="CA",
            )
        ]
    )
    service.route_pending()
    owner = store.lead("L1").owner_id  # type: ignore[union-attr]
    store.add_leads(
        [
            _lead(
                "L2",
                email="ANN@gamma.example",
                first_name="Ann",
                last_name="Lee",
                title="VP Sales",
                phone="+1 415 555 0199",
            )
        ]
    )
    store.add_leads(
        [
            Lead(
                "L3",
                {"email": "zed@delta.example", "country": "US", "state": "WA"},
                received_at=fixtures.NOW,
            )
        ]
    )
    result = service.route_pending()
    second = store.decisions("L2")[0]
    assert second.rep_id == owner and second.record["duplicate_of"] == "L1"
    assert "nobody works the same person twice" in second.reason
    survivor = store.lead("L1")
    assert survivor is not None and survivor.lead.fields.get("title") == "VP Sales"
    assert len(survivor.sources) >= 1
    # the duplicate took no turn: the next new lead goes to the other west rep
    third = store.decisions("L3")[0]
    assert third.rep_id not in (None, owner)
    assert result.outcomes == Counter({"routed": 2})


def _companies(tmp_path: Path) -> None:
    (tmp_path / "companies.csv").write_text(
        "domain,industry\ngamma.example,Software\n", encoding="utf-8"
    )


def test_enrichment_wait_fills_fields_before_the_decision(store: Store, tmp_path: Path) -> None:
    _companies(tmp_path)
    service = _service(store, tmp_path, CONFIG + ENRICHMENT.format(policy="wait"))
    store.add_leads([_lead("L1", email="ann@gamma.example", country="DE")])
    service.route_pending()
    (decision,) = store.decisions("L1")
    assert decision.node == "software" and decision.rep_id == "s1"
    enrichment = decision.record["data_quality"]["enrichment"]
    assert enrichment["provenance"]["industry"]["provider"] == "warehouse"


def test_enrichment_route_now_reroutes_when_filled_fields_change_the_route(
    store: Store, tmp_path: Path
) -> None:
    _companies(tmp_path)
    service = _service(store, tmp_path, CONFIG + ENRICHMENT.format(policy="route_now"))
    store.add_leads(
        [
            _lead("L1", email="ann@gamma.example", country="DE"),
            _lead("L2", email="bo@unknown.example", country="DE"),
        ]
    )
    result = service.route_pending()
    first, second = store.decisions("L1")
    assert first.queue == "nurture" and not first.current
    assert second.rep_id == "s1" and second.current and second.supersedes == first.id
    assert second.reason.startswith("re-routed after enrichment filled industry")
    assert [d.queue for d in store.decisions("L2")] == ["nurture"]
    assert result.reps == Counter({"s1": 1})


def test_account_tiebreak_uses_contacts_counted_in_the_store(store: Store, tmp_path: Path) -> None:
    reps = [Rep(id=r, name=r) for r in ("a", "b")]
    org = build_org(
        reps=reps,
        accounts=[
            Account("x1", "Zeta Dup One", "zetadup.com", owner_id="a"),
            Account("x2", "Zeta Dup Two", "zetadup.com", owner_id="b"),
        ],
    )
    config, seq = fixtures.activate(
        store,
        org,
        "flow:\n  - id: owner\n    when: {account.owner: "
        "{exists: true}}\n    then: {assign_owner: {}}\n"
        "  - id: f\n    fallback: true\n    then: {queue: q}\n",
    )
    store.add_leads([Lead("old", {"email": "o@elsewhere.example"}, received_at=fixtures.NOW)])
    with store.write() as conn:  # an earlier contact of x2
        from sqlalchemy import update

        from leadroute.adapters.store import tables

        conn.execute(update(tables.leads).values(account_id="x2", status="routed"))
    service = RoutingService(store, clock=lambda: fixtures.NOW, base_dir=tmp_path)
    service.use(config, seq, store.load_org())
    store.add_leads([_lead("L1", email="kim@zetadup.com")])
    service.route_pending()
    assert store.decisions("L1")[0].rep_id == "b"


def test_a_duplicate_is_found_when_another_process_routed_the_first(
    store: Store, tmp_path: Path
) -> None:
    """Two routing services on one store, as two server processes: each has its own dedupe
    index, caught up inside each routing session with what the other decided."""
    one, other = _service(store, tmp_path), _service(store, tmp_path)
    ann = {
        "email": "ann@gamma.example",
        "first_name": "Ann",
        "last_name": "Lee",
        "country": "US",
        "state": "CA",
    }
    for service, lead_id in ((one, "W1"), (other, "W2")):  # both build their index now
        store.add_leads([_lead(lead_id, email=f"{lead_id}@w.example", country="US")])
        service.route_pending()
    store.add_leads([_lead("A1", minutes=5, **ann)])
    one.route_pending()
    owner = store.lead("A1").owner_id  # type: ignore[union-attr]
    store.add_leads([_lead("A2", **ann)])
    other.route_pending()
    again = store.decisions("A2")[0]
    assert again.record["duplicate_of"] == "A1" and again.rep_id == owner


def test_a_rolled_back_batch_leaves_nothing_in_the_dedupe_index(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = _service(store, tmp_path)
    store.add_leads([_lead("W1", email="w1@w.example", country="US")])
    service.route_pending()
    ann = {
        "email": "ann@gamma.example",
        "first_name": "Ann",
        "last_name": "Lee",
        "country": "US",
        "state": "CA",
    }
    store.add_leads([_lead("A1", **ann)])

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the database went away")

    with monkeypatch.context() as patched:
        patched.setattr(RoutingService, "_route_one", broken)
        with pytest.raises(RuntimeError):
            service.route_pending()
    assert "A1" not in service.pipeline.leads  # its routing never committed
    assert store.lead("A1").status == "new"  # type: ignore[union-attr]
    service.route_pending()
    assert store.decisions("A1")[0].record.get("duplicate_of") is None  # not its own duplicate
