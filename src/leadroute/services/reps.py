"""Rep use cases: change a rep (availability, out of office, caps, weight, hours), deactivate a
rep, and preview beforehand who would take over their open leads.

Every change goes through the org file's rep model, all or nothing, and through
`RoutingService.load_org`, so routing uses the new rep at once and the store keeps it. The API
(`PATCH /v1/reps/{id}`, `POST /v1/reps/{id}/deactivate`) and the console share these functions.
Callers that share a `RoutingService` with other threads hold their lock around them.

The preview writes nothing: it reads the routing state as stored (pool fairness, this day's,
week's and month's counters, open leads, sticky owners) into memory and decides each open lead
there, as `RoutingService.reassign` would, with the rep marked inactive.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from leadroute.adapters import orgfile, registry
from leadroute.adapters.memory import MemoryRoutingState
from leadroute.adapters.store.sql import OPEN, Store
from leadroute.domain.decision import Decision, Outcome
from leadroute.domain.engine import sticky_key
from leadroute.domain.lead import Lead
from leadroute.domain.org import Org, Rep, RepStatus, build_org, periods_at
from leadroute.ports import RoutingState, RoutingStateReads
from leadroute.services.configs import load_config_text
from leadroute.services.routing import RoutingService

# Parts of a validation error's place that name a type of a union, not a field.
_TYPE_TAGS = frozenset({"datetime", "date", "str", "int", "float", "bool", "list", "dict"})


class RepChangeError(ValueError):
    """A change that would make the rep invalid; `problems` are (field, message) pairs, the
    field as a dotted path of the org file's rep ("caps.day", "out_of_office.2.end")."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        text = "; ".join(f"{where}: {message}" if where else message for where, message in problems)
        super().__init__(f"invalid rep: {text}")

    @property
    def fields(self) -> dict[str, str]:
        """field -> its first problem."""
        found: dict[str, str] = {}
        for where, message in self.problems:
            found.setdefault(where, message)
        return found


@dataclass(frozen=True, slots=True)
class HandOff:
    """Where one open lead of a leaving rep goes (or would go)."""

    lead_id: str
    outcome: str
    route: str | None
    rep_id: str | None
    queue: str | None
    reason: str = ""

    @classmethod
    def of(cls, decision: Decision) -> HandOff:
        return cls(
            decision.lead_id,
            decision.outcome.value,
            decision.node,
            decision.rep_id,
            decision.queue,
            decision.reason,
        )

    @property
    def target(self) -> tuple[str, str | None, str | None, str | None]:
        """What a hand-off is compared by: outcome, route, rep, queue (not the reason's words)."""
        return (self.outcome, self.route, self.rep_id, self.queue)

    @property
    def to(self) -> str:
        """Where the lead goes, in words."""
        if self.rep_id:
            return f"rep {self.rep_id}"
        if self.queue:
            return f"queue {self.queue}"
        return self.outcome


@dataclass(frozen=True)
class RepUpdate:
    """A rep as saved, and where their open leads went if the change made them inactive."""

    rep: Rep
    handed_on: list[HandOff] = field(default_factory=list)

    def as_record(self) -> dict[str, Any]:
        return {
            "rep": orgfile.rep_to_doc(self.rep),
            "handed_on": [
                {"lead_id": h.lead_id, "rep": h.rep_id, "queue": h.queue, "reason": h.reason}
                for h in self.handed_on
            ],
        }


@dataclass(frozen=True)
class DeactivationPreview:
    """Who would take over each open lead of `rep` if the rep were deactivated at `at`."""

    rep: Rep
    at: datetime
    hand_offs: list[HandOff]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Difference:
    """A lead the preview and the actual hand-off disagree on (None: not in that one)."""

    lead_id: str
    previewed: HandOff | None
    actual: HandOff | None


# -- changes -------------------------------------------------------------------------------


def change_rep(routing: RoutingService, rep_id: str, changes: Mapping[str, Any]) -> RepUpdate:
    """Apply `changes` (keys of the org file's rep: status, out_of_office, caps, weight,
    working_hours, timezone, ...; a key replaces the whole value) all or nothing.

    Routing uses the new rep at once and the store keeps it. Making a rep inactive hands their
    open leads on through the flow. LookupError: no such rep; RepChangeError: the rep would be
    invalid (nothing is saved).
    """
    rep = _rep(routing.store.load_org(), rep_id)
    doc = {**orgfile.rep_to_doc(rep), **changes}
    if doc.get("id") != rep_id:
        raise RepChangeError([("id", "a rep's id cannot change")])
    updated = _validated(doc, before=rep)
    handed = routing.load_org(build_org(reps=[updated]))
    return RepUpdate(updated, [HandOff.of(d) for d in handed.get(rep_id, [])])


def add_absence(
    routing: RoutingService, rep_id: str, *, start: Any, end: Any, reason: str = ""
) -> RepUpdate:
    """Add an out-of-office period. `start` and `end` as in the org file: a date (a whole day
    in the rep's time zone, `end` included) or a date and time."""
    rep = _rep(routing.store.load_org(), rep_id)
    absences = orgfile.rep_to_doc(rep)["out_of_office"]
    absences.append({"start": start, "end": end, "reason": reason.strip() or "out of office"})
    return change_rep(routing, rep_id, {"out_of_office": absences})


def remove_absence(
    routing: RoutingService, rep_id: str, *, start: datetime, end: datetime
) -> RepUpdate:
    """Remove the out-of-office period that starts and ends at these moments; LookupError if
    the rep has none (someone removed it first)."""
    rep = _rep(routing.store.load_org(), rep_id)
    kept = [a for a in rep.out_of_office if not (a.start == start and a.end == end)]
    if len(kept) == len(rep.out_of_office):
        raise LookupError(
            f"rep '{rep_id}' has no out-of-office period from {start.isoformat()} "
            f"to {end.isoformat()}"
        )
    doc = orgfile.rep_to_doc(replace(rep, out_of_office=tuple(kept)))
    return change_rep(routing, rep_id, {"out_of_office": doc["out_of_office"]})


def deactivate(routing: RoutingService, rep_id: str) -> RepUpdate:
    """Mark the rep inactive and send each of their open leads through the flow again
    (`RoutingService.deactivate_rep`). Without an active config nothing routes: the rep is
    marked inactive and their leads stay where they are. LookupError: no such rep."""
    store = routing.store
    _rep(store.load_org(), rep_id)
    if store.config() is None:
        store.set_rep_status(rep_id, RepStatus.INACTIVE)
        handed: list[Decision] = []
    else:
        handed = routing.deactivate_rep(rep_id)
    return RepUpdate(_rep(store.load_org(), rep_id), [HandOff.of(d) for d in handed])


# -- preview -------------------------------------------------------------------------------


def preview_deactivation(
    store: Store,
    rep_id: str,
    *,
    now: datetime | None = None,
    stored_state: RoutingStateReads | None = None,
) -> DeactivationPreview:
    """Who would take over each open lead of the rep if they were deactivated now: the active
    config decides every lead, oldest first, as `deactivate` would, against the routing state
    as stored. Nothing is written. LookupError: no such rep; ValueError: the active config
    does not load against the org."""
    now = now or datetime.now(UTC)
    org = store.load_org()
    rep = _rep(org, rep_id)
    leads = store.leads(status=Outcome.ROUTED.value, owner_id=rep_id)
    stored = store.config()
    if stored is None:
        note = "no active routing config: the rep's open leads would stay with them"
        return DeactivationPreview(rep, now, [], [note])
    leaving = org.with_rep(replace(rep, status=RepStatus.INACTIVE))
    loaded = load_config_text(stored.source, leaving, file=f"config #{stored.seq}", with_lint=False)
    if loaded.config is None:
        raise ValueError("; ".join(str(p) for p in loaded.problems))
    dry = _DryRun(store, clock=lambda: now)
    dry.use(loaded.config, stored.seq, leaving)
    reads = stored_state if stored_state is not None else registry.routing_state_reads(store)
    state = StoredStateCopy(reads, leaving, loaded.config.pools, now)
    hand_offs = []
    for lead in leads:
        history = store.decisions(lead.lead.id)
        previous = frozenset(d.rep_id for d in history if d.rep_id)
        decision, account_key = dry.decide(lead.lead, state, exclude=previous)
        state.apply(decision, account_key)
        if lead.owner_id is not None:
            state.close(lead.owner_id)
        hand_offs.append(HandOff.of(decision))
    notes = [f"config #{stored.seq} ({loaded.config.name}), routing state as stored now"]
    if loaded.config.enrichment is not None:
        notes.append(
            "enrichment is not called in a preview: each lead is decided on the fields it has"
        )
    return DeactivationPreview(rep, now, hand_offs, notes)


def differences(previewed: Iterable[HandOff], actual: Iterable[HandOff]) -> list[Difference]:
    """The leads whose actual hand-off is not the previewed one (another outcome, route, rep
    or queue), or that are in only one of the two; in the order they appear."""
    before = {h.lead_id: h for h in previewed}
    after = {h.lead_id: h for h in actual}
    found = []
    for lead_id in [*before, *(i for i in after if i not in before)]:
        was, now = before.get(lead_id), after.get(lead_id)
        if was is None or now is None or was.target != now.target:
            found.append(Difference(lead_id, was, now))
    return found


class StoredStateCopy(MemoryRoutingState):
    """The routing state as stored now, read without locks and then changed in memory only:
    pool fairness, every rep's counters for the day, week and month current at `now` and their
    open leads; sticky owners are read when asked for."""

    def __init__(
        self, stored: RoutingStateReads, org: Org, pool_ids: Iterable[str], now: datetime
    ) -> None:
        super().__init__(org)
        self._stored = stored
        self._looked_up: set[tuple[str, str]] = set()
        periods = {OPEN}
        for rep in org.reps.values():
            periods.update(periods_at(rep.timezone, now).values())
        self.pools.update(stored.pool_states(sorted(set(pool_ids))))
        for (rep_id, period), count in stored.counters(sorted(periods)).items():
            if period == OPEN:
                self.open[rep_id] = count
            else:
                self.counters[(rep_id, period)] = count

    def sticky_rep(self, pool_id: str, account_key: str) -> str | None:
        key = (pool_id, account_key)
        if key not in self.sticky and key not in self._looked_up:
            self._looked_up.add(key)
            owner = self._stored.sticky_rep(pool_id, account_key)
            if owner is not None:
                self.sticky[key] = owner
        return self.sticky.get(key)


class _DryRun(RoutingService):
    """Cleans, scores and decides a lead as `RoutingService.reassign` does, against a state
    that is not the store's, and records nothing. No enrichment is called."""

    def decide(
        self, lead: Lead, state: RoutingState, *, exclude: frozenset[str]
    ) -> tuple[Decision, str | None]:
        """The decision and the lead's account key (for sticky pools)."""
        clean = self._prepare([lead], dedupe=False)[0]
        router = self.router
        data = clean.context
        if data is None:
            data = router.context(clean.lead, clean.account, clean.signals)
        decision = router.route(
            clean.lead,
            now=self.clock(),
            state=state,
            account=clean.account,
            exclude=exclude,
            data=data,
        )
        return decision, sticky_key(data)


# -- helpers -------------------------------------------------------------------------------


def _rep(org: Org, rep_id: str) -> Rep:
    rep = org.reps.get(rep_id)
    if rep is None:
        raise LookupError(f"no rep '{rep_id}'")
    return rep


def _validated(doc: Mapping[str, Any], *, before: Rep) -> Rep:
    """The rep the document describes; RepChangeError with every problem at its field."""
    try:
        rep = orgfile.rep_from_doc(doc)
    except ValidationError as exc:
        problems: list[tuple[str, str]] = []
        for error in exc.errors():
            parts = [str(p) for p in error["loc"] if str(p) not in _TYPE_TAGS and "[" not in str(p)]
            problem = (".".join(parts), str(error["msg"]).removeprefix("Value error, "))
            if problem[0] not in {where for where, _ in problems}:
                problems.append(problem)
        raise RepChangeError(problems) from None
    except (KeyError, ValueError, TypeError) as exc:
        raise RepChangeError([("", str(exc))]) from None
    backwards = [
        (f"out_of_office.{i}.end", "the end is before the start")
        for i, a in enumerate(rep.out_of_office)
        if a.end <= a.start and a not in before.out_of_office
    ]
    if backwards:
        raise RepChangeError(backwards)
    return rep
