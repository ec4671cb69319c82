"""Routing use cases: route a batch, route whatever is pending, re-route a rep's open leads."""

from __future__ import annotations

import gc
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from leadroute.adapters.leadfile import ParsedRow
from leadroute.adapters.store.activity_store import ActivityStore
from leadroute.adapters.store.enrichment_store import EnrichmentStore
from leadroute.adapters.store.model_store import ModelStore
from leadroute.adapters.store.routing_session import RoutingSession
from leadroute.adapters.store.sql import Store
from leadroute.domain.backtest import NO_ROUTE
from leadroute.domain.brief import Brief, build_brief
from leadroute.domain.config import RoutingConfig
from leadroute.domain.decision import Decision, Outcome
from leadroute.domain.dedupe import LeadMeta, merge
from leadroute.domain.engine import Router, sticky_key
from leadroute.domain.intent import AccountIntent, Activity
from leadroute.domain.lead import Lead
from leadroute.domain.normalize import Normalizer
from leadroute.domain.org import Org, RepStatus
from leadroute.domain.predictive import LinearModel
from leadroute.domain.scoring import Signals
from leadroute.services.enrichment import build_enricher
from leadroute.services.lifecycle import Lifecycle, act
from leadroute.services.pipeline import DEDUPE_FIELDS, CleanLead, LeadPipeline

Clock = Callable[[], datetime]
# Decisions read again at each dedupe catch-up (see RoutingService._catch_up).
CATCH_UP_OVERLAP = 32
CLOSED_STATUSES = ("contacted", "converted", "disqualified")


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


class RoutingService:
    """Routes leads with the active config against the stored org, recording every decision."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock = utc_now,
        chunk_size: int = 500,
        base_dir: Path = Path("."),
    ) -> None:
        self.store = store
        self.clock = clock
        self.chunk_size = chunk_size
        self._router: Router | None = None
        self._seq: int | None = None
        self._pipeline: LeadPipeline | None = None
        self._activities: ActivityStore | None = None
        self._account_intents: dict[str, AccountIntent] = {}
        self._lifecycle: Lifecycle | None = None
        self.base_dir = base_dir

    def use(self, config: RoutingConfig, seq: int, org: Org | None = None) -> None:
        self._router = Router(
            config, org or self.store.load_org(), predictor=predictor_for(self.store, config)
        )
        self._seq = seq
        self._pipeline = None

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
        decisions: dict[str, Decision] = {}
        self._account_intents = {}
        router = self.router
        self._ready()
        later: list[tuple[CleanLead, Decision]] = []
        indexed: list[Lead] = []  # what cleaning indexed for dedupe, forgotten on failure
        pools = list(router.config.pools)
        with (
            self._undo_on_failure(indexed),
            self.store.routing_session(router.org, pools, self._seq) as s,
        ):
            s.want_ids = True
            self._catch_up(s)
            existing = self.store.insert_leads(s.conn, leads, batch_id=batch_id)
            fresh = [lead.id for lead in leads if lead.id not in existing]
            claimed = s.claim(len(fresh), lead_ids=fresh) if fresh else []
            indexed.extend(claimed)
            for lead, clean in zip(claimed, self._prepare(claimed), strict=True):
                decisions[lead.id] = self._route_one(s, lead, later=later, prepared=clean)
            s.flush()
            ids = dict(s.decision_ids)
        if later:
            for decision in self._reroute_enriched(later, list(decisions.values())):
                decisions[decision.lead_id] = decision
            ids.update(self.store.current_decision_ids([c.lead.id for c, _ in later]))
        return decisions, ids

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
        router = self.router
        pools = list(router.config.pools)
        self._ready()
        with batch_gc():
            self._route_chunks(router, pools, batch_id, limit, output, progress, summary)
        return summary

    def _route_chunks(
        self,
        router: Router,
        pools: list[str],
        batch_id: str | None,
        limit: int | None,
        output: TextIO | None,
        progress: Callable[[int], None] | None,
        summary: BatchSummary,
    ) -> None:
        routed = 0
        while limit is None or routed < limit:
            size = self.chunk_size if limit is None else min(self.chunk_size, limit - routed)
            later: list[tuple[CleanLead, Decision]] = []
            indexed: list[Lead] = []  # what cleaning indexed for dedupe, forgotten on failure
            with (
                self._undo_on_failure(indexed),
                self.store.routing_session(router.org, pools, self._seq) as session,
            ):
                self._catch_up(session)
                leads = session.claim(size, batch_id=batch_id)
                indexed.extend(leads)
                prepared = self._prepare(leads)
                decisions = [
                    self._route_one(session, lead, later=later, prepared=clean)
                    for lead, clean in zip(leads, prepared, strict=True)
                ]
            if not leads:
                break
            if later:
                decisions = self._reroute_enriched(later, decisions)
            routed += len(leads)
            for decision in decisions:
                summary.add(decision)
                if output is not None:
                    output.write(_json_line(decision.as_record()))
            if progress is not None:
                progress(len(leads))

    def retry_held(
        self, *, output: TextIO | None = None, progress: Callable[[int], None] | None = None
    ) -> BatchSummary:
        """Route every held lead again, once; a lead whose result changes gets a new decision.

        A lead still held at the same node keeps its decision (no new record per retry).
        """
        self._account_intents = {}
        summary = BatchSummary()
        router = self.router
        held = [s.lead.id for s in self.store.leads(status=Outcome.HELD.value)]
        if held:
            self._ready()
        for start in range(0, len(held), self.chunk_size):
            part = held[start : start + self.chunk_size]
            with self.store.routing_session(
                router.org, list(router.config.pools), self._seq
            ) as session:
                leads = session.claim(len(part), lead_ids=part, statuses=(Outcome.HELD.value,))
                current = session.current_decisions([lead.id for lead in leads])
                prepared = self._prepare(leads)
                decisions = []
                for lead, clean in zip(leads, prepared, strict=True):
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
            for decision in decisions:
                summary.add(decision)
                if output is not None and decision.outcome is not Outcome.HELD:
                    output.write(_json_line(decision.as_record()))
            if progress is not None:
                progress(len(decisions))
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
        self._ready()
        refs = self.activities.parked(
            emails=emails,
            lead_ids=lead_ids,
            account_ids=account_ids,
            held=intent.model.reroute.held,
            queues=intent.model.reroute.queues,
        )
        decisions: list[Decision] = []
        ids = [ref.id for ref in refs]
        for start in range(0, len(ids), self.chunk_size):
            part = ids[start : start + self.chunk_size]
            with self.store.routing_session(
                router.org, list(router.config.pools), self._seq
            ) as session:
                leads = session.claim(
                    len(part), lead_ids=part, statuses=(Outcome.HELD.value, Outcome.ROUTED.value)
                )
                current = {d.lead_id: d for d in self.store.current_decisions(part)}
                for lead, clean in zip(leads, self._prepare(leads, dedupe=False), strict=True):
                    previous = current.get(lead.id)
                    assert clean.context is not None
                    crossed = _crossed(previous.record if previous else {}, clean.context)
                    if crossed is None:
                        continue
                    old = previous.record if previous else {}

                    def moved(
                        d: Decision, old: Mapping[str, Any] = old, why: str = crossed
                    ) -> bool:
                        """Record only a decision that goes somewhere else, saying why."""
                        before = (old.get("outcome"), old.get("route"), old.get("rep"))
                        after = (d.outcome.value, d.node, d.rep_id)
                        if before == after and old.get("queue") == d.queue:
                            return False
                        d.reason = f"re-routed because {why}: {d.reason}"
                        decisions.append(d)
                        return True

                    self._route_one(
                        session,
                        lead,
                        supersedes=previous.id if previous else None,
                        keep=moved,
                        prepared=clean,
                        cause="activity",
                    )
        return decisions

    def _reroute_enriched(
        self, later: list[tuple[CleanLead, Decision]], decisions: list[Decision]
    ) -> list[Decision]:
        """Route-now leads: enrich after the first decision is stored; where the filled
        fields change the route, a new decision supersedes the first one."""
        router = self.router
        replaced: dict[str, Decision] = {}
        with self.store.routing_session(router.org, list(router.config.pools), self._seq) as s:
            current = s.current_decisions([clean.lead.id for clean, _ in later])
            for clean, first in later:
                gaps = self._enrichable(clean)
                if not gaps or not self._enrich(clean, gaps):
                    continue
                second = self._decide(s, clean, frozenset())
                if (second.node, second.rep_id, second.queue, second.outcome) == (
                    first.node,
                    first.rep_id,
                    first.queue,
                    first.outcome,
                ):
                    continue
                filled = ", ".join(sorted(clean.enrichment.fields)) if clean.enrichment else ""
                second.reason = f"re-routed after enrichment filled {filled}: {second.reason}"
                second.supersedes = current.get(clean.lead.id, (None, None))[0]
                second.data_quality = clean.quality
                self._record(
                    s, second, clean, clean.lead, previous_owner=first.rep_id, cause="enrichment"
                )
                replaced[clean.lead.id] = second
        return [replaced.get(d.lead_id, d) for d in decisions]

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

    def _catch_up(self, session: RoutingSession) -> None:
        """Index the leads other processes decided since this one last looked, so a duplicate
        of a lead another server routed is found here too. Read inside the routing session:
        routing transactions take the pools' locks in turn, so whatever another process
        committed before this one got them is visible. The last CATCH_UP_OVERLAP decisions
        are read again each time, for a transaction that committed after a later one."""
        pipeline = self.pipeline
        if not (pipeline.deduping and pipeline.index_loaded):
            return
        after = max(0, pipeline.seen_decision - CATCH_UP_OVERLAP)
        known, newest = self.store.decided_lead_fields(
            session.conn, after, DEDUPE_FIELDS, known=pipeline.leads
        )
        pipeline.learn(known)
        pipeline.seen_decision = max(pipeline.seen_decision, newest)

    @contextmanager
    def _undo_on_failure(self, leads: Sequence[Lead]) -> Iterator[None]:
        """If the routing transaction fails, forget the leads its cleaning indexed for dedupe
        (`leads`, filled inside the block): they were never stored as decided."""
        try:
            yield
        except BaseException:
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
        """Clean, then decide, then record (unless `keep` says the decision changes nothing).

        `prepared` is the lead cleaned and scored with its chunk (see `_prepare`). With
        enrichment configured, a route whose policy is `wait` is decided again on the
        enriched lead; under `route_now` the decision stands and the lead goes on `later`, to be
        enriched and re-routed after this chunk commits if that changes where it goes.
        """
        started = time.perf_counter_ns()
        rerouting = supersedes is not None or bool(exclude)
        clean = prepared or self._prepare([lead], dedupe=not rerouting)[0]
        decision = None
        if clean.duplicate is not None:
            decision = self._to_duplicate_owner(session, clean)
        if decision is None:
            decision = self._decide(session, clean, exclude)
            gaps = self._enrichable(clean)
            if gaps:
                if self._policy(decision) == "wait" or later is None:
                    if self._enrich(clean, gaps):
                        decision = self._decide(session, clean, exclude)
                else:
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

    def _decide(
        self, session: RoutingSession, clean: CleanLead, exclude: frozenset[str]
    ) -> Decision:
        router = self.router
        data = clean.context
        if data is None:
            data = router.context(clean.lead, clean.account, clean.signals)
        return router.route(
            clean.lead,
            now=self.clock(),
            state=session,
            account=clean.account,
            exclude=exclude,
            data=data,
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
            self.pipeline.remember(clean.lead)

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
            self.use(self._router.config, self._seq or 0)  # reload the org with the new status
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
        router = self.router
        self._ready()
        decisions = []
        with self.store.routing_session(
            router.org, list(router.config.pools), self._seq
        ) as session:
            leads = session.claim(len(lead_ids), lead_ids=lead_ids, statuses=("routed",))
            for lead in leads:
                history = self.store.decisions(lead.id)
                previous = frozenset(d.rep_id for d in history if d.rep_id)
                current = next((d for d in reversed(history) if d.current), None)
                if expect_owner is not None and (
                    current is None or current.rep_id != expect_owner.get(lead.id)
                ):
                    continue
                decisions.append(
                    self._route_one(
                        session,
                        lead,
                        exclude=previous,
                        supersedes=current.id if current else None,
                        previous_owner=current.rep_id if current else None,
                        cause=cause,
                    )
                )
        return decisions

    def recycle(
        self, lead_id: str, queue: str, reason: str, *, expect_owner: str | None = None
    ) -> Decision | None:
        """Take a routed lead from its rep and put it in a queue (an SLA missed too often);
        not if its owner is no longer `expect_owner`."""
        router = self.router
        with self.store.routing_session(router.org, [], self._seq) as session:
            leads = session.claim(1, lead_ids=[lead_id], statuses=("routed",))
            if not leads:
                return None
            current = next((d for d in self.store.decisions(lead_id) if d.current), None)
            if expect_owner is not None and (current is None or current.rep_id != expect_owner):
                return None
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
            previous = current.rep_id if current else None
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


def _email_key(lead: Lead) -> str | None:
    email = lead.fields.get("email")
    return email.strip().lower() if isinstance(email, str) and email.strip() else None


def _sources(lead: Lead) -> tuple[str, ...]:
    parts = [p for p in (lead.channel, lead.source) if p]
    return (":".join(parts),) if parts else ()


def _json_line(record: dict[str, Any]) -> str:
    import json

    return json.dumps(record, default=str, separators=(",", ":")) + "\n"
