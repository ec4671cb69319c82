"""Rep changes, deactivation and its preview on a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, select, text

from leadroute.adapters.store import tables as t
from leadroute.adapters.store.sql import Store
from leadroute.adapters.store.state_store import RoutingStateStore
from leadroute.domain.org import Caps, Rep, RepStatus, build_org
from leadroute.services import reps
from leadroute.services.reps import HandOff, RepChangeError, StoredStateCopy
from leadroute.services.routing import RoutingService
from tests.services import fixtures

STICKY = fixtures.CONFIG.replace("fairness_window: all", "fairness_window: all\n    sticky: true")


def _service(store: Store, reps_: int = 4, config: str = fixtures.CONFIG) -> RoutingService:
    org = fixtures.org(reps_)
    fixtures.activate(store, org, config)
    return RoutingService(store, clock=lambda: fixtures.NOW)


def _route(service: RoutingService, n: int, *, start: int = 0) -> dict[str, str | None]:
    decisions, _ = service.route_now(fixtures.leads(n, start=start), batch_id=f"b{start}")
    return {lead_id: d.rep_id for lead_id, d in decisions.items()}


# Who logged in when: written by every console login, not by the changes under test.
ACCESS_TABLES = frozenset({"console_sessions", "login_throttle", "audit_events"})


def snapshot(store: Store, *, skip: frozenset[str] = frozenset()) -> dict[str, list[str]]:
    """Every row of every table in the store's schema (but those in `skip`)."""
    with store.engine.connect() as conn:
        names = [n for n in inspect(conn).get_table_names() if n not in skip]
        return {
            name: sorted(repr(tuple(row)) for row in conn.execute(text(f'SELECT * FROM "{name}"')))
            for name in names
        }


def test_a_change_is_saved_and_routing_uses_it_at_once(store: Store) -> None:
    service = _service(store)
    assert Counter(_route(service, 4).values()) == Counter({"r1": 1, "r2": 1, "r3": 1, "r4": 1})
    update = reps.change_rep(
        service,
        "r1",
        {
            "caps": {"day": 1, "week": None, "month": "30"},
            "weight": 2,
            "timezone": "Europe/Berlin",
            "working_hours": {"mon-fri": ["00:00-24:00"]},
        },
    )
    assert update.rep.caps == Caps(day=1, month=30) and update.handed_on == []
    fresh = Store(store.url)  # another process's view: it is in the database
    stored = fresh.load_org().reps["r1"]
    fresh.dispose()
    assert stored.caps == Caps(day=1, month=30) and stored.weight == 2
    assert stored.timezone == "Europe/Berlin" and stored.working_hours is not None
    owners = _route(service, 6, start=10)  # r1 has one lead today: the cap of 1 is reached
    assert "r1" not in owners.values() and len(owners) == 6
    skipped = store.decisions("L00010")[0].record["nodes"][-1]["candidates"]
    assert {"rep": "r1", "reason": "cap reached"}.items() <= skipped[0].items()


def test_an_invalid_change_names_every_field_and_saves_nothing(store: Store) -> None:
    service = _service(store)
    before = snapshot(store)
    with pytest.raises(RepChangeError) as caught:
        reps.change_rep(
            service,
            "r1",
            {
                "caps": {"day": "-1", "week": "x", "month": 5},
                "weight": 0,
                "timezone": "Mars/Base",
                "working_hours": {"mon-fri": ["9-5"]},
            },
        )
    fields = caught.value.fields
    assert set(fields) == {"caps.day", "caps.week", "weight", "timezone", "working_hours"}
    assert "greater than or equal to 0" in fields["caps.day"]
    assert "unknown time zone 'Mars/Base'" in fields["timezone"]
    assert "should look like 09:00-17:30" in fields["working_hours"]
    assert str(caught.value).startswith("invalid rep: ")
    with pytest.raises(RepChangeError, match=r"caps\.day"):  # one good key, one bad: neither
        reps.change_rep(service, "r1", {"weight": 3, "caps": {"day": -2}})
    with pytest.raises(RepChangeError, match="id: a rep's id cannot change"):
        reps.change_rep(service, "r1", {"id": "r9"})
    with pytest.raises(LookupError, match="no rep 'ghost'"):
        reps.change_rep(service, "ghost", {"weight": 2})
    assert snapshot(store) == before


def test_absences_are_whole_days_in_the_reps_zone_and_can_be_removed(store: Store) -> None:
    service = _service(store)
    reps.change_rep(service, "r2", {"timezone": "Europe/Berlin"})
    added = reps.add_absence(service, "r2", start="2026-11-24", end="2026-11-25", reason=" ")
    (absence,) = added.rep.out_of_office
    assert absence.start == datetime(2026, 11, 23, 23, 0, tzinfo=UTC)  # midnight in Berlin
    assert absence.end == datetime(2026, 11, 25, 23, 0, tzinfo=UTC)  # the last day included
    assert absence.reason == "out of office"
    owners = _route(service, 3)  # 2026-11-24 15:00 UTC: r2 is away
    assert "r2" not in owners.values()
    record = store.decisions("L00000")[0].record["nodes"][-1]["candidates"]
    away = next(c for c in record if c["rep"] == "r2")
    assert away["reason"] == "out of office" and "out of office until" in away["detail"]
    with pytest.raises(RepChangeError) as backwards:
        reps.add_absence(service, "r2", start="2026-12-03", end="2026-12-01", reason="trip")
    assert set(backwards.value.fields) == {"out_of_office.1.end"}
    with pytest.raises(RepChangeError) as empty:
        reps.add_absence(service, "r2", start="", end="2026-12-01")
    assert set(empty.value.fields) == {"out_of_office.1.start"}
    assert len(store.load_org().reps["r2"].out_of_office) == 1
    removed = reps.remove_absence(service, "r2", start=absence.start, end=absence.end)
    assert removed.rep.out_of_office == ()
    with pytest.raises(LookupError, match="no out-of-office period"):
        reps.remove_absence(service, "r2", start=absence.start, end=absence.end)


def test_the_preview_writes_nothing_and_matches_the_deactivation(store: Store) -> None:
    service = _service(store, config=STICKY)
    _route(service, 12)  # three leads each
    for rep_id in ("r2", "r4"):
        reps.change_rep(service, rep_id, {"status": "paused"})
    reps.change_rep(service, "r3", {"caps": {"day": 4}})  # r3 can take one more today
    before = snapshot(store)
    preview = reps.preview_deactivation(store, "r1", now=fixtures.NOW)
    assert snapshot(store) == before
    assert preview.rep.status is RepStatus.ACTIVE
    # The first lead fills r3's cap; the state of the preview counts it, so the others fall
    # through to the queue.
    assert [(h.lead_id, h.to, h.route) for h in preview.hand_offs] == [
        ("L00000", "rep r3", "na"),
        ("L00004", "queue nurture", "fallback"),
        ("L00008", "queue nurture", "fallback"),
    ]
    actual = reps.deactivate(service, "r1")
    assert actual.rep.status is RepStatus.INACTIVE
    assert [h.target for h in actual.handed_on] == [h.target for h in preview.hand_offs]
    assert reps.differences(preview.hand_offs, actual.handed_on) == []
    owners = {s.lead.id: s.owner_id for s in store.leads(status="routed")}
    assert all(owners[h.lead_id] == h.rep_id for h in preview.hand_offs)


def test_the_state_copy_reads_what_a_routing_session_reads(store: Store) -> None:
    service = _service(store, config=STICKY)
    _route(service, 6)
    org = store.load_org()
    pools = list(service.router.config.pools)
    copy = StoredStateCopy(RoutingStateStore(store), org, pools, fixtures.NOW)
    with store.routing_session(org, pools, None) as session:
        assert copy.loads(sorted(org.reps), fixtures.NOW) == session.loads(
            sorted(org.reps), fixtures.NOW
        )
        assert copy.pool_state("sales") == session.pool_state("sales")
        with store.engine.connect() as conn:
            keys = list(conn.execute(select(t.sticky.c.pool_id, t.sticky.c.account_key)))
        assert keys
        for pool_id, key in keys:
            assert copy.sticky_rep(pool_id, key) == session.sticky_rep(pool_id, key)
    assert copy.sticky_rep("sales", "nobody.example") is None


def test_without_an_active_config_nothing_is_handed_on(store: Store) -> None:
    store.save_org(build_org(reps=[Rep(id="solo", name="Solo")]))
    preview = reps.preview_deactivation(store, "solo")
    assert preview.hand_offs == [] and "no active routing config" in preview.notes[0]
    done = reps.deactivate(RoutingService(store), "solo")
    assert done.rep.status is RepStatus.INACTIVE and done.handed_on == []
    with pytest.raises(LookupError):
        reps.preview_deactivation(store, "ghost")
    with pytest.raises(LookupError):
        reps.deactivate(RoutingService(store), "ghost")


def test_differences_compare_where_leads_go_not_the_words() -> None:
    def h(lead: str, rep: str | None, queue: str | None = None, reason: str = "") -> HandOff:
        return HandOff(lead, "routed", "na", rep, queue, reason)

    previewed = [h("a", "r2"), h("b", "r3", reason="2 credits"), h("c", "r2")]
    actual = [h("a", "r2"), h("b", "r3", reason="3 credits"), h("c", None, "nurture"), h("d", "r4")]
    found = reps.differences(previewed, actual)
    assert [(d.lead_id, d.previewed, d.actual) for d in found] == [
        ("c", previewed[2], actual[2]),
        ("d", None, actual[3]),
    ]
    assert reps.differences(previewed, previewed[:1])[0].actual is None
    assert actual[2].to == "queue nurture" and previewed[0].to == "rep r2"
