"""A config version's decisions as the flow graph counts them, from the SQL store: each
decision's node, outcome, reason and record (its trail through the flow), streamed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select

from leadroute.adapters.store import tables as t
from leadroute.adapters.store.sql import Store, StoredConfig
from leadroute.domain.org import Org

Trail = tuple[str | None, str, str | None, dict[str, Any]]  # node, outcome, reason, record


def _period(since: datetime | None, until: datetime | None) -> list[ColumnElement[bool]]:
    decided = t.decisions.c.decided_at
    return ([decided >= since] if since is not None else []) + (
        [decided < until] if until is not None else []
    )


class FlowStore:
    """The `FlowReads` of a `Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def config(self, seq: int | None = None) -> StoredConfig | None:
        return self.store.config(seq)

    def load_org(self) -> Org:
        return self.store.load_org()

    def trails(
        self, seq: int, *, since: datetime | None, until: datetime | None
    ) -> Iterator[Trail]:
        """Every decision version `seq` made in [since, until): node, outcome, reason and
        record, in no particular order (streamed)."""
        query = (
            select(t.decisions.c.node, t.decisions.c.outcome, t.decisions.c.reason)
            .add_columns(t.decisions.c.record)
            .where(t.decisions.c.config_seq == seq, *_period(since, until))
            .execution_options(yield_per=2000)
        )
        with self.store.engine.connect() as conn, conn.execute(query) as rows:
            yield from rows

    def other_versions(self, seq: int, *, since: datetime | None, until: datetime | None) -> int:
        """How many decisions of [since, until) other versions than `seq` made."""
        query = (
            select(func.count())
            .select_from(t.decisions)
            .where(~(t.decisions.c.config_seq == seq), *_period(since, until))
        )
        with self.store.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())
