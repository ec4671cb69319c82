"""An outbox message as stored, its statuses, and what a failed try makes of it.

A message is `pending` until it is due, `sending` while a worker holds it (its try counted, its
`next_attempt_at` moved to the end of the lease), then `sent`, or `dead` once it may not be
retried. Pure: the stores (SQL, memory) keep the rows; `after_failure` decides where a failed
try leaves a message, the same for every store.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from leadroute.domain.notify import OutboxMessage, RetryModel, next_attempt

PENDING, SENDING, SENT, DEAD = "pending", "sending", "sent", "dead"
STATUSES = (PENDING, SENDING, SENT, DEAD)
DEFAULT_LEASE = timedelta(minutes=5)
MAX_ERROR = 2000  # characters of a failure kept as `last_error`


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One queued message with its delivery state."""

    id: int
    key: str
    channel: str
    target: str
    event: str
    lead_id: str | None
    payload: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None

    @property
    def message(self) -> OutboxMessage:
        return OutboxMessage(
            self.channel, self.target, self.event, self.lead_id, self.payload, self.key
        )


def utc(moment: datetime) -> datetime:
    """Aware UTC (a naive time is taken as UTC, as the stores write them)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def after_failure(
    attempts: int,
    *,
    retryable: bool,
    retry: RetryModel,
    now: datetime,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> tuple[str, datetime]:
    """(status, due) of a message whose try number `attempts` failed: `pending`, due after the
    backoff (or the receiver's Retry-After if longer), or `dead` (due now) when the failure is
    not retryable or the tries are used up."""
    now = utc(now)
    if retryable and attempts < retry.max_attempts:
        wait = next_attempt(attempts, retry, rng=rng)
        if retry_after is not None:
            wait = max(wait, timedelta(seconds=retry_after))
        return PENDING, now + wait
    return DEAD, now
