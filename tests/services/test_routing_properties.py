"""A routed batch's counts add up, as a property over random batches on a real store.

Each batch mixes good leads that end routed, held or unrouted, rows that could not be read,
lead ids repeated within the batch and leads stored by an earlier batch. Whatever the mix, every
input row ends as exactly one of routed, held, unrouted or rejected: the counts add up to the
rows read, each good lead's status is the one the flow gives it, and each has one decision.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from leadroute.adapters.leadfile import ParsedRow
from leadroute.adapters.store.sql import Store
from leadroute.domain.lead import Lead
from leadroute.domain.org import Rep, RepStatus, build_org
from leadroute.services.routing import RoutingService
from tests.services.fixtures import NOW, activate

CONFIG = """
name: counts
pools:
  sales: {members: [r1, r2], fairness_window: all}
queues:
  nurture: {message: "Later"}
flow:
  - id: big
    when: {employees: {gte: 100}}
    then: {distribute: sales}
  - id: check
    when: {country: DE}
    then: {hold: check}
  - id: lost
    when: {country: FR}
    then: {assign: {rep: away, if_unavailable: fall_through}}
  - id: small
    when: {employees: {lt: 100}}
    then: {queue: nurture}
  - id: fallback
    fallback: true
    then: {assign: {rep: away, if_unavailable: fall_through}}
"""


def expected_status(fields: dict[str, Any]) -> str:
    """What the flow above does with a lead, stated plainly."""
    employees, country = fields.get("employees"), fields.get("country")
    if employees is not None and employees >= 100:
        return "routed"
    if country == "DE":
        return "held"
    if employees is not None:
        return "routed"  # the nurture queue (a lead from FR falls through to it)
    return "unrouted"  # nobody can place it: the fallback's rep is away


good = st.fixed_dictionaries(
    {},
    optional={
        "country": st.sampled_from(["US", "DE", "FR"]),
        "employees": st.sampled_from([3, 99, 100, 5000]),
    },
)
row = st.one_of(
    good.map(lambda f: ("good", f)),
    st.sampled_from(["employees must be a number, got 'lots'", "nothing identifies the lead"]).map(
        lambda reason: ("bad", reason)
    ),
    st.integers(0, 29).map(lambda i: ("repeat", i)),
    st.integers(0, 29).map(lambda i: ("old", i)),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(kinds=st.lists(row, min_size=1, max_size=30))
def test_every_row_ends_routed_held_unrouted_or_rejected(
    store: Store, kinds: list[tuple[str, Any]]
) -> None:
    if store.config() is None:  # the first example sets the store up; later ones reuse it
        reps = [
            Rep(id="r1", name="R1"),
            Rep(id="r2", name="R2"),
            Rep(id="away", name="Away", status=RepStatus.PAUSED),
        ]
        activate(store, build_org(reps=reps), CONFIG)
    earlier = {s.lead.id: s.status for s in store.leads() if s.status != "rejected"}
    batch = f"b-{uuid.uuid4().hex[:12]}"
    rows: list[ParsedRow] = []
    fresh: dict[str, str] = {}  # good lead id -> the status the flow gives it
    expected: Counter[str] = Counter()
    old_ids = sorted(earlier)
    already = set()
    for n, (kind, value) in enumerate(kinds):
        if kind == "repeat" and fresh:
            lead_id = sorted(fresh)[value % len(fresh)]  # the same id again in this batch
            rows.append(ParsedRow(n, Lead(lead_id, {"email": f"again{n}@{batch}.io"})))
            expected["rejected"] += 1
        elif kind == "old" and old_ids and old_ids[value % len(old_ids)] not in already:
            lead_id = old_ids[value % len(old_ids)]  # stored by an earlier batch
            already.add(lead_id)
            rows.append(ParsedRow(n, Lead(lead_id, {"email": f"old{n}@{batch}.io"})))
            expected[earlier[lead_id]] += 1
        elif kind == "bad":
            rows.append(ParsedRow(n, None, f"row {n}: {value}", {"employees": "lots"}))
            expected["rejected"] += 1
        else:
            fields = dict(value) if kind == "good" else {}
            lead_id = f"{batch}-{n}"
            lead = Lead(
                lead_id,
                {"email": f"p{n}@d{n}.{batch}.io", **fields},
                received_at=NOW - timedelta(minutes=1),
            )
            rows.append(ParsedRow(n, lead))
            fresh[lead_id] = expected_status(fields)
            expected[fresh[lead_id]] += 1

    for status in expected:
        event(f"has {status}")
    event("has leads of an earlier batch" if already else "all new")
    service = RoutingService(store, clock=lambda: NOW)
    summary = service.route_batch(rows, batch_id=batch)

    assert summary.input_rows == summary.total == sum(summary.outcomes.values()) == len(rows)
    assert set(summary.outcomes) <= {"routed", "held", "unrouted", "rejected"}
    assert summary.adds_up
    assert summary.outcomes == expected
    assert summary.already_decided == len(already)
    assert len(summary.rejections) == expected["rejected"]
    assert sum(store.lead_counts(batch_id=batch).values()) == len(rows) - len(already)
    for lead_id, status in fresh.items():
        stored = store.lead(lead_id)
        assert stored is not None and stored.status == status, (lead_id, stored)
        assert [d.current for d in store.decisions(lead_id)] == [True]
