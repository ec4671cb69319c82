"""The leads a backtest replays, read from the SQL store in one streamed query each: the leads
of a period with their current decision, the lead each duplicates, and when each was first
worked; and how many leads of the period are in each status."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select

from leadroute.adapters.store import tables as t
from leadroute.adapters.store.service_tables import lead_events
from leadroute.adapters.store.sql import Store


def _period(since: datetime, until: datetime | None) -> list[ColumnElement[bool]]:
    received = t.leads.c.received_at
    return [received >= since] + ([received < until] if until is not None else [])


class BacktestStore:
    """The `BacktestReads` of a `Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def statuses(self, since: datetime, until: datetime | None) -> dict[str, int]:
        """How many leads received in [since, until) are in each status."""
        query = (
            select(t.leads.c.status, func.count())
            .where(*_period(since, until))
            .group_by(t.leads.c.status)
        )
        with self.store.engine.connect() as conn:
            return {status: int(n) for status, n in conn.execute(query)}

    def replay_rows(
        self,
        since: datetime,
        until: datetime | None,
        *,
        skip: Sequence[str],
        closing: Sequence[str],
        with_intent: bool,
        size: int = 2000,
    ) -> Iterator[Sequence[Sequence[Any]]]:
        """The leads received in [since, until) whose status is not in `skip`, with their
        current decision, oldest first, in chunks of `size`: one streamed query. Each row: id,
        data, source, channel, received_at, account_id, duplicate_of; the decision's outcome,
        node, rep, queue, reason, decided_at; the status and owner of the lead it duplicates;
        when its first event of the `closing` kinds happened; with intent, the intent score,
        product, account surge and account score recorded with the decision."""
        leads, decisions = t.leads, t.decisions
        original = t.leads.alias("original")
        closed = (
            select(lead_events.c.lead_id, func.min(lead_events.c.at).label("at"))
            .where(lead_events.c.kind.in_(list(closing)))
            .group_by(lead_events.c.lead_id)
            .subquery("closed")
        )
        columns: list[ColumnElement[Any]] = [
            leads.c.id,
            leads.c.data,
            leads.c.source,
            leads.c.channel,
            leads.c.received_at,
            leads.c.account_id,
            leads.c.duplicate_of,
            decisions.c.outcome,
            decisions.c.node,
            decisions.c.rep_id,
            decisions.c.queue,
            decisions.c.reason,
            decisions.c.decided_at,
            original.c.status,
            original.c.owner_id,
            closed.c.at,
        ]
        if with_intent:
            record = decisions.c.record
            columns += [
                record[("scores", "intent", "score")].as_float(),
                record[("scores", "intent", "product")].as_string(),
                record[("scores", "account_intent", "surging")].as_boolean(),
                record[("scores", "account_intent", "score")].as_float(),
            ]
        joined = (
            leads.outerjoin(
                decisions, and_(decisions.c.lead_id == leads.c.id, decisions.c.is_current)
            )
            .outerjoin(original, original.c.id == leads.c.duplicate_of)
            .outerjoin(closed, closed.c.lead_id == leads.c.id)
        )
        query = (
            select(*columns)
            .select_from(joined)
            .where(*_period(since, until), leads.c.status.not_in(list(skip)))
            .order_by(leads.c.received_at, leads.c.id)
        )
        with self.store.engine.connect() as conn:
            result = conn.execute(query.execution_options(yield_per=size))
            yield from result.partitions()
