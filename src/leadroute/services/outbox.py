"""Deliver the outbox: claim due messages, send each through its channel, record the outcome.

Run by `leadroute worker` in a loop; any number of workers may run against one PostgreSQL
database (see `OutboxStore.claim_due`). A failed try is retried with exponential backoff
(the channel's `retry`), a permanent failure or the last try leaves the message `dead`, to be
retried by hand once the cause is fixed (`leadroute outbox retry-dead`). A CRM or channel
outage delays messages; it never loses them.

A message that was sent while the database went away is recorded as sent once the database is
back (tried again for up to half the lease), so it is not sent a second time; only an outage
longer than that leaves it to be sent again after its lease, with the same delivery id.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from leadroute.adapters.store.errors import database_unavailable, unavailable_detail
from leadroute.domain.notify import (
    CrmModel,
    DeliveryError,
    NotificationsModel,
    Sender,
    retry_for,
)
from leadroute.domain.outbox import (
    DEAD,
    DEFAULT_LEASE,
    PENDING,
    SENDING,
    SENT,
    OutboxRow,
    after_failure,
)
from leadroute.ports import Clock, OutboxQueue
from leadroute.settings import environment


@dataclass(frozen=True)
class DeliveryReport:
    """What one `deliver_due` did; `problems` has a line per failed try."""

    sent: int = 0
    retried: int = 0
    dead: int = 0
    problems: tuple[str, ...] = field(default=())

    @property
    def tried(self) -> int:
        return self.sent + self.retried + self.dead

    def as_counts(self) -> dict[str, int]:
        """{"sent": n, "retried": n, "dead": n}, e.g. for the worker's report."""
        return {"sent": self.sent, "retried": self.retried, "dead": self.dead}


log = logging.getLogger("leadroute.outbox")
DEFAULT_CONCURRENCY = 8  # messages in flight at once (one lead's to one receiver stay in order)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class OutboxService:
    """Delivers due messages of `outbox` with the senders of the active config.

    `senders` are the config's channels and CRMs keyed by (channel kind, target), as
    `adapters.registry.senders_for` builds them; `notifications` and `crm` give each channel's
    retry policy. A try must end within `lease`, so keep it well above the channels' timeouts.
    """

    def __init__(
        self,
        outbox: OutboxQueue,
        notifications: NotificationsModel | None,
        crm: CrmModel | None,
        *,
        senders: Mapping[tuple[str, str], Sender],
        env: Mapping[str, str] | None = None,
        clock: Clock = _utc_now,
        lease: timedelta = DEFAULT_LEASE,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self.outbox = outbox
        self.concurrency = max(1, concurrency)
        self.sleep = sleep
        self.notifications = notifications
        self.crm = crm
        self.env = env if env is not None else environment()  # the root passes its own
        self.clock = clock
        self.lease = lease
        self.rng = rng if rng is not None else random.Random()
        self.senders = dict(senders)

    def deliver_due(self, limit: int = 100) -> DeliveryReport:
        """Try every due message (up to `limit`) once. Messages of one lead to one receiver
        are sent one after the other, in the order they were written (a CRM sees the owner
        change before the status change); the rest are sent `concurrency` at a time."""
        sent = retried = dead = 0
        problems: list[str] = []
        rows = self.outbox.claim_due(limit, self.clock(), lease=self.lease)
        queues: dict[tuple[str | None, str, str], list[OutboxRow]] = {}
        for row in rows:
            queues.setdefault((row.lead_id, row.channel, row.target), []).append(row)

        def send_in_order(queue: list[OutboxRow]) -> list[tuple[str, str | None]]:
            return [self._deliver(row) for row in queue]

        if self.concurrency > 1 and len(queues) > 1:
            with ThreadPoolExecutor(min(self.concurrency, len(queues))) as pool:
                results = [r for done in pool.map(send_in_order, queues.values()) for r in done]
        else:
            results = [r for queue in queues.values() for r in send_in_order(queue)]
        for outcome, problem in results:
            if outcome == SENT:
                sent += 1
            elif outcome == PENDING:
                retried += 1
            elif outcome == DEAD:
                dead += 1  # else SENDING: the lease ran out and another worker has it
            if problem:
                problems.append(problem)
        return DeliveryReport(sent, retried, dead, tuple(problems))

    def deliver_all(self, *, limit: int = 100, max_rounds: int = 1000) -> DeliveryReport:
        """Deliver until nothing is due now (a drain, e.g. before shutdown or in a test)."""
        total = DeliveryReport()
        for _ in range(max_rounds):
            report = self.deliver_due(limit)
            if not report.tried:
                break
            total = DeliveryReport(
                total.sent + report.sent,
                total.retried + report.retried,
                total.dead + report.dead,
                total.problems + report.problems,
            )
        return total

    def _deliver(self, row: OutboxRow) -> tuple[str, str | None]:
        """(the message's new status, a line about the failure if it failed)."""
        retry = retry_for(row.channel, self.notifications, self.crm)
        sender = self.senders.get((row.channel, row.target))
        error: DeliveryError | None = None
        if row.attempts > retry.max_attempts:
            error = DeliveryError(
                f"out of tries: the worker of try {row.attempts - 1} stopped before it ended",
                retryable=False,
            )
        elif row.payload.get("erased") is True:
            error = DeliveryError("the lead's data was erased before delivery", retryable=False)
        elif sender is None:
            error = DeliveryError(
                f"no {row.channel} channel named {row.target} in the active config",
                retryable=False,
            )
        else:
            try:
                sender.send(row.message, env=self.env)
            except DeliveryError as exc:
                error = exc
            except Exception as exc:  # a bug must not lose the message: try again later
                error = DeliveryError(f"{type(exc).__name__}: {exc}", retryable=True)
        if error is None:
            self._record_sent(row)
            return SENT, None
        status, due = after_failure(
            row.attempts,
            retryable=error.retryable,
            retry=retry,
            now=self.clock(),
            retry_after=error.retry_after,
            rng=self.rng,
        )
        if not self.outbox.record_failure(row, status=status, due=due, error=str(error)):
            status = SENDING  # the lease ran out and another worker has the message
        where = f"outbox #{row.id} {row.channel}/{row.target} lead {row.lead_id}"
        return status, f"{where} try {row.attempts}: {error} -> {status}"

    def _record_sent(self, row: OutboxRow) -> None:
        """Mark a delivered message sent; while the database is unavailable, try again (the
        message is held under its lease meanwhile) for up to half the lease."""
        wait = 0.25
        deadline = time.monotonic() + self.lease.total_seconds() / 2
        while True:
            try:
                self.outbox.mark_sent(row, now=self.clock())
                return
            except Exception as exc:
                if not database_unavailable(exc) or time.monotonic() + wait > deadline:
                    raise
                log.warning(
                    "outbox #%s was delivered but %s; recording it in %.2f s",
                    row.id,
                    unavailable_detail(exc),
                    wait,
                )
            self.sleep(wait)
            wait = min(wait * 2, 10.0)

    def close(self) -> None:
        for sender in self.senders.values():
            sender.close()


def retry_dead(
    outbox: OutboxQueue,
    *,
    now: datetime,
    ids: Sequence[int] = (),
    channel: str | None = None,
) -> list[OutboxRow]:
    """Re-drive dead messages once their cause is fixed: each gets a fresh set of tries, due
    at `now`, and keeps its key (receivers see the same delivery id). `ids` picks messages
    (LookupError for one that does not exist or is not dead); without them every dead message,
    or those of one channel kind (slack, email, webhook, salesforce, hubspot). Returns the
    messages re-queued, as they were while dead (with their last error)."""
    if ids:
        chosen = []
        for message_id in ids:
            row = outbox.get(message_id)
            if row is None or row.status != DEAD:
                state = "does not exist" if row is None else f"is {row.status}, not dead"
                raise LookupError(f"outbox message #{message_id} {state}")
            chosen.append(row)
    else:
        chosen = [r for r in outbox.list(status=DEAD) if channel is None or r.channel == channel]
    return [row for row in chosen if outbox.retry_dead(row.id, now=now)]
