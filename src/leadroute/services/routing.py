"""Routing use cases: route a batch, route whatever is pending, re-route a rep's open leads.

Every routing transaction goes through three phases (`RoutingService._transaction`):

1. prepare, with no pool locked: claim the leads, normalise, look for duplicates, match
   accounts, score, and enrich (network calls, each cached and counted in a short transaction
   of its own);
2. decide and record: lock the pools the leads can reach (`Router.reach`), in pool id order,
   check again what may have changed meanwhile (the active config, duplicates another process
   routed), run the engine and write the decisions with their lifecycle events, timers and
   outbox messages in one transaction;
3. after the commit: the dedupe index learns the routed leads.

So a slow enrichment provider holds no lock, and transactions whose leads reach different
pools run at the same time.
"""

from __future__ import annotations

import gc
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from leadroute.adapters.leadfile import ParsedRow
from leadroute.adapters.store.activity_store import ActivityStore
from leadroute.adapters.store.enrichment_store import EnrichmentStore
from leadroute.adapters.store.model_store import ModelStore
from leadroute.adapters.store.routing_session import RoutingSession, stored_state
from leadroute.adapters.store.sql import Store
from leadroute.domain.backtest import NO_ROUTE
from leadroute.domain.brief import Brief, build_brief
from leadroute.domain.config import RoutingConfig
from leadroute.domain.decision import Decision, Outcome
from leadroute.domain.dedupe import LeadIndex, LeadMeta, merge
from leadroute.domain.engine import Reach, Router, sticky_key
from leadroute.domain.intent import AccountIntent, Activity
from leadroute.domain.lead import Lead
from leadroute.domain.normalize import Normalizer
from leadroute.domain.org import Org, RepStatus
from leadroute.domain.predictive import LinearModel
from leadroute.domain.scoring import Signals
from leadroute.ports import RoutingState
from leadroute.services.enrichment import build_enricher
from leadroute.services.lifecycle import Lifecycle, act
from leadroute.services.pipeline import DEDUPE_FIELDS, CleanLead, LeadPipeline

Clock = Callable[[], datetime]
# Decisions read again at each dedupe catch-up (see RoutingService._catch_up).
CATCH_UP_OVERLAP = 32
# How long a decision id the catch-up missed is looked for again (its transaction had not
# committed, or rolled back).
UNSEEN_SECONDS = 300.0
CLOSED_STATUSES = ("contacted", "converted", "disqualified")
# Tries of a routing transaction whose phase 1 went stale (see RoutingService._transaction).
MAX_ATTEMPTS = 3


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class BatchSummary:
    """What happened to every lead of a batch.

    For a file, `input_rows` counts the records read, and `outcomes`, `routes`, `reps`, `queues`
    and the held and unrouted reasons are re-read from the store at the end (the current
    decision of every lead of the file, whichever run made it), so a run that resumes an
    interrupted one describes the whole file and every table adds up to the same leads;
    `adds_up` checks that every input record ended as routed, held, unrouted or rejected.
    Otherwise (`route_pending`) they count this run's decisions. A decision no route of the flow
    made (a duplicate given to its owner, a lead held as not viable) counts under the route
    NO_ROUTE, so the routes add up to the leads decided.
    """

    batch_id: str | None = None
    total: int = 0
    input_rows: int | None = None
    outcomes: Counter[str] = field(default_factory=Counter)
    routes: Counter[str] = field(default_factory=Counter)
    reps: Counter[str] = field(default_factory=Counter)
    queues: Counter[str] = field(default_factory=Counter)
    rejections: list[tuple[int | None, str]] = field(default_factory=list)
    held_reasons: Counter[str] = field(default_factory=Counter)
    unrouted_reasons: Counter[str] = field(default_factory=Counter)
    already_decided: int = 0
    seconds: float = 0.0

    def add(self, decision: Decision) -> None:
        self.total += 1
        self.outcomes[decision.outcome.value] += 1
        self.routes[decision.node or NO_ROUTE] += 1
        if decision.rep_id:
            self.reps[decision.rep_id] += 1
        if decision.queue:
            self.queues[decision.queue] += 1
        if decision.outcome is Outcome.HELD:
            self.held_reasons[decision.reason] += 1
        elif decision.outcome is Outcome.UNROUTED:
            self.unrouted_reasons[decision.reason] += 1

    def recount(
        self, counts: Mapping[tuple[str, str | None, str | None, str | None, str | None], int]
    ) -> None:
        """Replace the per-route, per-rep, per-queue and per-reason counts with `counts` of
        current decisions by (outcome, node, rep, queue, reason) (see
        `Store.current_decision_counts`)."""
        self.routes, self.reps, self.queues = Counter(), Counter(), Counter()
        self.held_reasons, self.unrouted_reasons = Counter(), Counter()
        for (outcome, node, rep, queue, reason), n in counts.items():
            self.routes[node or NO_ROUTE] += n
            if rep:
                self.reps[rep] += n
            if queue:
                self.queues[queue] += n
            if outcome == Outcome.HELD.value:
                self.held_reasons[reason or ""] += n
            elif outcome == Outcome.UNROUTED.value:
                self.unrouted_reasons[reason or ""] += n

    @property
    def accounted(self) -> bool:
        """Every record read is in the store, whatever its status."""
        expected = self.total if self.input_rows is None else self.input_rows
        return expected == self.total == sum(self.outcomes.values())

    @property
    def adds_up(self) -> bool:
        """Every record read ended as routed, held, unrouted or rejected."""
        final = {o.value for o in Outcome}
        return self.accounted and all(status in final for status in self.outcomes)


@dataclass
class Arrivals:
    """What `RoutingService.route_arrivals` did: the decisions made at once with their ids,
    and, for each lead routed apart (after its enrichment), its decision and the decision's
    id to come (None for both if someone else routed the lead first)."""

    decisions: dict[str, Decision] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    enriching: dict[str, Future[tuple[Decision | None, int | None]]] = field(default_factory=dict)


@dataclass
class _Tx:
    """A routing transaction's leads between its phases."""

    session: RoutingSession
    pairs: list[tuple[Lead, CleanLead]]  # each lead as stored, with its preparation
    later: list[tuple[CleanLead, Decision]] | None  # decided now, enriched after the commit
    apart: list[tuple[Lead, CleanLead]] = field(default_factory=list)  # routed on their own


@dataclass
class _Done:
    """What a routing transaction did, once committed."""

    decisions: list[Decision] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)
    later: list[tuple[CleanLead, Decision]] = field(default_factory=list)
    claimed: int = 0
    apart: list[tuple[Lead, CleanLead]] = field(default_factory=list)


class _Retry(Exception):
    """What a routing transaction's leads were prepared with went stale before it committed:
    roll back and go through the phases again."""

    def __init__(self, why: str, *, config_changed: bool = False) -> None:
        super().__init__(why)
        self.config_changed = config_changed


class RoutingService:
    """Routes leads with the active config against the stored org, recording every decision.

    Safe to share between threads: its routing transactions take turns in phases 2 and 3 and
    while preparing (the dedupe index is not thread-safe), and wait for enrichment providers
    without holding its lock. `on_locked`, if given, is called inside every routing
    transaction once its locks are held and its leads checked again (before any is decided),
    with the pools it locked (for tests and metrics).
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock = utc_now,
        chunk_size: int = 500,
        base_dir: Path = Path("."),
        on_locked: Callable[[Sequence[str]], None] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.chunk_size = chunk_size
        self._router: Router | None = None
        self._seq: int | None = None
        self._following = False  # routes with whichever config is active (see use_active)
        self._pipeline: LeadPipeline | None = None
        self._activities: ActivityStore | None = None
        self._account_intents: dict[str, AccountIntent] = {}
        self._lifecycle: Lifecycle | None = None
        self._lock = threading.RLock()
        self._recorded: list[CleanLead] = []  # routed in the transaction in phase 2
        # leads enriched apart, waiting to be stored and routed (see _route_apart)
        self._enriched: list[
            tuple[Lead, CleanLead, str, Future[tuple[Decision | None, int | None]]]
        ] = []
        self._enriched_lock = threading.Lock()
        self.on_locked = on_locked
        self.base_dir = base_dir

    def use(self, config: RoutingConfig, seq: int, org: Org | None = None) -> None:
        """Route with this config (version `seq`) from now on, whatever becomes active."""
        router = Router(
            config, org or self.store.load_org(), predictor=predictor_for(self.store, config)
        )
        with self._lock:  # not in the middle of a routing transaction
            self._router = router
            self._seq = seq
            self._pipeline = None
            self._following = False

    def use_active(self) -> None:
        from leadroute.services.configs import load_config_text

        stored = self.store.config()
        if stored is None:
            raise LookupError(
                "no active routing config: run `leadroute route --config FILE` "
                "or `leadroute config activate FILE` first"
            )
        org = self.store.load_org()
        loaded = load_config_text(stored.source, org, file=f"config #{stored.seq}", with_lint=False)
        if loaded.config is None:
            raise ValueError("; ".join(str(p) for p in loaded.problems))
        self.use(loaded.config, stored.seq, org)
        self._following = True  # a routing transaction checks it is still the active one

    @property
    def router(self) -> Router:
        if self._router is None:
            self.use_active()
        assert self._router is not None
        return self._router

    # -- batches -------------------------------------------------------------------------

    def ingest(
        self, rows: Iterable[ParsedRow], *, batch_id: str, summary: BatchSummary
    ) -> tuple[list[str], list[str]]:
        """Store a batch's leads as new and its bad rows as rejected.

        Returns every stored id of the input (leads and rejections), and the ids of leads that
        were already stored (by an earlier run of the same file, or the same lead id
        elsewhere): those are not routed again.
        """
        already: list[str] = []
        every: list[str] = []
        summary.input_rows = 0
        chunk: list[ParsedRow] = []

        def flush() -> None:
            leads = [r.lead for r in chunk if r.lead is not None]
            existing = self.store.add_leads(
                leads, batch_id=batch_id, rows=[r.row for r in chunk if r.lead is not None]
            )
            rejected = [
                (f"{batch_id}-{r.row}", r.row, r.reason or "rejected", r.raw)
                for r in chunk
                if r.lead is None
            ]
            self.store.add_rejections(rejected, batch_id=batch_id)
            for r in chunk:
                if r.lead is None:
                    summary.rejections.append((r.row, r.reason or "rejected"))
                    every.append(f"{batch_id}-{r.row}")
                else:
                    every.append(r.lead.id)
                    if r.lead.id in existing:
                        already.append(r.lead.id)
            summary.input_rows = (summary.input_rows or 0) + len(chunk)
            chunk.clear()

        seen: set[str] = set()
        for row in rows:
            if row.lead is not None and row.lead.id in seen:
                row = ParsedRow(
                    row.row,
                    None,
                    f"row {row.row}: duplicate lead id '{row.lead.id}' in the same file",
                    row.raw,
                )
            elif row.lead is not None:
                seen.add(row.lead.id)
            chunk.append(row)
            if len(chunk) >= 2000:
                flush()
        flush()
        return every, already

    def import_batch(self, rows: Iterable[ParsedRow], *, batch_id: str) -> BatchSummary:
        """Store a batch without routing it: leads wait as new, bad rows are rejected."""
        summary = BatchSummary(batch_id=batch_id)
        every, _ = self.ingest(rows, batch_id=batch_id, summary=summary)
        summary.outcomes = self.store.statuses(every)
        summary.total = sum(summary.outcomes.values())
        return summary

    def lead_context(self, lead_id: str) -> dict[str, Any]:
        """What the active config's conditions see for a stored lead, as of now: its fields
        (cleaned), derived fields, the matched account and its scores."""
        stored = self.store.lead(lead_id)
        if stored is None:
            raise LookupError(f"no lead '{lead_id}' in the store")
        router = self.router
        account = router.org.accounts.get(stored.account_id or "")
        return router.context(stored.lead, account)

    def brief(self, lead_id: str, *, activity: int = 5) -> Brief:
        """The brief a rep gets with a lead: from its current decision and recent activity."""
        stored = self.store.lead(lead_id)
        if stored is None:
            raise LookupError(f"no lead '{lead_id}' in the store")
        current = [d for d in self.store.decisions(lead_id) if d.current]
        if not current:
            raise LookupError(f"lead '{lead_id}' has no decision yet ({stored.status})")
        recent = self.activities.recent(
            email=_email_key(stored.lead), lead_id=lead_id, limit=activity
        )
        return build_brief(lead_id, stored.lead.fields, current[-1].record, recent)

    def close_lead(self, lead_id: str, status: str) -> None:
        """A rep worked a routed lead: record its new status and free its place in the load."""
        if status not in CLOSED_STATUSES:
            raise ValueError(f"status must be one of {', '.join(CLOSED_STATUSES)}")
        action = {"contacted": "contacted", "converted": "convert", "disqualified": "disqualify"}
        try:
            act(self.store, lead_id, action[status], now=self.clock())
        except (LookupError, ValueError):
            raise LookupError(f"lead '{lead_id}' is not an open, routed lead") from None

    def route_batch(
        self,
        rows: Iterable[ParsedRow],
        *,
        batch_id: str,
        output: TextIO | None = None,
        progress: Callable[[int], None] | None = None,
        on_ingested: Callable[[int], None] | None = None,
    ) -> BatchSummary:
        started = time.perf_counter()
        summary = BatchSummary(batch_id=batch_id)
        every, already = self.ingest(rows, batch_id=batch_id, summary=summary)
        # leads an interrupted run of this file stored but did not route are routed now
        waiting = self.store.statuses(already).get("new", 0) if already else 0
        if on_ingested is not None:
            on_ingested(self.store.lead_counts(batch_id=batch_id).get("new", 0))
        self.route_pending(batch_id=batch_id, output=output, progress=progress, summary=summary)
        summary.already_decided = len(already) - waiting
        summary.outcomes = self.store.statuses(every)
        summary.recount(self.store.current_decision_counts(every))
        summary.total = sum(summary.outcomes.values())
        summary.seconds = time.perf_counter() - started
        return summary

    def route_now(
        self, leads: Sequence[Lead], *, batch_id: str
    ) -> tuple[dict[str, Decision], dict[str, int]]:
        """Store these leads and route them at once, in one transaction: the real-time path.

        Returns the decision of each lead routed here and its id in the store; a lead stored
        before (by an earlier request) is not routed again and has no entry."""
        arrived = self._route_arrived(leads, batch_id=batch_id, apart=False)
        return arrived.decisions, arrived.ids

    def route_arrivals(
        self, leads: Sequence[Lead], *, batch_id: str, enrich_with: Executor
    ) -> Arrivals:
        """`route_now` for a server: a lead whose decision waits for an enrichment provider over
        the network is enriched on `enrich_with`, then stored and routed in a routing
        transaction of its own; the others are routed now. So a slow provider delays its own
        leads only. See `Arrivals`."""
        return self._route_arrived(leads, batch_id=batch_id, apart=True, enrich_with=enrich_with)

    def _route_arrived(
        self,
        leads: Sequence[Lead],
        *,
        batch_id: str,
        apart: bool,
        enrich_with: Executor | None = None,
        reuse: Mapping[str, CleanLead] | None = None,
        batches: Mapping[str, str] | None = None,
    ) -> Arrivals:
        """Store and route new leads in one transaction (`reuse`: leads prepared already;
        `batches`: a lead's batch id where it is not `batch_id`). With `apart`, a lead whose
        decision waits for a provider over the network is left out of it, and enriched,
        stored and routed on `enrich_with`."""
        self._account_intents = {}
        with self._lock:
            _ = self.router
            self._ready()
        now = self.clock()
        given = [
            lead
            if lead.received_at is not None
            else Lead(lead.id, lead.fields, lead.source, lead.channel, now)
            for lead in leads
        ]

        def claim(session: RoutingSession) -> list[Lead]:
            return given  # one stored before is found when they are stored, and not routed

        def decide(tx: _Tx) -> list[Decision]:
            session = tx.session
            # in id order: two transactions storing the same leads wait for each other in turn
            by_batch: dict[str, list[Lead]] = {}
            for lead, _ in sorted(tx.pairs, key=lambda pair: pair[0].id):
                by_batch.setdefault((batches or {}).get(lead.id, batch_id), []).append(lead)
            stored: set[str] = set()
            for batch, part in by_batch.items():
                stored |= self.store.insert_leads(session.conn, part, batch_id=batch)
            # A lead stored before (by another request) is not routed here; it stays indexed
            # for dedupe: that request routes it.
            return [
                self._route_one(session, lead, later=tx.later, prepared=clean)
                for lead, clean in tx.pairs
                if lead.id not in stored
            ]

        done = self._transaction(
            claim,
            decide,
            want_ids=True,
            reuse=reuse,
            apart=self._waits_on_network if apart else None,
        )
        arrived = Arrivals({d.lead_id: d for d in done.decisions}, dict(done.ids))
        later = done.later
        if enrich_with is not None:
            for clean, first in [(c, d) for c, d in later if self._calls_out(c)]:
                arrived.decisions.pop(clean.lead.id, None)  # answered once re-routed
                arrived.ids.pop(clean.lead.id, None)
                arrived.enriching[clean.lead.id] = enrich_with.submit(
                    self._reroute_apart, clean, first
                )
            later = [(c, d) for c, d in later if c.lead.id not in arrived.enriching]
            for lead, clean in done.apart:
                arrived.enriching[lead.id] = enrich_with.submit(
                    self._route_apart, lead, clean, batch_id
                )
        if later:
            for decision in self._reroute_enriched(later, done.decisions):
                if decision.lead_id in arrived.decisions:
                    arrived.decisions[decision.lead_id] = decision
            arrived.ids.update(self.store.current_decision_ids([c.lead.id for c, _ in later]))
        return arrived

    def _reroute_apart(
        self, clean: CleanLead, first: Decision
    ) -> tuple[Decision | None, int | None]:
        """A lead decided before it was enriched (route_now): enrich it and re-route it if the
        filled fields change its route. Its current decision and that decision's id."""
        (decision,) = self._reroute_enriched([(clean, first)], [first])
        return decision, self.store.current_decision_ids([clean.lead.id]).get(clean.lead.id)

    def _route_apart(
        self, lead: Lead, clean: CleanLead, batch_id: str
    ) -> tuple[Decision | None, int | None]:
        """Enrich a lead (no lock held), then store and route it: its decision and the
        decision's id; (None, None) if it was stored meanwhile (by another request, which
        routes it). Leads enriched while another routing transaction ran are stored and routed
        together, in one transaction (group commit)."""
        self._enrich(clean, self._enrichable(clean))
        mine: Future[tuple[Decision | None, int | None]] = Future()
        with self._enriched_lock:
            self._enriched.append((lead, clean, batch_id, mine))
        with self._lock:
            with self._enriched_lock:
                group, self._enriched = self._enriched, []
            if group:
                self._route_enriched_group(group)
        return mine.result()

    def _route_enriched_group(
        self,
        group: list[tuple[Lead, CleanLead, str, Future[tuple[Decision | None, int | None]]]],
    ) -> None:
        try:
            arrived = self._route_arrived(
                [lead for lead, _, _, _ in group],
                batch_id=group[0][2],
                batches={lead.id: batch_id for lead, _, batch_id, _ in group},
                apart=False,
                reuse={lead.id: clean for lead, clean, _, _ in group},
            )
        except BaseException as exc:
            for _, _, _, done in group:
                done.set_exception(exc)
            return
        for lead, _, _, done in group:
            done.set_result((arrived.decisions.get(lead.id), arrived.ids.get(lead.id)))

    def route_pending(
        self,
        *,
        batch_id: str | None = None,
        limit: int | None = None,
        output: TextIO | None = None,
        progress: Callable[[int], None] | None = None,
        summary: BatchSummary | None = None,
    ) -> BatchSummary:
        """Route leads waiting in the store (status new), chunk by chunk, until none are left."""
        self._account_intents = {}
        summary = summary if summary is not None else BatchSummary(batch_id=batch_id)
        with self._lock:
            _ = self.router
            self._ready()
        with batch_gc():
            self._route_chunks(batch_id, limit, output, progress, summary)
        return summary

    def _route_chunks(
        self,
        batch_id: str | None,
        limit: int | None,
        output: TextIO | None,
        progress: Callable[[int], None] | None,
        summary: BatchSummary,
    ) -> None:
        routed = 0
        while limit is None or routed < limit:
            size = self.chunk_size if limit is None else min(self.chunk_size, limit - routed)

            def claim(session: RoutingSession, size: int = size) -> list[Lead]:
                return session.claim(size, batch_id=batch_id)

            def decide(tx: _Tx) -> list[Decision]:
                return [
                    self._route_one(tx.session, lead, later=tx.later, prepared=clean)
                    for lead, clean in tx.pairs
                ]

            done = self._transaction(claim, decide)
            if not done.claimed:
                break
            decisions = done.decisions
            if done.later:
                decisions = self._reroute_enriched(done.later, decisions)
            routed += done.claimed
            for decision in decisions:
                summary.add(decision)
                if output is not None:
                    output.write(_json_line(decision.as_record()))
            if progress is not None:
                progress(len(decisions))

    def retry_held(
        self, *, output: TextIO | None = None, progress: Callable[[int], None] | None = None
    ) -> BatchSummary:
        """Route every held lead again, once; a lead whose result changes gets a new decision.

        A lead still held at the same node keeps its decision (no new record per retry).
        """
        self._account_intents = {}
        summary = BatchSummary()
        held = [s.lead.id for s in self.store.leads(status=Outcome.HELD.value)]
        if held:
            with self._lock:
                _ = self.router
                self._ready()

        def decide(tx: _Tx) -> list[Decision]:
            session = tx.session
            current = session.current_decisions([lead.id for lead, _ in tx.pairs])
            decisions = []
            for lead, clean in tx.pairs:
                previous = current.get(lead.id)
                node = previous[1] if previous else None

                def changed(d: Decision, node: str | None = node) -> bool:
                    return not (d.outcome is Outcome.HELD and d.node == node)

                decisions.append(
                    self._route_one(
                        session,
                        lead,
                        supersedes=previous[0] if previous else None,
                        keep=changed if previous else None,
                        prepared=clean,
                        cause="retry",
                    )
                )
            return decisions

        for start in range(0, len(held), self.chunk_size):
            part = held[start : start + self.chunk_size]

            def claim(session: RoutingSession, part: list[str] = part) -> list[Lead]:
                return session.claim(len(part), lead_ids=part, statuses=(Outcome.HELD.value,))

            done = self._transaction(claim, decide, later=False)
            for decision in done.decisions:
                summary.add(decision)
                if output is not None and decision.outcome is not Outcome.HELD:
                    output.write(_json_line(decision.as_record()))
            if progress is not None:
                progress(len(done.decisions))
        return summary

    def reassess(
        self,
        *,
        emails: Sequence[str] = (),
        lead_ids: Sequence[str] = (),
        account_ids: Sequence[str] = (),
    ) -> list[Decision]:
        """Re-route the parked leads of these people and accounts whose intent tier, path or
        account surge changed since their decision: held leads (if the config says so) and
        leads in the config's re-route queues (nurture, self-serve). The new decision links to
        the one it supersedes; a lead whose route comes out the same keeps its decision."""
        self._account_intents = {}
        router = self.router
        intent = router.config.intent
        if intent is None:
            return []
        with self._lock:
            self._ready()
        refs = self.activities.parked(
            emails=emails,
            lead_ids=lead_ids,
            account_ids=account_ids,
            held=intent.model.reroute.held,
            queues=intent.model.reroute.queues,
        )
        decisions: list[Decision] = []

        def decide(tx: _Tx) -> list[Decision]:
            ids = [lead.id for lead, _ in tx.pairs]
            current = {d.lead_id: d for d in self.store.current_decisions(ids)}
            moves: list[Decision] = []
            for lead, clean in tx.pairs:
                previous = current.get(lead.id)
                assert clean.context is not None
                crossed = _crossed(previous.record if previous else {}, clean.context)
                if crossed is None:
                    continue
                old = previous.record if previous else {}

                def moved(d: Decision, old: Mapping[str, Any] = old, why: str = crossed) -> bool:
                    """Record only a decision that goes somewhere else, saying why."""
                    before = (old.get("outcome"), old.get("route"), old.get("rep"))
                    after = (d.outcome.value, d.node, d.rep_id)
                    if before == after and old.get("queue") == d.queue:
                        return False
                    d.reason = f"re-routed because {why}: {d.reason}"
                    moves.append(d)
                    return True

                self._route_one(
                    tx.session,
                    lead,
                    supersedes=previous.id if previous else None,
                    keep=moved,
                    prepared=clean,
                    cause="activity",
                )
            return moves

        ids = [ref.id for ref in refs]
        for start in range(0, len(ids), self.chunk_size):
            part = ids[start : start + self.chunk_size]

            def claim(session: RoutingSession, part: list[str] = part) -> list[Lead]:
                statuses = (Outcome.HELD.value, Outcome.ROUTED.value)
                return session.claim(len(part), lead_ids=part, statuses=statuses)

            decisions += self._transaction(claim, decide, dedupe=False, later=False).decisions
        return decisions

    def _reroute_enriched(
        self, later: list[tuple[CleanLead, Decision]], decisions: list[Decision]
    ) -> list[Decision]:
        """Route-now leads: enrich after the first decision is stored; where the filled
        fields change the route, a new decision supersedes the first one. The providers are
        asked with no lock held; the new decisions are made in a routing transaction that
        locks the pools the enriched leads can reach."""
        enriched = [
            (clean, first)
            for clean, first in later
            if (gaps := self._enrichable(clean)) and self._enrich(clean, gaps)
        ]
        if not enriched:
            return decisions
        firsts = {clean.lead.id: first for clean, first in enriched}
        replaced: dict[str, Decision] = {}

        def decide(tx: _Tx) -> list[Decision]:
            session = tx.session
            current = session.current_decisions([lead.id for lead, _ in tx.pairs])
            for _, clean in tx.pairs:
                first = firsts[clean.lead.id]
                now = current.get(clean.lead.id)
                if now is None or now[1] != first.node:
                    continue  # decided again since (by someone else): that decision stands
                second = self._decide(session, clean, frozenset())
                if (second.node, second.rep_id, second.queue, second.outcome) == (
                    first.node,
                    first.rep_id,
                    first.queue,
                    first.outcome,
                ):
                    continue
                filled = ", ".join(sorted(clean.enrichment.fields)) if clean.enrichment else ""
                second.reason = f"re-routed after enrichment filled {filled}: {second.reason}"
                second.supersedes = now[0]
                second.data_quality = clean.quality
                self._record(
                    session,
                    second,
                    clean,
                    clean.lead,
                    previous_owner=first.rep_id,
                    cause="enrichment",
                )
                replaced[clean.lead.id] = second
            return list(replaced.values())

        self._transaction(
            lambda _session: [clean.lead for clean, _ in enriched],
            decide,
            reuse={clean.lead.id: clean for clean, _ in enriched},
            attempts=1,
        )
        return [replaced.get(d.lead_id, d) for d in decisions]

    # -- the three phases of a routing transaction ------------------------------------------

    def _transaction(
        self,
        claim: Callable[[RoutingSession], list[Lead]],
        decide: Callable[[_Tx], list[Decision]],
        *,
        dedupe: bool = True,
        later: bool = True,
        reuse: Mapping[str, CleanLead] | None = None,
        extra_pools: Callable[[list[Lead]], Iterable[str]] | None = None,
        want_ids: bool = False,
        apart: Callable[[CleanLead], bool] | None = None,
        attempts: int = MAX_ATTEMPTS,
    ) -> _Done:
        """One routing transaction in three phases.

        1. Prepare, with no pool locked: `claim` the leads (see `RoutingSession.claim`), clean
           and score them (`reuse`: leads prepared already), enrich the ones whose decision
           waits for it (network calls, each provider answer cached and each call counted in
           transactions of their own). `later`: a lead whose route enriches after deciding
           is enriched after the commit (`_Done.later`); else every lead with gaps is
           enriched now. `apart`: leads it says yes to are left for the caller to enrich and
           route on their own (`_Done.apart`, `route_arrivals`).
        2. Decide and record: lock the pools the leads can reach (`_lock_reachable`), check
           again what may have changed since phase 1, `decide` (the engine, the decision
           records, lifecycle events, timers, outbox rows), check for duplicates committed
           meanwhile (`_before_commit`), commit.
        3. After the commit: the dedupe index learns the routed leads' final fields.

        A check in phase 2 that finds phase 1's work stale (another config became active, a
        duplicate committed meanwhile) rolls the transaction back and starts again, at most
        `attempts` times; the last attempt commits what it decided.
        """
        for attempt in range(1, attempts + 1):
            final = attempt == attempts
            indexed: list[Lead] = []  # what cleaning indexed for dedupe, forgotten on failure
            held = False
            try:
                with (
                    self._undo_on_failure(indexed),
                    self.store.routing_transaction(self.router.org, self._seq) as session,
                ):
                    with self._lock:  # phase 1
                        leads = claim(session)
                        if not leads:
                            return _Done()
                        if dedupe:  # what preparing indexes now, and reused leads
                            pipeline = self.pipeline
                            index = pipeline.leads if pipeline.index_loaded else ()
                            indexed.extend(
                                lead
                                for lead in leads
                                if lead.id not in index or (reuse and lead.id in reuse)
                            )
                        pairs = self._prepared(leads, reuse if attempt == 1 else None, dedupe)
                        extra = extra_pools(leads) if extra_pools is not None else ()
                    tx = _Tx(session, pairs, [] if later else None)
                    if apart is not None:
                        tx.apart = [(lead, c) for lead, c in pairs if apart(c)]
                        aside = {lead.id for lead, _ in tx.apart}
                        tx.pairs = [(lead, c) for lead, c in pairs if lead.id not in aside]
                    if not tx.pairs:  # every lead is routed apart
                        return _Done(claimed=len(leads), apart=tx.apart)
                    self._enrich_ahead([c for _, c in tx.pairs], later=later)
                    self._lock.acquire()  # phase 2, until phase 3 is done
                    held = True
                    self._recorded = []
                    session.want_ids = want_ids
                    tx.pairs = self._lock_reachable(session, tx, extra, dedupe=dedupe, final=final)
                    decisions = decide(tx)
                    session.flush()
                    self._before_commit(session, [c for _, c in tx.pairs], final=final)
                recorded, self._recorded = self._recorded, []
                self._after_commit(recorded)  # phase 3
                ids = dict(session.decision_ids)
                return _Done(decisions, ids, tx.later or [], len(leads), tx.apart)
            except _Retry as retry:
                if retry.config_changed:
                    with self._lock:
                        self.use_active()
                        self._ready()
            finally:
                if held:
                    self._lock.release()
        raise AssertionError("unreachable")  # pragma: no cover

    def _prepared(
        self, leads: list[Lead], reuse: Mapping[str, CleanLead] | None, dedupe: bool
    ) -> list[tuple[Lead, CleanLead]]:
        """Each lead with its preparation: `reuse`d, else cleaned and scored now."""
        fresh = [lead for lead in leads if reuse is None or lead.id not in reuse]
        cleans = self._prepare(fresh, dedupe=dedupe)
        prepared = {lead.id: clean for lead, clean in zip(fresh, cleans, strict=True)}
        if reuse:
            prepared.update((lead.id, reuse[lead.id]) for lead in leads if lead.id in reuse)
        return [(lead, prepared[lead.id]) for lead in leads]

    def _calls_out(self, clean: CleanLead) -> bool:
        """Whether enriching this lead may wait on a provider over the network."""
        enricher = self.pipeline.enricher
        gaps = self._enrichable(clean)
        return bool(gaps) and enricher is not None and enricher.calls_out(gaps)

    def _waits_on_network(self, clean: CleanLead) -> bool:
        """A lead to route apart: its decision waits for a provider over the network."""
        return self._calls_out(clean) and bool(self._to_enrich([clean], later=True))

    def _enrich_ahead(self, cleans: list[CleanLead], *, later: bool) -> None:
        """Phase 1's network part: enrich every lead whose decision waits for it, one after
        the other (a lead of a company another lead just looked up finds its answer in the
        cache), with no lock held."""
        for clean in self._to_enrich(cleans, later=later):
            self._enrich(clean, self._enrichable(clean))

    def _to_enrich(self, cleans: list[CleanLead], *, later: bool) -> list[CleanLead]:
        """The leads to enrich before they are decided: they have empty enrichable fields, are
        not duplicates their owner will take, were not enriched yet, and (with `later`) the
        route they are expected to take waits for enrichment (a route that does not is
        enriched after the commit). The expected route is read against the routing state as
        stored, without locks, when routes differ in their enrichment policy."""
        config = self.router.config
        if config.enrichment is None or self.pipeline.enricher is None:
            return []
        todo = [
            c
            for c in cleans
            if c.enrichment is None
            and self._enrichable(c)
            and not (c.duplicate is not None and self._owner_takes(c))
        ]
        if not later or not todo:
            return todo
        default = str(config.enrichment.policy)
        if all(node.enrichment in (None, default) for node in config.nodes):
            return todo if default == "wait" else []
        pools = frozenset[str]().union(*(self._reach(c).pools for c in todo))
        with stored_state(self.store, self.router.org, pools) as state:
            return [c for c in todo if self._policy(self._decide(state, c, frozenset())) == "wait"]

    def _owner_takes(self, clean: CleanLead) -> bool:
        """Whether the owner of the lead this one duplicates is expected to take it (as the
        store says now; decided again under the locks)."""
        assert clean.duplicate is not None
        stored = self.store.lead(clean.duplicate.lead_id)
        if stored is None or stored.status not in ("routed", *CLOSED_STATUSES):
            return False
        rep = self.router.org.reps.get(stored.owner_id or "")
        return rep is not None and rep.status is RepStatus.ACTIVE

    def _reach(self, clean: CleanLead) -> Reach:
        """The pools a decision on this lead may touch, as its conditions see it now; all the
        config's pools when that is not known."""
        if clean.reach is None:
            router = self.router
            clean.reach = (
                router.reach(clean.context, clean.account)
                if clean.context is not None
                else Reach(router.every_pool)
            )
        return clean.reach

    def _lock_reachable(
        self,
        session: RoutingSession,
        tx: _Tx,
        extra: Iterable[str],
        *,
        dedupe: bool,
        final: bool,
    ) -> list[tuple[Lead, CleanLead]]:
        """Phase 2 begins: lock the pools this transaction's leads can reach (plus `extra`),
        in pool id order; then check what may have changed since phase 1. Returns the leads
        still to route.

        Checked again: that the config the leads were prepared with is still the active one
        (`_Retry` if not, unless this is the `final` attempt); that leads read before the
        lock were not taken by someone else (SQLite; PostgreSQL holds their rows since the
        claim); that no lead is a duplicate of one another process decided meanwhile (the
        dedupe index catches up with every decision committed before the locks were
        taken)."""
        pools = set(extra)
        for _, clean in tx.pairs:
            pools |= self._reach(clean).pools
        session.lock(pools)
        if not final:
            self._check_config(session)
        pairs = tx.pairs
        if session.lost:
            self.pipeline.forget(session.lost)
            pairs = [(lead, c) for lead, c in pairs if lead.id not in session.lost]
        if dedupe:
            self._recheck_duplicates([c for _, c in pairs], self._catch_up(session))
        else:
            self._catch_up(session)
        if self.on_locked is not None:
            self.on_locked(session.locked or ())
        return pairs

    def _check_config(self, session: RoutingSession) -> None:
        """A service that follows the active config routes only with the one active now."""
        if self._following and session.active_config_seq() != self._seq:
            raise _Retry("another config became active", config_changed=True)

    def _before_commit(
        self, session: RoutingSession, cleans: list[CleanLead], *, final: bool
    ) -> None:
        """The last check before the commit, where other processes' routing transactions run
        at the same time as this one (PostgreSQL): take the commit lock, catch the dedupe
        index up with what they committed since this one took its locks, and start again if
        one of them routed a duplicate of a lead this one routes as new. Holding the commit
        lock until the commit makes these checks see each other: of two transactions that
        route duplicates at once, the second to commit finds the first's lead."""
        if not session.concurrent or not any(c.deduped and c.duplicate is None for c in cleans):
            return
        session.serialize_commits()
        found = self._recheck_duplicates(cleans, self._catch_up(session))
        if found and not final:
            raise _Retry("a duplicate of a lead was routed by another process meanwhile")

    def _after_commit(self, recorded: list[CleanLead]) -> None:
        """Phase 3: the routed leads are findable as duplicates with the fields they were
        routed with (cleaned, enriched)."""
        with self._lock:
            for clean in recorded:
                self.pipeline.remember(clean.lead)

    def _recheck_duplicates(
        self, cleans: list[CleanLead], learnt: list[tuple[str, dict[str, Any]]]
    ) -> list[CleanLead]:
        """Leads of this transaction, found no duplicate of when they were cleaned, that
        duplicate a lead another process decided since (`learnt`): each gets its duplicate
        (and leaves the dedupe index, as a duplicate is never indexed). Returns them."""
        if not learnt:
            return []
        others = LeadIndex()
        for lead_id, fields in learnt:
            others.add(lead_id, fields)
        found = []
        for clean in cleans:
            if not clean.deduped or clean.duplicate is not None:
                continue
            duplicate = others.find(clean.lead.fields, exclude=clean.lead.id)
            if duplicate is not None:
                clean.duplicate = duplicate
                clean.quality["duplicate"] = duplicate.as_record()
                found.append(clean)
        self.pipeline.forget(c.lead.id for c in found)
        return found

    def _ready(self) -> None:
        """Build the pipeline and load its dedupe index before a routing session locks the
        pools: the first build reads every stored lead's dedupe fields and every account's
        activity, and every other process's routing would wait for it."""
        pipeline = self.pipeline
        if pipeline.deduping and not pipeline.index_loaded:
            pipeline.seen_decision = self.store.last_decision_id()  # before: catch-up overlaps
            _ = pipeline.leads
        if pipeline.normalizing:
            _ = pipeline.normalizer

    def _catch_up(self, session: RoutingSession) -> list[tuple[str, dict[str, Any]]]:
        """Index the leads other processes decided since this one last looked, so a duplicate
        of a lead another server routed is found here too; returns them.

        Read inside the routing transaction, after its locks: what other processes committed
        before is visible. Decision ids are taken when a transaction writes and become visible
        when it commits, so a smaller id may appear after a larger one: the last
        CATCH_UP_OVERLAP decisions are read again each time, and every id below the newest
        one read that was missing (a transaction still running, or rolled back) is looked
        for again at each catch-up, for UNSEEN_SECONDS."""
        pipeline = self.pipeline
        if not (pipeline.deduping and pipeline.index_loaded):
            return []
        now = time.monotonic()
        after = max(0, pipeline.seen_decision - CATCH_UP_OVERLAP)
        unseen = pipeline.unseen
        for ident in [i for i, since in unseen.items() if now - since > UNSEEN_SECONDS]:
            del unseen[ident]
        known, read = session.decided_since(
            after, sorted(i for i in unseen if i <= after), DEDUPE_FIELDS, known=pipeline.leads
        )
        newest = max(read, default=pipeline.seen_decision)
        for ident in read:
            unseen.pop(ident, None)
        for ident in range(after + 1, newest):
            if ident not in read:
                unseen.setdefault(ident, now)
        learnt = [(lead_id, fields) for lead_id, fields in known if lead_id not in pipeline.leads]
        pipeline.learn(learnt)
        pipeline.seen_decision = max(pipeline.seen_decision, newest)
        return learnt

    @contextmanager
    def _undo_on_failure(self, leads: Sequence[Lead]) -> Iterator[None]:
        """If the routing transaction fails, forget the leads its cleaning indexed for dedupe
        (`leads`, filled inside the block): they were never stored as decided."""
        try:
            yield
        except BaseException:
            with self._lock:
                self.pipeline.forget(lead.id for lead in leads)
            raise

    @property
    def pipeline(self) -> LeadPipeline:
        """Normalise, dedupe, match and enrich: built once per config and org."""
        if self._pipeline is None:
            router = self.router
            enricher = None
            if router.config.enrichment is not None:
                enricher = build_enricher(
                    router.config.enrichment,
                    store=EnrichmentStore(self.store),
                    clock=self.clock,
                    base_dir=self.base_dir,
                )
            contacts, last_activity = self.store.account_activity()
            self._pipeline = LeadPipeline(
                router.org,
                normalizer=Normalizer(
                    check_deliverability=router.config.cleaning.check_deliverability
                )
                if router.config.cleaning.check_deliverability
                else None,
                contacts=contacts,
                last_activity=last_activity,
                enricher=enricher,
                known_leads=lambda: self.store.known_lead_fields(DEDUPE_FIELDS),
                normalize=router.config.cleaning.normalize,
                dedupe=router.config.cleaning.dedupe,
                match_names=router.config.cleaning.match_names,
            )
        return self._pipeline

    def _prepare(self, leads: list[Lead], *, dedupe: bool = True) -> list[CleanLead]:
        """Clean a chunk of leads, then score it: engagement is read for the whole chunk in a
        few queries and the predictive model scores it in one call.

        A lead is findable as a duplicate of the later leads of its chunk as soon as it is
        cleaned (unless it is itself a duplicate, which its decision settles).
        """
        started = time.perf_counter_ns()
        pipeline = self.pipeline
        cleans = []
        for lead in leads:
            clean = pipeline.clean(lead, dedupe=dedupe)
            if dedupe and clean.duplicate is None:
                pipeline.remember(clean.lead)
            cleans.append(clean)
        self._score(cleans)
        share = (time.perf_counter_ns() - started) // max(len(cleans), 1)
        for clean in cleans:
            clean.prepare_ns = share
        return cleans

    def _score(self, cleans: list[CleanLead]) -> None:
        """Signals and the conditions' view of each lead, with the predictive score batched."""
        router = self.router
        for clean, signals in zip(cleans, self._signals(cleans), strict=True):
            clean.signals = signals
            clean.context = router.context(clean.lead, clean.account, signals, predict=False)
            clean.reach = None  # for the context as it was
        router.predict([c.context for c in cleans if c.context is not None])

    def _signals(self, cleans: list[CleanLead]) -> list[Signals | None]:
        """Each lead's engagement and its account's, read for the chunk at once."""
        intent = self.router.config.intent
        if intent is None or not cleans:
            return [None] * len(cleans)
        now = self.clock()
        since = intent.since(now)
        emails = [_email_key(c.lead) for c in cleans]
        people = self.activities.for_people(
            [e for e in emails if e], [c.lead.id for c in cleans], since=since
        )
        # An account's intent is read once per run (route_pending, retry, reassess): its
        # leads in later chunks reuse it.
        accounts = self._account_intents
        matched = {
            c.account.id: c.account.domain
            for c in cleans
            if c.account is not None and c.account.id not in accounts
        }
        if matched:
            by_account = self.activities.for_accounts(
                sorted(matched), since=since, domains={a: d for a, d in matched.items() if d}
            )
            for account_id in matched:
                accounts[account_id] = intent.account(by_account.get(account_id, ()), now)
        signals: list[Signals | None] = []
        nobody: dict[int, Activity] = {}
        for clean, email in zip(cleans, emails, strict=True):
            acts = people.get(f"lead:{clean.lead.id}", nobody)
            if email and f"email:{email}" in people:
                acts = acts | people[f"email:{email}"]
            account = accounts.get(clean.account.id) if clean.account is not None else None
            surging = account.surging if account is not None else False
            score = intent.score(acts.values(), now, surging=surging)
            signals.append(Signals(intent=score, account=account))
        return signals

    @property
    def activities(self) -> ActivityStore:
        if self._activities is None:
            self._activities = ActivityStore(self.store)
        return self._activities

    def _route_one(
        self,
        session: RoutingSession,
        lead: Lead,
        *,
        exclude: frozenset[str] = frozenset(),
        supersedes: int | None = None,
        previous_owner: str | None = None,
        keep: Callable[[Decision], bool] | None = None,
        later: list[tuple[CleanLead, Decision]] | None = None,
        prepared: CleanLead | None = None,
        cause: str | None = None,
    ) -> Decision:
        """Decide, then record (unless `keep` says the decision changes nothing), inside a
        routing transaction whose locks are held.

        `prepared` is the lead cleaned, scored and (where its route waits for it) enriched in
        phase 1 (see `_transaction`). A lead with fields still to enrich that phase 1 did not
        enrich goes on `later`, to be enriched and re-routed after the commit if that changes
        where it goes: providers are never called while the pools are locked.
        """
        started = time.perf_counter_ns()
        rerouting = supersedes is not None or bool(exclude)
        clean = prepared or self._prepare([lead], dedupe=not rerouting)[0]
        decision = None
        if clean.duplicate is not None:
            decision = self._to_duplicate_owner(session, clean)
        if decision is None:
            decision = self._decide(session, clean, exclude)
            if later is not None and clean.enrichment is None and self._enrichable(clean):
                later.append((clean, decision))
        decision.data_quality = clean.quality
        spent = time.perf_counter_ns() - started + (clean.prepare_ns if prepared else 0)
        decision.timings["route_us"] = round(spent / 1000, 1)
        if lead.received_at is not None:
            lag = (decision.decided_at - lead.received_at).total_seconds()
            decision.timings["since_received_s"] = round(lag, 3)
        decision.supersedes = supersedes
        if keep is None or keep(decision):
            self._record(session, decision, clean, lead, previous_owner=previous_owner, cause=cause)
        return decision

    def _enrich(self, clean: CleanLead, gaps: list[str]) -> bool:
        """Fill gaps through the waterfall; a lead that changed is scored again."""
        if not self.pipeline.enrich(clean, fields=gaps):
            return False
        self._score([clean])
        return True

    def _decide(self, state: RoutingState, clean: CleanLead, exclude: frozenset[str]) -> Decision:
        router = self.router
        data = clean.context
        if data is None:
            data = router.context(clean.lead, clean.account, clean.signals)
        return router.route(
            clean.lead,
            now=self.clock(),
            state=state,
            account=clean.account,
            exclude=exclude,
            data=data,
            tested=clean.reach.tested if clean.reach is not None else (),
        )

    def _record(
        self,
        session: RoutingSession,
        decision: Decision,
        clean: CleanLead,
        original: Lead,
        *,
        previous_owner: str | None = None,
        cause: str | None = None,
    ) -> None:
        if clean.account_key is None:
            context = clean.context or self.router.context(clean.lead, clean.account)
            clean.account_key = sticky_key(context)
        changed = clean.lead.fields != original.fields
        session.record(
            decision,
            account_key=clean.account_key,
            previous_owner=previous_owner,
            cleaned=clean.lead if changed else None,
            raw=original.fields if changed else None,
            account_id=clean.account.id if clean.account else None,
        )
        self.lifecycle.on_decision(
            session, decision, previous_owner=previous_owner, cause=cause, lead=clean.lead
        )
        if decision.duplicate_of is None and decision.outcome is not Outcome.REJECTED:
            self._recorded.append(clean)  # indexed for dedupe once committed (phase 3)

    def _enrichable(self, clean: CleanLead) -> list[str]:
        config = self.router.config.enrichment
        if config is None or self.pipeline.enricher is None:
            return []
        data = clean.lead.fields
        return [f for f in config.fields if data.get(f) in (None, "", [])]

    def _policy(self, decision: Decision) -> str:
        config = self.router.config
        node = config.node(decision.node) if decision.node else None
        if node is not None and node.enrichment is not None:
            return node.enrichment
        return str(getattr(config.enrichment, "policy", "wait"))

    def _to_duplicate_owner(self, session: RoutingSession, clean: CleanLead) -> Decision | None:
        """A duplicate of a lead someone already owns goes to that owner, and the two merge."""
        duplicate = clean.duplicate
        assert duplicate is not None
        known = session.owner_of(duplicate.lead_id)
        if known is None:
            return None
        status, owner = known
        rep = self.router.org.reps.get(owner or "")
        if owner is None or rep is None or rep.status is not RepStatus.ACTIVE:
            return None
        if status not in ("routed", *CLOSED_STATUSES):
            return None
        survivor = session.lead_row(duplicate.lead_id)
        if survivor is not None:
            merged = merge(
                survivor.lead.fields,
                clean.lead.fields,
                survivor_meta=LeadMeta(
                    survivor.lead.id,
                    status,
                    survivor.lead.received_at,
                    survivor.sources or _sources(survivor.lead),
                ),
                other_meta=LeadMeta(
                    clean.lead.id, "new", clean.lead.received_at, _sources(clean.lead)
                ),
            )
            # The owned lead outranks a new one, so it is the survivor; the check keeps it so.
            if merged.survivor_id == duplicate.lead_id:
                session.merge_into(duplicate.lead_id, merged.fields, merged.sources)
            clean.quality["merged_into"] = duplicate.lead_id
        config = self.router.config
        return Decision(
            lead_id=clean.lead.id,
            outcome=Outcome.ROUTED,
            reason=(
                f"duplicate of lead {duplicate.lead_id} ({duplicate.reason}); it goes to "
                f"{owner}, who owns that lead: nobody works the same person twice"
            ),
            decided_at=self.clock(),
            config_name=config.name,
            config_hash=config.content_hash,
            rep_id=owner,
            how="duplicate of an owned lead",
            booking_link=rep.booking_link,
            account=clean.account.as_fields() if clean.account else None,
            duplicate_of=duplicate.lead_id,
        )

    # -- reps ------------------------------------------------------------------------------

    def load_org(self, org: Org, *, replace: bool = False) -> dict[str, list[Decision]]:
        """Save an org; reps it newly marks inactive hand their open leads on through the flow.

        The file is the source of truth for rep status, so loading it can also resume a paused
        rep or pause an active one.
        """
        before = self.store.load_org().reps
        self.store.save_org(org, replace=replace)
        self._router, self._pipeline = None, None  # route with the new org from now on
        leaving = [
            rep.id
            for rep in org.reps.values()
            if rep.status is RepStatus.INACTIVE
            and rep.id in before
            and before[rep.id].status is not RepStatus.INACTIVE
        ]
        handed: dict[str, list[Decision]] = {}
        if leaving and self.store.config() is not None:
            for rep_id in leaving:
                handed[rep_id] = self.reroute_open_leads(rep_id)
        return handed

    def deactivate_rep(self, rep_id: str) -> list[Decision]:
        """Mark a rep inactive and send each of its open leads through the flow again."""
        if not self.store.set_rep_status(rep_id, RepStatus.INACTIVE):
            raise LookupError(f"unknown rep '{rep_id}'")
        return self.reroute_open_leads(rep_id)

    def reroute_open_leads(self, rep_id: str) -> list[Decision]:
        if self._router is not None:
            following = self._following
            self.use(self._router.config, self._seq or 0)  # reload the org with the new status
            self._following = following
        open_leads = self.store.leads(status=Outcome.ROUTED.value, owner_id=rep_id)
        return self.reassign([s.lead.id for s in open_leads], cause="deactivation")

    def reassign(
        self,
        lead_ids: Sequence[str],
        *,
        cause: str,
        expect_owner: Mapping[str, str] | None = None,
    ) -> list[Decision]:
        """Take routed leads from their reps and send them through the flow again; nobody who
        owned a lead before gets it back. Each new decision supersedes the current one.
        `expect_owner`: a lead whose owner is no longer the one given is left alone (someone
        else moved it first)."""
        self._account_intents = {}
        with self._lock:
            _ = self.router
            self._ready()
        claimed_with: dict[str, int | None] = {}  # each lead's current decision when claimed
        owners: list[str] = []

        def claim(session: RoutingSession) -> list[Lead]:
            leads = session.claim(len(lead_ids), lead_ids=lead_ids, statuses=("routed",))
            current = self.store.current_decisions([lead.id for lead in leads])
            claimed_with.clear()
            claimed_with.update({lead.id: None for lead in leads})
            claimed_with.update({d.lead_id: d.id for d in current})
            owners[:] = [d.rep_id for d in current if d.rep_id]
            return leads

        def decide(tx: _Tx) -> list[Decision]:
            decisions = []
            for lead, clean in tx.pairs:
                history = self.store.decisions(lead.id)
                previous = frozenset(d.rep_id for d in history if d.rep_id)
                current = next((d for d in reversed(history) if d.current), None)
                if (current.id if current else None) != claimed_with.get(lead.id):
                    continue  # decided again since it was claimed: that decision stands
                if expect_owner is not None and (
                    current is None or current.rep_id != expect_owner.get(lead.id)
                ):
                    continue
                decisions.append(
                    self._route_one(
                        tx.session,
                        lead,
                        exclude=previous,
                        supersedes=current.id if current else None,
                        previous_owner=current.rep_id if current else None,
                        prepared=clean,
                        cause=cause,
                    )
                )
            return decisions

        # The previous owners' pools too: their open-lead counts go down.
        return self._transaction(
            claim,
            decide,
            dedupe=False,
            later=False,
            extra_pools=lambda _leads: self.router.pools_of(owners),
        ).decisions

    def recycle(
        self, lead_id: str, queue: str, reason: str, *, expect_owner: str | None = None
    ) -> Decision | None:
        """Take a routed lead from its rep and put it in a queue (an SLA missed too often);
        not if its owner is no longer `expect_owner`."""
        router = self.router
        with (
            self._lock,
            self.store.routing_transaction(router.org, self._seq) as session,
        ):
            leads = session.claim(1, lead_ids=[lead_id], statuses=("routed",))
            if not leads:
                return None
            claimed = next((d for d in self.store.decisions(lead_id) if d.current), None)
            previous = claimed.rep_id if claimed else None
            session.lock(router.pools_of([previous] if previous else []))  # its open count
            current = next((d for d in self.store.decisions(lead_id) if d.current), None)
            if (
                session.lost
                or (current.id if current else None) != (claimed.id if claimed else None)
                or (
                    expect_owner is not None and (current is None or current.rep_id != expect_owner)
                )
            ):
                return None  # decided again since it was claimed: that decision stands
            config = router.config
            decision = Decision(
                lead_id=lead_id,
                outcome=Outcome.ROUTED,
                reason=reason,
                decided_at=self.clock(),
                config_name=config.name,
                config_hash=config.content_hash,
                queue=queue,
                how="queue",
                supersedes=current.id if current else None,
            )
            queue_model = config.queues.get(queue)
            if queue_model is not None:
                decision.redirect_url = queue_model.redirect_url
                decision.message = queue_model.message
            session.record(decision, previous_owner=previous)
            self.lifecycle.on_decision(session, decision, previous_owner=previous, cause="sla")
        return decision

    @property
    def lifecycle(self) -> Lifecycle:
        router = self.router
        if self._lifecycle is None or self._lifecycle.config is not router.config:
            self._lifecycle = Lifecycle(self.store, router.config, router.org, self.clock)
        return self._lifecycle


@contextmanager
def batch_gc() -> Iterator[None]:
    """Batch routing allocates many short-lived objects next to a large, long-lived org and
    config. Freezing what exists and collecting less often keeps the cyclic collector from
    rescanning them all the time (a fifth of batch time otherwise). Young objects are collected
    every 200k allocations (about a chunk of decisions) instead of 700. Restored afterwards."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(thresholds[0], 200_000), thresholds[1], thresholds[2])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def predictor_for(store: Store, config: RoutingConfig) -> LinearModel | None:
    """The trained model a config's `scoring.predictive` names; LookupError if it is not
    stored (train it with `leadroute score train`)."""
    wanted = config.predictive
    if wanted is None:
        return None
    stored = ModelStore(store).get(wanted.model, wanted.version)
    if stored is None:
        which = f"version {wanted.version} of " if wanted.version else "an active version of "
        raise LookupError(
            f"the config scores with {which}model '{wanted.model}', which is not in the store: "
            "train one with `leadroute score train`"
        )
    return stored.model


def _crossed(record: Mapping[str, Any], data: Mapping[str, Any]) -> str | None:
    """What moved a lead across a threshold since its decision record, in words, or None."""
    scores = record.get("scores") or {}
    old_intent = scores.get("intent") or {}
    old_tier = old_intent.get("tier", "low")
    new_tier = data.get("intent_tier", "low")
    old_score = old_intent.get("score", 0)
    new_score = data.get("intent_score", 0)
    old_surge = bool((scores.get("account_intent") or {}).get("surging"))
    new_surge = bool((data.get("account") or {}).get("surging"))
    old_path = (scores.get("path") or {}).get("path")
    new_path = data.get("path")
    if new_surge and not old_surge:
        return "the account started surging"
    if new_tier != old_tier:
        return f"intent moved from {old_tier} ({old_score}) to {new_tier} ({new_score})"
    if new_path != old_path and old_path is not None:
        return f"its path moved from {old_path} to {new_path}"
    return None


def _lead_id(lead: Lead) -> str:
    return lead.id


def _email_key(lead: Lead) -> str | None:
    email = lead.fields.get("email")
    return email.strip().lower() if isinstance(email, str) and email.strip() else None


def _sources(lead: Lead) -> tuple[str, ...]:
    parts = [p for p in (lead.channel, lead.source) if p]
    return (":".join(parts),) if parts else ()


def _json_line(record: dict[str, Any]) -> str:
    import json

    return json.dumps(record, default=str, separators=(",", ":")) + "\n"
