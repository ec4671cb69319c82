"""Routing use cases: route a batch, route whatever is pending, re-route a rep's open leads."""

from __future__ import annotations

import gc
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from leadroute.adapters.leadfile import ParsedRow
from leadroute.adapters.store.sql import RoutingSession, Store
from leadroute.domain.config import RoutingConfig
from leadroute.domain.decision import Decision, Outcome
from leadroute.domain.engine import Router, sticky_key
from leadroute.domain.lead import Lead
from leadroute.domain.matching import match_account
from leadroute.domain.org import Org, RepStatus

Clock = Callable[[], datetime]
CLOSED_STATUSES = ("contacted", "converted", "disqualified")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class BatchSummary:
    """What happened to every lead of a batch.

    For a file, `input_rows` counts the records read and `outcomes` is re-read from the store at
    the end (whoever routed each lead), so `adds_up` checks that every input record ended as
    routed, held, unrouted or rejected. `routes`, `reps` and `queues` count this run's decisions.
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
        if decision.node:
            self.routes[decision.node] += 1
        if decision.rep_id:
            self.reps[decision.rep_id] += 1
        if decision.queue:
            self.queues[decision.queue] += 1
        if decision.outcome is Outcome.HELD:
            self.held_reasons[decision.reason] += 1
        elif decision.outcome is Outcome.UNROUTED:
            self.unrouted_reasons[decision.reason] += 1

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

    def __init__(self, store: Store, *, clock: Clock = utc_now, chunk_size: int = 500) -> None:
        self.store = store
        self.clock = clock
        self.chunk_size = chunk_size
        self._router: Router | None = None
        self._seq: int | None = None

    def use(self, config: RoutingConfig, seq: int, org: Org | None = None) -> None:
        self._router = Router(config, org or self.store.load_org())
        self._seq = seq

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

    def close_lead(self, lead_id: str, status: str) -> None:
        """A rep worked a routed lead: record its new status and free its place in the load."""
        if status not in CLOSED_STATUSES:
            raise ValueError(f"status must be one of {', '.join(CLOSED_STATUSES)}")
        if not self.store.close_lead(lead_id, status):
            raise LookupError(f"lead '{lead_id}' is not an open, routed lead")

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
        if on_ingested is not None:
            on_ingested(self.store.lead_counts(batch_id=batch_id).get("new", 0))
        self.route_pending(batch_id=batch_id, output=output, progress=progress, summary=summary)
        summary.already_decided = len(already)
        summary.outcomes = self.store.statuses(every)
        summary.total = sum(summary.outcomes.values())
        summary.seconds = time.perf_counter() - started
        return summary

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
        summary = summary if summary is not None else BatchSummary(batch_id=batch_id)
        router = self.router
        pools = list(router.config.pools)
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
            with self.store.routing_session(router.org, pools, self._seq) as session:
                leads = session.claim(size, batch_id=batch_id)
                decisions = [self._route_one(session, lead) for lead in leads]
            if not leads:
                break
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
        summary = BatchSummary()
        router = self.router
        held = [s.lead.id for s in self.store.leads(status=Outcome.HELD.value)]
        for start in range(0, len(held), self.chunk_size):
            part = held[start : start + self.chunk_size]
            with self.store.routing_session(
                router.org, list(router.config.pools), self._seq
            ) as session:
                leads = session.claim(len(part), lead_ids=part, statuses=(Outcome.HELD.value,))
                current = session.current_decisions([lead.id for lead in leads])
                decisions = []
                for lead in leads:
                    previous = current.get(lead.id)
                    decision = self._route_one(
                        session, lead, supersedes=previous[0] if previous else None, record=False
                    )
                    unchanged = (
                        decision.outcome is Outcome.HELD
                        and previous is not None
                        and previous[1] == decision.node
                    )
                    if not unchanged:
                        session.record(decision, account_key=self._account_key(lead))
                    decisions.append(decision)
            for decision in decisions:
                summary.add(decision)
                if output is not None and decision.outcome is not Outcome.HELD:
                    output.write(_json_line(decision.as_record()))
            if progress is not None:
                progress(len(decisions))
        return summary

    def _account_key(self, lead: Lead) -> str | None:
        router = self.router
        return sticky_key(router.context(lead, match_account(lead.fields, router.org)))

    def _route_one(
        self,
        session: RoutingSession,
        lead: Lead,
        *,
        exclude: frozenset[str] = frozenset(),
        supersedes: int | None = None,
        previous_owner: str | None = None,
        record: bool = True,
    ) -> Decision:
        router = self.router
        started = time.perf_counter_ns()
        account = match_account(lead.fields, router.org)
        data = router.context(lead, account)
        decision = router.route(
            lead, now=self.clock(), state=session, account=account, exclude=exclude, data=data
        )
        decision.timings["route_us"] = round((time.perf_counter_ns() - started) / 1000, 1)
        if lead.received_at is not None:
            lag = (decision.decided_at - lead.received_at).total_seconds()
            decision.timings["since_received_s"] = round(lag, 3)
        decision.supersedes = supersedes
        if record:
            session.record(decision, account_key=sticky_key(data), previous_owner=previous_owner)
        return decision

    # -- reps ------------------------------------------------------------------------------

    def load_org(self, org: Org, *, replace: bool = False) -> dict[str, list[Decision]]:
        """Save an org; reps it newly marks inactive hand their open leads on through the flow.

        The file is the source of truth for rep status, so loading it can also resume a paused
        rep or pause an active one.
        """
        before = self.store.load_org().reps
        self.store.save_org(org, replace=replace)
        leaving = [
            rep.id
            for rep in org.reps.values()
            if rep.status is RepStatus.INACTIVE
            and rep.id in before
            and before[rep.id].status is not RepStatus.INACTIVE
        ]
        handed: dict[str, list[Decision]] = {}
        if leaving and self.store.config() is not None:
            self._router = None  # pick up the new org
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
        router = self.router
        open_leads = self.store.leads(status=Outcome.ROUTED.value, owner_id=rep_id)
        histories = {s.lead.id: self.store.decisions(s.lead.id) for s in open_leads}
        decisions = []
        with self.store.routing_session(
            router.org, list(router.config.pools), self._seq
        ) as session:
            for stored in open_leads:
                history = histories[stored.lead.id]
                previous = frozenset(d.rep_id for d in history if d.rep_id)
                current = next((d.id for d in reversed(history) if d.current), None)
                decisions.append(
                    self._route_one(
                        session,
                        stored.lead,
                        exclude=previous,
                        supersedes=current,
                        previous_owner=rep_id,
                    )
                )
        return decisions


@contextmanager
def batch_gc() -> Iterator[None]:
    """Batch routing allocates many short-lived objects next to a large, long-lived org and
    config. Freezing what exists and collecting less often keeps the cyclic collector from
    rescanning them all the time (a fifth of batch time otherwise); restored afterwards."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(thresholds[0], 50_000), thresholds[1], thresholds[2])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _json_line(record: dict[str, Any]) -> str:
    import json

    return json.dumps(record, default=str, separators=(",", ":")) + "\n"
