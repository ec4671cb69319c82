"""Backtest a draft config: replay the leads of a period through it and compare where they would
have gone with where they went. Everything happens in memory; nothing is written to the store.

Each lead is decided at its original `received_at` against the org as it is stored now (reps'
status, working hours, out of office, caps; accounts and their owners), with a fresh in-memory
routing state that starts empty at `since`. Leads keep their stored (cleaned, enriched) fields
and the account they were matched to. See docs/backtest.md for every assumption.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from leadroute.adapters import registry
from leadroute.adapters.memory import MemoryRoutingState
from leadroute.adapters.store.sql import Store, aware
from leadroute.domain.backtest import BacktestReport, BacktestTally, Placement
from leadroute.domain.config import RoutingConfig
from leadroute.domain.decision import Outcome
from leadroute.domain.engine import Router, sticky_key
from leadroute.domain.intent import AccountIntent, IntentScore, IntentScorer
from leadroute.domain.lead import Lead
from leadroute.domain.org import Account, Org, RepStatus
from leadroute.domain.scoring import Signals
from leadroute.ports import BacktestReads
from leadroute.services.configs import load_config_text
from leadroute.services.routing import CLOSED_STATUSES, batch_gc, predictor_for

# Leads never routed (still new) or rejected at intake have nothing to compare: left out.
SKIPPED = ("new", "rejected")
# Lifecycle events that take a lead off its owner's open load.
CLOSING_EVENTS = ("contacted", "converted", "disqualified")


def backtest(
    store: Store,
    draft: RoutingConfig,
    *,
    since: datetime,
    until: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    chunk_size: int = 2000,
    history: BacktestReads | None = None,
) -> BacktestReport:
    """Replay the leads received in [since, until) through `draft`, oldest first, and compare.

    `on_total` is told how many leads will be replayed, `progress` how many each chunk did.
    `history` reads the leads to replay (default: the store's, `registry.backtest_reads`).
    LookupError if the draft scores with a predictive model that is not stored.
    """
    started = time.perf_counter()
    since, until = _utc(since), _utc(until) if until is not None else None
    history = history if history is not None else registry.backtest_reads(store)
    org = store.load_org()
    predictor = predictor_for(store, draft)
    statuses = history.statuses(since, until)
    skipped = {s: statuses[s] for s in SKIPPED if statuses.get(s)}
    if on_total is not None:
        on_total(sum(n for s, n in statuses.items() if s not in SKIPPED))
    replay = Replay(Router(draft, org, predictor=predictor))
    with batch_gc():
        for rows in history.replay_rows(
            since,
            until,
            skip=SKIPPED,
            closing=CLOSING_EVENTS,
            with_intent=draft.intent is not None,
            size=chunk_size,
        ):
            replay.chunk(rows)
            if progress is not None:
                progress(len(rows))
    pools = _pools(store, draft, org)
    notes = ["org as stored now (rep status, hours, out of office, caps, account owners)"]
    if draft.intent is not None:
        notes.append(
            f"intent: scores recorded with the current decisions ({replay.with_intent} of "
            f"{replay.tally.leads} leads had one), tiers by the draft"
        )
    if predictor is not None:
        notes.append(f"predictive: model {predictor.name} v{predictor.version} as stored now")
    if replay.duplicates:
        notes.append(f"{replay.duplicates} duplicates given to the owner of the lead they repeat")
    return replay.tally.report(
        config_name=draft.name,
        config_hash=draft.content_hash,
        since=since,
        until=until,
        pools=pools,
        skipped=skipped,
        notes=notes,
        seconds=time.perf_counter() - started,
    )


class Replay:
    """Routes stored leads one after another through a router, in memory, and tallies them."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self.org = router.org
        self.state = MemoryRoutingState(router.org)
        self.tally = BacktestTally(router.org.reps)
        self.owners: dict[str, str | None] = {}  # lead id -> its owner in the replay
        self.closes: list[tuple[datetime, str]] = []  # (when, rep): a replayed lead worked
        self.with_intent = 0
        self.duplicates = 0

    def chunk(self, rows: Sequence[Any]) -> None:
        """Route a chunk of rows (see `BacktestReads.replay_rows`); the predictive model
        scores it in one call."""
        router, accounts = self.router, self.org.accounts
        intent = router.config.intent
        prepared = []
        for row in rows:
            lead = Lead(row[0], row[1], row[2], row[3], aware(row[4]))
            account = accounts.get(row[5]) if row[5] is not None else None
            signals = self._signals(intent, row[16:], account is not None) if intent else None
            data = router.context(lead, account, signals, predict=False)
            prepared.append((row, lead, account, data))
        router.predict([data for _, _, _, data in prepared])
        for row, lead, account, data in prepared:
            self._route(row, lead, account, data)

    def _route(
        self, row: Sequence[Any], lead: Lead, account: Account | None, data: dict[str, Any]
    ) -> None:
        (lead_id, _, _, _, _, _, duplicate_of, outcome, node, rep_id, queue, reason, decided_at,
         original_status, original_owner, closed_at) = row[:16]  # fmt: skip
        at = lead.received_at
        assert at is not None
        closes = self.closes
        while closes and closes[0][0] <= at:
            self.state.close(heapq.heappop(closes)[1])
        before = None
        if outcome is not None:
            before = Placement(
                outcome,
                aware(decided_at),
                node,
                rep_id,
                queue,
                reason,
                takes_capacity=duplicate_of is None,
            )
        owner = None
        if duplicate_of is not None:
            owner = self._owner_of(duplicate_of, original_status, original_owner)
        if owner is not None:
            self.duplicates += 1
            after = Placement(
                Outcome.ROUTED.value,
                at,
                rep_id=owner,
                reason=f"duplicate of lead {duplicate_of}, which {owner} owns",
                takes_capacity=False,
            )
        else:
            decision = self.router.route(lead, now=at, state=self.state, account=account, data=data)
            self.state.apply(decision, sticky_key(data))
            after = Placement(
                decision.outcome.value,
                at,
                decision.node,
                decision.rep_id,
                decision.queue,
                decision.reason,
            )
            if decision.rep_id is not None and closed_at is not None:
                heapq.heappush(closes, (aware(closed_at), decision.rep_id))
        self.owners[lead_id] = after.rep_id if after.outcome == Outcome.ROUTED.value else None
        self.tally.add(lead_id, before, after)

    def _owner_of(
        self, duplicate_of: str, original_status: str | None, original_owner: str | None
    ) -> str | None:
        """Who owns the lead this one duplicates: its owner in the replay if it was replayed,
        else its stored owner; None if nobody active does (the lead is routed as usual)."""
        if duplicate_of in self.owners:
            owner = self.owners[duplicate_of]
        elif original_status in (Outcome.ROUTED.value, *CLOSED_STATUSES):
            owner = original_owner
        else:
            owner = None
        return owner if owner is not None and _active(self.org, owner) else None

    def _signals(self, intent: IntentScorer, recorded: Sequence[Any], matched: bool) -> Signals:
        """The intent recorded with the lead's current decision, tiered by the draft."""
        score, product, surging, account_score = recorded
        if score is None:
            return Signals(intent=IntentScore(0, intent.tier(0)))
        self.with_intent += 1
        lead_intent = IntentScore(score, intent.tier(score, surging=bool(surging)), product=product)
        account_intent = None
        if matched and surging is not None:
            account_intent = AccountIntent(account_score or 0, bool(surging), 0, 0.0, 0)
        return Signals(intent=lead_intent, account=account_intent)


def _pools(store: Store, draft: RoutingConfig, org: Org) -> dict[str, list[str]]:
    """Pool id -> its reps who could take leads (active now), for fairness: the pools of the
    active config (which made most current decisions) and of the draft, the draft's first."""
    pools = dict(draft.pools)
    stored = store.config()
    if stored is not None:
        loaded = load_config_text(stored.source, org, with_lint=False)
        if loaded.config is not None:
            pools = {**loaded.config.pools, **pools}
    return {
        pool_id: [m for m in pool.members if _active(org, m)] for pool_id, pool in pools.items()
    }


def _active(org: Org, rep_id: str) -> bool:
    rep = org.reps.get(rep_id)
    return rep is not None and rep.status is RepStatus.ACTIVE


def _utc(moment: datetime) -> datetime:
    """Bounds in UTC, as the store keeps times (a naive time is taken as UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
