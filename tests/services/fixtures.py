"""Small orgs and configs for service and store tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from leadroute.adapters.store.sql import Store
from leadroute.domain.config import RoutingConfig, compile_config
from leadroute.domain.lead import Lead
from leadroute.domain.org import Account, Org, Rep, Segment, Territory, build_org
from leadroute.domain.yamldoc import load_with_lines

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # a Tuesday

CONFIG = """
name: service-test
pools:
  sales:
    members: [team:sales]
    fairness_window: all
flow:
  - id: named
    when: {account.named: true}
    then: {assign_owner: {}}
  - id: na
    when: {territory: na}
    then: {distribute: sales}
  - id: fallback
    fallback: true
    then: {queue: nurture}
"""


def org(reps: int = 4, **overrides: object) -> Org:
    people = [Rep(id=f"r{i}", name=f"Rep {i}", teams=("sales",)) for i in range(1, reps + 1)]
    return build_org(
        reps=people,
        territories=[Territory("na", "North America", frozenset({"US", "CA"}))],
        segments=[Segment("A", "A", high=20), Segment("B", "B", low=20)],
        accounts=[Account("a1", "Acme", "acme.com", owner_id="r1", named=True)],
    )


def config(org_: Org, text: str = CONFIG) -> tuple[RoutingConfig, str]:
    document, _ = load_with_lines(text)
    compiled, issues = compile_config(document, org_)
    assert compiled is not None, issues
    return compiled, text


def leads(n: int, *, country: str = "US", start: int = 0) -> list[Lead]:
    return [
        Lead(
            id=f"L{i:05d}",
            fields={
                "email": f"p{i}@co{i}.com",
                "company": f"Co {i}",
                "country": country,
                "employees": 50,
            },
            channel="api",
            received_at=NOW - timedelta(minutes=1),
        )
        for i in range(start, start + n)
    ]


def activate(store: Store, org_: Org, text: str = CONFIG) -> tuple[RoutingConfig, int]:
    """Store the org and the config, make the config active; return it with its sequence."""
    store.save_org(org_)
    config_, source = config(org_, text)
    seq = store.save_config(
        content_hash=config_.content_hash,
        name=config_.name,
        document=config_.document,
        source=source,
        activate=True,
    )
    return config_, seq
