"""`leadroute worker`: fires due SLA timers and delivers the outbox.

Timers are rows in the store. A worker claims due ones in a short transaction (on PostgreSQL
with FOR UPDATE SKIP LOCKED, so several workers never claim the same timer) and marks them
`firing` with a lease; a worker killed mid-way leaves them `firing`, and once the lease runs out
any worker claims them again. Firing is safe to repeat:

- a reminder's event (and its notification) is written in the same transaction that marks the
  timer fired, so it happens exactly once;
- a breach first records the escalation and marks the timer `escalated` (one transaction),
  then reassigns the lead, then marks it fired. Repeated after a crash, the escalation is not
  sent again, and the reassignment is skipped if the lead already left the rep the timer was
  set for.

A database outage (a restart, a failover) does not stop `run`: the pass that met it is logged
and given up (its transactions rolled back, its claims left to their leases), and the worker
tries again after a pause that doubles up to `max_backoff` seconds, until the database is back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from leadroute.adapters import registry
from leadroute.adapters.store.errors import database_unavailable, unavailable_detail
from leadroute.adapters.store.sql import Store
from leadroute.domain.decision import Outcome
from leadroute.domain.notify import OutboxMessage, notify_event
from leadroute.domain.sla import duration_text
from leadroute.ports import (
    Clock,
    LifecycleLog,
    OutboxQueue,
    SenderFactory,
    TimerMessages,
    TimerQueue,
)
from leadroute.services.lifecycle import reassignments
from leadroute.services.outbox import OutboxService
from leadroute.services.routing import RoutingService, utc_now

DEFAULT_LEASE = timedelta(minutes=2)
MAX_BACKOFF = 30.0  # seconds between tries while the database is unavailable

log = logging.getLogger("leadroute.worker")


@dataclass
class WorkReport:
    reminded: int = 0
    breached: int = 0  # SLA ran out: escalated (if the rule says) and reassigned or recycled
    reassigned: int = 0
    recycled: int = 0
    skipped: int = 0  # the lead had moved on (accepted, reassigned, closed) before the timer
    outbox: dict[str, int] = field(default_factory=dict)
    unavailable: int = 0  # passes given up because the database could not be reached

    @property
    def fired(self) -> int:
        return self.reminded + self.breached + self.skipped

    def add(self, other: WorkReport) -> None:
        self.reminded += other.reminded
        self.breached += other.breached
        self.reassigned += other.reassigned
        self.recycled += other.recycled
        self.skipped += other.skipped
        self.unavailable += other.unavailable
        for key, value in other.outbox.items():
            self.outbox[key] = self.outbox.get(key, 0) + value


class Worker:
    """Fires the SLA timers and delivers the outbox of `store`.

    The timers, the outbox, the lifecycle log and the senders are the store's and the
    registry's (`adapters.registry`) unless given; `store` itself routes (reassignments and
    recycling go through `RoutingService`). `notify` gives a timer event's messages (default:
    the active config's notifications and CRM updates of the lead's current decision)."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock = utc_now,
        lease: timedelta = DEFAULT_LEASE,
        notify: TimerMessages | None = None,
        deliver: Callable[[], dict[str, int]] | None = None,
        env: Mapping[str, str] | None = None,
        timers: TimerQueue | None = None,
        outbox: OutboxQueue | None = None,
        lifecycle: LifecycleLog | None = None,
        senders: SenderFactory = registry.senders_for,
    ) -> None:
        """`env` is where the notifiers' and CRMs' secrets are looked up (the composition root
        passes its environment; default: the process's)."""
        self.store = store
        self.env = env
        self.clock = clock
        self.lease = lease
        self.notify = notify if notify is not None else self._messages
        self.deliver = deliver if deliver is not None else self._deliver
        self.routing = RoutingService(store, clock=clock)
        self.timers = timers if timers is not None else registry.timer_queue(store)
        self.outbox = outbox if outbox is not None else registry.outbox_queue(store)
        self.lifecycle = lifecycle if lifecycle is not None else registry.lifecycle_log(store)
        self.senders = senders
        self._version: tuple[object, ...] | None = None

    # -- timers ------------------------------------------------------------------------------

    def claim(self, limit: int = 100) -> list[dict[str, Any]]:
        """Take up to `limit` due timers (and ones whose worker's lease ran out); see
        `TimerStore.claim_due`."""
        return self.timers.claim_due(self.clock(), lease_for=self.lease, limit=limit)

    def fire(self, timer: dict[str, Any]) -> WorkReport:
        report = WorkReport()
        stored = self.store.lead(timer["lead_id"])
        if (
            stored is None
            or stored.status != Outcome.ROUTED.value
            or stored.owner_id != timer["rep_id"]
        ):
            if self._step(timer, "skipped"):
                report.skipped += 1
            return report
        if timer["kind"] == "reminder":
            if self._step(timer, "fired", event="reminded"):
                report.reminded += 1
            return report
        rule = self._rule(timer)
        if timer["status"] != "escalated":
            kind = "escalated" if rule is None or rule.escalate else "sla_missed"
            if not self._step(timer, "escalated", event=kind):
                return report  # another worker took the timer over
        report.breached += 1
        if rule is not None and rule.reassign:
            done = reassignments(self.lifecycle, timer["lead_id"])
            expect = {timer["lead_id"]: timer["rep_id"]}
            if done >= rule.max_reassignments:
                if rule.then is not None:
                    reason = (
                        f"SLA missed: not accepted within {duration_text(rule.accept_within)}"
                        f" of business time, {done + 1} times; recycled to {rule.then}"
                    )
                    moved = self.routing.recycle(
                        timer["lead_id"], rule.then, reason, expect_owner=timer["rep_id"]
                    )
                    report.recycled += moved is not None
            elif self.routing.reassign([timer["lead_id"]], cause="sla", expect_owner=expect):
                report.reassigned += 1
        self._step(timer, "fired")
        return report

    def _rule(self, timer: dict[str, Any]) -> Any:
        sla = self.routing.router.config.sla
        if sla is None:
            return None
        return sla.rule_for((timer.get("detail") or {}).get("route"))

    def _step(self, timer: dict[str, Any], status: str, *, event: str | None = None) -> bool:
        """Move a claimed timer to `status` (with its event and notification, in the same
        transaction) if this worker still holds it; False if another worker took it over."""
        return self.timers.step(timer, status, at=self.clock(), event=event, on_step=self.notify)

    # -- notifications ---------------------------------------------------------------------------

    def _messages(self, kind: str, timer: dict[str, Any]) -> list[OutboxMessage]:
        """A timer event's notifications (reminder to the rep, escalation to the manager),
        queued in the transaction that fires it."""
        event = notify_event(kind)
        config = self.routing.router.config
        if event is None or not (config.notifications or config.crm):
            return []
        current = next((d for d in self.store.decisions(timer["lead_id"]) if d.current), None)
        if current is None:
            return []
        return self.routing.lifecycle.messages(
            event, current.record, None, occurrence=str(timer["id"])
        )

    def _deliver(self) -> dict[str, int]:
        """Send what the outbox holds that is due (with the active config's channels)."""
        if self.store.config() is None:
            return {}
        config = self.routing.router.config
        service = OutboxService(
            self.outbox,
            config.notifications,
            config.crm,
            senders=self.senders(config.notifications, config.crm),
            env=self.env,
            clock=self.clock,
        )
        try:
            return service.deliver_due().as_counts()
        finally:
            service.close()

    # -- loop ----------------------------------------------------------------------------------

    def run_once(self, limit: int = 100) -> WorkReport:
        """Fire every due timer in batches of `limit`, delivering a batch of the outbox after
        each batch of timers."""
        report = WorkReport()
        version = self.store.routing_version()
        if version != self._version:  # the config or the org changed: route with the new ones
            self.routing = RoutingService(self.store, clock=self.clock)
            self._version = version
        while True:
            claimed = self.claim(limit)
            for timer in claimed:
                report.add(self.fire(timer))
            if self.deliver is not None:  # a batch of messages after each batch of timers:
                delivered = self.deliver()  # a backlog of breaches does not starve the outbox
                for kind, count in delivered.items():
                    report.outbox[kind] = report.outbox.get(kind, 0) + count
            if len(claimed) < limit:
                break
        return report

    def run(
        self, stop: threading.Event, *, interval: float = 1.0, max_backoff: float = MAX_BACKOFF
    ) -> WorkReport:
        """Work until `stop` is set, waiting `interval` seconds when there is nothing to do.
        While the database is unavailable, wait `interval` seconds, then twice as long after
        each failed pass, at most `max_backoff`; any other error ends the loop."""
        total = WorkReport()
        backoff = 0.0
        while not stop.is_set():
            try:
                report = self.run_once()
            except Exception as exc:
                if not database_unavailable(exc):
                    raise
                backoff = min(max_backoff, backoff * 2 if backoff else interval)
                total.unavailable += 1
                log.warning("%s; trying again in %.1f s", unavailable_detail(exc), backoff)
                stop.wait(backoff)
                continue
            if backoff:
                log.warning("the database is back; working again")
                backoff = 0.0
            total.add(report)
            if report.fired == 0 and not any(report.outbox.values()):
                stop.wait(interval)
        return total


def timers_of(timers: TimerQueue, lead_id: str | None = None) -> list[dict[str, Any]]:
    """SLA timers, oldest due first (of one lead, or all)."""
    return timers.of_lead(lead_id)
