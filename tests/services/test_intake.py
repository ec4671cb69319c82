"""The real-time intake: batches, idempotency, and the routing thread's life."""

from __future__ import annotations

import threading

from leadroute.adapters.store.sql import Store
from leadroute.services.intake import LeadIntake, lead_id_for
from leadroute.services.routing import RoutingService
from tests.services.fixtures import NOW, activate, org

LEAD = {"email": "ada@acme.com", "company": "Acme", "country": "US", "employees": 50}


def test_concurrent_submissions_share_batches_and_each_gets_its_decision(store: Store) -> None:
    activate(store, org())
    intake = LeadIntake(RoutingService(store, clock=lambda: NOW))
    results: dict[int, object] = {}

    def send(i: int) -> None:
        results[i] = intake.submit({**LEAD, "email": f"p{i}@co{i}.com"}, key=f"k{i}")

    threads = [threading.Thread(target=send, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    answers = [results[i] for i in range(12)]
    assert all(a.status_code == 201 for a in answers)  # type: ignore[attr-defined]
    ids = {a.body["lead_id"] for a in answers}  # type: ignore[attr-defined]
    assert ids == {lead_id_for(f"k{i}") for i in range(12)}
    assert all(a.body["decision_id"] for a in answers)  # type: ignore[attr-defined]
    assert store.lead_counts() == {"routed": 12}
    again = intake.submit({**LEAD, "email": "p3@co3.com"}, key="k3")
    assert again.replayed and again.body == results[3].body  # type: ignore[attr-defined]
    thread = intake.batcher.thread
    intake.close()
    thread.join(timeout=5)
    assert not thread.is_alive()
    # a new routing thread starts when the next lead comes
    assert intake.submit({**LEAD, "email": "late@co.com"}).status_code == 201
    intake.close()
