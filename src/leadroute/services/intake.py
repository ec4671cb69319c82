"""Leads in, decisions out, in real time: the API's and the webhooks' way into routing.

A submitted lead is checked, stored and routed at once, and the answer is its decision: the rep
(with the booking link for an instant hand-off) or the queue (with its redirect URL or message),
the route and the reason. Bad input is stored as rejected with its reason and answered 422, so
nothing that came in is lost. An idempotency key (the client's `Idempotency-Key`, or a
provider's event id) makes a retry return the original answer: never a second lead, never a
second assignment.

When the database goes away mid-request (a restart, a failover), the request fails with the
database's error (the API answers 503) and its key is released, so the client's retry does the
work; a release or an answer that cannot be written while the database is down is kept and
written before the next request is served.

A lead whose route waits for an enrichment provider over the network is enriched on an
enrichment thread, then stored and routed (`RoutingService.route_arrivals`): its request waits
for the provider, the other leads and the routing thread do not.
"""

from __future__ import annotations

import gc
import hashlib
import json
import queue
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from leadroute.adapters.leadfile import ParsedRow, build_lead, canonical_header
from leadroute.adapters.store.errors import database_unavailable
from leadroute.adapters.store.idempotency_store import IN_PROGRESS, IdempotencyStore, Replay
from leadroute.adapters.store.sql import StoredDecision
from leadroute.domain.decision import Decision
from leadroute.domain.fields import Vocabulary
from leadroute.domain.lead import LEAD_LIMITS, Lead, LeadLimits
from leadroute.services.routing import RoutingService

MAX_BULK = 1000
ENRICH_THREADS = 16  # leads enriched at once, apart from the routing thread


@dataclass(frozen=True)
class IntakeResult:
    status_code: int
    body: dict[str, Any]
    replayed: bool = False


def request_hash(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def lead_id_for(key: str) -> str:
    """A lead id derived from an idempotency key: a retry names the same lead."""
    return "api-" + hashlib.sha256(key.encode()).hexdigest()[:20]


def map_fields(raw: Mapping[str, Any], vocabulary: Vocabulary) -> dict[str, Any]:
    """Body keys to leadroute fields (Salesforce and HubSpot names are understood); keys that
    name no field are kept as they are (the vocabulary then rejects unknown ones)."""
    mapped: dict[str, Any] = {}
    for key, value in raw.items():
        column = canonical_header(str(key), vocabulary, None)
        name = column if column is not None else str(key)
        if value not in (None, "") or name not in mapped:
            mapped[name] = value
    return mapped


@dataclass
class _Pending:
    lead: Lead
    raw: Mapping[str, Any]
    done: Future[IntakeResult]
    key: str | None = None  # idempotency key, and the hash of the request it came with
    digest: str | None = None


class _Batcher:
    """Routes leads that arrive together as one chunk (one transaction, one lock of the
    pools): under load, each batch takes every lead that queued while the last one was routed,
    so the cost of a transaction is shared instead of paid per lead."""

    def __init__(self, intake: LeadIntake, max_batch: int = 200) -> None:
        self.intake = intake
        self.max_batch = max_batch
        self.queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self.frozen = False
        self.thread = threading.Thread(target=self._run, name="leadroute-router", daemon=True)
        self.thread.start()

    def submit(
        self,
        lead: Lead,
        raw: Mapping[str, Any],
        key: str | None = None,
        digest: str | None = None,
    ) -> IntakeResult:
        pending = _Pending(lead, raw, Future(), key, digest)
        self.queue.put(pending)
        return pending.done.result()

    def stop(self) -> None:
        """Finish what is queued, then end the thread."""
        self.queue.put(None)

    def _run(self) -> None:
        while True:
            first = self.queue.get()
            if first is None:
                return
            batch = [first]
            stopping = False
            while len(batch) < self.max_batch:
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            try:
                results = self.intake._route_batch(batch)
                if not self.frozen:
                    # The org, the indexes and the compiled config now exist and live as long
                    # as the process: keep the cyclic collector from rescanning them on every
                    # full collection (pauses of 100+ ms under load otherwise).
                    gc.freeze()
                    self.frozen = True
            except BaseException as exc:  # every waiting request learns of the failure
                for pending in batch:
                    pending.done.set_exception(exc)
            else:
                for pending, result in zip(batch, results, strict=True):
                    if isinstance(result, Future):  # routed apart, after its enrichment
                        _chain(result, pending.done)
                    else:
                        pending.done.set_result(result)
            if stopping:
                return


class LeadIntake:
    """Submits leads to a RoutingService. One intake serves one process: its leads are routed
    by one thread, in batches, under `lock` (rep changes take it too, so none happens while a
    batch is routed); a lead that waits for an enrichment provider is routed on an
    enrichment thread, and a bulk request on its own thread: the service takes its routing
    transactions in turn, and no lock is held while a provider is waited for."""

    def __init__(
        self,
        routing: RoutingService,
        *,
        lock: threading.Lock | None = None,
        limits: LeadLimits | None = None,
    ) -> None:
        self.routing = routing
        # What one lead may hold: the settings' caps, passed by the composition root.
        self.limits = limits or LEAD_LIMITS
        self.idempotency = IdempotencyStore(routing.store)
        self.lock = lock or threading.Lock()
        self._batcher: _Batcher | None = None
        self._enrichers: ThreadPoolExecutor | None = None
        self._start = threading.Lock()
        # key -> the answer to keep for it, or None to release it; written by `_settle`
        self._unsettled: dict[str, tuple[int, dict[str, Any], str | None] | None] = {}
        self._settling = threading.Lock()

    def close(self) -> None:
        """Stop the routing thread once the leads already queued are routed (leads being
        enriched are still routed, on their enrichment threads)."""
        with self._start:
            if self._batcher is not None:
                self._batcher.stop()
                self._batcher = None
            if self._enrichers is not None:
                self._enrichers.shutdown(wait=False)
                self._enrichers = None

    @property
    def enrichers(self) -> ThreadPoolExecutor:
        """The threads that enrich and route the leads that wait for a provider."""
        with self._start:
            if self._enrichers is None:
                self._enrichers = ThreadPoolExecutor(
                    max_workers=ENRICH_THREADS, thread_name_prefix="leadroute-enrich"
                )
            return self._enrichers

    @property
    def batcher(self) -> _Batcher:
        with self._start:
            if self._batcher is None:
                self._batcher = _Batcher(self)
            return self._batcher

    def submit(
        self,
        raw: Mapping[str, Any],
        *,
        key: str | None = None,
        channel: str = "api",
        source: str | None = None,
    ) -> IntakeResult:
        payload = {"lead": raw, "channel": channel, "source": source}
        default_id = lead_id_for(key) if key else "api-" + uuid.uuid4().hex[:20]
        try:
            lead = self._build(raw, default_id, channel, source)
        except ValueError:
            # rare: the rejection is stored and answered the slow way, once per key
            return self._once(
                key, payload, lambda: self._submit(raw, key=key, channel=channel, source=source)
            )
        digest = request_hash(payload) if key else None
        return self.batcher.submit(lead, raw, key, digest)

    def submit_many(
        self,
        raws: Sequence[Mapping[str, Any]],
        *,
        key: str | None = None,
        channel: str = "api",
        source: str | None = None,
    ) -> IntakeResult:
        if len(raws) > MAX_BULK:
            return IntakeResult(413, {"detail": f"at most {MAX_BULK} leads per request"})
        return self._once(
            key,
            {"leads": list(raws), "channel": channel, "source": source},
            lambda: self._submit_many(raws, key=key, channel=channel, source=source),
        )

    def submit_lead(self, lead: Lead, *, key: str | None, raw: Mapping[str, Any]) -> IntakeResult:
        """Route a lead a webhook parser built; `key` is the provider's event id. A lead over
        the limits is stored as rejected and answered 422, like a lead the API cannot build."""
        payload = {"lead": lead.id, "raw": raw}
        too_large = self.limits.problem(lead.fields)
        if too_large is not None:
            return self._once(key, payload, lambda: self._reject(lead.id, too_large, raw))
        digest = request_hash(payload) if key else None
        return self.batcher.submit(lead, raw, key, digest)

    # -- internals -------------------------------------------------------------------------------

    def _once(self, key: str | None, payload: Any, work: Any) -> IntakeResult:
        if key is None:
            result: IntakeResult = work()
            return result
        self._settle()
        replay = self.idempotency.reserve(key, request_hash(payload))
        if replay is not None:
            return _replayed(key, replay)
        try:
            result = work()
        except BaseException:
            self._release([key])
            raise
        lead_id = result.body.get("lead_id")
        self._complete([(key, result.status_code, result.body, lead_id)])
        return result

    def _release(self, keys: Sequence[str]) -> None:
        """Free the reservations of work that failed, so a retry does it; if the database is
        down too, they are freed by `_settle` once it is back."""
        with self._settling:
            self._unsettled.update(dict.fromkeys(keys))
        self._settle()

    def _complete(self, items: list[tuple[str, int, dict[str, Any], str | None]]) -> None:
        """Keep the answers of work that was done; if the database went away right after the
        work committed, they are kept by `_settle` once it is back (the work stands)."""
        with self._settling:
            self._unsettled.update({key: (code, body, lead) for key, code, body, lead in items})
        self._settle()

    def _settle(self) -> None:
        """Write the releases and answers still owed to the idempotency store. While the
        database is still down they are kept for the next call, without raising: the
        request's own work then meets the same database and fails on its own."""
        with self._settling:
            answers = [(k, *a) for k, a in self._unsettled.items() if a is not None]
            releases = [k for k, a in self._unsettled.items() if a is None]
            try:
                if answers:
                    self.idempotency.complete_many(answers)
                    for key, *_ in answers:
                        del self._unsettled[key]
                for key in releases:
                    self.idempotency.release(key)
                    del self._unsettled[key]
            except Exception as exc:
                if not database_unavailable(exc):
                    raise

    def _build(
        self, raw: Mapping[str, Any], default_id: str, channel: str, source: str | None
    ) -> Lead:
        router = self.routing.router
        fields = map_fields(raw, router.config.vocabulary)
        lead = build_lead(
            fields,
            default_id=default_id,
            vocabulary=router.config.vocabulary,
            channel=channel,
            source=source,
            limits=self.limits,
        )
        if lead.received_at is None:
            lead = Lead(lead.id, lead.fields, lead.source, lead.channel, self.routing.clock())
        return lead

    def _submit(
        self, raw: Mapping[str, Any], *, key: str | None, channel: str, source: str | None
    ) -> IntakeResult:
        default_id = lead_id_for(key) if key else "api-" + uuid.uuid4().hex[:20]
        lead_id = str(raw.get("id") or "").strip() or default_id
        try:
            lead = self._build(raw, lead_id, channel, source)
        except ValueError as exc:
            return self._reject(lead_id, str(exc), raw)
        return self._route(lead, raw)

    def _reject(self, lead_id: str, reason: str, raw: Mapping[str, Any]) -> IntakeResult:
        """Store the lead as rejected with `reason`, as received; the answer is a 422."""
        with self.lock:
            self.routing.store.add_rejections(
                [(lead_id, None, reason, dict(raw))], batch_id=f"api-{uuid.uuid4().hex[:16]}"
            )
        return IntakeResult(422, {"lead_id": lead_id, "outcome": "rejected", "detail": reason})

    def _route(self, lead: Lead, raw: Mapping[str, Any]) -> IntakeResult:
        return self.batcher.submit(lead, raw)

    def _route_batch(self, batch: list[_Pending]) -> list[IntakeResult | Future[IntakeResult]]:
        """Route leads together: their idempotency keys are reserved in one transaction, the
        new leads routed in one, the answers kept in one. A lead id (or key) sent twice in one
        batch is routed once. A lead routed apart (it waits for an enrichment provider) is
        answered, and its key kept, when it is routed: its answer is a Future."""
        self._settle()
        replays = self.idempotency.reserve_many(
            [(p.key, p.digest or "") for p in batch if p.key is not None]
        )  # one transaction: if it fails, nothing is reserved
        reserved = [key for key, replay in replays.items() if replay is None]
        try:
            results, first_of_key = self._answer_batch(batch, replays)
        except BaseException:
            self._release(reserved)  # let a retry do the work (or find it done)
            raise
        answered: list[tuple[str, int, dict[str, Any], str | None]] = []
        for i, p in enumerate(batch):
            if p.key is None or first_of_key.get(p.key) != i or replays.get(p.key) is not None:
                continue
            result = results[i]
            if isinstance(result, Future):
                result.add_done_callback(self._keeper(p.key, p.lead.id))
            else:
                answered.append((p.key, result.status_code, result.body, p.lead.id))
        self._complete(answered)
        answers: list[IntakeResult | Future[IntakeResult]] = []
        for i, pending in enumerate(batch):
            if i in results:
                answers.append(results[i])
            else:
                answers.append(_as_replayed(results[first_of_key[pending.key or ""]]))
        return answers

    def _keeper(self, key: str, lead_id: str) -> Callable[[Future[IntakeResult]], None]:
        """What keeps the answer of a lead routed apart for its key once it is known (or
        releases the key if its routing failed)."""

        def keep(done: Future[IntakeResult]) -> None:
            error = done.exception()
            if error is not None:
                self._release([key])
            else:
                result = done.result()
                self._complete([(key, result.status_code, result.body, lead_id)])

        return keep

    def _answer_batch(
        self, batch: list[_Pending], replays: Mapping[str, Replay | None]
    ) -> tuple[dict[int, IntakeResult | Future[IntakeResult]], dict[str, int]]:
        """Route the batch's new leads; (answer by position, first position of each key)."""
        results: dict[int, IntakeResult | Future[IntakeResult]] = {}
        first_of_key: dict[str, int] = {}
        todo: list[int] = []
        for i, pending in enumerate(batch):
            key = pending.key
            if key is None:
                todo.append(i)
                continue
            if key in first_of_key:
                continue  # answered like its first request, below
            first_of_key[key] = i
            replay = replays.get(key)
            if replay is None:
                todo.append(i)
            else:
                results[i] = _replayed(key, replay)
        unique = list({batch[i].lead.id: batch[i].lead for i in todo}.values())
        with self.lock:
            arrivals = self.routing.route_arrivals(
                unique, batch_id=f"api-{uuid.uuid4().hex[:16]}", enrich_with=self.enrichers
            )
        decisions, ids = arrivals.decisions, arrivals.ids
        reps = self.routing.router.org.reps
        answered: set[str] = set()
        for i in todo:
            lead = batch[i].lead
            decision = decisions.get(lead.id)
            if lead.id in answered:
                results[i] = self._received_before(lead.id)
            elif lead.id in arrivals.enriching:
                answered.add(lead.id)
                results[i] = self._answer_later(lead.id, arrivals.enriching[lead.id], reps)
            elif decision is not None:
                answered.add(lead.id)
                results[i] = IntakeResult(201, decision_body(decision, ids.get(lead.id), reps))
            else:
                results[i] = self._received_before(lead.id)
        return results, first_of_key

    def _received_before(self, lead_id: str) -> IntakeResult:
        body = self.view(lead_id)
        body["detail"] = "this lead was received before: its current decision"
        return IntakeResult(200, body)

    def _answer_later(
        self,
        lead_id: str,
        routed: Future[tuple[Decision | None, int | None]],
        reps: Mapping[str, Any],
    ) -> Future[IntakeResult]:
        """The answer for a lead routed apart, once it is routed."""
        answer: Future[IntakeResult] = Future()

        def done(routed: Future[tuple[Decision | None, int | None]]) -> None:
            try:
                decision, decision_id = routed.result()
                if decision is None:  # someone else routed it first
                    result = self._received_before(lead_id)
                else:
                    result = IntakeResult(201, decision_body(decision, decision_id, reps))
            except BaseException as exc:
                answer.set_exception(exc)
            else:
                answer.set_result(result)

        routed.add_done_callback(done)
        return answer

    def _submit_many(
        self,
        raws: Sequence[Mapping[str, Any]],
        *,
        key: str | None,
        channel: str,
        source: str | None,
    ) -> IntakeResult:
        batch_id = f"api-{uuid.uuid4().hex[:16]}"
        rows: list[ParsedRow] = []
        for index, raw in enumerate(raws):
            default_id = f"{lead_id_for(key)}-{index}" if key else f"{batch_id}-{index}"
            try:
                rows.append(ParsedRow(index, self._build(raw, default_id, channel, source)))
            except ValueError as exc:
                rows.append(ParsedRow(index, None, f"lead {index}: {exc}", dict(raw)))
        summary = self.routing.route_batch(rows, batch_id=batch_id)
        results = []
        for row in rows:
            if row.lead is None:
                results.append({"index": row.row, "outcome": "rejected", "detail": row.reason})
            else:
                results.append({"index": row.row, **self.view(row.lead.id)})
        body = {
            "received": len(rows),
            "outcomes": dict(summary.outcomes),
            "counts_add_up": summary.adds_up,
            "results": results,
        }
        return IntakeResult(200, body)

    def view(self, lead_id: str) -> dict[str, Any]:
        """The answer for a lead: its status and its current decision."""
        store = self.routing.store
        stored = store.lead(lead_id)
        if stored is None:
            return {"lead_id": lead_id, "outcome": "unknown"}
        current = next((d for d in store.decisions(lead_id) if d.current), None)
        if current is None:
            return {"lead_id": lead_id, "outcome": stored.status, "reason": stored.reason}
        return decision_view(current, self.routing.router.org.reps)


def _as_replayed(
    first: IntakeResult | Future[IntakeResult],
) -> IntakeResult | Future[IntakeResult]:
    """The answer for a repeat of a request in the same batch: the first one's, replayed."""
    if not isinstance(first, Future):
        return IntakeResult(first.status_code, first.body, replayed=True)
    replayed: Future[IntakeResult] = Future()

    def copy(done: Future[IntakeResult]) -> None:
        error = done.exception()
        if error is not None:
            replayed.set_exception(error)
        else:
            result = done.result()
            replayed.set_result(IntakeResult(result.status_code, result.body, replayed=True))

    first.add_done_callback(copy)
    return replayed


def _chain(source: Future[IntakeResult], target: Future[IntakeResult]) -> None:
    """Settle `target` as `source` settles."""

    def copy(done: Future[IntakeResult]) -> None:
        error = done.exception()
        if error is not None:
            target.set_exception(error)
        else:
            target.set_result(done.result())

    source.add_done_callback(copy)


def _replayed(key: str, replay: Replay) -> IntakeResult:
    if not replay.same_request:
        return IntakeResult(
            422, {"detail": f"Idempotency-Key '{key}' was used with a different request"}
        )
    if replay.status_code == IN_PROGRESS:
        return IntakeResult(
            409, {"detail": f"a request with Idempotency-Key '{key}' is in progress"}
        )
    return IntakeResult(replay.status_code, replay.response, replayed=True)


def decision_body(
    decision: Decision, decision_id: int | None, reps: Mapping[str, Any]
) -> dict[str, Any]:
    """The answer for a decision just made (the same shape as `decision_view`)."""
    record = decision.as_record()
    rep = reps.get(decision.rep_id or "")
    return {
        "lead_id": decision.lead_id,
        "decision_id": decision_id,
        "outcome": decision.outcome.value,
        "rep": {"id": rep.id, "name": rep.name, "email": rep.email or None}
        if rep is not None
        else None,
        "queue": decision.queue,
        "route": decision.node,
        "reason": decision.reason,
        "booking_link": decision.booking_link,
        "redirect_url": decision.redirect_url,
        "message": decision.message,
        "decided_at": decision.decided_at.isoformat(),
        "config": record.get("config"),
        "scores": record.get("scores") or {},
    }


def decision_view(stored: StoredDecision, reps: Mapping[str, Any]) -> dict[str, Any]:
    record = stored.record
    rep = reps.get(stored.rep_id or "")
    return {
        "lead_id": stored.lead_id,
        "decision_id": stored.id,
        "outcome": stored.outcome,
        "rep": {"id": rep.id, "name": rep.name, "email": rep.email or None}
        if rep is not None
        else None,
        "queue": stored.queue,
        "route": stored.node,
        "reason": stored.reason,
        "booking_link": record.get("booking_link"),
        "redirect_url": record.get("redirect_url"),
        "message": record.get("message"),
        "decided_at": stored.decided_at.isoformat(),
        "config": record.get("config"),
        "scores": record.get("scores") or {},
    }
